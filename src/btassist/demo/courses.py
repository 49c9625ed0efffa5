"""Demo courses: the bundled catalogue, one fictional Gävleborg course, and sessions dated from
today, so the demo always has something tomorrow, next week and a few weeks out."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from btassist.common.tabular import CsvRow
from btassist.courses.catalogue import parse_catalogue
from btassist.courses.importer import (
    SESSION_COLUMNS,
    CourseImportResult,
    SessionFile,
    ensure_catalogue,
    import_catalogues,
    import_sessions,
)
from btassist.db.engine import Database

log = logging.getLogger(__name__)

HALMSTAD = "Hallands sjukhus Halmstad (demo)"
VARBERG = "Hallands sjukhus Varberg (demo)"
GAVLE = "Gävle sjukhus, utbildningscentrum (demo)"


def demo_sessions(today: date) -> SessionFile:
    """Sessions for the demo regions, dated from `today`.

    Keys stay the same from day to day, so loading the demo on a later day moves these sessions
    instead of adding new ones. There is one tomorrow, several next week, one whose enrolment
    deadline has passed, one with two seats (to see the waitlist) and a weekly series.
    """
    tomorrow = today + timedelta(days=1)
    monday = today + timedelta(days=7 - today.weekday())  # next week's
    wednesday = monday + timedelta(days=2)
    rows = [
        _row("halland-stas", tomorrow, "08:30", tomorrow, "16:00", VARBERG, capacity=16),
        _row(
            "halland-forsakringsmedicin",
            monday,
            "08:30",
            monday + timedelta(days=1),
            "16:30",
            HALMSTAD,
            capacity=20,
            deadline=monday - timedelta(days=1),
        ),
        _row(
            "halland-temadag-vald-i-nara-relationer",
            monday + timedelta(days=3),
            "09:00",
            monday + timedelta(days=3),
            "16:00",
            VARBERG,
            capacity=2,
        ),
        _row(
            "halland-temadag-smarta-och-palliation",
            today + timedelta(days=4),
            "09:00",
            today + timedelta(days=4),
            "16:00",
            HALMSTAD,
            capacity=30,
            deadline=today - timedelta(days=1),
        ),
        _row(
            "halland-det-goda-svara-samtalet",
            wednesday,
            "09:00",
            wednesday,
            "12:00",
            meeting_url="https://teams.example.org/demo/det-goda-svara-samtalet",
        ),
        _row(
            "halland-at-onsdagsutbildningar",
            wednesday,
            "13:00",
            wednesday,
            "16:00",
            HALMSTAD,
            recurrence="weekly",
            repeat_until=wednesday + timedelta(weeks=9),
        ),
        _row(
            "halland-organisation-styrning-juridik",
            today + timedelta(days=21),
            "08:30",
            today + timedelta(days=21),
            "16:00",
            HALMSTAD,
            capacity=25,
        ),
        _row(
            "demo-gavleborg-bt-dag",
            monday + timedelta(days=1),
            "09:00",
            monday + timedelta(days=1),
            "15:00",
            GAVLE,
            region="gavleborg",
            key="demo-gavleborg-bt-dag-1",
            capacity=12,
            deadline=monday - timedelta(days=1),
        ),
        _row(
            "demo-gavleborg-bt-dag",
            today + timedelta(days=35),
            "09:00",
            today + timedelta(days=35),
            "15:00",
            GAVLE,
            region="gavleborg",
            key="demo-gavleborg-bt-dag-2",
            meeting_url="https://teams.example.org/demo/bt-dag",
        ),
    ]
    return SessionFile(
        name="demo sessions",
        rows=[CsvRow(line=number, values=values) for number, values in enumerate(rows, start=2)],
    )


def _row(
    course_code: str,
    start_day: date,
    start_time: str,
    end_day: date,
    end_time: str,
    location: str = "",
    *,
    region: str = "halland",
    key: str | None = None,
    meeting_url: str = "",
    capacity: int | None = None,
    deadline: date | None = None,
    recurrence: str = "",
    repeat_until: date | None = None,
) -> dict[str, str]:
    values = {
        "course_code": course_code,
        "key": key or f"demo-{course_code}",
        "region": region,
        "start": f"{start_day} {start_time}",
        "end": f"{end_day} {end_time}",
        "location": location,
        "meeting_url": meeting_url,
        "capacity": "" if capacity is None else str(capacity),
        "deadline": "" if deadline is None else deadline.isoformat(),
        "status": "",
        "recurrence": recurrence,
        "repeat_until": "" if repeat_until is None else repeat_until.isoformat(),
    }
    assert tuple(values) == SESSION_COLUMNS
    return values


async def load_demo_courses(
    database: Database, *, today: date, zone: ZoneInfo, now: datetime
) -> list[CourseImportResult]:
    """The bundled catalogue (if the course table is empty), the demo course and the demo
    sessions, dated from today.

    Nobody is told of the demo sessions (they are re-dated at every start: no news). What people
    did since may make a demo row impossible (more doctors hold seats than the demo
    file offers, say): such rows are left out and logged, never a reason not to start.
    """
    await ensure_catalogue(database, now=now)
    text = resources.files(__package__).joinpath("courses.yaml").read_text("utf-8")
    demo_course = parse_catalogue(text, name="demo/courses.yaml")
    results = [await import_catalogues(database, [demo_course], now=now)]
    sessions = demo_sessions(today)
    imported = await import_sessions(database, sessions, zone=zone, now=now, notify=False)
    if not imported.ok:
        bad = {problem.line for problem in imported.problems}
        log.warning("demo sessions left out: %d row(s) conflict with data made since", len(bad))
        kept = replace(sessions, rows=[row for row in sessions.rows if row.line not in bad])
        imported = await import_sessions(database, kept, zone=zone, now=now, notify=False)
    results.append(imported)
    for result in results:
        if not result.ok:
            log.warning("demo data not loaded: %d problem(s)", len(result.problems))
    return results
