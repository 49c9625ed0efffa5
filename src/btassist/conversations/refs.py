"""Storing and finding the conversation references proactive messages are sent to."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.conversations.models import ConversationRef
from btassist.db.types import utcnow
from btassist.db.upsert import dialect_insert


async def save_reference(
    session: AsyncSession,
    *,
    person_id: int,
    channel_id: str,
    conversation_id: str,
    tenant_id: str | None,
    reference: str,
) -> None:
    """Store or refresh a person's reference in one statement (INSERT … ON CONFLICT), so a
    person's first turns arriving together on several processes cannot collide."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    now = utcnow()
    statement = insert(ConversationRef).values(
        person_id=person_id,
        channel_id=channel_id,
        conversation_id=conversation_id,
        tenant_id=tenant_id,
        reference=reference,
        active=True,
        updated_at=now,
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["person_id", "channel_id", "conversation_id"],
            set_={
                "reference": statement.excluded.reference,
                "tenant_id": statement.excluded.tenant_id,
                "active": True,
                "updated_at": now,
            },
        )
    )


async def active_reference(session: AsyncSession, person_id: int) -> ConversationRef | None:
    """The most recently refreshed active reference for a person."""
    query = (
        select(ConversationRef)
        .where(ConversationRef.person_id == person_id, col(ConversationRef.active).is_(True))
        .order_by(col(ConversationRef.updated_at).desc())
    )
    return (await session.exec(query)).first()


async def deactivate_reference(session: AsyncSession, reference_id: int) -> None:
    """Stop using a reference Teams refused (the user removed the bot or left the tenant)."""
    await session.exec(
        update(ConversationRef)
        .where(col(ConversationRef.id) == reference_id)
        .values(active=False, updated_at=utcnow())
    )


async def deactivate_conversation(
    session: AsyncSession, *, channel_id: str, conversation_id: str
) -> None:
    """Mark every reference to a conversation inactive (the bot was uninstalled there); a
    reinstall greets again."""
    await session.exec(
        update(ConversationRef)
        .where(
            col(ConversationRef.channel_id) == channel_id,
            col(ConversationRef.conversation_id) == conversation_id,
        )
        .values(active=False, welcomed_at=None, updated_at=utcnow())
    )


async def mark_welcomed(
    session: AsyncSession, *, person_id: int, channel_id: str, conversation_id: str, now: datetime
) -> bool:
    """Record the install greeting for this conversation; True only for the first caller.

    Teams sends both `conversationUpdate` and `installationUpdate` on install, possibly to
    different processes: the conditional UPDATE lets exactly one of them greet.
    """
    result = await session.exec(
        update(ConversationRef)
        .where(
            col(ConversationRef.person_id) == person_id,
            col(ConversationRef.channel_id) == channel_id,
            col(ConversationRef.conversation_id) == conversation_id,
            col(ConversationRef.welcomed_at).is_(None),
        )
        .values(welcomed_at=now)
    )
    return bool(result.rowcount)
