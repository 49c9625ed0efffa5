"""Tables for questions forwarded to coordinators and the anonymous FAQ report log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.common.language import Language
from btassist.db.types import UTCDateTime, utcnow


class QuestionStatus(StrEnum):
    """Where a forwarded question stands."""

    open = "open"
    answered = "answered"


class FaqEventKind(StrEnum):
    """What the report counts: questions the FAQ could not answer and how answers were received."""

    unanswered = "unanswered"
    out_of_scope = "out_of_scope"
    helpful = "helpful"
    unhelpful = "unhelpful"


def _enum(kind: type[StrEnum]) -> sa.Enum:
    """Enums stored as short strings, so adding a member needs no type migration on PostgreSQL."""
    return sa.Enum(kind, native_enum=False, length=20, validate_strings=True)


class ForwardedQuestion(SQLModel, table=True):
    """A doctor's question the FAQ could not answer, sent to the region's coordinators."""

    __tablename__ = "faq_question"

    id: int | None = Field(default=None, primary_key=True)
    asker_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    region_code: str = Field(foreign_key="region.code", max_length=20, index=True)
    language: Language = Field(sa_type=_enum(Language))
    text: str = Field(sa_type=sa.Text)
    status: QuestionStatus = Field(default=QuestionStatus.open, sa_type=_enum(QuestionStatus))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answer: str | None = Field(default=None, sa_type=sa.Text)
    answered_by_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class FaqEvent(SQLModel, table=True):
    """One unanswered question or one vote on an answer; never who asked."""

    __tablename__ = "faq_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: FaqEventKind = Field(sa_type=_enum(FaqEventKind), index=True)
    question: str | None = Field(default=None, max_length=500)
    entry_id: str | None = Field(default=None, max_length=80, index=True)
    region_code: str | None = Field(default=None, max_length=20)
    language: Language = Field(sa_type=_enum(Language))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
