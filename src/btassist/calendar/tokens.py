"""Personal feed links: issuing, rotating and checking the secret token in a feed URL.

Only a hash of each token's secret part is stored (`common.secret_links`), so the link is shown
once and a database dump reveals no working link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.calendar.models import FeedToken
from btassist.common.secret_links import new_secret, split_token, verifier_matches
from btassist.db.engine import Database
from btassist.roster.models import Person


async def rotate_token(session: AsyncSession, *, person_id: int, now: datetime) -> str:
    """Revoke the person's links and issue a new one; the new token is returned only here."""
    await _lock_person(session, person_id)
    await revoke_tokens(session, person_id=person_id, now=now)
    secret = new_secret()
    session.add(
        FeedToken(
            person_id=person_id,
            selector=secret.selector,
            verifier_hash=secret.verifier_hash,
            created_at=now,
        )
    )
    await session.flush()
    return secret.token


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
    parts = split_token(token)
    if parts is None:
        return None
    selector, verifier = parts
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
    return person_id if verifier_matches(stored, verifier) else None


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
