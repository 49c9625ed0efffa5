"""Doctors' plans handed out as a file: every item of a region's doctors, to open in Excel.

Plans are made from the roster and the region's policy, so there is no plan file to import:
this is a list, one row per item, with where it stands and who was nudged about it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.assessments.policy import RegionPolicies
from btassist.assessments.service import state_of
from btassist.assessments.sync import shipped_policies
from btassist.common.language import Language
from btassist.common.tabular import ExportedFile, FileFormat, Sheet
from btassist.db.engine import Database
from btassist.roster.models import Person, Placement

PLAN_COLUMNS = (
    "doctor_email",
    "doctor_name",
    "item_id",
    "item",
    "kind",
    "due",
    "state",
    "placement_unit",
    "handledare",
    "done_on",
    "instrument",
    "assessor",
    "nudged_on",
    "escalated_on",
)


async def plans_sheet(
    session: AsyncSession,
    *,
    today: date,
    region: str | None = None,
    policies: RegionPolicies | None = None,
    language: Language = Language.sv,
) -> Sheet:
    """Every item the plans hold (not those no longer needed), by doctor and due date, in one
    query; `item` is what the doctor's region calls it."""
    policies = policies or shipped_policies()
    doctor, handledare = aliased(Person), aliased(Person)
    query = (
        select(PlanItem, doctor, Placement.unit, handledare.name)
        .join(doctor, col(doctor.id) == PlanItem.doctor_id)
        .outerjoin(Placement, col(Placement.id) == PlanItem.placement_id)
        .outerjoin(handledare, col(handledare.id) == Placement.supervisor_id)
        .where(col(PlanItem.status) != ItemStatus.cancelled)
        .order_by(col(doctor.email), col(PlanItem.due), col(PlanItem.id))
    )
    if region:
        query = query.where(col(doctor.region_code) == region)
    rows = []
    for item, person, unit, supervisor in await session.exec(query):
        policy = policies.get(person.region_code)
        rows.append(
            (
                person.email,
                person.name,
                item.id,
                policy.name(item.kind, language) if policy else item.kind.value,
                item.kind.value,
                item.due,
                state_of(item, today).value,
                unit,
                supervisor,
                item.done_on,
                item.instrument,
                item.assessor,
                item.nudged_on,
                item.escalated_on,
            )
        )
    return Sheet(name="Plans", header=PLAN_COLUMNS, rows=rows)


async def export_plans(
    database: Database,
    *,
    file_format: FileFormat,
    today: date,
    region: str | None = None,
    policies: RegionPolicies | None = None,
    language: Language = Language.sv,
) -> ExportedFile:
    """`plans_sheet` as a file named `plans[-region]`."""
    async with database.session(write_lock=False) as session:
        sheet = await plans_sheet(
            session, today=today, region=region, policies=policies, language=language
        )
    return sheet.as_file(file_format, stem="-".join(filter(None, ("plans", region))))
