"""Who an announcement goes to: regions, role, BT cohort, current placement, a course's or a
session's participants or waitlist, or a list of e-mail addresses — chosen in one query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import and_, exists, func, or_, union
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.ids import Id
from btassist.courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
from btassist.roster.models import BTProgramme, Person, PersonRole, Placement, PlacementKind, Role


class AudienceRole(StrEnum):
    """Whom among the regions' people: BT doctors, their supervisors, or both."""

    doctors = "doctors"
    supervisors = "supervisors"
    both = "both"


class Enrolled(StrEnum):
    """Of a course or session: those holding a seat, those waiting, or both."""

    participants = "participants"
    waitlist = "waitlist"
    both = "both"


_STATUSES = {
    Enrolled.participants: (EnrolmentStatus.enrolled, EnrolmentStatus.attended),
    Enrolled.waitlist: (EnrolmentStatus.waitlisted,),
    Enrolled.both: (EnrolmentStatus.enrolled, EnrolmentStatus.attended, EnrolmentStatus.waitlisted),
}

Email = Annotated[str, Field(max_length=254)]


class Audience(BaseModel):
    """The recipients of an announcement, as filters that all apply (an empty filter: anyone).

    Cohort, placement and course choose BT doctors; with `role` supervisors they choose those
    doctors' huvudhandledare and current handledare instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    regions: tuple[str, ...] = Field(min_length=1, max_length=6)
    role: AudienceRole = AudienceRole.both
    cohort_from: date | None = None
    cohort_to: date | None = None
    placement: PlacementKind | None = None
    course: Annotated[str, Field(max_length=80)] | None = None
    session_id: Id | None = None
    enrolled: Enrolled = Enrolled.participants
    emails: tuple[Email, ...] = Field(default=(), max_length=20_000)

    @field_validator("emails")
    @classmethod
    def _folded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({email.strip().lower() for email in value if email.strip()}))

    @property
    def picks_doctors(self) -> bool:
        """Whether a doctor filter (cohort, placement, course, session) is set."""
        return any(
            value is not None
            for value in (
                self.cohort_from,
                self.cohort_to,
                self.placement,
                self.course,
                self.session_id,
            )
        )

    def data(self) -> dict[str, Any]:
        """As stored with the announcement (the audit's "to whom")."""
        return self.model_dump(mode="json", exclude_defaults=True)


def _doctors(audience: Audience, today: date) -> Any:
    query = (
        select(Person.id)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(
            col(PersonRole.role) == Role.doctor,
            col(Person.active).is_(True),
            col(Person.region_code).in_(audience.regions),
        )
    )
    if audience.cohort_from or audience.cohort_to:
        query = query.join(BTProgramme, col(BTProgramme.doctor_id) == col(Person.id))
        if audience.cohort_from:
            query = query.where(col(BTProgramme.start) >= audience.cohort_from)
        if audience.cohort_to:
            query = query.where(col(BTProgramme.start) <= audience.cohort_to)
    if audience.placement is not None:
        query = query.where(
            exists().where(
                col(Placement.doctor_id) == col(Person.id),
                col(Placement.kind) == audience.placement,
                col(Placement.start) <= today,
                col(Placement.end) >= today,
            )
        )
    if audience.course is not None or audience.session_id is not None:
        enrolled = (
            select(Enrolment.doctor_id)
            .join(CourseSession, col(CourseSession.id) == col(Enrolment.session_id))
            .where(col(Enrolment.status).in_(_STATUSES[audience.enrolled]))
        )
        if audience.session_id is not None:
            enrolled = enrolled.where(col(CourseSession.id) == audience.session_id)
        if audience.course is not None:
            enrolled = enrolled.join(Course, col(Course.id) == col(CourseSession.course_id)).where(
                col(Course.code) == audience.course
            )
        query = query.where(col(Person.id).in_(enrolled))
    return query


def _supervisors(audience: Audience, today: date) -> Any:
    query = select(Person.id).where(
        col(Person.active).is_(True), col(Person.region_code).in_(audience.regions)
    )
    if not audience.picks_doctors:
        return query.join(PersonRole, col(PersonRole.person_id) == col(Person.id)).where(
            col(PersonRole.role) == Role.supervisor
        )
    doctors = _doctors(audience, today).subquery()
    main = select(BTProgramme.main_supervisor_id).where(
        col(BTProgramme.doctor_id).in_(select(doctors.c.id))
    )
    current = select(Placement.supervisor_id).where(
        col(Placement.doctor_id).in_(select(doctors.c.id)),
        col(Placement.start) <= today,
        col(Placement.end) >= today,
    )
    return query.where(or_(col(Person.id).in_(main), col(Person.id).in_(current)))


async def select_recipients(session: AsyncSession, audience: Audience, *, today: date) -> list[int]:
    """The ids of everyone the audience names, once each, in id order."""
    parts = []
    if audience.role in (AudienceRole.doctors, AudienceRole.both):
        parts.append(_doctors(audience, today))
    if audience.role in (AudienceRole.supervisors, AudienceRole.both):
        parts.append(_supervisors(audience, today))
    chosen = union(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(chosen.c.id).distinct().order_by(chosen.c.id)
    if audience.emails:
        query = query.join(Person, col(Person.id) == chosen.c.id).where(
            func.lower(Person.email).in_(audience.emails)
        )
    return [int(person_id) for person_id in (await session.exec(query)).all()]


async def unknown_emails(
    session: AsyncSession, emails: Sequence[str], regions: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Of `emails`: those nobody active has, and those of people outside `regions`."""
    if not emails:
        return [], []
    rows = (
        await session.exec(
            select(func.lower(Person.email), Person.region_code).where(
                and_(func.lower(Person.email).in_(list(emails)), col(Person.active).is_(True))
            )
        )
    ).all()
    known = {email: region for email, region in rows}
    missing = [email for email in emails if email not in known]
    outside = [email for email in emails if email in known and known[email] not in regions]
    return missing, outside
