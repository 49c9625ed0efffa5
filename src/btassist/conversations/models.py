"""Tables for conversation references (proactive messaging) and bot flow state."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class ConversationRef(SQLModel, table=True):
    """A serialized Bot Framework conversation reference: how to message a person later."""

    __tablename__ = "conversation_ref"
    __table_args__ = (sa.UniqueConstraint("person_id", "channel_id", "conversation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    channel_id: str = Field(max_length=50)
    conversation_id: str = Field(max_length=500)
    reference: str = Field(sa_type=sa.Text, description="JSON of the Bot Framework reference")
    tenant_id: str | None = Field(default=None, max_length=64, index=True)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
