"""Reading and changing a plan: the doctor's list, a supervisor's overdue trainees, marking an
item done and setting a new date. Each list is one query; callers own the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.assessments.plan import covering_placement
from btassist.assessments.policy import RegionPolicy
from btassist.assessments.sync import PLACEMENT_KINDS, STOCKHOLM
from btassist.common.text import fold
from btassist.reminders.sql import wide_select
from btassist.roster.contacts import Trainee, trainees_of
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, Role


class PlanRefusal(StrEnum):
    """Why a change to a plan was refused."""

    unknown_item = "unknown_item"
    cancelled = "cancelled"  # the plan no longer has this item
    unknown_instrument = "unknown_instrument"
    not_allowed = "not_allowed"
    in_the_future = "in_the_future"
    in_the_past = "in_the_past"  # a new date before today


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
class ItemView:
    """An item with what cards say about it and who may change it: the doctor, the placement
    (unit, last day, handledare) and the huvudhandledare."""

    item: PlanItem
    doctor_name: str
    doctor_region: str
    unit: str | None
    placement_end: date | None
    handledare_id: int | None
    handledare_name: str | None
    main_supervisor_id: int | None
    main_supervisor_name: str | None

    def changeable_by(self, person_id: int, *, coordinating_region: str | None) -> bool:
        """The doctor, their huvudhandledare, the placement's handledare, and the coordinators
        and studierektorer of the doctor's region may mark the item done."""
        return (
            person_id in {self.item.doctor_id, self.main_supervisor_id, self.handledare_id}
            or coordinating_region == self.doctor_region
        )

    def movable_by(self, person_id: int, *, coordinating_region: str | None) -> bool:
        """A new date is for the supervisors and coordinators, not the doctor: a plan the doctor
        could postpone alone would remind nobody."""
        return person_id != self.item.doctor_id and self.changeable_by(
            person_id, coordinating_region=coordinating_region
        )


@dataclass(frozen=True)
class PlanLine:
    """An item of a doctor's plan and its state today."""

    view: ItemView
    state: LineState

    @property
    def item(self) -> PlanItem:
        """The stored item."""
        return self.view.item

    @property
    def unit(self) -> str | None:
        """The unit of the item's placement."""
        return self.view.unit

    @property
    def handledare(self) -> str | None:
        """The name of the placement's handledare."""
        return self.view.handledare_name


def state_of(item: PlanItem, today: date) -> LineState:
    """Done, cancelled, or open and overdue / due today / upcoming."""
    if item.status is ItemStatus.done:
        return LineState.done
    if item.status is ItemStatus.cancelled:
        return LineState.cancelled
    if item.due < today:
        return LineState.overdue
    return LineState.today if item.due == today else LineState.upcoming


@cache
def _views_query() -> Any:
    """Items with their doctor, placement, handledare and huvudhandledare (built once)."""
    doctor, handledare, main = aliased(Person), aliased(Person), aliased(Person)
    return (
        wide_select(
            PlanItem,
            doctor.name,
            doctor.region_code,
            Placement.unit,
            Placement.end,
            handledare.id,
            handledare.name,
            main.id,
            main.name,
        )
        .join(doctor, col(doctor.id) == PlanItem.doctor_id)
        .outerjoin(Placement, col(Placement.id) == PlanItem.placement_id)
        .outerjoin(handledare, col(handledare.id) == Placement.supervisor_id)
        .outerjoin(BTProgramme, col(BTProgramme.doctor_id) == PlanItem.doctor_id)
        .outerjoin(main, col(main.id) == BTProgramme.main_supervisor_id)
        .order_by(col(PlanItem.due), col(PlanItem.id))
    )


def _view(row: Any) -> ItemView:
    return ItemView(*row)


async def item_views(
    session: AsyncSession, item_ids: Sequence[int], *, open_only: bool = False
) -> list[ItemView]:
    """The items with these ids (only the open ones with `open_only`), by due date, in one
    query: a card rendered after an item was marked done leaves it out."""
    if not item_ids:
        return []
    query = _views_query().where(col(PlanItem.id).in_(list(item_ids)))
    if open_only:
        query = query.where(col(PlanItem.status) == ItemStatus.open)
    return [_view(row) for row in await session.exec(query)]


async def plan_of(
    session: AsyncSession, *, doctor_id: int, today: date, include_cancelled: bool = False
) -> list[PlanLine]:
    """A doctor's plan in date order ("bedömningar"), in one query."""
    query = _views_query().where(col(PlanItem.doctor_id) == doctor_id)
    if not include_cancelled:
        query = query.where(col(PlanItem.status) != ItemStatus.cancelled)
    lines = []
    for row in await session.exec(query):
        view = _view(row)
        lines.append(PlanLine(view, state_of(view.item, today)))
    return lines


@dataclass(frozen=True)
class TraineePlan:
    """A supervisor's trainee, how they supervise them, and the trainee's overdue items."""

    trainee: Trainee
    overdue: list[ItemView]

    @property
    def doctor(self) -> Person:
        """The BT doctor."""
        return self.trainee.doctor

    @property
    def is_main_supervisor(self) -> bool:
        """Whether the supervisor is the doctor's huvudhandledare."""
        return self.trainee.is_main_supervisor


async def trainees_overdue(
    session: AsyncSession, *, supervisor_id: int, today: date
) -> list[TraineePlan]:
    """ "Mina BT-läkare": doctors a person supervises (as huvudhandledare, or as handledare of a
    current placement) with every overdue item, in two queries."""
    trainees = await trainees_of(session, supervisor_id, today)
    ids = [trainee.doctor.id for trainee in trainees]
    overdue: dict[int, list[ItemView]] = defaultdict(list)
    query = _views_query().where(
        col(PlanItem.doctor_id).in_(ids),
        col(PlanItem.status) == ItemStatus.open,
        col(PlanItem.due) < today,
    )
    for row in await session.exec(query):
        view = _view(row)
        overdue[view.item.doctor_id].append(view)
    return [TraineePlan(trainee, overdue.get(trainee.doctor.id or 0, [])) for trainee in trainees]


async def still_open(session: AsyncSession, item_ids: list[int]) -> list[PlanItem]:
    """The items of a queued notice that are still open: a notice rendered after an item was
    marked done leaves it out (and says nothing when none is left)."""
    return [view.item for view in await item_views(session, item_ids, open_only=True)]


async def coordinating_region(session: AsyncSession, person_id: int) -> str | None:
    """The region a koordinator or studierektor runs BT in; None for anyone else."""
    query = (
        select(Person.region_code)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(
            col(Person.id) == person_id,
            col(Person.active).is_(True),
            col(PersonRole.role).in_([Role.coordinator, Role.studierektor]),
        )
    )
    return (await session.exec(query)).first()


async def may_change(session: AsyncSession, *, person_id: int, item: PlanItem) -> bool:
    """Whether a person may mark the item done (see `ItemView.changeable_by`)."""
    assert item.id is not None
    views = await item_views(session, [item.id])
    region = await coordinating_region(session, person_id)
    return bool(views) and views[0].changeable_by(person_id, coordinating_region=region)


def instrument_named(policy: RegionPolicy, text: str) -> str:
    """The region's spelling of an instrument ("minicex" → "Mini-CEX"); refuses unknown ones."""

    def squeezed(name: str) -> str:
        return fold(name).replace(" ", "").replace("-", "")

    for instrument in policy.assessments.instruments:
        if squeezed(instrument) == squeezed(text):
            return instrument
    valid = ", ".join(policy.assessments.instruments)
    raise PlanChangeRefused(PlanRefusal.unknown_instrument, f"{text!r} (valid: {valid})")


async def _changeable(
    session: AsyncSession, item_id: int, by_person_id: int | None, *, moving: bool = False
) -> PlanItem:
    item = await session.get(PlanItem, item_id)
    if item is None:
        raise PlanChangeRefused(PlanRefusal.unknown_item, str(item_id))
    if item.status is ItemStatus.cancelled:
        raise PlanChangeRefused(PlanRefusal.cancelled, str(item_id))
    if by_person_id is not None:
        views = await item_views(session, [item_id])
        region = await coordinating_region(session, by_person_id)
        allowed = views[0].movable_by if moving else views[0].changeable_by
        if not allowed(by_person_id, coordinating_region=region):
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
    `ItemView.changeable_by`. `instrument` must already be one of the region's (see
    `instrument_named`).
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
    """Give an item a new date ("Nytt datum"); it survives regeneration of the plan and its
    reminders and nudges start over from the new date. Supervisors and coordinators may; the
    doctor may not (`ItemView.movable_by`)."""
    item = await _changeable(session, item_id, by_person_id, moving=True)
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
