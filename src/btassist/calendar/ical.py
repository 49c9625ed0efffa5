"""Turning feed events into RFC 5545 text with icalendar: VCALENDAR, VTIMEZONE and VEVENTs.

This is the only module that touches icalendar. Every property is serialised, escaped and folded
by icalendar; the one thing done here is joining the bytes of components icalendar wrote, so a
VEVENT that has not changed is not written again for every feed it appears in (`render` gives
byte for byte what `calendar_object(...).to_ical()` gives; a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDuration,
    vText,
)

PRODID = "-//BT-assistenten//Kalenderflöden//SV"
REFRESH = timedelta(hours=1)  # how often clients that listen should fetch again
END = b"END:VCALENDAR\r\n"
EVENT_CACHE_SIZE = 20_000  # serialised VEVENTs kept, about 1 kB each
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


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


def event_component(event: FeedEvent, zone: ZoneInfo) -> Event:
    """The VEVENT for `event`, times in the local zone so a weekly series keeps its wall clock."""
    component = Event()
    component.add("uid", event.uid)
    component.add("dtstamp", event.modified.astimezone(UTC))
    if isinstance(event.start, datetime) and isinstance(event.end, datetime):
        component.add("dtstart", event.start.astimezone(zone))
        component.add("dtend", event.end.astimezone(zone))
    else:
        component.add("dtstart", event.start)
        component.add("dtend", event.end)
    if event.weekly_until is not None:
        # With a zoned DTSTART, RFC 5545 wants UNTIL in UTC.
        component.add("rrule", {"freq": "weekly", "until": event.weekly_until.astimezone(UTC)})
        if event.skipped:
            component.add("exdate", [skipped.astimezone(zone) for skipped in event.skipped])
    component.add("sequence", event.sequence)
    component.add("status", event.status.value)
    component.add("summary", event.summary)
    if event.description:
        component.add("description", event.description)
    if event.location:
        component.add("location", event.location)
    if event.url:
        component.add("url", event.url)
    if event.categories:
        component.add("categories", list(event.categories))
    component.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.created is not None:
        component.add("created", event.created.astimezone(UTC))
    component.add("last-modified", event.modified.astimezone(UTC))
    return component


def header_component(header: CalendarHeader, zone: ZoneInfo) -> Calendar:
    """An empty VCALENDAR with the properties subscribing clients read."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # icalendar escapes the text of properties it does not know only when handed a vText.
    calendar.add("name", vText(header.name))
    calendar.add("x-wr-calname", vText(header.name))
    calendar.add("x-wr-caldesc", vText(header.description))
    calendar.add("x-wr-timezone", vText(zone.key))
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def calendar_object(
    header: CalendarHeader, events: Iterable[FeedEvent], zone: ZoneInfo
) -> Calendar:
    """The whole feed as one icalendar object (what `render` writes, for tests and benchmarks)."""
    ordered = sorted(events, key=FeedEvent.sort_key)
    calendar = header_component(header, zone)
    years = _years(ordered, zone)
    if years is not None:
        calendar.add_component(vtimezone(zone, *years))
    for event in ordered:
        calendar.add_component(event_component(event, zone))
    return calendar


def render(header: CalendarHeader, events: Iterable[FeedEvent], zone: ZoneInfo) -> bytes:
    """The feed as iCalendar bytes, reusing the serialised form of unchanged events."""
    ordered = sorted(events, key=FeedEvent.sort_key)
    head = header_component(header, zone).to_ical()
    if not head.endswith(END):
        raise AssertionError("icalendar ended the calendar differently than expected")
    parts = [head[: -len(END)]]
    years = _years(ordered, zone)
    if years is not None:
        parts.append(_vtimezone_bytes(zone, *years))
    parts.extend(_event_bytes(event, zone) for event in ordered)
    parts.append(END)
    return b"".join(parts)


@lru_cache(maxsize=EVENT_CACHE_SIZE)
def _event_bytes(event: FeedEvent, zone: ZoneInfo) -> bytes:
    written: bytes = event_component(event, zone).to_ical()
    return written


def _years(events: Sequence[FeedEvent], zone: ZoneInfo) -> tuple[int, int] | None:
    """The local years a VTIMEZONE must cover, from a year before the first event."""
    starts, ends = [], []
    for event in events:
        if isinstance(event.start, datetime) and isinstance(event.end, datetime):
            starts.append(event.start)
            ends.append(max(event.end, event.weekly_until or event.end))
    if not starts:
        return None
    return min(starts).astimezone(zone).year - 1, max(ends).astimezone(zone).year


# VTIMEZONE -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    onset: datetime  # local wall-clock time just before the change (naive), as RFC 5545 wants
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE for `zone` from its tz database rules, exact on every change in the years.

    Each observance starts at the local time *before* the change (RFC 5545 §3.6.5: DTSTART is
    read with TZOFFSETFROM), so Stockholm's summer time starts at 02:00 and ends at 03:00.
    Yearly rules ("last Sunday of March") become an RRULE, as Outlook writes them; anything
    irregular is listed with RDATE.
    """
    timezone = Timezone()
    timezone.add("tzid", zone.key)
    transitions = _transitions(zone, first_year, last_year)
    if not transitions:
        offset = datetime(first_year, 1, 1, tzinfo=zone).utcoffset() or timedelta()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", datetime(first_year, 1, 1, tzinfo=zone).tzname() or zone.key)
        timezone.add_component(standard)
        return timezone
    groups: dict[tuple[bool, timedelta, timedelta, str], list[_Transition]] = {}
    for transition in transitions:
        key = (transition.daylight, transition.offset_from, transition.offset_to, transition.name)
        groups.setdefault(key, []).append(transition)
    for (daylight, offset_from, offset_to, name), members in groups.items():
        observance = TimezoneDaylight() if daylight else TimezoneStandard()
        observance.add("dtstart", members[0].onset)
        rule = _yearly_rule(members, last_year)
        if rule is not None:
            observance.add("rrule", rule)
        elif len(members) > 1:
            observance.add("rdate", [member.onset for member in members[1:]])
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        observance.add("tzname", name)
        timezone.add_component(observance)
    return timezone


@lru_cache(maxsize=64)
def _vtimezone_bytes(zone: ZoneInfo, first_year: int, last_year: int) -> bytes:
    written: bytes = vtimezone(zone, first_year, last_year).to_ical()
    return written


def _transitions(zone: ZoneInfo, first_year: int, last_year: int) -> list[_Transition]:
    """Every change of UTC offset in the years, found day by day and then to the second."""
    found = []
    day = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    while day < end:
        following = day + timedelta(days=1)
        before, after = _offset(zone, day), _offset(zone, following)
        if before != after:
            low, high = day, following  # the change happens in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            local = high.astimezone(zone)
            found.append(
                _Transition(
                    onset=(high + before).replace(tzinfo=None),
                    offset_from=before,
                    offset_to=after,
                    name=local.tzname() or zone.key,
                    daylight=bool(local.dst()),
                )
            )
        day = following
    return found


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta()


def _yearly_rule(members: list[_Transition], last_year: int) -> dict[str, object] | None:
    """FREQ=YEARLY;BYMONTH=…;BYDAY=… when every change follows one weekday rule, year on year."""
    first = members[0].onset
    same_shape = all(
        m.onset.month == first.month
        and m.onset.weekday() == first.weekday()
        and m.onset.time() == first.time()
        and m.onset.year == first.year + index
        for index, m in enumerate(members)
    )
    if not same_shape:
        return None
    if all(_is_last_in_month(m.onset) for m in members):
        position = -1
    elif len({(m.onset.day - 1) // 7 for m in members}) == 1:
        position = (first.day - 1) // 7 + 1
    else:
        return None
    rule: dict[str, object] = {
        "freq": "yearly",
        "bymonth": first.month,
        "byday": f"{position}{WEEKDAYS[first.weekday()]}",
    }
    if members[-1].onset.year < last_year:
        # The rule stopped inside the covered years: say when (UNTIL in UTC).
        last = members[-1]
        rule["until"] = (last.onset - last.offset_from).replace(tzinfo=UTC)
    return rule


def _is_last_in_month(moment: datetime) -> bool:
    return (moment + timedelta(weeks=1)).month != moment.month
