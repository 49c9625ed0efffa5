"""The table behind one-time links to download a person's data."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class ExportLink(SQLModel, table=True):
    """A one-time, expiring link to a person's data export, kept as a hash of its secret.

    The link is shown once, in the chat; the export itself is built when it is downloaded, so
    no copy of the data is stored.
    """

    __tablename__ = "export_link"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, description="SHA-256 of the token, hex")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
