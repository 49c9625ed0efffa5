"""Swedish working days, and the moment on each when reminders go out (08:30 local time).

A working day is Monday to Friday except Swedish public holidays (the `holidays` library) and
the three eves that are days off in practice: julafton, midsommarafton and nyårsafton (its
`de_facto` category). Sundays are weekend days here, never "holidays": the library counts
every Sunday as a Swedish holiday unless told not to, so it is told explicitly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

SEND_AT = time(8, 30)
# A sweep after this local time sends nothing more that day: no evening or night messages.
SEND_UNTIL = time(17, 0)


@lru_cache(maxsize=1)
def _swedish_days_off() -> holidays.HolidayBase:
    return holidays.country_holidays(
        "SE", categories=(holidays.PUBLIC, holidays.DE_FACTO), include_sundays=False
    )


class WorkingDays:
    """Working days and send times in one time zone."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._days_off = _swedish_days_off()

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a Swedish holiday or julafton/midsommarafton/nyårsafton."""
        return day.weekday() < 5 and day not in self._days_off

    def holiday_name(self, day: date) -> str | None:
        """The holiday on `day`, if any (for messages and tests)."""
        name = self._days_off.get(day)
        return None if name is None else str(name)

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
