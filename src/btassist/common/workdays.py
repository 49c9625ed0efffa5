"""Swedish working days, and the moment on each when reminders go out (08:30 local time).

A working day is Monday to Friday except Swedish public holidays (the `holidays` library) and
the three eves that are days off in practice: julafton, midsommarafton and nyårsafton (its
`de_facto` category). Sundays are weekend days here, never "holidays": the library counts
every Sunday as a Swedish holiday unless told not to, so it is told explicitly.

The days off of 2000–2099 are read from `swedish_holidays.csv`, the library's answer written
out by `scripts/swedish_holidays.py` (a test holds the two to each other): asked for Sweden,
the library imports the calendars of every country it knows, about 7 MB that every process
would keep. Other years ask the library itself.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

SEND_AT = time(8, 30)
# A sweep after this local time sends nothing more that day: no evening or night messages.
SEND_UNTIL = time(17, 0)
HOLIDAY_TABLE = Path(__file__).with_name("swedish_holidays.csv")
TABLE_YEARS = range(2000, 2100)
"""The years `HOLIDAY_TABLE` holds, every day off of each."""


def library_days_off(years: range | None = None) -> holidays.HolidayBase:
    """Swedish public holidays and de facto days off, as the `holidays` library has them."""
    import holidays

    return holidays.country_holidays(
        "SE", categories=(holidays.PUBLIC, holidays.DE_FACTO), include_sundays=False, years=years
    )


@lru_cache(maxsize=1)
def _library() -> holidays.HolidayBase:
    return library_days_off()


@lru_cache(maxsize=1)
def holiday_table() -> dict[date, str]:
    """`HOLIDAY_TABLE` read: each day off of `TABLE_YEARS` and its name."""
    names: dict[str, str] = {}  # one string for each name, not one for each year
    with HOLIDAY_TABLE.open(encoding="utf-8", newline="") as rows:
        return {
            date.fromisoformat(day): names.setdefault(name, name) for day, name in csv.reader(rows)
        }


def day_off(day: date) -> str | None:
    """The name of the Swedish holiday or day off on `day`, None on other days."""
    if day.year in TABLE_YEARS:
        return holiday_table().get(day)
    name = _library().get(day)
    return None if name is None else str(name)


class WorkingDays:
    """Working days and send times in one time zone."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a Swedish holiday or julafton/midsommarafton/nyårsafton."""
        return day.weekday() < 5 and day_off(day) is None

    def holiday_name(self, day: date) -> str | None:
        """The holiday on `day`, if any (for messages and tests)."""
        return day_off(day)

    def on_or_before(self, day: date) -> date:
        """The last working day on or before `day`."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def after(self, day: date) -> date:
        """The first working day after `day`."""
        return self.on_or_after(day + timedelta(days=1))

    def counting_back(self, day: date, count: int) -> date:
        """The `count`-th working day counting back from `day` (itself first, if working)."""
        day = self.on_or_before(day)
        for _ in range(count - 1):
            day = self.on_or_before(day - timedelta(days=1))
        return day

    def send_time(self, day: date) -> datetime:
        """08:30 local time on `day`, as UTC (08:30 exists on every day, DST or not)."""
        return datetime.combine(day, SEND_AT, tzinfo=self.zone).astimezone(UTC)

    def sending_day(self, now: datetime) -> date | None:
        """The local day whose reminders a sweep at `now` sends, or None outside sending hours."""
        local = now.astimezone(self.zone)
        if not self.is_working_day(local.date()) or not SEND_AT <= local.time() < SEND_UNTIL:
            return None
        return local.date()

    def next_send_time(self, now: datetime) -> datetime:
        """`now` if it is within sending hours, else 08:30 on the next working day."""
        if self.sending_day(now) is not None:
            return now
        local = now.astimezone(self.zone)
        day = local.date()
        if not self.is_working_day(day) or local.time() >= SEND_UNTIL:
            day = self.after(day)
        return self.send_time(day)
