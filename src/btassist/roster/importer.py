"""Importing roster files all-or-nothing: validate every row, then upsert in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.tabular import Problem
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.roster.files import RosterFile, RosterFileKind
from btassist.roster.models import (
    BTProgramme,
    Person,
    PersonRole,
    Placement,
    PlacementKind,
    Region,
    Role,
)
from btassist.roster.records import (
    KnownPeople,
    PersonRecord,
    PlacementRecord,
    Progress,
    check_people,
    check_placements,
)


@dataclass
class ImportResult:
    """What an import did, or would do with --dry-run, or why it did nothing."""

    kind: RosterFileKind
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file had no bad rows."""
        return not self.problems


async def import_roster(
    database: Database,
    roster: RosterFile,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a people or placements file; any bad row means nothing is written."""
    result = ImportResult(kind=roster.kind, dry_run=dry_run)
    async with database.session() as session:
        known = await _known_people(session)
        if roster.kind is RosterFileKind.people:
            people, result.problems = check_people(roster.rows, known, progress)
            if result.ok:
                await _upsert_people(session, people, result)
        else:
            placements, result.problems = check_placements(roster.rows, known, progress)
            if result.ok:
                await _upsert_placements(session, placements, result)
        if dry_run or not result.ok:
            await session.rollback()
    return result


async def _known_people(session: AsyncSession) -> KnownPeople:
    regions = set((await session.exec(select(Region.code))).all())
    roles: dict[str, set[Role]] = defaultdict(set)
    email_by_aad: dict[str, str] = {}
    rows = await session.exec(
        select(Person.email, Person.aad_object_id, PersonRole.role).outerjoin(PersonRole)
    )
    for email, aad, role in rows:
        roles[email]
        if role is not None:
            roles[email].add(Role(role))
        if aad:
            email_by_aad[aad] = email
    return KnownPeople(
        regions=regions,
        roles_by_email={email: frozenset(found) for email, found in roles.items()},
        email_by_aad=email_by_aad,
    )


async def _ids_by_email(session: AsyncSession) -> dict[str, int]:
    rows = await session.exec(select(Person.email, Person.id))
    return {email: person_id for email, person_id in rows if person_id is not None}


async def _upsert_people(
    session: AsyncSession, records: list[PersonRecord], result: ImportResult
) -> None:
    now = utcnow()
    existing = {p.email: p for p in (await session.exec(select(Person))).all()}
    new = [r for r in records if r.email not in existing]
    if new:
        await session.exec(
            insert(Person),
            params=[
                {
                    "email": r.email,
                    "name": r.name,
                    "region_code": r.region,
                    "aad_object_id": r.aad_object_id,
                    "language": r.language,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for r in new
            ],
        )
        result.created = [r.email for r in new]
    ids = await _ids_by_email(session)

    changed: set[str] = set()
    person_updates = []
    for record in records:
        person = existing.get(record.email)
        if person is None:
            continue
        values = _person_changes(person, record)
        if values:
            person_updates.append({"id": person.id, "updated_at": now, **values})
            changed.add(record.email)
    if person_updates:
        await session.exec(update(Person), params=person_updates)

    changed |= await _sync_roles(session, records, ids)
    changed |= await _sync_programmes(session, records, ids, now)
    result.updated = sorted(changed - set(result.created))
    result.unchanged = len(records) - len(result.created) - len(result.updated)


def _person_changes(person: Person, record: PersonRecord) -> dict[str, Any]:
    """Fields the file changes.

    A blank aad id keeps the one the bot learned from Teams, and the file's language only fills
    an empty preference: it never overrides a language the person chose in the chat.
    """
    wanted: dict[str, Any] = {"name": record.name, "region_code": record.region, "active": True}
    if record.aad_object_id:
        wanted["aad_object_id"] = record.aad_object_id
    if record.language and person.language is None:
        wanted["language"] = record.language
    return {key: value for key, value in wanted.items() if getattr(person, key) != value}


async def _sync_roles(
    session: AsyncSession, records: list[PersonRecord], ids: dict[str, int]
) -> set[str]:
    held: dict[int, set[Role]] = defaultdict(set)
    for person_id, role in await session.exec(select(PersonRole.person_id, PersonRole.role)):
        held[person_id].add(Role(role))
    added, removed, changed = [], [], set()
    for record in records:
        person_id = ids[record.email]
        current = held.get(person_id, set())
        added += [{"person_id": person_id, "role": r} for r in record.roles - current]
        removed += [(person_id, r) for r in current - record.roles]
        if record.roles != current and current:
            changed.add(record.email)
    if added:
        await session.exec(insert(PersonRole), params=added)
    for person_id, role in removed:
        await session.exec(
            delete(PersonRole).where(
                col(PersonRole.person_id) == person_id, col(PersonRole.role) == role
            )
        )
    return changed


async def _sync_programmes(
    session: AsyncSession, records: list[PersonRecord], ids: dict[str, int], now: Any
) -> set[str]:
    existing = {p.doctor_id: p for p in (await session.exec(select(BTProgramme))).all()}
    inserts, updates, changed = [], [], set()
    for record in records:
        if record.programme is None:
            continue
        doctor_id = ids[record.email]
        supervisor = record.programme.main_supervisor_email
        wanted = {
            "bt_type": record.programme.bt_type,
            "start": record.programme.start,
            "planned_end": record.programme.planned_end,
            "main_supervisor_id": ids[supervisor] if supervisor else None,
        }
        current = existing.get(doctor_id)
        if current is None:
            inserts.append({"doctor_id": doctor_id, "updated_at": now, **wanted})
        elif any(getattr(current, key) != value for key, value in wanted.items()):
            updates.append({"id": current.id, "updated_at": now, **wanted})
            changed.add(record.email)
    if inserts:
        await session.exec(insert(BTProgramme), params=inserts)
    if updates:
        await session.exec(update(BTProgramme), params=updates)
    return changed


async def _upsert_placements(
    session: AsyncSession, records: list[PlacementRecord], result: ImportResult
) -> None:
    now = utcnow()
    ids = await _ids_by_email(session)
    existing: dict[tuple[int, PlacementKind, date], Placement] = {
        (p.doctor_id, p.kind, p.start): p for p in (await session.exec(select(Placement))).all()
    }
    inserts, updates = [], []
    for record in records:
        doctor_id = ids[record.doctor_email]
        wanted = {
            "unit": record.unit,
            "end": record.end,
            "supervisor_id": ids[record.supervisor_email] if record.supervisor_email else None,
        }
        label = f"{record.doctor_email} {record.kind} {record.start}"
        current = existing.get((doctor_id, record.kind, record.start))
        if current is None:
            key = {"doctor_id": doctor_id, "kind": record.kind, "start": record.start}
            inserts.append({**key, **wanted, "updated_at": now})
            result.created.append(label)
        elif any(getattr(current, key) != value for key, value in wanted.items()):
            updates.append({"id": current.id, **wanted, "updated_at": now})
            result.updated.append(label)
        else:
            result.unchanged += 1
    if inserts:
        await session.exec(insert(Placement), params=inserts)
    if updates:
        await session.exec(update(Placement), params=updates)
