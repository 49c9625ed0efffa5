"""Recording how sends ended, many at a time, and letting features keep their own records.

The delivery worker collects outcomes and records them in one transaction per batch: the outbox
rows (one statement) and, for kinds whose feature keeps more (an announcement's recipients: the
id Teams gave the message, for recall and read receipts), that feature's recorder in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.engine import Database
from btassist.outbox.models import OutboxStatus
from btassist.outbox.notices import NoticeKind
from btassist.outbox.queue import finish_many


@dataclass(frozen=True)
class Finished:
    """How one claimed outbox message ended."""

    message_id: int
    person_id: int
    kind: str
    params: dict[str, Any]
    status: OutboxStatus
    error: str | None = None
    retry_at: datetime | None = None
    """Set when the message is to be tried again then."""
    reference_id: int | None = None
    activity_ids: tuple[str, ...] = field(default=())


Recorder = Callable[[AsyncSession, Sequence[Finished], datetime], Awaitable[None]]
_RECORDERS: dict[str, Recorder] = {}


def records(*kinds: NoticeKind) -> Callable[[Recorder], Recorder]:
    """Make `recorder` see every finished message of `kinds`, in the recording transaction."""

    def registering(recorder: Recorder) -> Recorder:
        for kind in kinds:
            _RECORDERS[kind.value] = recorder
        return recorder

    return registering


async def record(
    database: Database, *, worker: str, finished: Sequence[Finished], now: datetime
) -> None:
    """Record a batch of outcomes: the outbox rows, then each kind's own records."""
    if not finished:
        return
    by_kind: dict[str, list[Finished]] = {}
    for item in finished:
        by_kind.setdefault(item.kind, []).append(item)
    async with database.session() as session:
        await finish_many(
            session,
            worker=worker,
            outcomes=[(f.message_id, f.status, f.error, f.retry_at) for f in finished],
            now=now,
        )
        for kind, items in by_kind.items():
            recorder = _RECORDERS.get(kind)
            if recorder is not None:
                await recorder(session, items, now)
