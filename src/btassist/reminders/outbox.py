"""Writing many reminders into the outbox in one statement, each under its unique key.

The outbox's `enqueue` adds one row per statement; a sweep over thousands of doctors would then
issue thousands of statements. This writes the same rows, with the same ON CONFLICT DO NOTHING
on `dedupe_key`, as one executemany, so a sweep's statement count stays flat however many
doctors it covers. (Meant to move into `outbox.queue` as `enqueue_many`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.types import utcnow
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.reminders.kinds import Params, ReminderKind

KEYS_PER_QUERY = 500


@dataclass(frozen=True)
class Notice:
    """A reminder for one person: its kind, what it is about, the date it concerns, its params.

    The outbox key is (kind, person, subject, date): the same reminder about the same thing on
    the same date is queued once, whichever process or sweep gets there first.
    """

    person_id: int
    kind: ReminderKind
    subject: str
    on: date
    params: Params

    @property
    def dedupe_key(self) -> str:
        """The outbox's unique key for this reminder."""
        return f"{self.kind.value}:{self.person_id}:{self.subject}:{self.on.isoformat()}"


async def enqueue_many(
    session: AsyncSession, notices: Iterable[Notice], *, available_at: datetime
) -> int:
    """Queue every notice not queued before (by key), in one statement; returns how many given."""
    now = utcnow()
    rows = [
        {
            "person_id": notice.person_id,
            "template": notice.kind.value,
            "params": notice.params.model_dump(mode="json"),
            "dedupe_key": notice.dedupe_key,
            "status": OutboxStatus.pending,
            "attempts": 0,
            "available_at": available_at,
            "created_at": now,
        }
        for notice in notices
    ]
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
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
