"""Keeping every doctor's plan in step with the roster and the policies, idempotently.

Called after a roster import (people or placements), when the demo loads, and after the policy
files change. Done items are never touched; a date set by hand survives; an open item the plan no
longer needs is cancelled (kept, not deleted); a cancelled one that is needed again reopens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.assessments.plan import WantedItem, covering_placement, plan_for
from btassist.assessments.policy import RegionPolicies, load_policies
from btassist.common.workdays import WorkingDays
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.roster.models import BTProgramme, Person, Placement

PLACEMENT_KINDS = frozenset(
    {ItemKind.assessment, ItemKind.placement_assessment, ItemKind.end_meeting}
)
CHUNK = 1000  # doctors per round of queries: bounded memory for a whole region's roster
# Any fixed numbers: processes writing plans (or sweeping) on one PostgreSQL take turns.
SYNC_LOCK_KEY = 0x6274_706C
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@lru_cache(maxsize=1)
def shipped_policies() -> RegionPolicies:
    """The policies in the package (loaded once per process)."""
    return load_policies()


async def transaction_lock(session: AsyncSession, key: int) -> None:
    """Serialise this transaction with others taking the same key (PostgreSQL; SQLite has one
    writer at a time anyway)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(key)))


@dataclass
class SyncResult:
    """How many plans were looked at and what changed in them."""

    doctors: int = 0
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    reopened: int = 0

    @property
    def changed(self) -> int:
        """Items written."""
        return self.created + self.moved + self.cancelled + self.reopened


async def sync_plans(
    target: AsyncSession | Database,
    doctor_ids: Iterable[int] | None = None,
    *,
    policies: RegionPolicies | None = None,
    now: datetime | None = None,
) -> SyncResult:
    """Regenerate the plans of `doctor_ids` (default: everyone) from policy, programme and
    placements. Given a session it writes in the caller's transaction, given a database in its
    own."""
    policies = policies or shipped_policies()
    now = now or utcnow()
    if isinstance(target, Database):
        async with target.session() as session:
            return await _sync(session, doctor_ids, policies, now)
    return await _sync(target, doctor_ids, policies, now)


async def _sync(
    session: AsyncSession,
    doctor_ids: Iterable[int] | None,
    policies: RegionPolicies,
    now: datetime,
) -> SyncResult:
    await transaction_lock(session, SYNC_LOCK_KEY)
    if doctor_ids is None:
        with_programme = select(BTProgramme.doctor_id)
        with_items = select(PlanItem.doctor_id).distinct()
        found = set((await session.exec(with_programme)).all())
        found |= set((await session.exec(with_items)).all())
        wanted_ids = sorted(found)
    else:
        wanted_ids = sorted(set(doctor_ids))
    result = SyncResult(doctors=len(wanted_ids))
    days = WorkingDays(STOCKHOLM)
    for offset in range(0, len(wanted_ids), CHUNK):
        await _sync_chunk(session, wanted_ids[offset : offset + CHUNK], policies, days, now, result)
    return result


async def _sync_chunk(
    session: AsyncSession,
    doctor_ids: list[int],
    policies: RegionPolicies,
    days: WorkingDays,
    now: datetime,
    result: SyncResult,
) -> None:
    programmes = {
        programme.doctor_id: (programme, region)
        for programme, region in await session.exec(
            select(BTProgramme, Person.region_code)
            .join(Person, col(Person.id) == BTProgramme.doctor_id)
            .where(col(BTProgramme.doctor_id).in_(doctor_ids))
        )
    }
    placements: dict[int, list[Placement]] = defaultdict(list)
    for placement in (
        await session.exec(select(Placement).where(col(Placement.doctor_id).in_(doctor_ids)))
    ).all():
        placements[placement.doctor_id].append(placement)
    items: dict[int, dict[str, PlanItem]] = defaultdict(dict)
    for item in (
        await session.exec(select(PlanItem).where(col(PlanItem.doctor_id).in_(doctor_ids)))
    ).all():
        items[item.doctor_id][item.key] = item
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    today = now.astimezone(STOCKHOLM).date()
    for doctor_id in doctor_ids:
        wanted: list[WantedItem] = []
        found = programmes.get(doctor_id)
        policy = policies.get(found[1]) if found else None
        if found is not None and policy is not None:
            wanted = plan_for(policy, found[0], placements[doctor_id], days)
        _reconcile(
            today,
            doctor_id,
            wanted,
            items[doctor_id],
            placements[doctor_id],
            now,
            inserts,
            updates,
            result,
        )
    if inserts:
        await session.exec(insert(PlanItem), params=inserts)
    if updates:
        await session.exec(update(PlanItem), params=updates)
    session.expunge_all()  # the bulk writes bypassed these objects; later reads load fresh rows


def _reconcile(
    today: date,
    doctor_id: int,
    wanted: list[WantedItem],
    existing: dict[str, PlanItem],
    placements: list[Placement],
    now: datetime,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    result: SyncResult,
) -> None:
    """The writes that bring one doctor's stored items to what the policy wants."""
    for item in wanted:
        row = existing.get(item.key)
        if row is None:
            inserts.append(
                {
                    "doctor_id": doctor_id,
                    "key": item.key,
                    "kind": item.kind,
                    "placement_id": item.placement_id,
                    "due": item.due,
                    "due_known_on": today,
                    "status": ItemStatus.open,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            result.created += 1
            continue
        if row.status is ItemStatus.done:
            continue
        changes: dict[str, Any] = {}
        if row.status is ItemStatus.cancelled:
            changes["status"] = ItemStatus.open
            result.reopened += 1
        due = row.due if row.due_edited_at is not None else item.due
        if due != row.due:
            changes.update(due=due, due_known_on=today, nudged_on=None, escalated_on=None)
            result.moved += 1
        placement_id = item.placement_id
        if item.kind not in PLACEMENT_KINDS:
            placement_id = covering_placement(placements, due)
        if placement_id != row.placement_id:
            changes["placement_id"] = placement_id
        if changes:
            updates.append({"id": row.id, "updated_at": now, **changes})
    keys = {item.key for item in wanted}
    for key, row in existing.items():
        if key not in keys and row.status is ItemStatus.open:
            updates.append({"id": row.id, "status": ItemStatus.cancelled, "updated_at": now})
            result.cancelled += 1
