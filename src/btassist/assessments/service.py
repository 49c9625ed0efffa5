"""Reading and changing a plan: the doctor's list, a supervisor's overdue trainees, marking an
item done and setting a new date. Each list is one query; callers own the transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.assessments.plan import covering_placement
from btassist.assessments.policy import RegionPolicy
from btassist.assessments.sync import PLACEMENT_KINDS, STOCKHOLM
from btassist.common.text import fold
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, Role


class PlanRefusal(StrEnum):
    """Why a change to a plan was refused."""

    unknown_item = "unknown_item"
    cancelled = "cancelled"  # the plan no longer has this item
    unknown_instrument = "unknown_instrument"
    not_allowed = "not_allowed"
    in_the_future = "in_the_future"


class PlanChangeRefused(Exception):
    """A change to a plan the rules do not allow."""

    def __init__(self, reason: PlanRefusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class LineState(StrEnum):
    """Where an item stands on a given day."""

    done = "done"
    overdue = "overdue"
    today = "today"
    upcoming = "upcoming"
    cancelled = "cancelled"


@dataclass(frozen=True)
class PlanLine:
    """An item with its placement's unit and handledare, and its state today."""

    item: PlanItem
    unit: str | None
    handledare: str | None
    state: LineState


def state_of(item: PlanItem, today: date) -> LineState:
    """Done, cancelled, or open and overdue / due today / upcoming."""
    if item.status is ItemStatus.done:
        return LineState.done
    if item.status is ItemStatus.cancelled:
        return LineState.cancelled
    if item.due < today:
        return LineState.overdue
    return LineState.today if item.due == today else LineState.upcoming


async def plan_of(
    session: AsyncSession, *, doctor_id: int, today: date, include_cancelled: bool = False
) -> list[PlanLine]:
    """A doctor's plan in date order ("bedömningar"), in one query."""
    handledare = aliased(Person)
    query = (
        select(PlanItem, Placement.unit, handledare.name)
        .outerjoin(Placement, col(Placement.id) == PlanItem.placement_id)
        .outerjoin(handledare, col(handledare.id) == Placement.supervisor_id)
        .where(col(PlanItem.doctor_id) == doctor_id)
        .order_by(col(PlanItem.due), col(PlanItem.id))
    )
    if not include_cancelled:
        query = query.where(col(PlanItem.status) != ItemStatus.cancelled)
    return [
        PlanLine(item, unit, name, state_of(item, today))
        for item, unit, name in await session.exec(query)
    ]


@dataclass(frozen=True)
class TraineePlan:
    """A supervisor's trainee, how they supervise them, and the trainee's overdue items."""

    doctor: Person
    is_main_supervisor: bool
    overdue: list[PlanItem]


async def trainees_overdue(
    session: AsyncSession, *, supervisor_id: int, today: date
) -> list[TraineePlan]:
    """ "Mina BT-läkare": doctors a person supervises (as huvudhandledare, or as handledare of a
    current placement) with every overdue item, in two queries."""
    current = select(Placement.doctor_id).where(
        col(Placement.supervisor_id) == supervisor_id,
        col(Placement.start) <= today,
        col(Placement.end) >= today,
    )
    mains = select(BTProgramme.doctor_id).where(
        col(BTProgramme.main_supervisor_id) == supervisor_id
    )
    doctors = (
        await session.exec(
            select(Person)
            .where(or_(col(Person.id).in_(current), col(Person.id).in_(mains)))
            .order_by(col(Person.name), col(Person.id))
        )
    ).all()
    main_of = set((await session.exec(mains)).all())
    ids = [doctor.id for doctor in doctors]
    overdue: dict[int, list[PlanItem]] = defaultdict(list)
    for item in (
        await session.exec(
            select(PlanItem)
            .where(
                col(PlanItem.doctor_id).in_(ids),
                col(PlanItem.status) == ItemStatus.open,
                col(PlanItem.due) < today,
            )
            .order_by(col(PlanItem.due), col(PlanItem.id))
        )
    ).all():
        overdue[item.doctor_id].append(item)
    return [
        TraineePlan(doctor, doctor.id in main_of, overdue.get(doctor.id or 0, []))
        for doctor in doctors
    ]


async def still_open(session: AsyncSession, item_ids: list[int]) -> list[PlanItem]:
    """The items of a queued notice that are still open: a notice rendered after an item was
    marked done leaves it out (and says nothing when none is left)."""
    if not item_ids:
        return []
    query = select(PlanItem).where(
        col(PlanItem.id).in_(item_ids), col(PlanItem.status) == ItemStatus.open
    )
    return list((await session.exec(query.order_by(col(PlanItem.due), col(PlanItem.id)))).all())


async def may_change(session: AsyncSession, *, person_id: int, item: PlanItem) -> bool:
    """The doctor, their huvudhandledare, the placement's handledare, and the region's
    coordinators and studierektorer may mark an item done or give it a new date."""
    if person_id == item.doctor_id:
        return True
    main = (
        await session.exec(
            select(BTProgramme.main_supervisor_id).where(
                col(BTProgramme.doctor_id) == item.doctor_id
            )
        )
    ).first()
    placement = await session.get(Placement, item.placement_id) if item.placement_id else None
    if person_id in {main, placement.supervisor_id if placement else None}:
        return True
    doctor_region = select(Person.region_code).where(col(Person.id) == item.doctor_id)
    staff = await session.exec(
        select(PersonRole.role)
        .join(Person, col(Person.id) == PersonRole.person_id)
        .where(
            col(PersonRole.person_id) == person_id,
            col(PersonRole.role).in_([Role.coordinator, Role.studierektor]),
            col(Person.region_code) == doctor_region.scalar_subquery(),
        )
    )
    return staff.first() is not None


def instrument_named(policy: RegionPolicy, text: str) -> str:
    """The region's spelling of an instrument ("minicex" → "Mini-CEX"); refuses unknown ones."""

    def squeezed(name: str) -> str:
        return fold(name).replace(" ", "").replace("-", "")

    for instrument in policy.assessments.instruments:
        if squeezed(instrument) == squeezed(text):
            return instrument
    valid = ", ".join(policy.assessments.instruments)
    raise PlanChangeRefused(PlanRefusal.unknown_instrument, f"{text!r} (valid: {valid})")


async def _changeable(session: AsyncSession, item_id: int, by_person_id: int | None) -> PlanItem:
    item = await session.get(PlanItem, item_id)
    if item is None:
        raise PlanChangeRefused(PlanRefusal.unknown_item, str(item_id))
    if item.status is ItemStatus.cancelled:
        raise PlanChangeRefused(PlanRefusal.cancelled, str(item_id))
    if by_person_id is not None and not await may_change(
        session, person_id=by_person_id, item=item
    ):
        raise PlanChangeRefused(PlanRefusal.not_allowed, str(item_id))
    return item


async def mark_done(
    session: AsyncSession,
    *,
    item_id: int,
    on: date,
    today: date,
    instrument: str | None,
    assessor: str | None,
    by_person_id: int | None,
    now: datetime,
) -> PlanItem:
    """Record an item as done (again: corrects the record); nudges about it stop at once.

    `by_person_id` None is the command line (an administrator); anyone else must be allowed by
    `may_change`. `instrument` must already be one of the region's (see `instrument_named`).
    """
    item = await _changeable(session, item_id, by_person_id)
    if on > today:
        raise PlanChangeRefused(PlanRefusal.in_the_future, on.isoformat())
    item.status, item.done_on, item.done_by, item.done_recorded_at = (
        ItemStatus.done,
        on,
        by_person_id,
        now,
    )
    item.instrument = instrument
    item.assessor = assessor.strip()[:200] if assessor and assessor.strip() else None
    item.updated_at = now
    session.add(item)
    return item


async def move_item(
    session: AsyncSession, *, item_id: int, due: date, by_person_id: int | None, now: datetime
) -> PlanItem:
    """Give an open item a new date ("Nytt datum"); it survives regeneration of the plan and its
    reminders and nudges start over from the new date."""
    item = await _changeable(session, item_id, by_person_id)
    item.due, item.due_edited_by, item.due_edited_at = due, by_person_id, now
    item.due_known_on = now.astimezone(STOCKHOLM).date()
    item.nudged_on = item.escalated_on = None
    if item.kind not in PLACEMENT_KINDS:
        placements = (
            await session.exec(select(Placement).where(col(Placement.doctor_id) == item.doctor_id))
        ).all()
        item.placement_id = covering_placement(list(placements), due)
    item.updated_at = now
    session.add(item)
    return item
