"""Putting messages in the outbox and claiming them for delivery, exactly once across processes.

Rows are claimed by one UPDATE that marks them `sending` with an expiring claim: on PostgreSQL
the candidate rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers never take
the same row; on SQLite the single UPDATE runs under the database's write lock. A claim left by
a crashed process expires and the row is taken again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.types import utcnow
from btassist.outbox.models import OutboxMessage, OutboxStatus

CLAIM_SECONDS = 120


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    template: str,
    params: dict[str, Any],
    dedupe_key: str,
    available_at: datetime | None = None,
) -> None:
    """Add a message unless one with the same dedupe key exists (re-runs send nothing twice)."""
    values = {
        "person_id": person_id,
        "template": template,
        "params": params,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.pending,
        "attempts": 0,
        "available_at": available_at or utcnow(),
        "created_at": utcnow(),
    }
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    await session.exec(statement)


async def claim(
    session: AsyncSession, *, worker: str, limit: int, now: datetime | None = None
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker."""
    now = now or utcnow()
    due = or_(
        and_(
            col(OutboxMessage.status) == OutboxStatus.pending,
            col(OutboxMessage.available_at) <= now,
        ),
        and_(
            col(OutboxMessage.status) == OutboxStatus.sending,
            col(OutboxMessage.claimed_until) < now,
        ),
    )
    candidates = (
        select(OutboxMessage.id).where(due).order_by(col(OutboxMessage.available_at)).limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(candidates.scalar_subquery()), due)
        .values(
            status=OutboxStatus.sending,
            claimed_by=worker,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
    )
    return list(claimed.scalars().all())


async def finish(
    session: AsyncSession,
    *,
    message_id: int,
    worker: str,
    status: OutboxStatus,
    error: str | None = None,
    retry_at: datetime | None = None,
) -> None:
    """Record the outcome of a claimed message (only the claiming worker may)."""
    values: dict[str, Any] = {"status": status, "claimed_until": None, "last_error": error}
    if status is OutboxStatus.sent:
        values["sent_at"] = utcnow()
    if retry_at is not None:
        values.update(status=OutboxStatus.pending, available_at=retry_at)
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_by) == worker)
        .values(**values)
    )
