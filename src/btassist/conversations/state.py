"""Conversation state: what the bot waits for from a person, kept in the database.

A flow that needs the person's next message (a coordinator's answer, the broadcast composer, a
confirmation) stores a `Waiting` record; whichever process takes the next turn reads it. Each
record expires, and one person waits for one thing at a time (a new wait replaces the old one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.conversations.models import ConversationState
from btassist.db.upsert import dialect_insert


@dataclass(frozen=True)
class Waiting:
    """The flow and step a person's next message continues, with what the flow remembered."""

    flow: str
    step: str
    payload: dict[str, Any]
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        """Whether the wait ran out (the person gets the normal bot again)."""
        return now >= self.expires_at


async def wait_for(
    session: AsyncSession,
    *,
    person_id: int,
    flow: str,
    step: str,
    payload: dict[str, Any],
    expires_at: datetime,
    now: datetime,
) -> None:
    """Make the person's next message continue `flow` at `step` (replacing any other wait)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    values = {
        "person_id": person_id,
        "flow": flow,
        "step": step,
        "payload": payload,
        "expires_at": expires_at,
        "updated_at": now,
    }
    statement = insert(ConversationState).values(**values)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["person_id"],
            set_={key: value for key, value in values.items() if key != "person_id"},
        )
    )


async def stop_waiting(session: AsyncSession, *, person_id: int, flow: str | None = None) -> bool:
    """Forget what the person was waited on for (only `flow`'s wait when given); True if any."""
    statement = delete(ConversationState).where(col(ConversationState.person_id) == person_id)
    if flow is not None:
        statement = statement.where(col(ConversationState.flow) == flow)
    result = await session.exec(statement)
    return bool(result.rowcount)


def waiting_of(row: ConversationState | None) -> Waiting | None:
    """The stored row as plain data."""
    if row is None:
        return None
    return Waiting(
        flow=row.flow, step=row.step, payload=dict(row.payload), expires_at=row.expires_at
    )
