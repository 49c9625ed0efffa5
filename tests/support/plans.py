"""Doctors who do what their plan asks on time, for tests of what reminders follow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.assessments.service import mark_done
from btassist.db.engine import Database

ZONE = ZoneInfo("Europe/Stockholm")


async def done_on_time(
    database: Database,
    until: date,
    *,
    doctor_id: int | None = None,
    unless: Callable[[PlanItem], bool] = lambda _: False,
) -> None:
    """Every open item due up to `until` done on its day at 15:00 (of one doctor, or all),
    except those `unless` keeps open."""
    query = select(PlanItem).where(
        col(PlanItem.due) <= until, col(PlanItem.status) == ItemStatus.open
    )
    if doctor_id is not None:
        query = query.where(col(PlanItem.doctor_id) == doctor_id)
    async with database.session() as session:
        for item in (await session.exec(query)).all():
            if unless(item):
                continue
            await mark_done(
                session,
                item_id=item.id or 0,
                on=item.due,
                today=until,
                instrument=None,
                assessor=None,
                by_person_id=None,
                now=datetime.combine(item.due, time(15), tzinfo=ZONE).astimezone(UTC),
            )
