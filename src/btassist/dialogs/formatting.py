"""Dates and times as people read them on cards: local time, weekday, ISO date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from btassist.common.language import Language
from btassist.courses.models import CourseSession, Recurrence
from btassist.i18n.catalogue import t


def day(value: date, language: Language) -> str:
    """ "tis 2027-01-12"."""
    return f"{t(f'weekday.{value.weekday()}', language)} {value.isoformat()}"


def moment(value: datetime, zone: ZoneInfo, language: Language) -> str:
    """ "tis 2027-01-12 09:00" in local time."""
    local = value.astimezone(zone)
    return f"{day(local.date(), language)} {local:%H:%M}"


def span(session: CourseSession, zone: ZoneInfo, language: Language) -> str:
    """ "tis 2027-01-12 09:00–16:00", a multi-day "… – ons 2027-01-13 16:00", or a weekly series."""
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    text = (
        f"{moment(start, zone, language)}–{end:%H:%M}"
        if start.date() == end.date()
        else f"{moment(start, zone, language)} – {moment(end, zone, language)}"
    )
    if session.recurrence is Recurrence.weekly and session.repeat_until:
        text += f", {t('time.weekly', language, until=session.repeat_until.isoformat())}"
    return text
