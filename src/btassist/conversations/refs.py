"""Storing and finding the conversation references proactive messages are sent to."""

from __future__ import annotations

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.conversations.models import ConversationRef
from btassist.db.types import utcnow


async def save_reference(
    session: AsyncSession,
    *,
    person_id: int,
    channel_id: str,
    conversation_id: str,
    tenant_id: str | None,
    reference: str,
) -> bool:
    """Store or refresh a person's reference; True when it is new or was inactive."""
    existing = (
        await session.exec(
            select(ConversationRef).where(
                ConversationRef.person_id == person_id,
                ConversationRef.channel_id == channel_id,
                ConversationRef.conversation_id == conversation_id,
            )
        )
    ).first()
    if existing is None:
        session.add(
            ConversationRef(
                person_id=person_id,
                channel_id=channel_id,
                conversation_id=conversation_id,
                tenant_id=tenant_id,
                reference=reference,
            )
        )
        return True
    reactivated = not existing.active
    if reactivated or existing.reference != reference or existing.tenant_id != tenant_id:
        existing.reference, existing.tenant_id, existing.active = reference, tenant_id, True
        existing.updated_at = utcnow()
        session.add(existing)
    return reactivated


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
    """Mark every reference to a conversation inactive (the bot was uninstalled there)."""
    await session.exec(
        update(ConversationRef)
        .where(
            col(ConversationRef.channel_id) == channel_id,
            col(ConversationRef.conversation_id) == conversation_id,
        )
        .values(active=False, updated_at=utcnow())
    )
