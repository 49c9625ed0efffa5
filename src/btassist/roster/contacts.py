"""A person's BT contacts and a supervisor's trainees, read from the roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import aliased
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.db.engine import Database
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, Role


@dataclass(frozen=True)
class Contact:
    """Someone to turn to, and in which capacity (a Role value or "main_supervisor")."""

    capacity: str
    name: str
    email: str


@dataclass(frozen=True)
class PlacementLine:
    """A placement with its handledare's name, for listings."""

    placement: Placement
    supervisor_name: str | None


@dataclass(frozen=True)
class Trainee:
    """A BT doctor a supervisor is responsible for, how, and the doctor's current placement."""

    doctor: Person
    is_main_supervisor: bool
    current: Placement | None

    @property
    def name(self) -> str:
        """The doctor's name."""
        return self.doctor.name


async def programme_of(session: AsyncSession, doctor_id: int) -> BTProgramme | None:
    """A doctor's BT programme, if registered."""
    query = select(BTProgramme).where(BTProgramme.doctor_id == doctor_id)
    return (await session.exec(query)).first()


async def placements_of(session: AsyncSession, doctor_id: int) -> list[PlacementLine]:
    """A doctor's placements in date order with supervisor names, in one query."""
    supervisor = aliased(Person)
    rows = await session.exec(
        select(Placement, supervisor.name)
        .outerjoin(supervisor, col(supervisor.id) == Placement.supervisor_id)
        .where(Placement.doctor_id == doctor_id)
        .order_by(col(Placement.start))
    )
    return [PlacementLine(placement, name) for placement, name in rows]


async def contacts_of(session: AsyncSession, person: Person, today: date) -> list[Contact]:
    """Region studierektorer and coordinators; for doctors also huvudhandledare and handledare."""
    contacts: list[Contact] = []
    if person.id is not None:
        programme = await programme_of(session, person.id)
        wanted_ids: list[tuple[str, int]] = []
        if programme and programme.main_supervisor_id:
            wanted_ids.append(("main_supervisor", programme.main_supervisor_id))
        current = await _current_placement(session, person.id, today)
        if current and current.supervisor_id:
            wanted_ids.append((Role.supervisor.value, current.supervisor_id))
        if wanted_ids:
            people = {
                p.id: p
                for p in (
                    await session.exec(
                        select(Person).where(col(Person.id).in_([i for _, i in wanted_ids]))
                    )
                ).all()
            }
            contacts += [
                Contact(capacity, people[i].name, people[i].email)
                for capacity, i in wanted_ids
                if i in people
            ]
    rows = await session.exec(
        select(PersonRole.role, Person)
        .join(Person)
        .where(
            Person.region_code == person.region_code,
            col(Person.active).is_(True),
            col(PersonRole.role).in_([Role.studierektor, Role.coordinator]),
        )
        .order_by(col(PersonRole.role).desc(), Person.name)
    )
    contacts += [Contact(Role(role).value, p.name, p.email) for role, p in rows]
    return contacts


async def _current_placement(
    session: AsyncSession, doctor_id: int, today: date
) -> Placement | None:
    query = select(Placement).where(
        Placement.doctor_id == doctor_id, Placement.start <= today, Placement.end >= today
    )
    return (await session.exec(query)).first()


async def trainees_of(session: AsyncSession, supervisor_id: int, today: date) -> list[Trainee]:
    """Doctors whose huvudhandledare this is, or who are now on a placement under them."""
    current = aliased(Placement)
    rows = await session.exec(
        select(Person, BTProgramme.main_supervisor_id, current)
        .join(BTProgramme, col(BTProgramme.doctor_id) == Person.id)
        .outerjoin(
            current,
            (col(current.doctor_id) == Person.id)
            & (current.start <= today)
            & (current.end >= today),
        )
        .where(
            col(Person.active).is_(True),
            or_(
                col(BTProgramme.main_supervisor_id) == supervisor_id,
                col(current.supervisor_id) == supervisor_id,
            ),
        )
        .order_by(Person.name, col(Person.id))
    )
    found: dict[int | None, Trainee] = {}
    for person, main, placement in rows:  # overlapping placements: one line per doctor
        if person.id not in found or (placement and placement.supervisor_id == supervisor_id):
            found[person.id] = Trainee(person, main == supervisor_id, placement)
    return list(found.values())


@dataclass(frozen=True)
class BTOverview:
    """A doctor's BT period and placements."""

    programme: BTProgramme
    placements: list[PlacementLine]


async def bt_overview(database: Database, doctor_id: int) -> BTOverview | None:
    """A doctor's BT and placements; None when no BT is registered."""
    async with database.session(write_lock=False) as session:
        programme = await programme_of(session, doctor_id)
        if programme is None:
            return None
        return BTOverview(programme, await placements_of(session, doctor_id))


async def contacts_for(database: Database, person_id: int, today: date) -> list[Contact]:
    """A person's contacts from the roster (empty for someone no longer there)."""
    async with database.session(write_lock=False) as session:
        person = await session.get(Person, person_id)
        return [] if person is None else await contacts_of(session, person, today)
