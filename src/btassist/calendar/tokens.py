"""Personal feed links: issuing, rotating and checking the secret token in a feed URL.

A token is a selector (12 random bytes) followed by a verifier (24 random bytes, 192 bits),
both base64url. The selector finds the row and is not secret; only a SHA-256 hash of the
verifier is stored and it is compared in constant time, so neither a database dump nor timing
reveals a working link. A fast hash is enough: the verifier has far too much entropy to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.calendar.models import FeedToken
from btassist.db.engine import Database
from btassist.roster.models import Person

SELECTOR_BYTES = 12
VERIFIER_BYTES = 24
SELECTOR_LENGTH = 16  # base64url characters for SELECTOR_BYTES
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{48}")


def _hash(verifier: str) -> str:
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


async def rotate_token(session: AsyncSession, *, person_id: int, now: datetime) -> str:
    """Revoke the person's links and issue a new one; the new token is returned only here."""
    await _lock_person(session, person_id)
    await revoke_tokens(session, person_id=person_id, now=now)
    selector = secrets.token_urlsafe(SELECTOR_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    session.add(
        FeedToken(
            person_id=person_id, selector=selector, verifier_hash=_hash(verifier), created_at=now
        )
    )
    await session.flush()
    return selector + verifier


async def issue_token_once(session: AsyncSession, *, person_id: int, now: datetime) -> str | None:
    """A first link for a person who has none; None when a link is already live."""
    await _lock_person(session, person_id)
    if await active_token(session, person_id=person_id) is not None:
        return None
    return await rotate_token(session, person_id=person_id, now=now)


async def _lock_person(session: AsyncSession, person_id: int) -> None:
    """Serialise link changes per person: two at once must not leave a link shown but dead.

    SQLite sessions that write already hold the database's write lock (BEGIN IMMEDIATE).
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(Person.id).where(Person.id == person_id).with_for_update())


async def active_token(session: AsyncSession, *, person_id: int) -> FeedToken | None:
    """The person's live link (its metadata: the token itself cannot be recovered)."""
    return (
        await session.exec(
            select(FeedToken)
            .where(FeedToken.person_id == person_id, col(FeedToken.revoked_at).is_(None))
            .order_by(col(FeedToken.created_at).desc())
            .limit(1)
        )
    ).first()


async def revoke_tokens(session: AsyncSession, *, person_id: int, now: datetime) -> None:
    """Make every link of the person stop working."""
    await session.exec(
        update(FeedToken)
        .where(col(FeedToken.person_id) == person_id, col(FeedToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )


async def person_for_token(session: AsyncSession, *, token: str) -> int | None:
    """The active person a live token belongs to; None for unknown, malformed or revoked ones."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        return None
    selector, verifier = token[:SELECTOR_LENGTH], token[SELECTOR_LENGTH:]
    row = (
        await session.exec(
            select(FeedToken.person_id, FeedToken.verifier_hash)
            .join(Person, col(Person.id) == FeedToken.person_id)
            .where(
                FeedToken.selector == selector,
                col(FeedToken.revoked_at).is_(None),
                col(Person.active).is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    person_id, stored = row
    return person_id if hmac.compare_digest(stored, _hash(verifier)) else None


@dataclass(frozen=True)
class FirstLink:
    """A personal feed link shown once: the new token, or when the live one was made."""

    token: str | None
    existing_since: datetime | None


async def first_link(database: Database, *, person_id: int, now: datetime) -> FirstLink:
    """Issue the person's first link, or say when their live link was made (it is not shown
    again: only its hash is stored)."""
    async with database.session() as session:
        token = await issue_token_once(session, person_id=person_id, now=now)
        existing = None if token else await active_token(session, person_id=person_id)
    return FirstLink(token, existing.created_at if existing else (None if token else now))


async def new_link(database: Database, *, person_id: int, now: datetime) -> str:
    """Revoke the person's links and issue a new one (the old URL stops working at once)."""
    async with database.session() as session:
        return await rotate_token(session, person_id=person_id, now=now)
