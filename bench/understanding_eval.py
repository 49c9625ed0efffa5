"""How many one-sentence requests the bot understands: the held-out set against its target.

Each request of tests/data/understanding_heldout.yaml (written, and committed on its own, before
the recogniser existed) is read as the chat reads it — the intent table's keywords and commands,
then dialogs/understanding.py, then the FAQ — by a person of its role, region and language, on
the set's `today`, against the courses that region offers in the bundled catalogue (and the
demo's Gävleborg course). A request is understood when the outcome is exactly the expected one:
the same request, course, time window, contact, or the same set of courses to choose from.
Every held-out file (tests/data/understanding_heldout*.yaml) must reach the target. A held-out
set once tuned on becomes a development set (tests/data/understanding_dev_*.yaml), run by name.
Run: `python bench/understanding_eval.py [-v] [--file tests/data/understanding_dev_3.yaml]`.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from btassist.common.language import Language
from btassist.common.regions import REGION_CODES
from btassist.courses.catalogue import bundled_catalogue, check_catalogues, parse_catalogue
from btassist.courses.models import Course
from btassist.dialogs import actions as a
from btassist.dialogs import understanding as u
from btassist.dialogs.faq import beyond_the_faq
from btassist.faq.kb import PACKAGED_KB
from btassist.faq.store import KnowledgeBase, load_knowledge_base
from btassist.roster.models import Role

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
HELD_OUT = sorted(DATA.glob("understanding_heldout*.yaml"))
TARGET = 0.95
ROLES = {
    "doctor": Role.doctor,
    "supervisor": Role.supervisor,
    "coordinator": Role.coordinator,
    "studierektor": Role.studierektor,
}
SIMPLE: dict[type[a.Action], str] = {
    a.CoursesLeft: "remaining",
    a.Courses: "courses",
    a.MyCourses: "my_courses",
    a.Calendar: "calendar",
    a.NewCalendarLink: "new_calendar_link",
    a.Assessments: "assessments",
    a.MyTrainees: "trainees",
    a.Reports: "reports",
    a.Broadcast: "broadcast",
    a.English: "english",
    a.Swedish: "swedish",
    a.Help: "help",
    a.Thanks: "thanks",
}
WANTS: dict[type[a.Action], str] = {
    a.EnrolIn: "enrol",
    a.WithdrawFrom: "withdraw",
    a.Sessions: "sessions",
    a.Participants: "participants",
    a.ShowCourse: "show_course",
}


def region_courses() -> dict[str, list[Course]]:
    """The courses each region offers: the bundled catalogue and the demo course, numbered."""
    demo = resources.files("btassist.demo").joinpath("courses.yaml").read_text("utf-8")
    documents = [*bundled_catalogue(), parse_catalogue(demo, name="demo/courses.yaml")]
    records, problems = check_catalogues(documents, set(REGION_CODES))
    assert not problems, problems
    offered: dict[str, list[Course]] = {region: [] for region in REGION_CODES}
    for number, record in enumerate(records, start=1):
        course = Course(
            id=number,
            code=record.code,
            title_sv=record.title_sv,
            title_en=record.title_en,
            kind=record.kind,
        )
        for region in record.regions:
            offered[region].append(course)
    return offered


def outcome(
    found: u.Interpretation | None, codes: dict[int, str], kb: KnowledgeBase, item: dict[str, Any]
) -> dict[str, Any]:
    """What the chat does with a request, in the held-out file's terms."""
    if found is None:
        result = kb.search(item["say"], region=item["region"])
        return {"expect": "not_understood" if beyond_the_faq(result) else "faq"}
    if isinstance(found, u.Meaningless):
        return {"expect": "not_understood"}
    if isinstance(found, u.Choose):
        first = found.actions[0][1]
        return {
            "expect": "choose",
            "for": WANTS[type(first)],
            "courses": sorted(codes[course.id or 0] for course, _ in found.actions),
        }
    if isinstance(found, u.NoCourse):
        first_action = found.closest[0][1] if found.closest else None
        want = WANTS[type(first_action)] if first_action else "?"
        return {"expect": "no_course", "for": want}
    return described(found.action, codes)


def described(action: a.Action, codes: dict[int, str]) -> dict[str, Any]:
    """An action in the held-out file's terms."""
    if type(action) in SIMPLE:
        return {"expect": SIMPLE[type(action)]}
    if isinstance(action, a.FaqTopic):
        if action.entry == u.SUPERVISOR_GUIDE:
            return {"expect": "supervisor_guide"}
        who = {entry: who for who, entry in u.CONTACT_ENTRIES.items()}.get(action.entry)
        return {"expect": "contact", "who": who} if who else {"expect": f"faq:{action.entry}"}
    if type(action) in WANTS:
        described_action: dict[str, Any] = {"expect": WANTS[type(action)]}
        course_id = getattr(action, "course_id", None)
        if course_id is not None:
            described_action["course"] = codes[course_id]
        elif getattr(action, "query", ""):
            described_action["course"] = f"query:{action.query}"  # type: ignore[attr-defined]
        for field, key in (("start", "from"), ("end", "to")):
            value = getattr(action, field, None)
            if value is not None:
                described_action[key] = value
        return described_action
    return {"expect": action.verb.value}


def expected(item: dict[str, Any]) -> dict[str, Any]:
    """The expected outcome of one request."""
    wanted = {
        key: item[key] for key in ("expect", "course", "from", "to", "who", "for") if key in item
    }
    if "courses" in item:
        wanted["courses"] = sorted(item["courses"])
    return wanted


def main(paths: list[Path], verbose: bool) -> int:
    kb = load_knowledge_base(PACKAGED_KB)
    offered = region_courses()
    results = [run(path, kb, offered, verbose) for path in paths]
    ok = all(results)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def run(path: Path, kb: KnowledgeBase, offered: dict[str, list[Course]], verbose: bool) -> bool:
    """One file's share understood, printed; whether it reaches the target."""
    raw = yaml.safe_load(path.read_text("utf-8"))
    today: date = raw["today"]
    requests = raw["requests"]
    codes = {course.id or 0: course.code for courses in offered.values() for course in courses}
    u.interpret("i mars", **_context(requests[0], today, offered, kb))  # load the date data once
    right = 0
    misses: Counter[str] = Counter()
    timings = []
    for item in requests:
        started = time.perf_counter()
        found = u.interpret(item["say"], **_context(item, today, offered, kb))
        timings.append((time.perf_counter() - started) * 1000)
        got, wanted = outcome(found, codes, kb, item), expected(item)
        if got == wanted:
            right += 1
            continue
        misses[wanted["expect"]] += 1
        if verbose:
            print(f"  MISS {item['as']}/{item['region']}/{item['lang']} {item['say']!r}")
            print(f"       expected {wanted}\n       got      {got}")
    share = right / len(requests)
    timings.sort()
    print(f"{path.name}: {len(requests)} requests, today {today}")
    print(f"understood {right}/{len(requests)} = {share:.1%} (target ≥ {TARGET:.0%})")
    if misses:
        print("missed by expected outcome: " + ", ".join(f"{k} {n}" for k, n in misses.items()))
    print(f"p95 reading time {timings[int(len(timings) * 0.95)]:.2f} ms (without the FAQ search)")
    print(f"{path.name}: {'PASS' if share >= TARGET else 'FAIL'}")
    return share >= TARGET


def _context(
    item: dict[str, Any], today: date, offered: dict[str, list[Course]], kb: KnowledgeBase
) -> dict[str, Any]:
    return {
        "roles": frozenset({ROLES[item["as"]]}),
        "language": Language(item["lang"]),
        "today": today,
        "courses": offered[item["region"]],
        "knows": kb.knows,
        "spelled": kb.spells,
        "catalogue": [course for courses in offered.values() for course in courses],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="List every miss.")
    parser.add_argument("--file", type=Path, action="append", help="A set of requests.")
    args = parser.parse_args()
    raise SystemExit(main(args.file or HELD_OUT, args.verbose))
