"""The roster handed out in its import format, so export → edit → import changes only the edits."""

from __future__ import annotations

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.tabular import ExportedFile, FileFormat, Sheet
from btassist.db.engine import Database
from btassist.roster.files import PEOPLE_COLUMNS, PLACEMENT_COLUMNS
from btassist.roster.models import Person, Placement, Role
from btassist.roster.queries import list_people


async def export_people(
    database: Database,
    *,
    file_format: FileFormat,
    region: str | None = None,
    role: Role | None = None,
) -> ExportedFile:
    """The people file (`roster import` reads it back) for everyone, a region or a role."""
    async with database.session(write_lock=False) as session:
        sheet = await people_sheet(session, region=region, role=role)
    return sheet.as_file(file_format, stem=_stem("people", region, role))


async def export_placements(
    database: Database, *, file_format: FileFormat, region: str | None = None
) -> ExportedFile:
    """The placements file (`roster import` reads it back), of one region's doctors or all."""
    async with database.session(write_lock=False) as session:
        sheet = await placements_sheet(session, region=region)
    return sheet.as_file(file_format, stem=_stem("placements", region))


async def people_sheet(
    session: AsyncSession, *, region: str | None = None, role: Role | None = None
) -> Sheet:
    """People in the import's columns; roles in the order of `Role`, joined by `|`."""
    people = await list_people(session, region=region, role=role)
    supervisor_ids = {
        s.programme.main_supervisor_id
        for s in people
        if s.programme is not None and s.programme.main_supervisor_id is not None
    }
    emails = await _emails(session, supervisor_ids)
    rows = []
    for summary in people:
        person, programme = summary.person, summary.programme
        rows.append(
            (
                person.email,
                person.name,
                "|".join(role.value for role in Role if role in summary.roles),
                person.region_code,
                person.aad_object_id,
                person.language.value if person.language else None,
                programme.bt_type.value if programme else None,
                programme.start if programme else None,
                programme.planned_end if programme else None,
                emails.get(programme.main_supervisor_id or 0) if programme else None,
            )
        )
    return Sheet(name="People", header=PEOPLE_COLUMNS, rows=rows)


async def placements_sheet(session: AsyncSession, *, region: str | None = None) -> Sheet:
    """Placements in the import's columns, by doctor and start."""
    doctor, supervisor = aliased(Person), aliased(Person)
    query = (
        select(Placement, doctor.email, supervisor.email)
        .join(doctor, col(doctor.id) == Placement.doctor_id)
        .outerjoin(supervisor, col(supervisor.id) == Placement.supervisor_id)
        .order_by(col(doctor.email), col(Placement.start), col(Placement.kind))
    )
    if region:
        query = query.where(col(doctor.region_code) == region)
    rows = [
        (doctor_email, p.kind.value, p.unit, p.start, p.end, supervisor_email)
        for p, doctor_email, supervisor_email in await session.exec(query)
    ]
    return Sheet(name="Placements", header=PLACEMENT_COLUMNS, rows=rows)


async def _emails(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.exec(select(Person.id, Person.email).where(col(Person.id).in_(ids)))
    return {person_id: email for person_id, email in rows if person_id is not None}


def _stem(kind: str, *parts: str | None) -> str:
    return "-".join([kind, *(part for part in parts if part)])
