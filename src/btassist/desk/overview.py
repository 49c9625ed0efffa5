"""The cohort overview: every BT doctor of a region on one page, for its coordinators.

Per doctor: the placement they are in today, mandatory courses done out of the region's, plan
items overdue and due soon, and when their supervisors were last nudged about an overdue item.
Four queries per region however many doctors it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.assessments.models import ItemStatus, PlanItem
from btassist.common.tabular import Sheet
from btassist.courses.models import Course, CourseCompletion, CourseRegion
from btassist.db.engine import Database
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, PlacementKind, Role

DUE_SOON_DAYS = 14
OVERVIEW_COLUMNS = (
    "region",
    "email",
    "name",
    "bt_start",
    "bt_end",
    "placement",
    "unit",
    "mandatory_done",
    "mandatory_total",
    "overdue",
    f"due_within_{DUE_SOON_DAYS}_days",
    "last_nudged_on",
)


@dataclass(frozen=True)
class DoctorLine:
    """One BT doctor as the overview shows them."""

    doctor_id: int
    name: str
    email: str
    bt_start: date | None
    bt_end: date | None
    placement: PlacementKind | None
    unit: str | None
    mandatory_done: int
    overdue: int
    due_soon: int
    nudged_on: date | None

    @property
    def cohort(self) -> str | None:
        """The BT start month (`2026-09`): doctors starting together form a cohort."""
        return self.bt_start.strftime("%Y-%m") if self.bt_start else None


@dataclass(frozen=True)
class CohortFilter:
    """Which doctors to show: one cohort (BT start month), one kind of current placement."""

    cohort: str | None = None
    placement: PlacementKind | None = None

    def keeps(self, line: DoctorLine) -> bool:
        """Whether `line` passes the filter."""
        return (self.cohort is None or line.cohort == self.cohort) and (
            self.placement is None or line.placement is self.placement
        )


@dataclass(frozen=True)
class CohortOverview:
    """A region's doctors passing the filter, most urgent first, and the region's cohorts."""

    region: str
    today: date
    mandatory_total: int
    doctors: list[DoctorLine]
    cohorts: list[str]
    total: int  # doctors in the region before filtering

    @property
    def overdue(self) -> int:
        """Doctors shown with at least one overdue item."""
        return sum(1 for line in self.doctors if line.overdue)

    @property
    def nudged(self) -> int:
        """Doctors shown whose supervisors have been nudged about an overdue item."""
        return sum(1 for line in self.doctors if line.nudged_on is not None)

    def sheet(self) -> Sheet:
        """The overview as a table to open in Excel."""
        rows = [
            (
                self.region,
                line.email,
                line.name,
                line.bt_start,
                line.bt_end,
                line.placement.value if line.placement else None,
                line.unit,
                line.mandatory_done,
                self.mandatory_total,
                line.overdue,
                line.due_soon,
                line.nudged_on,
            )
            for line in self.doctors
        ]
        return Sheet(name=f"Overview {self.region}", header=OVERVIEW_COLUMNS, rows=rows)


async def cohort_overview(
    database: Database, *, region: str, today: date, only: CohortFilter = CohortFilter()
) -> CohortOverview:
    """The overview of one region's active BT doctors as of `today`."""
    async with database.session(write_lock=False) as session:
        return await _overview(session, region=region, today=today, only=only)


async def _overview(
    session: AsyncSession, *, region: str, today: date, only: CohortFilter
) -> CohortOverview:
    # Plain rows (Core statements), not ORM objects: building a few thousand model instances
    # would cost more than the four queries themselves.
    connection = await session.connection()
    doctors = (
        select(Person.id)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(
            col(Person.region_code) == region,
            col(Person.active).is_(True),
            col(PersonRole.role) == Role.doctor,
        )
    )
    people = await connection.execute(
        sa.select(
            col(Person.id),
            col(Person.name),
            col(Person.email),
            col(BTProgramme.start),
            col(BTProgramme.planned_end),
            col(Placement.kind),
            col(Placement.unit),
        )
        .outerjoin(BTProgramme, col(BTProgramme.doctor_id) == Person.id)
        .outerjoin(
            Placement,
            (col(Placement.doctor_id) == Person.id)
            & (col(Placement.start) <= today)
            & (col(Placement.end) >= today),
        )
        .where(col(Person.id).in_(doctors))
        .order_by(col(Person.name), col(Person.id), col(Placement.start))
    )
    mandatory = (
        select(CourseRegion.course_id)
        .join(Course, col(Course.id) == CourseRegion.course_id)
        .where(
            col(CourseRegion.region_code) == region,
            col(CourseRegion.mandatory).is_(True),
            col(Course.active).is_(True),
        )
    )
    total = (
        await connection.execute(sa.select(func.count()).select_from(mandatory.subquery()))
    ).scalar_one()
    done: dict[int, int] = {
        doctor_id: count
        for doctor_id, count in await connection.execute(
            sa.select(col(CourseCompletion.doctor_id), func.count())
            .where(
                col(CourseCompletion.doctor_id).in_(doctors),
                col(CourseCompletion.course_id).in_(mandatory),
            )
            .group_by(col(CourseCompletion.doctor_id))
        )
    }
    soon = today + timedelta(days=DUE_SOON_DAYS)
    due = col(PlanItem.due)
    plans: dict[int, tuple[int, int, date | None]] = {
        doctor_id: (int(overdue or 0), int(due_soon or 0), nudged_on)
        for doctor_id, overdue, due_soon, nudged_on in await connection.execute(
            sa.select(
                col(PlanItem.doctor_id),
                func.sum(case((due < today, 1), else_=0)),
                func.sum(case(((due >= today) & (due <= soon), 1), else_=0)),
                func.max(PlanItem.nudged_on),
            )
            .where(
                col(PlanItem.doctor_id).in_(doctors),
                col(PlanItem.status) == ItemStatus.open,
                due <= soon,
            )
            .group_by(col(PlanItem.doctor_id))
        )
    }
    lines: dict[int, DoctorLine] = {}
    for doctor_id, name, email, start, end, kind, unit in people:
        if doctor_id is None or doctor_id in lines:  # overlapping placements: the first shown
            continue
        overdue, due_soon, nudged_on = plans.get(doctor_id, (0, 0, None))
        lines[doctor_id] = DoctorLine(
            doctor_id=doctor_id,
            name=name,
            email=email,
            bt_start=start,
            bt_end=end,
            placement=PlacementKind(kind) if kind else None,
            unit=unit,
            mandatory_done=done.get(doctor_id, 0),
            overdue=overdue,
            due_soon=due_soon,
            nudged_on=nudged_on,
        )
    everyone = list(lines.values())
    shown = sorted(
        (line for line in everyone if only.keeps(line)),
        key=lambda line: (-line.overdue, -line.due_soon, line.name, line.doctor_id),
    )
    cohorts = sorted({line.cohort for line in everyone if line.cohort}, reverse=True)
    return CohortOverview(region, today, total, shown, cohorts, len(everyone))
