"""The outbox table: one row per message to deliver to one person."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    """Delivery state; `sending` rows carry a claim (a lease the worker renews while it sends)
    that expires if the worker dies."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    no_reference = "no_reference"  # the person never talked to the bot or removed it


class OutboxMessage(SQLModel, table=True):
    """A notification to a person, rendered in their language when it is sent."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=60, description="a NoticeKind (outbox/notices.py)")
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    dedupe_key: str = Field(max_length=200, unique=True)
    status: OutboxStatus = Field(
        default=OutboxStatus.pending,
        sa_type=sa.Enum(OutboxStatus, native_enum=False, length=20, validate_strings=True),
    )
    attempts: int = 0
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
