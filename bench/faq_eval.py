"""How well the FAQ answers, and how fast: on the evaluation questions in tests/data/faq_eval.yaml.

Targets (issue #6): in-scope top-1 accuracy ≥ 95 %, out-of-scope abstention ≥ 90 %, no confident
wrong answers, p95 latency ≤ 5 ms per question, index build ≤ 1 s.

"Accuracy" is strict: the question was answered (confidently) with a right entry. "Ranking" is the
share whose top-ranked entry is right, answered or not (the bot then offers it as a button).
`dev` calibrated the thresholds; `holdout` did not. Run: `python bench/faq_eval.py [--repeat 20]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from btassist.faq.evaluation import EvalQuestion, evaluate, load_questions, unknown_entries
from btassist.faq.kb import PACKAGED_KB
from btassist.faq.store import load_knowledge_base

EVAL_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "faq_eval.yaml"
TARGET_ACCURACY = 0.95
TARGET_ABSTENTION = 0.90
TARGET_P95_MS = 5.0
TARGET_BUILD_S = 1.0


def build_times(runs: int) -> tuple[float, float]:
    """Seconds to read, validate and index the shipped knowledge base: first run and median."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        load_knowledge_base(PACKAGED_KB)
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times)


def latencies_ms(questions: list[EvalQuestion], repeat: int) -> list[float]:
    """Milliseconds per `search`, every question `repeat` times."""
    kb = load_knowledge_base(PACKAGED_KB)
    found = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            kb.search(question.text, region=question.region)
            found.append((time.perf_counter() - started) * 1000)
    return found


def main(repeat: int, verbose: bool) -> int:
    first_build, median_build = build_times(5)
    kb = load_knowledge_base(PACKAGED_KB)
    sections = {
        name: load_questions(EVAL_FILE, name) for name in ("dev", "holdout", "fresh", "final")
    }
    every = [q for questions in sections.values() for q in questions]
    stale = unknown_entries(kb.index, every)
    if stale:
        print(f"evaluation file names unknown entries: {sorted(stale)}")
        return 2
    print(f"knowledge base: {len(kb.entries)} entries; {len(every)} evaluation questions")
    ok = True
    for name, questions in [*sections.items(), ("all", every)]:
        report = evaluate(kb.index, questions)
        print(
            f"{name:8s} in-scope {report.in_scope:3d}: accuracy {report.accuracy:6.1%} "
            f"(ranking {report.ranking_accuracy:6.1%}) | out-of-scope {report.out_of_scope:3d}: "
            f"abstained {report.abstention:6.1%} | confident wrong {len(report.confident_wrong)}"
        )
        if verbose:
            for question, top in report.confident_wrong:
                print(f"    WRONG {question.region}: {question.text!r} -> {top}")
            for question, top in report.missed:
                print(f"    not answered {question.region}: {question.text!r} (top {top})")
        if name == "all":
            ok = (
                report.accuracy >= TARGET_ACCURACY
                and report.abstention >= TARGET_ABSTENTION
                and not report.confident_wrong
            )
    samples = latencies_ms(every, repeat)
    p95 = statistics.quantiles(samples, n=100)[94]
    print(
        f"latency: p50 {statistics.median(samples):.2f} ms, p95 {p95:.2f} ms, "
        f"max {max(samples):.2f} ms over {len(samples)} searches (target p95 ≤ {TARGET_P95_MS} ms)"
    )
    print(
        f"index build (read + validate + index): first {first_build:.3f} s, "
        f"median {median_build:.3f} s (target ≤ {TARGET_BUILD_S} s)"
    )
    ok = ok and p95 <= TARGET_P95_MS and first_build <= TARGET_BUILD_S
    print(
        f"targets: accuracy ≥ {TARGET_ACCURACY:.0%}, abstention ≥ {TARGET_ABSTENTION:.0%}, "
        "confident wrong 0 (on all questions) →",
        "PASS" if ok else "MISS",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="Times each question is timed.")
    parser.add_argument("-v", "--verbose", action="store_true", help="List every miss.")
    args = parser.parse_args()
    raise SystemExit(main(args.repeat, args.verbose))
