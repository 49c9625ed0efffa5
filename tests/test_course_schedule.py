"""When sessions happen: weekly series in local time, clashes, and the reminder hook."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from btassist.courses.enrolment import enrol, enrolment_closes
from btassist.courses.models import CourseKind, CourseSession, Recurrence, SessionSkip
from btassist.courses.queries import sessions_starting_on
from btassist.courses.schedule import (
    MAX_OCCURRENCES,
    last_start,
    occurrences,
    overlaps,
    weekly_series,
)
from btassist.db.engine import Database
from btassist.demo import load_demo
from btassist.roster.models import Person
from tests.support.courses import add_course, add_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _once(starts: datetime, hours: int = 2, **fields: Any) -> CourseSession:
    return CourseSession(
        course_id=1,
        key="s",
        region_code="halland",
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        **fields,
    )


def _weekly(starts: datetime, until: date) -> CourseSession:
    return _once(starts, hours=4, recurrence=Recurrence.weekly, repeat_until=until)


def test_weekly_teaching_keeps_its_local_time_across_daylight_saving() -> None:
    # Wednesdays 13:00 Stockholm from 18 March 2026 (CET, UTC+1) past the 29 March change.
    series = _weekly(datetime(2026, 3, 18, 12, 0, tzinfo=UTC), date(2026, 4, 8))
    starts = [start for start, _ in occurrences(series, STOCKHOLM)]
    assert [s.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2026-03-18 13:00",
        "2026-03-25 13:00",
        "2026-04-01 13:00",
        "2026-04-08 13:00",
    ]
    assert starts[1].hour == 12
    assert starts[2].hour == 11


def test_skipped_weeks_are_left_out_and_overlaps_are_found() -> None:
    series = _weekly(datetime(2026, 10, 7, 11, 0, tzinfo=UTC), date(2026, 10, 28))
    skipped = {s.date() for s, _ in occurrences(series, STOCKHOLM, frozenset({date(2026, 10, 14)}))}
    assert date(2026, 10, 14) not in skipped
    assert len(skipped) == 3
    one_off = CourseSession(
        course_id=2,
        key="o",
        region_code="halland",
        starts_at=datetime(2026, 10, 21, 13, 0, tzinfo=UTC),
        ends_at=datetime(2026, 10, 21, 15, 0, tzinfo=UTC),
    )
    assert overlaps(series, one_off, STOCKHOLM)
    one_off.starts_at += timedelta(hours=3)
    one_off.ends_at += timedelta(hours=3)
    assert not overlaps(series, one_off, STOCKHOLM)


def test_a_series_is_a_weekly_rule_in_local_time_with_skipped_weeks_as_exceptions() -> None:
    # Wednesdays 13:00 from 14 October 2026, across the 25 October change, until 4 November.
    series = _weekly(datetime(2026, 10, 14, 11, 0, tzinfo=UTC), date(2026, 11, 4))
    rule = weekly_series(series, STOCKHOLM, {date(2026, 10, 21), date(2026, 10, 22)})
    assert rule is not None
    assert list(rule) == [
        datetime(2026, 10, 14, 13, 0),
        datetime(2026, 10, 28, 13, 0),  # 21 October skipped; 22 October is no Wednesday
        datetime(2026, 11, 4, 13, 0),
    ]
    assert weekly_series(_once(datetime(2026, 10, 14, 11, 0, tzinfo=UTC)), STOCKHOLM) is None


def test_a_series_ends_with_the_last_week_on_or_before_repeat_until() -> None:
    series = _weekly(datetime(2026, 10, 14, 11, 0, tzinfo=UTC), date(2026, 11, 3))  # a Tuesday
    assert last_start(series, STOCKHOLM) == datetime(2026, 10, 28, 12, 0, tzinfo=UTC)  # 13:00 CET
    same_day = _weekly(datetime(2026, 10, 14, 11, 0, tzinfo=UTC), date(2026, 10, 14))
    assert list(occurrences(same_day, STOCKHOLM)) == [(same_day.starts_at, same_day.ends_at)]
    endless = _weekly(datetime(2026, 1, 7, 12, 0, tzinfo=UTC), date(2099, 1, 1))
    assert len(list(occurrences(endless, STOCKHOLM))) == MAX_OCCURRENCES


def test_enrolment_in_a_series_closes_when_its_last_week_starts_in_local_time() -> None:
    # 13:00 CET in March; the last week (1 April) is in summer time: 13:00 CEST is 11:00 UTC.
    series = _weekly(datetime(2026, 3, 18, 12, 0, tzinfo=UTC), date(2026, 4, 1))
    assert enrolment_closes(series, STOCKHOLM) == datetime(2026, 4, 1, 11, 0, tzinfo=UTC)
    # Without the zone the weeks keep their UTC time: an hour late across the change.
    assert enrolment_closes(series) == datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    once = _once(datetime(2026, 3, 18, 12, 0, tzinfo=UTC))
    assert enrolment_closes(once, STOCKHOLM) == once.starts_at
    series.enrolment_deadline = datetime(2026, 3, 10, tzinfo=UTC)
    assert enrolment_closes(series, STOCKHOLM) == series.enrolment_deadline


async def test_sessions_starting_tomorrow_for_a_doctor(db: Database) -> None:
    await load_demo(db)
    async with db.session() as session:
        amir = (
            await session.exec(select(Person).where(Person.email.startswith("amir")))  # type: ignore[attr-defined]
        ).one()
    assert amir.id is not None
    tomorrow = datetime.now(STOCKHOLM).date() + timedelta(days=1)
    at_nine = datetime.combine(tomorrow, datetime.min.time(), tzinfo=STOCKHOLM) + timedelta(hours=9)
    course = await add_course(db, "test-reminder", "Test: påminnelse")
    teaching = await add_course(
        db, "test-weekly", "Test: onsdagsundervisning", kind=CourseKind.schemalagd_undervisning
    )
    tomorrows = await add_session(db, course, key="t-1", starts=at_nine.astimezone(UTC))
    later = await add_session(
        db, course, key="t-2", starts=(at_nine + timedelta(days=2)).astimezone(UTC)
    )
    series = await add_session(
        db, teaching, key="t-3", starts=(at_nine - timedelta(days=7)).astimezone(UTC)
    )
    async with db.session() as session:
        row = await session.get(CourseSession, series.id)
        assert row is not None
        row.recurrence, row.repeat_until = Recurrence.weekly, tomorrow + timedelta(days=30)
        session.add(row)
    now = datetime.now(UTC)
    for target in (tomorrows, series):
        assert target.id is not None
        await enrol(
            db,
            zone=STOCKHOLM,
            check_clashes=False,  # both start at nine tomorrow
            doctor_id=amir.id,
            session_id=target.id,
            now=now,
        )
    async with db.session(write_lock=False) as session:
        found = await sessions_starting_on(session, doctor_id=amir.id, day=tomorrow, zone=STOCKHOLM)
    assert {s.key for s in found} == {"t-1", "t-3"}
    assert later.key not in {s.key for s in found}
    async with db.session() as session:
        session.add(SessionSkip(session_id=series.id, occurs_on=tomorrow))
    async with db.session(write_lock=False) as session:
        found = await sessions_starting_on(session, doctor_id=amir.id, day=tomorrow, zone=STOCKHOLM)
    assert {s.key for s in found} == {"t-1"}
