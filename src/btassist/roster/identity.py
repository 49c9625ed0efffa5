"""Who is talking: finding roster people by Entra object id or e-mail, and remembering choices."""

from __future__ import annotations

from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.types import utcnow
from btassist.roster.models import Language, Person, PersonRole, Role
from btassist.roster.queries import PersonSummary


async def find_person(
    session: AsyncSession, *, aad_object_id: str | None = None, email: str | None = None
) -> PersonSummary | None:
    """An active roster person by object id, else by e-mail (case-insensitive)."""
    query = select(Person).where(col(Person.active).is_(True))
    if aad_object_id:
        found = (await session.exec(query.where(Person.aad_object_id == aad_object_id))).first()
    else:
        found = None
    if found is None and email:
        found = (
            await session.exec(query.where(func.lower(Person.email) == email.strip().lower()))
        ).first()
    if found is None or found.id is None:
        return None
    roles = (
        await session.exec(select(PersonRole.role).where(PersonRole.person_id == found.id))
    ).all()
    return PersonSummary(person=found, roles=frozenset(Role(r) for r in roles), programme=None)


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
