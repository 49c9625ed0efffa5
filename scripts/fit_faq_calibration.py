"""Fit the FAQ's calibration (src/btassist/faq/calibration.json) on the development sets.

It learns from every section of tests/data/faq_eval.yaml, among them the sets that were held out
until their first runs (`wave3` …), whose wording shows how the rules' evidence looks on questions
nobody wrote the knowledge base for. Only questions the rules leave unsure count; the model says
how likely their top entry is right. The threshold sits where, in development, every question
above it had the right entry first (out-of-scope ones never do), never below `MIN_THRESHOLD`.
A held-out set (tests/data/faq_heldout_*.yaml) is never read here.

Needs scikit-learn: `pip install -e ".[calibrate]"`. Run: `python scripts/fit_faq_calibration.py
[--check]` (`--check` prints the result without writing the file).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import yaml
from sklearn.linear_model import LogisticRegression

from btassist.faq.calibration import PACKAGED_CALIBRATION, Calibration, Evidence
from btassist.faq.evaluation import EvalQuestion, load_questions
from btassist.faq.index import FaqIndex
from btassist.faq.kb import PACKAGED_KB, read_directory

DEVELOPMENT = Path(__file__).resolve().parents[1] / "tests" / "data" / "faq_eval.yaml"
MIN_THRESHOLD = 0.6
"""Below this, a probable answer would be wrong as often as a coin toss would allow."""
REGULARISATION = 0.5


def unsure_cases(index: FaqIndex, questions: list[EvalQuestion]) -> list[tuple[Evidence, bool]]:
    """The evidence for every question the rules leave unsure, and whether its top entry is
    right (an out-of-scope question's never is)."""
    cases = []
    for question in questions:
        result = index.search(question.text, region=question.region)
        if result.evidence is not None and result.best is not None:
            cases.append((result.evidence, result.best.entry.id in question.expected))
    return cases


def answered(calibration: Calibration, cases: list[tuple[Evidence, bool]]) -> tuple[int, int]:
    """Unsure cases the calibration would answer: right ones, wrong ones."""
    right = wrong = 0
    for evidence, is_right in cases:
        if calibration.likely(evidence):
            right += is_right
            wrong += not is_right
    return right, wrong


def threshold(calibration: Calibration, cases: list[tuple[Evidence, bool]]) -> float:
    """Halfway between the least likely case of the run of right ones at the top and the first
    wrong (or out-of-scope) one below it: in development, everything above was answered right."""
    ranked = sorted(((calibration.probability(e), right) for e, right in cases), reverse=True)
    lowest_right = 1.0
    for probability, right in ranked:
        if not right:
            return max((lowest_right + probability) / 2, MIN_THRESHOLD)
        lowest_right = probability
    return max(lowest_right, MIN_THRESHOLD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print, do not write")
    args = parser.parse_args()
    files = read_directory(PACKAGED_KB)
    rules_only = FaqIndex(
        files.entries,
        declined=files.declined,
        synonyms=files.synonyms,
        calibration=Calibration.never(),
    )
    sections = tuple(yaml.safe_load(DEVELOPMENT.read_text("utf-8")))
    questions = [q for name in sections for q in load_questions(DEVELOPMENT, name)]
    cases = unsure_cases(rules_only, questions)
    model = LogisticRegression(C=REGULARISATION, max_iter=5000)
    model.fit([evidence.values() for evidence, _ in cases], [right for _, right in cases])
    weights = tuple(float(w) for w in model.coef_[0])
    bias = float(model.intercept_[0])
    fitted = Calibration(weights, bias, 1.0, sections)
    best = replace(fitted, threshold=threshold(fitted, cases))
    right, wrong = answered(best, cases)
    print(f"{len(cases)} unsure questions in {', '.join(sections)}")
    print(f"threshold {best.threshold:.2f}: {right} more answered right, {wrong} probably wrong")
    if not args.check:
        PACKAGED_CALIBRATION.write_text(best.to_json() + "\n", "utf-8")
        print(f"written to {PACKAGED_CALIBRATION}")
    print(best.to_json())


if __name__ == "__main__":
    main()
