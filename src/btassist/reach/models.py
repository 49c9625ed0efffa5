"""The table recording how installing the Teams app for a person last went."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class InstallOutcome(StrEnum):
    """How the last proactive installation for a person ended."""

    installed = "installed"  # Graph installed the app (201)
    already_installed = "already_installed"  # Graph said it was there already (409)
    user_gone = "user_gone"  # the directory has no such user (404)
    no_object_id = "no_object_id"  # no Entra object id in the roster and none could be looked up
    no_consent = "no_consent"  # Graph refused (403): the permission lacks admin consent
    failed = "failed"  # retries exhausted, or an error retrying cannot fix


class AppInstall(SQLModel, table=True):
    """One row per person the bot tried to install the Teams app for: the latest outcome."""

    __tablename__ = "app_install"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    outcome: InstallOutcome = Field(
        sa_type=sa.Enum(InstallOutcome, native_enum=False, length=20, validate_strings=True)
    )
    detail: str | None = Field(
        default=None, max_length=200, description="HTTP status and error code; no personal data"
    )
    attempts: int = 0
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    installed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
