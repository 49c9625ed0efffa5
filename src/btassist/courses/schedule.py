"""When sessions happen: expanding weekly series (in local time) and finding overlaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from btassist.courses.models import CourseSession, Recurrence

MAX_OCCURRENCES = 60  # a BT year of weekly teaching, with room to spare


def occurrences(
    session: CourseSession, zone: ZoneInfo, skipped: frozenset[date] = frozenset()
) -> Iterator[tuple[datetime, datetime]]:
    """Start and end (UTC) of each occurrence; a weekly series keeps its local wall-clock time
    across daylight-saving changes, as teaching at 13:00 stays at 13:00."""
    length = session.ends_at - session.starts_at
    if session.recurrence is not Recurrence.weekly:
        yield session.starts_at, session.ends_at
        return
    first_local = session.starts_at.astimezone(zone)
    until = session.repeat_until or first_local.date()
    for week in range(MAX_OCCURRENCES):
        local = (first_local.replace(tzinfo=None) + timedelta(weeks=week)).replace(tzinfo=zone)
        if local.date() > until:
            return
        if local.date() not in skipped:
            start = local.astimezone(UTC)
            yield start, start + length


def overlaps(first: CourseSession, second: CourseSession, zone: ZoneInfo) -> bool:
    """Whether any occurrence of one session overlaps any occurrence of the other."""
    return any(
        a_start < b_end and b_start < a_end
        for a_start, a_end in occurrences(first, zone)
        for b_start, b_end in occurrences(second, zone)
    )
