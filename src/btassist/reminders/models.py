"""Tables for reminders: who has paused which kind."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class ReminderPause(SQLModel, table=True):
    """A person does not want reminders of one kind (`kind` "all": none at all) until resumed."""

    __tablename__ = "reminder_pause"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    kind: str = Field(primary_key=True, max_length=40)
    paused_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
