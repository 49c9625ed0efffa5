"""The plan's use cases for the chat and its cards: each owns its transaction and returns plain
results, so the flows in dialogs/ open no session.

Marking an item done and giving it a new date are refused (never raised to the flow) for anyone
`ItemView.changeable_by` / `movable_by` does not allow, for an item the plan no longer has, an
unknown instrument and a date on the wrong side of today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from btassist.assessments.models import ItemKind
from btassist.assessments.policy import RegionPolicies
from btassist.assessments.service import (
    ItemView,
    PlanChangeRefused,
    PlanLine,
    PlanRefusal,
    TraineePlan,
    instrument_named,
    item_views,
    mark_done,
    move_item,
    plan_of,
    trainees_overdue,
)
from btassist.db.engine import Database

INSTRUMENT_KINDS = frozenset({ItemKind.assessment})
"""Items assessed with one of the region's instruments (Mini-CEX, DOPS, CBD …)."""


@dataclass(frozen=True)
class PlanRefused:
    """Why a change was refused, with the item as it stands (None when it is gone)."""

    reason: PlanRefusal
    view: ItemView | None


async def doctor_plan(database: Database, *, doctor_id: int, today: date) -> list[PlanLine]:
    """ "Bedömningar": the doctor's plan with each item's state today."""
    async with database.session(write_lock=False) as session:
        return await plan_of(session, doctor_id=doctor_id, today=today)


async def my_trainees(database: Database, *, supervisor_id: int, today: date) -> list[TraineePlan]:
    """ "Mina BT-läkare": the supervisor's trainees, each with what is overdue."""
    async with database.session(write_lock=False) as session:
        return await trainees_overdue(session, supervisor_id=supervisor_id, today=today)


async def items(
    database: Database, item_ids: Sequence[int], *, open_only: bool = True
) -> list[ItemView]:
    """Items as cards show them (by default the open ones only: done items drop off a card)."""
    async with database.session(write_lock=False) as session:
        return await item_views(session, item_ids, open_only=open_only)


async def record_done(
    database: Database,
    *,
    item_id: int,
    by_person_id: int,
    on: date,
    today: date,
    instrument: str | None,
    assessor: str | None,
    now: datetime,
    policies: RegionPolicies,
) -> ItemView | PlanRefused:
    """ "Markera som genomförd" from a card: the item done on `on` with the instrument (in the
    region's spelling) and assessor given; nudges about it stop at once."""
    async with database.session() as session:
        found = await item_views(session, [item_id])
        view = found[0] if found else None
        try:
            named = None
            if instrument and view is not None:
                policy = policies.get(view.doctor_region)
                named = instrument_named(policy, instrument) if policy else instrument[:50]
            await mark_done(
                session,
                item_id=item_id,
                on=on,
                today=today,
                instrument=named,
                assessor=assessor,
                by_person_id=by_person_id,
                now=now,
            )
        except PlanChangeRefused as refused:
            return PlanRefused(refused.reason, view)
        return (await item_views(session, [item_id]))[0]


async def set_new_date(
    database: Database, *, item_id: int, by_person_id: int, due: date, today: date, now: datetime
) -> ItemView | PlanRefused:
    """ "Nytt datum" from a card: the item due on `due` (today or later); its reminders and
    nudges start over from there."""
    async with database.session() as session:
        found = await item_views(session, [item_id])
        view = found[0] if found else None
        if view is not None and due < today:
            return PlanRefused(PlanRefusal.in_the_past, view)
        try:
            await move_item(session, item_id=item_id, due=due, by_person_id=by_person_id, now=now)
        except PlanChangeRefused as refused:
            return PlanRefused(refused.reason, view)
        return (await item_views(session, [item_id]))[0]
