"""Calendar feeds: our endpoint against icalendar's own `to_ical()` of the same 200 events.

A demo doctor is enrolled in 195 sessions (one in four a weekly series with skipped weeks) and
has 3 placements and a BT period: a personal feed of 200 events. In one run this prints

- icalendar: `Calendar.to_ical()` of those 200 events, already built as icalendar objects (the
  VCALENDAR, its VTIMEZONE and 200 VEVENTs): serialisation alone, no database, no HTTP;
- ours, changed: a GET of the feed after one of its sessions moved (what a poll costs when
  something changed), end to end over HTTP on loopback: token check, stamp, rows, VEVENTs,
  body, gzip. Target: at most 1.3 × icalendar's `to_ical()`;
- ours, cold: the same GET with every cache emptied first (the feed bodies and every
  serialised VEVENT, shared line and VTIMEZONE: the first request after a restart), each
  sample on its own. Same target;
- ours, unchanged: a GET answered from the cache, and a conditional GET answered 304;
- requests/s for the unchanged feed with 20 concurrent clients.

The samples of the three timed paths are interleaved, so drift in machine load hits all alike.
Run: `python bench/feeds.py [--requests 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlmodel import select

from btassist.app import app_factory
from btassist.calendar import ical
from btassist.calendar.feeds import FeedScope, PersonalFeed
from btassist.calendar.http import FEEDS
from btassist.calendar.tokens import rotate_token
from btassist.courses.models import (
    Course,
    CourseKind,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Recurrence,
    SessionSkip,
)
from btassist.db.engine import Database
from btassist.localchat.loopback import serving
from btassist.roster.models import Person
from btassist.settings import Settings

TARGET_RATIO = 1.3
SESSIONS = 195  # + 3 placements + 2 BT dates = 200 events
CLIENTS = 20
AMIR = "amir.haddad@halland.example.org"
IDENTITY = {"Accept-Encoding": "identity"}


async def seed(database: Database, now: datetime) -> tuple[int, list[int], str]:
    """Courses and sessions in Halland, the doctor enrolled in all: ids and a feed token."""
    first = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    async with database.session() as session:
        doctor = (await session.exec(select(Person).where(Person.email == AMIR))).one()
        courses = []
        for number in range(15):
            course = Course(
                code=f"bench-{number}",
                title_sv=f"Benchkurs {number}: akut omhändertagande, del {number}",
                title_en=f"Bench course {number}: emergency care, part {number}",
                description_sv="Föreläsningar, fall och färdighetsträning. " * 4,
                description_en="Lectures, cases and skills training. " * 4,
                kind=CourseKind.schemalagd_undervisning,
            )
            session.add(course)
            courses.append(course)
        await session.flush()
        for course in courses:
            assert course.id is not None
            session.add(CourseRegion(course_id=course.id, region_code="halland"))
        rows = []
        for number in range(SESSIONS):
            starts = first + timedelta(days=number * 2, hours=number % 5)
            weekly = number % 4 == 0
            row = CourseSession(
                course_id=courses[number % len(courses)].id or 0,
                key=f"bench-session-{number}",
                region_code="halland",
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                location=f"Hallands sjukhus Halmstad, sal {number % 9}; plan 2",
                meeting_url=f"https://teams.example/meet/{number}" if number % 3 else None,
                capacity=None,
                recurrence=Recurrence.weekly if weekly else None,
                repeat_until=(starts + timedelta(weeks=10)).date() if weekly else None,
            )
            session.add(row)
            rows.append(row)
        await session.flush()
        assert doctor.id is not None
        for row in rows:
            assert row.id is not None
            status = EnrolmentStatus.waitlisted if row.id % 7 == 0 else EnrolmentStatus.enrolled
            session.add(Enrolment(session_id=row.id, doctor_id=doctor.id, status=status))
            if row.recurrence is Recurrence.weekly:
                first = row.starts_at.date()
                for week in (2, 5):
                    session.add(
                        SessionSkip(session_id=row.id, occurs_on=first + timedelta(weeks=week))
                    )
        token = await rotate_token(session, person_id=doctor.id, now=now)
    return doctor.id, [row.id for row in rows if row.id is not None], token


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    began = time.perf_counter()
    await call()
    return time.perf_counter() - began


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f} ms (median of {len(values)})"


async def main(requests: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", APP_ID=""
        )
        app = app_factory(settings, demo=True)
        async with serving(app) as url, aiohttp.ClientSession() as http:
            database = Database(settings.database_url)
            now = datetime.now(UTC)
            doctor_id, session_ids, token = await seed(database, now)
            feed_url = f"{url}/calendar/{token}.ics"
            service = app[FEEDS]

            # The same 200 events as icalendar objects, for the baseline.
            scope = FeedScope(zone=settings.zone, uid_domain=service.uid_domain, now=now)
            async with database.session(write_lock=False) as session:
                header, events = await PersonalFeed(doctor_id).build(session, scope)
            if len(events) != 200:
                raise SystemExit(f"expected 200 events, built {len(events)}")
            calendar = ical.calendar_object(header, events, settings.zone)

            async def to_ical() -> None:
                calendar.to_ical()

            async def get(headers: dict[str, str] | None = None, status: int = 200) -> None:
                async with http.get(feed_url, headers={**IDENTITY, **(headers or {})}) as r:
                    body = await r.read()
                if r.status != status:
                    raise SystemExit(f"HTTP {r.status}, expected {status}")
                if status == 200 and body.count(b"BEGIN:VEVENT") != 200:
                    raise SystemExit("the feed does not have 200 events")

            moves = iter(range(10**9))

            async def move_one() -> None:
                """One session moves (outside the timing): its VEVENT and the feed change."""
                target = session_ids[next(moves) % len(session_ids)]
                async with database.session() as session:
                    row = await session.get(CourseSession, target)
                    assert row is not None
                    row.starts_at += timedelta(minutes=15)
                    row.ends_at += timedelta(minutes=15)
                    row.sequence += 1
                    row.updated_at = datetime.now(UTC)
                    session.add(row)

            def empty_caches() -> None:
                service.cache.clear()
                ical.clear_caches()

            for _ in range(20):  # warm up both paths
                await to_ical()
                await move_one()
                await get()

            baseline, changed, cold = [], [], []
            blocks = 4
            for _ in range(blocks):  # interleaved, so drift in machine load hits all alike
                for number in range(requests // blocks):
                    baseline.append(await timed(to_ical))
                    await move_one()
                    changed.append(await timed(get))
                    if number % 4 == 0:
                        empty_caches()
                        cold.append(await timed(get))

            await get()
            async with http.get(feed_url, headers=IDENTITY) as response:
                etag = response.headers["ETag"]
            cached = [await timed(get) for _ in range(requests)]
            not_modified = [
                await timed(lambda: get({"If-None-Match": etag}, 304)) for _ in range(requests)
            ]

            per_client = max(requests * 2 // CLIENTS, 25)

            async def client(headers: dict[str, str], status: int) -> None:
                for _ in range(per_client):
                    await get(headers, status)

            throughput = {}
            for label, headers, status in (
                ("200 from the cache", {}, 200),
                ("304", {"If-None-Match": etag}, 304),
            ):
                began = time.perf_counter()
                await asyncio.gather(*(client(headers, status) for _ in range(CLIENTS)))
                throughput[label] = CLIENTS * per_client / (time.perf_counter() - began)
            await database.dispose()

    size = len(calendar.to_ical())
    ratio = statistics.median(changed) / statistics.median(baseline)
    cold_ratio = statistics.median(cold) / statistics.median(baseline)
    print(f"feed: 200 events, {size / 1024:.0f} KiB, {date.today()}")
    print(f"icalendar to_ical() of the 200 events   {ms(baseline)}")
    print(f"ours, GET after one session moved       {ms(changed)}   {ratio:.2f} × to_ical()")
    print(f"ours, GET with every cache empty        {ms(cold)}   {cold_ratio:.2f} × to_ical()")
    print(f"ours, GET of an unchanged feed (cache)  {ms(cached)}")
    print(f"ours, conditional GET → 304             {ms(not_modified)}")
    for label, rate in throughput.items():
        print(f"{CLIENTS} concurrent clients, {label:<20} {rate:8.0f} requests/s")
    passed = True
    for label, value in (("changed feed", ratio), ("cold feed", cold_ratio)):
        verdict = "PASS" if value <= TARGET_RATIO else "FAIL"
        passed = passed and value <= TARGET_RATIO
        print(f"ratio {label} / to_ical(): {value:.2f} (target ≤ {TARGET_RATIO})  {verdict}")
    return 0 if passed else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    raise SystemExit(asyncio.run(main(parser.parse_args().requests)))
