"""One-time links to download one's own data: issued in the chat, redeemed once, soon expired.

The token (32 random bytes, base64url) is shown once, in the chat; only its SHA-256 is stored, so
a database dump holds no working link. Opening the link shows a page with a download button;
only the button's POST redeems it, so a link preview or scanner that fetches the address does
not use it up.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col, select, update

from btassist.db.engine import Database
from btassist.privacy.models import ExportLink
from btassist.roster.models import Person

LINK_LIFETIME = timedelta(minutes=15)
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


async def issue_export_link(database: Database, *, person_id: int, now: datetime) -> str:
    """A new one-time token for the person's export (returned only here)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with database.session() as session:
        session.add(
            ExportLink(
                person_id=person_id,
                token_hash=_hash(token),
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
    return token


def _live(token: str, now: datetime) -> ColumnElement[bool]:
    return (
        (col(ExportLink.token_hash) == _hash(token))
        & col(ExportLink.used_at).is_(None)
        & (col(ExportLink.expires_at) > now)
    )


async def export_link_is_live(database: Database, *, token: str, now: datetime) -> bool:
    """Whether the token can still be redeemed (not used, not expired)."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        return False
    async with database.session(write_lock=False) as session:
        found = await session.exec(select(ExportLink.id).where(_live(token, now)))
        return found.first() is not None


async def redeem_export_link(database: Database, *, token: str, now: datetime) -> int | None:
    """Use the token up; the person whose data it opens, or None (unknown, used or expired).

    One conditional UPDATE: two clicks at once cannot both download.
    """
    if TOKEN_PATTERN.fullmatch(token) is None:
        return None
    async with database.session() as session:
        redeemed = await session.exec(
            update(ExportLink)
            .where(_live(token, now))
            .where(
                col(ExportLink.person_id).in_(select(Person.id).where(col(Person.active).is_(True)))
            )
            .values(used_at=now)
            .returning(col(ExportLink.person_id))
        )
        return redeemed.scalars().first()
