"""Who is talking: finding roster people by Entra object id or e-mail, and remembering choices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import bindparam
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.language import Language, language_for
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.roster.models import Person, PersonRole, Role
from btassist.roster.queries import PersonSummary

COORDINATING = frozenset({Role.coordinator, Role.studierektor})


@dataclass(frozen=True)
class Actor:
    """A roster person acting through the bot, and the language to answer them in."""

    person_id: int
    name: str
    email: str
    region: str
    roles: frozenset[Role]
    language: Language

    def speaking(self, language: Language) -> Actor:
        """The same person answered in another language."""
        return replace(self, language=language)

    @property
    def coordinates(self) -> bool:
        """A koordinator or studierektor: runs the region's BT rather than doing it."""
        return bool(self.roles & COORDINATING)


def actor_of(summary: PersonSummary, *, locale: str | None = None) -> Actor:
    """The actor for a roster summary; the stored language wins over the Teams locale."""
    person = summary.person
    assert person.id is not None
    return Actor(
        person_id=person.id,
        name=person.name,
        email=person.email,
        region=person.region_code,
        roles=summary.roles,
        language=language_for(person.language, locale),
    )


# find_person runs on every turn: one query for the person and their roles, built once (building
# a statement costs more than SQLite takes to run it).
_ACTIVE_WITH_ROLES = (
    select(Person, PersonRole.role)
    .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
    .where(col(Person.active).is_(True))
)
_BY_OBJECT_ID = _ACTIVE_WITH_ROLES.where(col(Person.aad_object_id) == bindparam("aad_object_id"))
_BY_EMAIL = _ACTIVE_WITH_ROLES.where(func.lower(Person.email) == bindparam("email"))


async def find_person(
    session: AsyncSession, *, aad_object_id: str | None = None, email: str | None = None
) -> PersonSummary | None:
    """An active roster person by object id, else by e-mail (case-insensitive)."""
    rows: Sequence[tuple[Person, str | None]] = []  # no role: None (outer join)
    if aad_object_id:
        rows = (await session.exec(_BY_OBJECT_ID, params={"aad_object_id": aad_object_id})).all()
    if not rows and email:
        rows = (await session.exec(_BY_EMAIL, params={"email": email.strip().lower()})).all()
    if not rows or rows[0][0].id is None:
        return None
    person = rows[0][0]
    roles = frozenset(Role(role) for who, role in rows if role is not None and who.id == person.id)
    return PersonSummary(person=person, roles=roles, programme=None)


async def remember_object_id(session: AsyncSession, *, person_id: int, aad_object_id: str) -> None:
    """Store the Entra object id learned from Teams so the next turn needs no member look-up."""
    await session.exec(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(aad_object_id=aad_object_id, updated_at=utcnow())
    )


async def set_language(session: AsyncSession, *, person_id: int, language: Language) -> None:
    """Remember the language a person asked for."""
    await session.exec(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(language=language, updated_at=utcnow())
    )


async def coordinators_for_email(session: AsyncSession, email: str | None) -> list[Person]:
    """Coordinators of the region an unknown person probably belongs to, judged by e-mail domain.

    Only when every roster person sharing the domain is in one region; otherwise nobody.
    """
    if not email or "@" not in email:
        return []
    domain = "%@" + email.rsplit("@", 1)[1].lower()
    regions = (
        await session.exec(
            select(Person.region_code).where(func.lower(Person.email).like(domain)).distinct()
        )
    ).all()
    if len(regions) != 1:
        return []
    return list(
        (
            await session.exec(
                select(Person)
                .join(PersonRole)
                .where(
                    Person.region_code == regions[0],
                    PersonRole.role == Role.coordinator,
                    col(Person.active).is_(True),
                )
                .order_by(Person.name)
            )
        ).all()
    )


async def person_by_id(session: AsyncSession, person_id: int) -> PersonSummary | None:
    """An active roster person with their roles, by id."""
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        return None
    roles = (
        await session.exec(select(PersonRole.role).where(PersonRole.person_id == person_id))
    ).all()
    return PersonSummary(person=person, roles=frozenset(Role(r) for r in roles), programme=None)


async def switch_language(database: Database, *, person_id: int, language: Language) -> None:
    """Remember the language a person asked for (it wins over the Teams locale from now on)."""
    async with database.session() as session:
        await set_language(session, person_id=person_id, language=language)


async def actor_by_id(database: Database, person_id: int) -> Actor | None:
    """An active roster person as an actor (no Teams locale: their stored language, else
    Swedish), for messages sent outside a turn."""
    async with database.session(write_lock=False) as session:
        found = await person_by_id(session, person_id)
    return None if found is None else actor_of(found)
