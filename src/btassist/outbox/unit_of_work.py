"""The unit of work a use case owns: one transaction, and the notices it implies.

Notices are written in the same transaction as the change that implies them, so a rolled-back
change queues nothing and a committed one never loses its notice; once committed, the process's
delivery worker is woken so they go out at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.engine import Database
from btassist.outbox.notices import Notice
from btassist.outbox.queue import Queued, enqueue, enqueue_many


class UnitOfWork:
    """A transaction's session and the notices queued in it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.queued = 0

    async def notify(
        self, notice: Notice, *, to: int, key: str, at: datetime | None = None
    ) -> bool:
        """Queue `notice` for person `to`, once per `key` (its idempotency key within the kind);
        `at` delays it. True when it was new."""
        added = await enqueue(
            self.session,
            person_id=to,
            kind=notice.kind.value,
            params=notice.data(),
            dedupe_key=f"{notice.kind.value}:{key}",
            available_at=at,
        )
        self.queued += int(added)
        return added

    async def notify_many(self, queued: Sequence[Queued]) -> int:
        """Queue many notices in one statement (a sweep); how many were offered."""
        offered = await enqueue_many(self.session, queued)
        self.queued += offered
        return offered


@asynccontextmanager
async def unit_of_work(database: Database, *, write: bool = True) -> AsyncIterator[UnitOfWork]:
    """Commit the block's changes and notices together; wake delivery if any were queued."""
    async with database.session(write_lock=write) as session:
        uow = UnitOfWork(session)
        yield uow
    if uow.queued:
        database.wake()
