"""Reading courses for coordinators: the catalogue per region with seat counts, and participants.

Each function loads what it shows in a fixed number of queries, however many courses, sessions
or doctors there are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.courses.models import (
    Course,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Recurrence,
    SessionSkip,
    SessionStatus,
)
from btassist.courses.schedule import occurrences
from btassist.db.engine import Database
from btassist.roster.models import Person

# Doctors who hold (or held, on the day) a seat; the waitlist is counted apart.
SEATED = (EnrolmentStatus.enrolled, EnrolmentStatus.attended)
PARTICIPATING = (*SEATED, EnrolmentStatus.waitlisted)


@dataclass(frozen=True)
class SessionSeats:
    """A session with how many doctors hold a seat and how many wait for one."""

    session: CourseSession
    enrolled: int
    waitlisted: int


@dataclass(frozen=True)
class CourseListing:
    """A course, the regions offering it (region → mandatory) and its sessions by start."""

    course: Course
    regions: dict[str, bool]
    sessions: list[SessionSeats]


@dataclass(frozen=True)
class Participant:
    """A doctor holding a seat or a place in line; `waitlist_position` 1 is next."""

    doctor_id: int
    name: str
    email: str
    status: EnrolmentStatus
    queued_at: datetime
    waitlist_position: int | None


async def seats_taken(session: AsyncSession, session_ids: list[int]) -> dict[int, int]:
    """Seated doctors per session, for the given sessions (absent: none)."""
    if not session_ids:
        return {}
    rows = await session.exec(
        select(Enrolment.session_id, func.count())
        .where(col(Enrolment.session_id).in_(session_ids), col(Enrolment.status).in_(SEATED))
        .group_by(col(Enrolment.session_id))
    )
    return dict(rows.all())


async def list_courses(
    session: AsyncSession,
    *,
    region: str | None = None,
    current_at: datetime | None = None,
    include_inactive: bool = False,
) -> list[CourseListing]:
    """Courses (of one region: mandatory first) with their sessions and seat counts.

    `current_at` leaves out sessions that have ended by then; a weekly series counts until its
    last week.
    """
    courses_query = select(Course)
    if region:
        courses_query = courses_query.join(CourseRegion).where(CourseRegion.region_code == region)
        courses_query = courses_query.order_by(
            col(CourseRegion.mandatory).desc(), col(Course.title_sv), col(Course.code)
        )
    else:
        courses_query = courses_query.order_by(col(Course.code))
    if not include_inactive:
        courses_query = courses_query.where(col(Course.active).is_(True))
    courses = list((await session.exec(courses_query)).all())
    ids = [course.id for course in courses]

    regions: dict[int, dict[str, bool]] = defaultdict(dict)
    for link in (
        await session.exec(
            select(CourseRegion)
            .where(col(CourseRegion.course_id).in_(ids))
            .order_by(col(CourseRegion.region_code))
        )
    ).all():
        regions[link.course_id][link.region_code] = link.mandatory

    counts = (
        select(
            col(Enrolment.session_id).label("session_id"),
            func.sum(case((col(Enrolment.status).in_(SEATED), 1), else_=0), type_=Integer).label(
                "enrolled"
            ),
            func.sum(
                case((col(Enrolment.status) == EnrolmentStatus.waitlisted, 1), else_=0),
                type_=Integer,
            ).label("waitlisted"),
        )
        .group_by(col(Enrolment.session_id))
        .subquery()
    )
    sessions_query = (
        select(CourseSession, counts.c.enrolled, counts.c.waitlisted)
        .outerjoin(counts, counts.c.session_id == CourseSession.id)
        .where(col(CourseSession.course_id).in_(ids))
        .order_by(col(CourseSession.starts_at), col(CourseSession.id))
    )
    if region:
        sessions_query = sessions_query.where(CourseSession.region_code == region)
    if current_at is not None:
        sessions_query = sessions_query.where(
            or_(
                col(CourseSession.ends_at) >= current_at,
                and_(
                    col(CourseSession.recurrence) == Recurrence.weekly,
                    col(CourseSession.repeat_until) >= current_at.date(),
                ),
            )
        )
    sessions: dict[int, list[SessionSeats]] = defaultdict(list)
    for course_session, enrolled, waitlisted in await session.exec(sessions_query):
        sessions[course_session.course_id].append(
            SessionSeats(course_session, int(enrolled or 0), int(waitlisted or 0))
        )
    return [
        CourseListing(
            course=course,
            regions=regions.get(course.id or 0, {}),
            sessions=sessions.get(course.id or 0, []),
        )
        for course in courses
    ]


async def find_session(
    session: AsyncSession, *, session_id: int
) -> tuple[Course, CourseSession] | None:
    """A session and its course, or None for an unknown id."""
    row = (
        await session.exec(
            select(Course, CourseSession)
            .join(CourseSession, col(CourseSession.course_id) == Course.id)
            .where(CourseSession.id == session_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def session_participants(session: AsyncSession, *, session_id: int) -> list[Participant]:
    """Who holds a seat (in the order they enrolled), then the waitlist in queue order."""
    return (await participants_by_session(session, [session_id])).get(session_id, [])


async def participants_by_session(
    session: AsyncSession, session_ids: list[int]
) -> dict[int, list[Participant]]:
    """`session_participants` for several sessions in one query.

    Queue order is the enrolment id, which is assigned under the session's lock (see
    courses/enrolment.py), so it is the order in which doctors got their seat or place.
    """
    waiting_last = case((col(Enrolment.status) == EnrolmentStatus.waitlisted, 1), else_=0)
    rows = await session.exec(
        select(Enrolment, Person.name, Person.email)
        .join(Person, col(Enrolment.doctor_id) == Person.id)
        .where(col(Enrolment.session_id).in_(session_ids), col(Enrolment.status).in_(PARTICIPATING))
        .order_by(col(Enrolment.session_id), waiting_last, col(Enrolment.id))
    )
    found: dict[int, list[Participant]] = {}
    for enrolment, name, email in rows:
        listed = found.setdefault(enrolment.session_id, [])
        waiting = enrolment.status == EnrolmentStatus.waitlisted
        position = sum(p.waitlist_position is not None for p in listed) + 1 if waiting else None
        listed.append(
            Participant(
                doctor_id=enrolment.doctor_id,
                name=name,
                email=email,
                status=EnrolmentStatus(enrolment.status),
                queued_at=enrolment.queued_at,
                waitlist_position=position,
            )
        )
    return found


async def enrolled_doctor_ids(
    session: AsyncSession, *, session_id: int, emails: list[str]
) -> dict[str, int]:
    """E-mail → doctor id for those of `emails` who have an enrolment in the session."""
    rows = await session.exec(
        select(Person.email, Person.id)
        .join(Enrolment, col(Enrolment.doctor_id) == Person.id)
        .where(Enrolment.session_id == session_id, col(Person.email).in_(emails))
    )
    return {email: person_id for email, person_id in rows if person_id is not None}


async def upcoming_sessions(
    session: AsyncSession, *, course_id: int, region: str, now: datetime
) -> list[CourseSession]:
    """A course's scheduled sessions in a region that have not ended, soonest first."""
    query = (
        select(CourseSession)
        .where(
            CourseSession.course_id == course_id,
            CourseSession.region_code == region,
            CourseSession.status == SessionStatus.scheduled,
            CourseSession.ends_at >= now,
        )
        .order_by(col(CourseSession.starts_at))
    )
    return list((await session.exec(query)).all())


async def sessions_starting_on(
    session: AsyncSession, *, doctor_id: int, day: date, zone: ZoneInfo
) -> list[CourseSession]:
    """The doctor's booked sessions that take place on `day` (local time): the hook for the
    day-before reminder. A weekly series counts when one of its (not skipped) weeks falls then."""
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    end = start + timedelta(days=1)
    booked = (
        await session.exec(
            select(CourseSession)
            .join(Enrolment, col(Enrolment.session_id) == CourseSession.id)
            .where(
                Enrolment.doctor_id == doctor_id,
                Enrolment.status == EnrolmentStatus.enrolled,
                CourseSession.status == SessionStatus.scheduled,
                CourseSession.starts_at < end,
            )
            .order_by(col(CourseSession.starts_at))
        )
    ).all()
    skips: dict[int, set[date]] = {}
    for skip in await session.exec(
        select(SessionSkip).where(col(SessionSkip.session_id).in_([s.id for s in booked]))
    ):
        skips.setdefault(skip.session_id, set()).add(skip.occurs_on)
    return [
        s
        for s in booked
        if any(
            start <= begins < end
            for begins, _ in occurrences(s, zone, frozenset(skips.get(s.id or 0, set())))
        )
    ]


@dataclass(frozen=True)
class SessionParticipants:
    """A session with who holds a seat and who waits, for the coordinator's cards."""

    session: CourseSession
    participants: list[Participant]

    @property
    def enrolled(self) -> list[Participant]:
        """Doctors holding a seat (or who attended), in enrolment order."""
        return [p for p in self.participants if p.status in SEATED]

    @property
    def waiting(self) -> list[Participant]:
        """The waitlist in queue order."""
        return [p for p in self.participants if p.status is EnrolmentStatus.waitlisted]


async def course_participants(
    database: Database, *, course_id: int, region: str, now: datetime
) -> list[SessionParticipants]:
    """Every upcoming session of a course in a region, with its participants (two queries)."""
    async with database.session(write_lock=False) as session:
        sessions = await upcoming_sessions(session, course_id=course_id, region=region, now=now)
        people = await participants_by_session(session, [s.id for s in sessions if s.id])
    return [SessionParticipants(s, people.get(s.id or 0, [])) for s in sessions]


async def session_in_region(
    database: Database, *, session_id: int, region: str
) -> tuple[Course, SessionParticipants] | None:
    """A session of the region with its course and participants; None for another region's."""
    async with database.session(write_lock=False) as session:
        found = await find_session(session, session_id=session_id)
        if found is None or found[1].region_code != region:
            return None
        listed = await session_participants(session, session_id=session_id)
    return found[0], SessionParticipants(found[1], listed)


async def course_and_session(
    database: Database, *, session_id: int
) -> tuple[Course, CourseSession] | None:
    """`find_session` in a read-only transaction of its own (notices about a session)."""
    async with database.session(write_lock=False) as session:
        return await find_session(session, session_id=session_id)
