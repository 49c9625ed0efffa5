"""Tables for conversation references (proactive messaging) and persisted conversation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

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
    welcomed_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="when the install greeting went out"
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """What the bot waits for from a person: the flow and step their next message continues.

    One row per person, so any server process can take their next turn; it expires, and
    "avbryt"/"cancel" leaves it.
    """

    __tablename__ = "conversation_state"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    flow: str = Field(max_length=40)
    step: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
