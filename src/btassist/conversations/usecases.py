"""Starting a turn: who is talking, whether they can be reached later, and what they were
waited on for — in one query for a known person.

Every turn needs the person (with roles and language), their stored conversation reference
(written when new, changed or deactivated, so a person the sender gave up on is reachable again
as soon as they talk to the bot) and their conversation state. All three come from one statement;
a write follows only when the reference must be stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlmodel import col

from btassist.common.language import Language, language_for
from btassist.conversations.models import ConversationRef, ConversationState
from btassist.conversations.refs import (
    active_reference,
    deactivate_conversation,
    deactivate_reference,
    mark_welcomed,
    save_reference,
)
from btassist.conversations.state import Waiting, stop_waiting, wait_for
from btassist.db.engine import Database
from btassist.roster.identity import Actor, coordinators_for_email, remember_object_id
from btassist.roster.models import Person, PersonRole, Role

log = logging.getLogger(__name__)

EmailLookup = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True)
class TurnAddress:
    """Where a turn comes from, as the transport saw it."""

    channel_id: str
    conversation_id: str
    tenant_id: str | None
    reference: str | None
    """The JSON conversation reference for proactive messages; None outside personal chats."""
    aad_object_id: str | None
    locale: str | None


@dataclass(frozen=True)
class TurnStart:
    """The person behind a turn and what the bot waits for from them (None: nothing)."""

    actor: Actor
    waiting: Waiting | None


@dataclass(frozen=True)
class Stranger:
    """Someone not on the roster, with the coordinators of the region they probably belong to."""

    language: Language
    coordinators: list[tuple[str, str]]  # (name, e-mail)


# Built once: building a statement costs more than SQLite takes to run this one.
_TURN = (
    select(
        col(Person.id),
        col(Person.name),
        col(Person.email),
        col(Person.region_code),
        col(Person.language),
        col(PersonRole.role),
        col(ConversationState.flow),
        col(ConversationState.step),
        col(ConversationState.payload),
        col(ConversationState.expires_at),
        col(ConversationRef.active),
        col(ConversationRef.reference),
        col(ConversationRef.tenant_id),
    )
    .select_from(Person)
    .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
    .outerjoin(ConversationState, col(ConversationState.person_id) == col(Person.id))
    .outerjoin(
        ConversationRef,
        and_(
            col(ConversationRef.person_id) == col(Person.id),
            col(ConversationRef.channel_id) == bindparam("channel"),
            col(ConversationRef.conversation_id) == bindparam("conversation"),
        ),
    )
    .where(col(Person.active).is_(True))
)
_BY_OBJECT_ID = _TURN.where(col(Person.aad_object_id) == bindparam("key"))
_BY_EMAIL = _TURN.where(func.lower(Person.email) == bindparam("key"))


@dataclass(frozen=True)
class _Found:
    actor: Actor
    waiting: Waiting | None
    reference_current: bool


def _found(rows: Sequence[Any], address: TurnAddress, now: datetime) -> _Found | None:
    if not rows:
        return None
    first = rows[0]
    person_id = first.id
    actor = Actor(
        person_id=person_id,
        name=first.name,
        email=first.email,
        region=first.region_code,
        roles=frozenset(Role(row.role) for row in rows if row.role is not None),
        language=language_for(Language(first.language) if first.language else None, address.locale),
    )
    waiting = None
    if first.flow is not None and first.expires_at is not None:
        candidate = Waiting(
            flow=first.flow,
            step=first.step,
            payload=dict(first.payload or {}),
            expires_at=first.expires_at,
        )
        waiting = None if candidate.expired(now) else candidate
    current = address.reference is None or (
        bool(first.active)
        and first.reference == address.reference
        and first.tenant_id == address.tenant_id
    )
    return _Found(actor, waiting, current)


async def start_turn(
    database: Database, address: TurnAddress, *, now: datetime, email: EmailLookup
) -> TurnStart | None:
    """The roster person behind a turn, or None for a stranger.

    A known person costs one read; `email` (a Bot Connector look-up) is asked only for someone
    whose object id the roster does not know yet, and the id is then remembered.
    """
    params = {"channel": address.channel_id, "conversation": address.conversation_id}
    found = None
    if address.aad_object_id:
        rows = await database.read_once(_BY_OBJECT_ID, {**params, "key": address.aad_object_id})
        found = _found(rows, address, now)
    learned_object_id = False
    if found is None:
        address_email = await email()
        if not address_email:
            return None
        key = address_email.strip().lower()
        rows = await database.read_once(_BY_EMAIL, {**params, "key": key})
        found = _found(rows, address, now)
        if found is None:
            return None
        learned_object_id = bool(address.aad_object_id)
    if learned_object_id or not found.reference_current:
        async with database.session() as session:
            if learned_object_id and address.aad_object_id:
                await remember_object_id(
                    session,
                    person_id=found.actor.person_id,
                    aad_object_id=address.aad_object_id,
                )
            if address.reference is not None:
                await save_reference(
                    session,
                    person_id=found.actor.person_id,
                    channel_id=address.channel_id,
                    conversation_id=address.conversation_id,
                    tenant_id=address.tenant_id,
                    reference=address.reference,
                )
    return TurnStart(actor=found.actor, waiting=found.waiting)


async def stranger(database: Database, *, email: str | None, locale: str | None) -> Stranger:
    """What to tell someone outside the roster: who to ask, in the language Teams suggests."""
    async with database.session(write_lock=False) as session:
        coordinators = await coordinators_for_email(session, email)
    return Stranger(
        language=language_for(None, locale),
        coordinators=[(person.name, person.email) for person in coordinators],
    )


async def greet_once(
    database: Database, *, actor: Actor, address: TurnAddress, now: datetime
) -> bool:
    """Whether this install event is the one that greets (Teams sends two per install)."""
    if address.reference is None:
        return False  # proactive greetings belong to personal chats only
    async with database.session() as session:
        return await mark_welcomed(
            session,
            person_id=actor.person_id,
            channel_id=address.channel_id,
            conversation_id=address.conversation_id,
            now=now,
        )


async def uninstalled(database: Database, *, channel_id: str, conversation_id: str) -> None:
    """The bot was removed from a conversation: stop sending there; a reinstall greets again."""
    async with database.session() as session:
        await deactivate_conversation(
            session, channel_id=channel_id, conversation_id=conversation_id
        )


async def wait(
    database: Database,
    *,
    actor: Actor,
    flow: str,
    step: str,
    payload: dict[str, Any],
    until: datetime,
    now: datetime,
) -> None:
    """Make the person's next message continue `flow` at `step`."""
    async with database.session() as session:
        await wait_for(
            session,
            person_id=actor.person_id,
            flow=flow,
            step=step,
            payload=payload,
            expires_at=until,
            now=now,
        )


async def stop(database: Database, *, actor: Actor, flow: str | None = None) -> bool:
    """The person left what they were doing (or it finished); True if something was waiting."""
    async with database.session() as session:
        return await stop_waiting(session, person_id=actor.person_id, flow=flow)


async def reference_for(database: Database, person_id: int) -> ConversationRef | None:
    """Where to send a person a proactive message: their newest active reference."""
    async with database.session(write_lock=False) as session:
        return await active_reference(session, person_id)


async def unreachable(database: Database, reference_id: int) -> None:
    """Teams refused the conversation (bot removed, user gone): stop using this reference."""
    async with database.session() as session:
        await deactivate_reference(session, reference_id)


# Broadcast delivery ---------------------------------------------------------------------------

PEOPLE_PER_QUERY = 500


@dataclass(frozen=True)
class Reachable:
    """An active person to send to, and their newest active reference (None: none)."""

    actor: Actor
    reference_id: int | None
    reference: str | None
    tenant_id: str | None


async def reachable(database: Database, person_ids: Sequence[int]) -> dict[int, Reachable]:
    """The active people among `person_ids` with their newest active reference, in one query
    per 500 people (the delivery worker's batch)."""
    found: dict[int, Reachable] = {}
    newest: dict[int, datetime] = {}
    roles: dict[int, set[Role]] = {}
    ids = sorted(set(person_ids))
    async with database.session(write_lock=False) as session:
        connection = await session.connection()
        for offset in range(0, len(ids), PEOPLE_PER_QUERY):
            chunk = ids[offset : offset + PEOPLE_PER_QUERY]
            rows = (await connection.execute(_REACHABLE, {"ids": chunk})).all()
            for row in rows:
                roles.setdefault(row.id, set())
                if row.role is not None:
                    roles[row.id].add(Role(row.role))
                current = found.get(row.id)
                better = row.ref_id is not None and (
                    current is None
                    or current.reference_id is None
                    or row.updated_at > newest[row.id]
                )
                if current is None or better:
                    found[row.id] = Reachable(
                        actor=Actor(
                            person_id=row.id,
                            name=row.name,
                            email=row.email,
                            region=row.region_code,
                            roles=frozenset(),
                            language=language_for(
                                Language(row.language) if row.language else None, None
                            ),
                        ),
                        reference_id=row.ref_id,
                        reference=row.reference,
                        tenant_id=row.tenant_id,
                    )
                    if row.ref_id is not None:
                        newest[row.id] = row.updated_at
    return {
        person_id: replace(item, actor=replace(item.actor, roles=frozenset(roles[person_id])))
        for person_id, item in found.items()
    }


_REACHABLE: Any = (
    select(
        col(Person.id),
        col(Person.name),
        col(Person.email),
        col(Person.region_code),
        col(Person.language),
        col(PersonRole.role),
        col(ConversationRef.id).label("ref_id"),
        col(ConversationRef.reference),
        col(ConversationRef.tenant_id),
        col(ConversationRef.updated_at),
    )
    .select_from(Person)
    .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
    .outerjoin(
        ConversationRef,
        and_(
            col(ConversationRef.person_id) == col(Person.id),
            col(ConversationRef.active).is_(True),
        ),
    )
    .where(col(Person.active).is_(True), col(Person.id).in_(bindparam("ids", expanding=True)))
)
