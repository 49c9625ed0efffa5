"""Tables for announcements, their recipients (delivery, acknowledgement, reading) and audit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


def _enum(kind: type[StrEnum]) -> sa.Enum:
    return sa.Enum(kind, native_enum=False, length=20, validate_strings=True)


class BroadcastStatus(StrEnum):
    """Where an announcement is: written, queued for its recipients, or stopped."""

    draft = "draft"  # being composed; nothing queued
    queued = "queued"  # recipients chosen and queued (now or at `send_at`)
    cancelled = "cancelled"  # what had not gone out never will
    recalled = "recalled"  # cancelled, and the delivered copies are being deleted


class RecipientStatus(StrEnum):
    """How one recipient's copy fared."""

    queued = "queued"
    delivered = "delivered"
    failed = "failed"  # Teams kept refusing; the reason is in `error`
    unreachable = "unreachable"  # never opened the bot, removed it, or left the tenant
    cancelled = "cancelled"
    recalled = "recalled"


class Broadcast(SQLModel, table=True):
    """An announcement: who wrote it, to whom, what it says and what became of it (the audit)."""

    id: int | None = Field(default=None, primary_key=True)
    author_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    author_label: str = Field(max_length=200, description="the author's name, or cli:<user>")
    regions: str = Field(max_length=200, description="comma-separated region codes")
    audience: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    text: str = Field(default="", sa_type=sa.Text)
    ack: bool = False
    send_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: BroadcastStatus = Field(default=BroadcastStatus.draft, sa_type=_enum(BroadcastStatus))
    recipient_count: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastRecipient(SQLModel, table=True):
    """One recipient of an announcement: delivery, acknowledgement and read receipt."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (
        sa.Index("ix_broadcast_recipient_person_delivered", "person_id", "delivered_at"),
    )

    broadcast_id: int = Field(foreign_key="broadcast.id", primary_key=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    status: RecipientStatus = Field(default=RecipientStatus.queued, sa_type=_enum(RecipientStatus))
    reference_id: int | None = Field(
        default=None, foreign_key="conversation_ref.id", ondelete="SET NULL"
    )
    activity_id: str | None = Field(default=None, max_length=200)
    error: str | None = Field(default=None, max_length=200)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BroadcastEvent(SQLModel, table=True):
    """Who did what to an announcement, and when: queued, cancelled, recalled."""

    __tablename__ = "broadcast_event"

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True, ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    actor_label: str = Field(max_length=200)
    action: str = Field(max_length=20)
    count: int = 0
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
