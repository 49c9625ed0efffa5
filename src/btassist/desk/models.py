"""Tables for files in transit: an upload waiting for "Importera", a download to be taken."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class PendingUpload(SQLModel, table=True):
    """A file a coordinator sent, previewed and not yet imported.

    Kept until "Importera" takes it or it expires, so whichever process gets the click can import
    it; the conversation state holds the question, this row the bytes.
    """

    __tablename__ = "pending_upload"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class DownloadLink(SQLModel, table=True):
    """A file handed out by a one-time link: gone once downloaded or expired.

    Only a hash of the link's secret is stored (`common.secret_links`), as for calendar links.
    """

    __tablename__ = "download_link"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    selector: str = Field(max_length=16, unique=True, description="finds the row; not secret")
    verifier_hash: str = Field(max_length=64, description="SHA-256 of the secret part, hex")
    name: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    data: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
