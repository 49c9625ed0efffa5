"""What a feed holds, as plain data: its events and its header, before any iCalendar text.

Apart from `ical.py`, which writes them with icalendar, so that the feeds can be assembled
without loading icalendar (some 4 MB a process that serves no feed never needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum


class EventStatus(StrEnum):
    """STATUS of a VEVENT: waitlisted seats are TENTATIVE, cancelled sessions CANCELLED."""

    confirmed = "CONFIRMED"
    tentative = "TENTATIVE"
    cancelled = "CANCELLED"


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT as plain, hashable data: a timed event (UTC) or an all-day one (dates).

    A weekly series repeats until the start (UTC) of its last occurrence, less `skipped`
    occurrences. `modified` is both DTSTAMP and LAST-MODIFIED, so an unchanged event is
    written identically every time.
    """

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date  # exclusive, as in iCalendar: the day after an all-day event
    modified: datetime
    created: datetime | None = None
    sequence: int = 0
    status: EventStatus = EventStatus.confirmed
    description: str = ""
    location: str = ""
    url: str | None = None
    weekly_until: datetime | None = None
    skipped: tuple[datetime, ...] = ()
    categories: tuple[str, ...] = ()
    busy: bool = True

    @property
    def timed(self) -> bool:
        """True for an event with times, False for an all-day one."""
        return isinstance(self.start, datetime)

    def sort_key(self) -> tuple[datetime, str]:
        """Chronological order, all-day events at the start of their day (UTC)."""
        start = self.start
        if not isinstance(start, datetime):
            start = datetime.combine(start, time(), UTC)
        return start, self.uid


@dataclass(frozen=True)
class CalendarHeader:
    """The calendar's own properties: its name and description as a subscriber sees them."""

    name: str
    description: str
