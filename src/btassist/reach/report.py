"""Who the bot can reach: every active roster person, whether a proactive message would arrive,
and why not.

A person is reachable when they have an active conversation reference (the 1:1 chat Teams
opened when the app was installed). Otherwise they never installed it, they removed it (or
Teams refused the chat: blocked, user deleted), or the directory does not know them (a
proactive installation was told so).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlmodel import col

from btassist.conversations.models import ConversationRef
from btassist.db.engine import Database
from btassist.reach.models import AppInstall, InstallOutcome
from btassist.roster.models import Person

KEYS_PER_QUERY = 500


class Unreachable(StrEnum):
    """Why a proactive message to a person would not arrive."""

    never_installed = "never_installed"  # no chat with the bot was ever opened
    uninstalled = "uninstalled"  # they removed the app, or Teams refused their chat
    user_gone = "user_gone"  # the directory does not know them any more


@dataclass(frozen=True)
class Reach:
    """One roster person and whether the bot can message them."""

    person_id: int
    name: str
    email: str
    region: str
    has_object_id: bool
    reachable: bool
    reason: Unreachable | None
    install: InstallOutcome | None
    """How the last proactive installation for them ended (None: never tried)."""
    install_detail: str | None
    installed_at: datetime | None


def _query(region: str | None, person_ids: Sequence[int] | None) -> Any:
    active = func.max(case((col(ConversationRef.active).is_(True), 1), else_=0)).cast(Integer)
    query = (
        select(
            col(Person.id),
            col(Person.name),
            col(Person.email),
            col(Person.region_code),
            col(Person.aad_object_id),
            func.count(col(ConversationRef.id)).label("refs"),
            active.label("active_refs"),
            col(AppInstall.outcome),
            col(AppInstall.detail),
            col(AppInstall.installed_at),
        )
        .select_from(Person)
        .outerjoin(ConversationRef, col(ConversationRef.person_id) == col(Person.id))
        .outerjoin(AppInstall, col(AppInstall.person_id) == col(Person.id))
        .where(col(Person.active).is_(True))
        .group_by(
            col(Person.id),
            col(AppInstall.outcome),
            col(AppInstall.detail),
            col(AppInstall.installed_at),
        )
        .order_by(col(Person.region_code), col(Person.name), col(Person.id))
    )
    if region is not None:
        query = query.where(col(Person.region_code) == region)
    if person_ids is not None:
        query = query.where(col(Person.id).in_(person_ids))
    return query


def _reach(row: Any) -> Reach:
    reachable = bool(row.active_refs)
    reason = None
    if not reachable:
        if row.outcome == InstallOutcome.user_gone:
            reason = Unreachable.user_gone
        elif row.refs:
            reason = Unreachable.uninstalled
        else:
            reason = Unreachable.never_installed
    return Reach(
        person_id=row.id,
        name=row.name,
        email=row.email,
        region=row.region_code,
        has_object_id=bool(row.aad_object_id),
        reachable=reachable,
        reason=reason,
        install=InstallOutcome(row.outcome) if row.outcome is not None else None,
        install_detail=row.detail,
        installed_at=row.installed_at,
    )


async def reachability(
    database: Database, *, region: str | None = None, person_ids: Iterable[int] | None = None
) -> list[Reach]:
    """Every active roster person (of `region`, or among `person_ids`) and whether the bot can
    reach them, by region and name; one query per 500 ids."""
    async with database.session(write_lock=False) as session:
        connection = await session.connection()
        if person_ids is None:
            rows = (await connection.execute(_query(region, None))).all()
            return [_reach(row) for row in rows]
        ids = sorted(set(person_ids))
        found: list[Reach] = []
        for offset in range(0, len(ids), KEYS_PER_QUERY):
            chunk = ids[offset : offset + KEYS_PER_QUERY]
            rows = (await connection.execute(_query(region, chunk))).all()
            found += [_reach(row) for row in rows]
        return found


def unreachable_counts(people: Iterable[Reach]) -> Counter[Unreachable]:
    """How many cannot be reached, by reason (for a broadcast's preview)."""
    return Counter(person.reason for person in people if person.reason is not None)
