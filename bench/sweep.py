"""Time the daily reminder sweep over 10,000 doctors and their plans on SQLite, and count its SQL.

Each doctor has a 12-month BT with the placements of their region's usual rhythm, a plan made by
`sync_plans` (about 15 items each), most of the past done and a few items overdue, and two course
enrolments. The sweep is timed on a Monday (weekly summaries for everyone, the heaviest day) and
on a Tuesday, then again on the Monday with everything already queued (a second process, or the
catch-up sweep at start). Target (issue #8): a sweep in at most 1 s. The SQL statements of a
sweep are counted with a SQLAlchemy event listener at two sizes: they must not grow with the
number of doctors (PASS/FAIL).

Run: `python bench/sweep.py [--doctors 10000] [--small 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, insert, select, update

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.assessments.sync import shipped_policies, sync_plans
from btassist.common.regions import REGION_CODES
from btassist.courses.models import (
    Course,
    CourseKind,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.outbox.models import OutboxMessage
from btassist.reminders.sweep import sweep
from btassist.roster.models import (
    BTProgramme,
    BTType,
    Person,
    PersonRole,
    Placement,
    PlacementKind,
    Role,
)

ZONE = ZoneInfo("Europe/Stockholm")
TARGET_SECONDS = 1.0
MONDAY = date(2027, 3, 8)  # a Monday well inside every bench BT
# Each region's usual placements: (kind, months).
RHYTHM = {
    "gavleborg": [("primarvard", 3), ("akut", 4), ("psykiatri", 3), ("primarvard", 2)],
    "jonkoping": [("akut", 3), ("psykiatri", 3), ("primarvard", 6)],
    "kronoberg": [("akut", 3), ("akut", 2), ("psykiatri", 3), ("primarvard", 4)],
    "halland": [("psykiatri", 3), ("akut", 4), ("primarvard", 5)],
    "vgr": [("akut", 4), ("psykiatri", 3), ("primarvard", 5)],
    "orebro": [("akut", 4), ("primarvard", 5), ("psykiatri", 3)],
}


@dataclass
class Counter:
    """SQL statements sent to the database (an executemany counts once)."""

    statements: int = 0

    def __call__(self, *_args: Any) -> None:
        self.statements += 1


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


async def populate(database: Database, doctors: int, seed: int = 8) -> None:
    """Doctors, supervisors, studierektorer, placements, plans, done items, enrolments."""
    rng = random.Random(seed)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    supervisors = max(doctors // 8, 6)
    async with database.session() as session:
        people = [
            {
                "email": f"s{n}@bench.example.org",
                "name": f"Handledare {n}",
                "region_code": REGION_CODES[n % 6],
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(supervisors)
        ] + [
            {
                "email": f"d{n}@bench.example.org",
                "name": f"Läkare {n}",
                "region_code": REGION_CODES[n % 6],
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(doctors)
        ]
        await session.exec(insert(Person), params=people)  # type: ignore[call-overload]
        ids = dict((await session.exec(select(Person.email, Person.id))).all())  # type: ignore[call-overload]
        roles = [
            {"person_id": ids[f"s{n}@bench.example.org"], "role": Role.supervisor}
            for n in range(supervisors)
        ]
        roles += [
            {"person_id": ids[f"s{n}@bench.example.org"], "role": Role.studierektor}
            for n in range(6)
        ]
        roles += [
            {"person_id": ids[f"d{n}@bench.example.org"], "role": Role.doctor}
            for n in range(doctors)
        ]
        await session.exec(insert(PersonRole), params=roles)  # type: ignore[call-overload]
        programmes, placements = [], []
        for n in range(doctors):
            region = REGION_CODES[n % 6]
            doctor = ids[f"d{n}@bench.example.org"]
            # BT started between 3 and 10 months before the bench Monday.
            start = MONDAY - timedelta(days=rng.randint(90, 300))
            main = ids[f"s{(n % (supervisors // 6)) * 6 + n % 6}@bench.example.org"]
            months = sum(m for _, m in RHYTHM[region])
            programmes.append(
                {
                    "doctor_id": doctor,
                    "bt_type": BTType.block,
                    "start": start,
                    "planned_end": _add_months(start, months) - timedelta(days=1),
                    "main_supervisor_id": main,
                    "updated_at": now,
                }
            )
            begin = start
            for kind, length in RHYTHM[region]:
                end = _add_months(begin, length) - timedelta(days=1)
                handledare = ids[
                    f"s{rng.randrange(supervisors // 6) * 6 + n % 6}@bench.example.org"
                ]
                placements.append(
                    {
                        "doctor_id": doctor,
                        "kind": PlacementKind(kind),
                        "unit": f"{kind} {n % 40}",
                        "start": begin,
                        "end": end,
                        "supervisor_id": handledare,
                        "updated_at": now,
                    }
                )
                begin = end + timedelta(days=1)
        await session.exec(insert(BTProgramme), params=programmes)  # type: ignore[call-overload]
        await session.exec(insert(Placement), params=placements)  # type: ignore[call-overload]
    await sync_plans(database, now=now)
    async with database.session() as session:
        # Most of the past is done; about one item in twenty stays open (overdue).
        await session.exec(  # type: ignore[call-overload]
            update(PlanItem)
            .where(PlanItem.due < MONDAY, func.abs(PlanItem.id * 7919 % 20) != 0)
            .values(status=ItemStatus.done, done_on=PlanItem.due)
        )
        await populate_courses(session, ids, doctors, rng, now)


async def populate_courses(
    session: Any, ids: dict[str, int], doctors: int, rng: random.Random, now: datetime
) -> None:
    """Per region a course with 30 sessions over the spring; each doctor enrolled in two."""
    sessions: list[int] = []
    by_region: dict[str, list[int]] = {}
    for region in REGION_CODES:
        course = Course(
            code=f"bench-{region}",
            title_sv="Benchkurs",
            title_en="Bench course",
            kind=CourseKind.kurs,
        )
        session.add(course)
        await session.flush()
        session.add(CourseRegion(course_id=course.id, region_code=region, mandatory=True))
        for n in range(30):
            start = datetime.combine(MONDAY + timedelta(days=n * 3 - 20), datetime.min.time(), ZONE)
            start = start.replace(hour=9).astimezone(UTC)
            row = CourseSession(
                course_id=course.id,
                key=f"bench-{region}-{n}",
                region_code=region,
                starts_at=start,
                ends_at=start + timedelta(hours=7),
                location="Bench",
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            sessions.append(row.id)
            by_region.setdefault(region, []).append(row.id)
    enrolments = []
    for n in range(doctors):
        region = REGION_CODES[n % 6]
        for session_id in rng.sample(by_region[region], 2):
            enrolments.append(
                {
                    "session_id": session_id,
                    "doctor_id": ids[f"d{n}@bench.example.org"],
                    "status": EnrolmentStatus.enrolled,
                    "queued_at": now,
                    "updated_at": now,
                }
            )
    await session.exec(insert(Enrolment), params=enrolments)


@dataclass(frozen=True)
class Measure:
    """One timed sweep."""

    label: str
    seconds: float
    statements: int
    offered: int


async def measure(doctors: int) -> list[Measure]:
    """Populate a fresh SQLite database and time three sweeps."""
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            await upgrade(database)
            started = time.perf_counter()
            await populate(database, doctors)
            print(
                f"  {doctors} doctors populated in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            async with database.session() as session:
                items = (await session.exec(select(func.count()).select_from(PlanItem))).one()  # type: ignore[call-overload]
            print(f"  {items[0]} plan items", flush=True)
            counter = Counter()
            event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
            policies = shipped_policies()
            results = []
            for label, day in (
                ("Monday 08:30 (weekly summaries)", MONDAY),
                ("Tuesday 08:30", MONDAY + timedelta(days=1)),
                ("Monday again (all queued)", MONDAY),
            ):
                now = datetime.combine(day, datetime.min.time(), ZONE).replace(hour=8, minute=30)
                counter.statements = 0
                started = time.perf_counter()
                result = await sweep(
                    database, now=now.astimezone(UTC), zone=ZONE, policies=policies
                )
                elapsed = time.perf_counter() - started
                results.append(Measure(label, elapsed, counter.statements, result.total))
            async with database.session() as session:
                queued = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()  # type: ignore[call-overload]
            print(f"  {queued[0]} reminders in the outbox", flush=True)
            return results
        finally:
            await database.dispose()


async def main(doctors: int, small: int) -> int:
    print(f"sweep over {small} doctors:")
    few = await measure(small)
    print(f"sweep over {doctors} doctors:")
    many = await measure(doctors)
    print()
    print(f"{'sweep':34} {'doctors':>8} {'seconds':>8} {'SQL':>5} {'notices':>8}")
    for size, measures in ((small, few), (doctors, many)):
        for m in measures:
            print(f"{m.label:34} {size:>8} {m.seconds:>8.3f} {m.statements:>5} {m.offered:>8}")
    slowest = max(m.seconds for m in many)
    flat = all(a.statements == b.statements for a, b in zip(few, many, strict=True))
    print()
    print(
        f"time: slowest sweep {slowest:.3f} s over {doctors} doctors "
        f"(target ≤ {TARGET_SECONDS} s): " + ("PASS" if slowest <= TARGET_SECONDS else "FAIL")
    )
    print(
        "SQL statements per sweep (an executemany counts once): "
        f"{[m.statements for m in few]} at {small} doctors, "
        f"{[m.statements for m in many]} at {doctors}: "
        + ("PASS (does not grow)" if flat else "FAIL (grows with the doctors)")
    )
    return 0 if flat and slowest <= TARGET_SECONDS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doctors", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.doctors, arguments.small)))
