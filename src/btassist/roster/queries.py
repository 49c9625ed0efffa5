"""Reading the roster: the people list and look-ups other packages need."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.roster.models import BTProgramme, Person, PersonRole, Role


@dataclass(frozen=True)
class PersonSummary:
    """A roster line: who, where, which roles, and when their BT runs (doctors)."""

    person: Person
    roles: frozenset[Role]
    programme: BTProgramme | None


async def list_people(
    session: AsyncSession, *, region: str | None = None, role: Role | None = None
) -> list[PersonSummary]:
    """Everyone in the roster (optionally one region or role), sorted by region and name."""
    query = select(Person).order_by(Person.region_code, Person.name, Person.email)
    if region:
        query = query.where(Person.region_code == region)
    if role:
        query = query.where(
            col(Person.id).in_(select(PersonRole.person_id).where(PersonRole.role == role))
        )
    people = (await session.exec(query)).all()
    ids = [person.id for person in people]
    roles: dict[int, set[Role]] = defaultdict(set)
    for person_id, held in await session.exec(
        select(PersonRole.person_id, PersonRole.role).where(col(PersonRole.person_id).in_(ids))
    ):
        roles[person_id].add(Role(held))
    programmes = {
        p.doctor_id: p
        for p in (
            await session.exec(select(BTProgramme).where(col(BTProgramme.doctor_id).in_(ids)))
        ).all()
    }
    return [
        PersonSummary(
            person=p,
            roles=frozenset(roles.get(p.id or 0, ())),
            programme=programmes.get(p.id or 0),
        )
        for p in people
    ]
