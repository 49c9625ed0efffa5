"""Times people add to a request ("i mars", "nästa vecka", "den 14 januari", "vecka 12") as a
window of local dates.

The phrase is found with a small pattern table (so the rest of the sentence can name a course
without the time words in it) and read with dateparser's Swedish and English data, which also
says how long a period the phrase means (a day, a week, a month). Week numbers, which Swedes use
and dateparser does not read, are counted here.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from btassist.common.text import strip_accents

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

_MONTHS = (
    "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december|"
    "january|february|march|may|june|july|august|october"
)
_SHORT_MONTHS = "jan|feb|mar|apr|jun|aug|sep|sept|okt|oct|nov|dec"
_WEEKDAYS = (
    "mandag|tisdag|onsdag|torsdag|fredag|lordag|sondag|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_NUMBERS = {"en": 1, "ett": 1, "one": 1, "a": 1, "tva": 2, "two": 2, "tre": 3, "three": 3}
_COUNT = r"\d{1,2}|en|ett|one|a|tva|two|tre|three"
_ORDINAL = r"(?::?e|:a|st|nd|rd|th)?"

# Longest phrases first; `on`/`den`/`i` are kept out of what dateparser reads.
_PHRASES = re.compile(
    "|".join(
        (
            rf"(?:\b(?:den|on|the)\s+)?\b(?P<day>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?"
            rf"(?P<day_month>{_MONTHS}|{_SHORT_MONTHS})\b(?:\s+(?P<day_year>20\d\d)\b)?",
            rf"\b(?P<month_first>{_MONTHS})\s+(?P<month_day>\d{{1,2}}){_ORDINAL}\b",
            r"(?:\bden\s+)?\b(?P<numeric>\d{1,2}/\d{1,2})(?:/\d{2,4})?\b",
            r"\b(?:vecka|v\.?|week)\s*(?P<week>\d{1,2})\b",
            r"\b(?P<relative>(?:nasta|next|kommande|coming)\s+"
            r"(?:vecka|veckan|week|manad|manaden|month))\b",
            r"\b(?P<this>(?:den\s+har|denna|this|i)\s+(?:veckan|week|manaden|month))\b",
            rf"\b(?P<later>(?:om|in)\s+(?:{_COUNT})\s+(?:veckor|vecka|weeks?|dagar|dag|days?))\b",
            r"\b(?P<tomorrow>i\s*overmorgon|overmorgon|i\s*morgon|imorgon|tomorrow)\b",
            rf"\b(?:pa|on|nu\s+pa|this)\s+(?P<weekday>{_WEEKDAYS})\b",
            rf"\b(?:i|in|under|during|pa|till|to|for)\s+(?P<month>{_MONTHS})\b"
            r"(?:\s+(?P<month_year>20\d\d)\b)?",
            r"\b(?P<bare_month>januari|februari|april|maj|juni|juli|augusti|september|oktober|"
            r"november|december|january|february|june|july|august|october)\b",
        )
    )
)


@dataclass(frozen=True)
class Window:
    """Local dates from `start` to `end`, both included."""

    start: date
    end: date

    def holds(self, day: date) -> bool:
        """Whether `day` falls inside the window."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class TimePhrase:
    """A time found in a sentence, and where (so the rest can be read without it)."""

    window: Window
    span: tuple[int, int]


@lru_cache(maxsize=64)
def _parser(settings: tuple[tuple[str, object], ...]) -> DateDataParser:
    """A parser per day and kind of phrase (its settings hold "today")."""
    # Imported on the first time phrase, not with the module: dateparser is 3 to 4 MB that a
    # server process would otherwise hold from the start (its language data 4 MB more, read
    # on the first parse either way).
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["sv", "en"], settings={"DATE_ORDER": "DMY", **dict(settings)})


def read_time(text: str, *, today: date) -> TimePhrase | None:
    """The first time phrase in `text` (folded: lower case, no diacritics) read against today."""
    for found in _PHRASES.finditer(text):
        window = _window(found, today)
        if window is not None:
            return TimePhrase(window, found.span())
    return None


def prepare(text: str) -> str:
    """Text as `read_time` reads it: lower case, no diacritics, one space between words."""
    return " ".join(strip_accents(text.casefold()).split())


def _window(found: re.Match[str], today: date) -> Window | None:
    groups = found.groupdict()
    if groups["week"]:
        return _iso_week(int(groups["week"]), today)
    if groups["later"]:
        count_word, unit = groups["later"].split()[1:3]
        count = int(count_word) if count_word.isdigit() else _NUMBERS[count_word]
        if unit.startswith(("dag", "day")):
            day = today + timedelta(days=count)
            return Window(day, day)
        return _week_of(today + timedelta(weeks=count))
    if groups["this"]:
        if groups["this"].endswith(("veckan", "week")):
            return _week_of(today)
        return _month_of(today.year, today.month)
    for name in ("day", "month_first", "numeric", "relative", "tomorrow", "weekday"):
        if groups[name]:
            phrase = found.group(0)
            phrase = re.sub(r"^(?:den|on|the|pa|nu pa|this)\s+", "", phrase)
            return _parsed(phrase, today)
    month = groups["month"] or groups["bare_month"]
    if month:
        year = groups["month_year"]
        return _parsed(f"{month} {year}" if year else month, today, whole_month=True)
    return None


def _parsed(phrase: str, today: date, *, whole_month: bool = False) -> Window | None:
    """The phrase read by dateparser as of today, preferring dates to come."""
    base = datetime(today.year, today.month, today.day)
    settings: dict[str, object] = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future"}
    if whole_month:
        settings["PREFER_DAY_OF_MONTH"] = "first"
    parsed = _parser(tuple(sorted(settings.items()))).get_date_data(phrase)
    if parsed.date_obj is None:
        return None
    day = parsed.date_obj.date()
    period = parsed.period or "day"
    if period == "month" or whole_month:
        if day.year > today.year and day.month == today.month and not re.search(r"20\d\d", phrase):
            day = day.replace(year=today.year)  # "i januari", said in January: this month
        return _month_of(day.year, day.month)
    if period == "week":
        return _week_of(day)
    if day < today and "/" in phrase:
        day = day.replace(year=day.year + 1)  # "14/1" said in March is next January
    return Window(day, day)


def _iso_week(number: int, today: date) -> Window | None:
    if not 1 <= number <= 53:
        return None
    for year in (today.year, today.year + 1):
        try:
            monday = date.fromisocalendar(year, number, 1)
        except ValueError:
            continue
        if monday + timedelta(days=6) >= today:
            return Window(monday, monday + timedelta(days=6))
    return None


def _week_of(day: date) -> Window:
    monday = day - timedelta(days=day.weekday())
    return Window(monday, monday + timedelta(days=6))


def _month_of(year: int, month: int) -> Window:
    return Window(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
