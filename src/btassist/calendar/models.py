"""The table behind personal feed links."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class FeedToken(SQLModel, table=True):
    """A doctor's secret calendar link, kept as a lookup selector and a hash of its secret.

    The link itself is shown once, in the chat; the database cannot reproduce it. Revoking sets
    `revoked_at`, and the link stops working at the next request.
    """

    __tablename__ = "feed_token"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    selector: str = Field(max_length=16, unique=True, description="finds the row; not secret")
    verifier_hash: str = Field(max_length=64, description="SHA-256 of the secret part, hex")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
