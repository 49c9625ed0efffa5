"""Demo data for trying the bot: the fictional roster, with dates kept current."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from importlib import resources
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from btassist.assessments.policy import RegionPolicies
from btassist.assessments.sync import sync_plans
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.demo.courses import load_demo_courses
from btassist.roster.files import RosterFile, parse_roster_text
from btassist.roster.importer import ImportResult, import_roster

log = logging.getLogger(__name__)

# The month the demo files were written for; the loader moves every date by the whole months
# between it and today, so the demo cohort is always mid-BT.
DEMO_MONTH = date(2026, 11, 1)
DATE_COLUMNS = frozenset({"bt_start", "bt_end", "start", "end"})


def demo_roster(today: date | None = None) -> list[RosterFile]:
    """The demo people and placements files, dates moved to be current."""
    today = today or date.today()
    months = (today.year - DEMO_MONTH.year) * 12 + today.month - DEMO_MONTH.month
    files = []
    for name in ("people.csv", "placements.csv"):
        text = resources.files(__package__).joinpath("roster", name).read_text("utf-8")
        files.append(_shift_dates(parse_roster_text(text), months))
    return files


async def load_demo(
    database: Database,
    today: date | None = None,
    *,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
    policies: RegionPolicies | None = None,
) -> list[ImportResult]:
    """Import the demo roster, the course catalogue and demo sessions dated from today, and make
    the doctors' plans (idempotent: a second load changes nothing on the same day). `now` is
    the service's clock (default: the wall clock), `policies` the region policies in use."""
    zone = zone or ZoneInfo("Europe/Stockholm")
    now = now or utcnow()
    today = today or now.astimezone(zone).date()
    results = []
    for roster in demo_roster(today):
        result = await import_roster(database, roster)
        if not result.ok:  # people changed since: never a reason not to start
            log.warning("demo %s not loaded: %d problem(s)", roster.kind, len(result.problems))
        results.append(result)
    await sync_plans(database, policies=policies, now=now)
    await load_demo_courses(database, today=today, zone=zone, now=now)
    return results


def _shift_dates(roster: RosterFile, months: int) -> RosterFile:
    if months == 0:
        return roster
    delta = relativedelta(months=months)
    rows = [
        replace(
            row,
            values={
                column: (date.fromisoformat(v) + delta).isoformat()
                if column in DATE_COLUMNS and v
                else v
                for column, v in row.values.items()
            },
        )
        for row in roster.rows
    ]
    return replace(roster, rows=rows)
