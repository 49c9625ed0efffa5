"""Course sessions and participants handed out as files: sessions in their import format, so
export → edit → import changes only the edits; participants as a list to open in Excel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.tabular import Cell, ExportedFile, FileFormat, Sheet
from btassist.courses.importer import SESSION_COLUMNS
from btassist.courses.models import Course, CourseSession, SessionStatus
from btassist.courses.queries import find_session, list_courses, participants_by_session
from btassist.db.engine import Database

PARTICIPANT_COLUMNS = (
    "course_code",
    "session_key",
    "session_start",
    "name",
    "email",
    "status",
    "waitlist_position",
    "queued_at",
)
# The importer reads a bare date as the end of that day, so such a deadline is written as one.
END_OF_DAY = time(23, 59)


async def export_sessions(
    database: Database,
    *,
    zone: ZoneInfo,
    file_format: FileFormat,
    region: str | None = None,
    current_at: datetime | None = None,
) -> ExportedFile:
    """The sessions file (`courses import` reads it back) of active courses, as `courses list`
    shows them: one region's or all, and without those ended by `current_at` when given."""
    async with database.session(write_lock=False) as session:
        sheet = await sessions_sheet(session, zone=zone, region=region, current_at=current_at)
    return sheet.as_file(file_format, stem="-".join(filter(None, ("sessions", region))))


async def sessions_sheet(
    session: AsyncSession,
    *,
    zone: ZoneInfo,
    region: str | None = None,
    current_at: datetime | None = None,
) -> Sheet:
    """Sessions in the import's columns and local time, by start."""
    listings = await list_courses(session, region=region, current_at=current_at)
    sessions = sorted(
        (
            (listing.course.code, seats.session)
            for listing in listings
            for seats in listing.sessions
        ),
        key=lambda pair: (pair[1].starts_at, pair[1].key),
    )
    rows = [_session_row(code, course_session, zone) for code, course_session in sessions]
    return Sheet(name="Sessions", header=SESSION_COLUMNS, rows=rows)


def _session_row(code: str, course_session: CourseSession, zone: ZoneInfo) -> tuple[Cell, ...]:
    deadline: date | datetime | None = None
    if course_session.enrolment_deadline is not None:
        deadline = _local(course_session.enrolment_deadline, zone)
        if deadline.time() == END_OF_DAY:
            deadline = deadline.date()
    return (
        code,
        course_session.key,
        course_session.region_code,
        _local(course_session.starts_at, zone),
        _local(course_session.ends_at, zone),
        course_session.location or None,
        course_session.meeting_url,
        course_session.capacity,
        deadline,
        # Blank keeps the stored status, so an old export never undoes a later cancellation.
        None if course_session.status is SessionStatus.scheduled else course_session.status.value,
        course_session.recurrence.value if course_session.recurrence else None,
        course_session.repeat_until,
    )


@dataclass(frozen=True)
class ParticipantList:
    """Who takes part in a session, or in every session of a course, and the sheet listing them."""

    course: Course
    sessions: list[CourseSession]
    sheet: Sheet


async def participant_list(
    session: AsyncSession,
    *,
    zone: ZoneInfo,
    session_id: int | None = None,
    course_code: str | None = None,
    region: str | None = None,
) -> ParticipantList | None:
    """Participants of one session (`session_id`) or of a course's sessions (`course_code`,
    optionally one region's): seats in enrolment order, then the waitlist; None if unknown."""
    if session_id is not None:
        found = await find_session(session, session_id=session_id)
        if found is None:
            return None
        course, sessions = found[0], [found[1]]
    else:
        named = (await session.exec(select(Course).where(Course.code == course_code))).first()
        if named is None:
            return None
        course, query = named, select(CourseSession).where(CourseSession.course_id == named.id)
        if region:
            query = query.where(CourseSession.region_code == region)
        sessions = list((await session.exec(query.order_by(col(CourseSession.starts_at)))).all())
    people = await participants_by_session(session, [s.id for s in sessions if s.id is not None])
    rows = [
        (
            course.code,
            course_session.key,
            _local(course_session.starts_at, zone),
            p.name,
            p.email,
            p.status.value,
            p.waitlist_position,
            _local(p.queued_at, zone),
        )
        for course_session in sessions
        for p in people.get(course_session.id or 0, [])
    ]
    sheet = Sheet(name="Participants", header=PARTICIPANT_COLUMNS, rows=rows)
    return ParticipantList(course=course, sessions=sessions, sheet=sheet)


async def export_participants(
    database: Database,
    *,
    zone: ZoneInfo,
    file_format: FileFormat,
    session_id: int | None = None,
    course_code: str | None = None,
    region: str | None = None,
) -> ExportedFile | None:
    """`participant_list` as a file; None for an unknown session or course."""
    async with database.session(write_lock=False) as session:
        found = await participant_list(
            session, zone=zone, session_id=session_id, course_code=course_code, region=region
        )
    if found is None:
        return None
    target = found.sessions[0].key if session_id is not None else found.course.code
    return found.sheet.as_file(file_format, stem=f"participants-{target}")


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local wall-clock time without a zone: what Excel cells and the importer hold."""
    return moment.astimezone(zone).replace(tzinfo=None)
