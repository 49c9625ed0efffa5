"""When sessions happen: the one place that knows a session's occurrences, and overlaps.

A weekly series is a `dateutil.rrule` in local wall-clock time, so teaching at 13:00 stays at
13:00 across daylight-saving changes; skipped weeks are its exception dates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule, rruleset

from btassist.courses.models import CourseSession, Recurrence

MAX_OCCURRENCES = 60  # a BT year of weekly teaching, with room to spare


def weekly_series(
    session: CourseSession, zone: ZoneInfo, skipped: Collection[date] = ()
) -> rruleset | None:
    """A weekly series' local starts (naive wall-clock times) up to `repeat_until`, less the
    skipped days; None for a session that happens once."""
    if session.recurrence is not Recurrence.weekly:
        return None
    first = session.starts_at.astimezone(zone).replace(tzinfo=None)
    last_day = session.repeat_until or first.date()
    series = rruleset()
    series.rrule(rrule(WEEKLY, dtstart=first, until=datetime.combine(last_day, time.max)))
    for day in skipped:
        series.exdate(datetime.combine(day, first.time()))
    return series


def occurrences(
    session: CourseSession, zone: ZoneInfo, skipped: Collection[date] = ()
) -> Iterator[tuple[datetime, datetime]]:
    """Start and end (UTC) of each occurrence, skipped weeks of a series left out."""
    series = weekly_series(session, zone, skipped)
    if series is None:
        yield session.starts_at, session.ends_at
        return
    length = session.ends_at - session.starts_at
    for local in islice(series, MAX_OCCURRENCES):
        start = local.replace(tzinfo=zone).astimezone(UTC)
        yield start, start + length


def last_start(session: CourseSession, zone: ZoneInfo) -> datetime:
    """When (UTC) the last occurrence starts, skipped or not: the series' final week."""
    *_, (start, _) = occurrences(session, zone)
    return start


def overlaps(first: CourseSession, second: CourseSession, zone: ZoneInfo) -> bool:
    """Whether any occurrence of one session overlaps any occurrence of the other."""
    return any(
        a_start < b_end and b_start < a_end
        for a_start, a_end in occurrences(first, zone)
        for b_start, b_end in occurrences(second, zone)
    )
