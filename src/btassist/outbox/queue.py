"""Putting notices in the outbox and claiming them for delivery, once across processes.

Rows are claimed by one UPDATE that marks them `sending` with a lease: on PostgreSQL the candidate
rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same row; on
SQLite the single UPDATE runs under the database's write lock. The worker renews the lease of the
rows it is still sending (a message being retried keeps its claim); a lease left by a process
that died expires and the row is taken again.

The guarantee is at-least-once delivery with idempotency keys: a notice is queued once per key,
and a duplicate can reach a person only for a message in flight when its process died.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.types import UTCDateTime, utcnow
from btassist.db.upsert import dialect_insert
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import Notice

KEYS_PER_QUERY = 500
LEASE = timedelta(seconds=60)
"""How long a claim lasts without renewal; the worker renews well before it runs out."""


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    kind: str,
    params: dict[str, Any],
    dedupe_key: str,
    available_at: datetime | None = None,
) -> bool:
    """Add a message unless one with the same key exists; True when it was added."""
    now = utcnow()
    values = {
        "person_id": person_id,
        "kind": kind,
        "params": params,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.pending,
        "attempts": 0,
        "available_at": available_at or now,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(OutboxMessage.id))
    )
    return (await session.exec(statement)).first() is not None


@dataclass(frozen=True)
class Queued:
    """A notice for one person under its idempotency key, due at `available_at`."""

    person_id: int
    notice: Notice
    key: str
    """Unique within the kind; the row's `dedupe_key` is "kind:key"."""
    available_at: datetime

    @property
    def dedupe_key(self) -> str:
        """The outbox's unique key for this notice."""
        return f"{self.notice.kind.value}:{self.key}"


async def enqueue_many(session: AsyncSession, queued: Iterable[Queued]) -> int:
    """Queue every notice not queued before (by key) in one statement, however many there are
    (a sweep's statement count stays flat); returns how many were offered."""
    now = utcnow()
    rows = [
        {
            "person_id": item.person_id,
            "kind": item.notice.kind.value,
            "params": item.notice.data(),
            "dedupe_key": item.dedupe_key,
            "status": OutboxStatus.pending,
            "attempts": 0,
            "available_at": item.available_at,
            "created_at": now,
        }
        for item in queued
    ]
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.exec(statement, params=rows)
    return len(rows)


async def already_queued(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these outbox keys exist (whatever their delivery state)."""
    found: set[str] = set()
    for offset in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[offset : offset + KEYS_PER_QUERY]
        query = select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(chunk))
        found |= set((await session.exec(query)).all())
    return found


def _due(now: datetime) -> Any:
    return or_(
        and_(
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.available_at) <= now,
        ),
        and_(
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.claimed_until) < now,
        ),
    )


async def claim(
    session: AsyncSession, *, worker: str, limit: int, now: datetime, lease: timedelta = LEASE
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker, oldest first."""
    due = _due(now)
    candidates = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(col(OutboxMessage.available_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE is evaluated once. As a plain `IN (subquery)` PostgreSQL may rescan the locking
    # subquery, and each rescan skips the rows it just locked and takes the next ones, so one
    # claim could take the whole queue.
    chosen = candidates.cte("chosen")
    claimed = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(select(chosen.c.id)), due)
        .values(
            status=OutboxStatus.sending,
            claimed_by=worker,
            claimed_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
    )
    return sorted(claimed.scalars().all(), key=lambda m: (m.available_at, m.id or 0))


async def renew(
    session: AsyncSession,
    *,
    worker: str,
    message_ids: Sequence[int],
    now: datetime,
    lease: timedelta = LEASE,
) -> int:
    """Extend this worker's claims on messages it is still sending; how many it still holds."""
    if not message_ids:
        return 0
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(message_ids)),
            col(OutboxMessage.claimed_by) == worker,
            col(OutboxMessage.status) == OutboxStatus.sending,
        )
        .values(claimed_until=now + lease)
    )
    return int(result.rowcount or 0)


async def release(session: AsyncSession, *, worker: str, message_ids: Sequence[int]) -> None:
    """Give back claimed messages this worker will not send (shutdown): due again at once."""
    if not message_ids:
        return
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(message_ids)),
            col(OutboxMessage.claimed_by) == worker,
            col(OutboxMessage.status) == OutboxStatus.sending,
        )
        .values(
            status=OutboxStatus.pending,
            claimed_by=None,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
        )
    )


async def finish(
    session: AsyncSession,
    *,
    message_id: int,
    worker: str,
    status: OutboxStatus,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record the outcome of a claimed message (only the claiming worker may)."""
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
    if status is OutboxStatus.sent:
        values["sent_at"] = now
    if retry_at is not None:
        values.update(status=OutboxStatus.pending, available_at=retry_at)
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_by) == worker)
        .values(**values)
    )


async def due_count(session: AsyncSession, *, now: datetime) -> int:
    """How many messages are waiting to be sent now (for waking a worker and for metrics)."""
    return int(
        (await session.exec(select(func.count()).select_from(OutboxMessage).where(_due(now)))).one()
    )


async def finish_many(
    session: AsyncSession,
    *,
    worker: str,
    outcomes: Sequence[tuple[int, OutboxStatus, str | None, datetime | None]],
    now: datetime,
) -> None:
    """Record many outcomes in one statement: (message id, status, error, retry at); only the
    claiming worker's rows change. A retry makes the row pending again at its time."""
    if not outcomes:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("m_id"), table.c.claimed_by == worker)
        .values(
            status=bindparam("m_status"),
            claimed_until=None,
            last_error=bindparam("m_error"),
            sent_at=func.coalesce(bindparam("m_sent_at", type_=UTCDateTime()), table.c.sent_at),
            available_at=func.coalesce(
                bindparam("m_retry_at", type_=UTCDateTime()), table.c.available_at
            ),
        )
    )
    rows = [
        {
            "m_id": message_id,
            "m_status": OutboxStatus.pending if retry_at is not None else status,
            "m_error": error,
            "m_sent_at": now if status is OutboxStatus.sent else None,
            "m_retry_at": retry_at,
        }
        for message_id, status, error, retry_at in outcomes
    ]
    await session.exec(statement, params=rows)
