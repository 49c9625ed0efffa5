"""Turning feed events into RFC 5545 text with icalendar: VCALENDAR, VTIMEZONE and VEVENTs.

This is the only module that touches icalendar. Every property value is an icalendar type, and
every content line is escaped, assembled and folded by icalendar (`Contentline`). What is done
here is the order of a VEVENT's lines (icalendar's canonical order, from `canonsort_keys`) and
joining bytes icalendar wrote, so that work is not repeated: an unchanged VEVENT is not written
again for every feed it appears in, and a line many events share (a course's title, a room, a
STATUS) is written once. `render` gives byte for byte what `calendar_object(...).to_ical()`
gives; a test holds it to that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCategory,
    vDDDLists,
    vDDDTypes,
    vDuration,
    vInt,
    vRecur,
    vText,
    vUri,
)
from icalendar.caselessdict import canonsort_keys
from icalendar.parser import Contentline

from btassist.calendar.events import CalendarHeader, FeedEvent

PRODID = "-//BT-assistenten//Kalenderflöden//SV"
REFRESH = timedelta(hours=1)  # how often clients that listen should fetch again
END = b"END:VCALENDAR\r\n"
EVENT_CACHE_SIZE = 20_000  # serialised VEVENTs kept, about 1 kB each
CRLF = b"\r\n"
LINE_CACHE_SIZE = 4096  # shared lines kept (titles, rooms, descriptions), mostly < 1 kB each
# The order icalendar writes a VEVENT's properties in: its canonical ones, then by name.
EVENT_ORDER = tuple(
    canonsort_keys(
        [
            "SUMMARY",
            "DTSTART",
            "DTEND",
            "DTSTAMP",
            "UID",
            "SEQUENCE",
            "RRULE",
            "EXDATE",
            "STATUS",
            "DESCRIPTION",
            "LOCATION",
            "URL",
            "CATEGORIES",
            "TRANSP",
            "CREATED",
            "LAST-MODIFIED",
        ],
        Event.canonical_order,
    )
)
BEGIN_EVENT, END_EVENT = (line + CRLF for line in Event().to_ical().splitlines())


Property = vText | vDDDTypes | vDDDLists | vInt | vRecur | vUri | vCategory


def event_properties(event: FeedEvent, zone: ZoneInfo) -> dict[str, Property]:
    """The VEVENT's properties as icalendar values, times in the local zone so a weekly series
    keeps its wall clock.

    The values are built directly rather than through `Event.add`, which infers each type from
    the Python value; a test holds them to what `add` gives.
    """
    shared = {name: _typed(name, value) for name, value in _shared_values(event).items()}
    return {**_own_properties(event, zone), **shared}


PlainValue = str | int | tuple[str, ...]


def _shared_values(event: FeedEvent) -> dict[str, PlainValue]:
    """Properties whose values repeat across events (a course's title, a room), as plain data."""
    values: dict[str, PlainValue] = {
        "SUMMARY": event.summary,
        "SEQUENCE": event.sequence,
        "STATUS": event.status.value,
        "TRANSP": "OPAQUE" if event.busy else "TRANSPARENT",
    }
    if event.description:
        values["DESCRIPTION"] = event.description
    if event.location:
        values["LOCATION"] = event.location
    if event.categories:
        values["CATEGORIES"] = event.categories
    return values


def _typed(name: str, value: PlainValue) -> Property:
    """A shared value as the icalendar type `Event.add` gives it."""
    if isinstance(value, tuple):
        return vCategory(list(value))
    if isinstance(value, int):
        return vInt(value)
    return vText(value)


def _own_properties(event: FeedEvent, zone: ZoneInfo) -> dict[str, Property]:
    """Properties particular to this event: its UID, times and links."""
    modified = vDDDTypes(event.modified.astimezone(UTC))
    start, end = event.start, event.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        start, end = start.astimezone(zone), end.astimezone(zone)
    properties: dict[str, Property] = {
        "DTSTART": vDDDTypes(start),
        "DTEND": vDDDTypes(end),
        "DTSTAMP": modified,
        "UID": vText(event.uid),
        "LAST-MODIFIED": modified,
    }
    if event.weekly_until is not None:
        # With a zoned DTSTART, RFC 5545 wants UNTIL in UTC.
        until = event.weekly_until.astimezone(UTC)
        properties["RRULE"] = vRecur({"freq": "weekly", "until": until})
        if event.skipped:
            properties["EXDATE"] = vDDDLists([day.astimezone(zone) for day in event.skipped])
    if event.url:
        properties["URL"] = vUri(event.url)
    if event.created is not None:
        properties["CREATED"] = vDDDTypes(event.created.astimezone(UTC))
    return properties


def event_component(event: FeedEvent, zone: ZoneInfo) -> Event:
    """The VEVENT for `event`, as an icalendar component."""
    component = Event()
    for name, value in event_properties(event, zone).items():
        component[name] = value
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
    """What `event_component(event, zone).to_ical()` writes, one content line at a time."""
    own = _own_properties(event, zone)
    shared = _shared_values(event)
    lines = [BEGIN_EVENT]
    for name in EVENT_ORDER:
        if name in own:
            lines.append(_line(name, own[name]))
        elif name in shared:
            lines.append(_shared_line(name, shared[name]))
    lines.append(END_EVENT)
    return b"".join(lines)


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _shared_line(name: str, value: PlainValue) -> bytes:
    """A property many events share, written once for all of them."""
    return _line(name, _typed(name, value))


def _line(name: str, value: Property) -> bytes:
    """One property as icalendar writes it in a component: escaped, folded, CRLF."""
    written: bytes = Contentline.from_parts(name, value.params, value).to_ical()
    return written + CRLF


def clear_caches() -> None:
    """Forget every serialised piece (benchmarks measure cold builds with this)."""
    _event_bytes.cache_clear()
    _shared_line.cache_clear()
    _vtimezone_bytes.cache_clear()


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


def vtimezone(zone: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """icalendar's VTIMEZONE for `zone` over the years, its onsets where RFC 5545 puts them.

    RFC 5545 §3.6.5 reads an observance's DTSTART and RDATE as local time with TZOFFSETFROM:
    the wall clock just before the change, so Stockholm's summer time starts at 02:00 and its
    winter time at 03:00. `Timezone.from_tzinfo` (icalendar 7.3) writes the first wall-clock
    time after the change instead. That is the same time when clocks go back, but when they go
    forward it is later by the jump (03:00 in March), and a client that reads our VTIMEZONE
    rather than its own tz database would change an hour late. Only that is corrected here; a
    test fails when icalendar writes the onsets differently.
    """
    timezone = Timezone.from_tzinfo(
        zone,
        tzid=zone.key,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year + 1, 1, 1),
    )
    observances: list[TimezoneStandard | TimezoneDaylight] = [
        *timezone.standard,
        *timezone.daylight,
    ]
    for observance in observances:
        jump = observance.TZOFFSETTO - observance.TZOFFSETFROM
        if jump > timedelta():
            observance.DTSTART -= jump
            observance.rdates = [onset - jump for onset, _ in observance.rdates]
    return timezone


@lru_cache(maxsize=64)
def _vtimezone_bytes(zone: ZoneInfo, first_year: int, last_year: int) -> bytes:
    written: bytes = vtimezone(zone, first_year, last_year).to_ical()
    return written
