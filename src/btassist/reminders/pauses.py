"""Pausing and resuming reminders, per person and per kind ("pausa påminnelser" / "stop reminders").

A paused reminder is skipped, not deferred: resuming brings back only what is still relevant.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.upsert import dialect_insert
from btassist.outbox.notices import NoticeKind
from btassist.reminders.kinds import PAUSE_ALL, REMINDER_KINDS
from btassist.reminders.models import ReminderPause

Pauses = dict[int, frozenset[str]]


async def pause(
    session: AsyncSession, *, person_id: int, kind: NoticeKind | None, now: datetime
) -> None:
    """Stop one kind of reminder for a person (`kind` None: every kind)."""
    await _add(session, person_id, [PAUSE_ALL if kind is None else kind.value], now)


async def resume(
    session: AsyncSession, *, person_id: int, kind: NoticeKind | None, now: datetime
) -> None:
    """Start one kind again (`kind` None: every kind); resuming one kind of a full pause keeps
    the others paused."""
    gone = delete(ReminderPause).where(col(ReminderPause.person_id) == person_id)
    if kind is not None:
        if PAUSE_ALL in await paused_kinds(session, person_id=person_id):
            await _add(session, person_id, [k.value for k in REMINDER_KINDS if k is not kind], now)
        gone = gone.where(col(ReminderPause.kind).in_([kind.value, PAUSE_ALL]))
    await session.exec(gone)


async def _add(session: AsyncSession, person_id: int, kinds: list[str], now: datetime) -> None:
    if not kinds:
        return
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    statement = insert(ReminderPause).on_conflict_do_nothing(index_elements=["person_id", "kind"])
    await session.exec(
        statement, params=[{"person_id": person_id, "kind": k, "paused_at": now} for k in kinds]
    )


async def paused_kinds(session: AsyncSession, *, person_id: int) -> set[str]:
    """The kinds a person has paused ("all" for everything)."""
    query = select(ReminderPause.kind).where(col(ReminderPause.person_id) == person_id)
    return set((await session.exec(query)).all())


async def all_pauses(session: AsyncSession) -> Pauses:
    """Every pause, by person: one query for a whole sweep."""
    found: dict[int, set[str]] = defaultdict(set)
    for person_id, kind in await session.exec(select(ReminderPause.person_id, ReminderPause.kind)):
        found[person_id].add(kind)
    return {person_id: frozenset(kinds) for person_id, kinds in found.items()}


def is_paused(pauses: Pauses, person_id: int, kind: NoticeKind) -> bool:
    """Whether this person has paused this kind (or everything)."""
    held = pauses.get(person_id, frozenset())
    return kind.value in held or PAUSE_ALL in held
