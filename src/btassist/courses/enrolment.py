"""Enrolment rules: one seat per doctor, FIFO waitlists, promotion on cancel, exact capacity.

The waitlist is ordered by enrolment id: ids are assigned inside the locked transaction, so
their order is the order in which requests took the lock (arrival order), unlike a timestamp
taken before waiting for the lock.

Every read-then-write here runs in one transaction that holds the session's lock: SQLite's
write lock taken up front (BEGIN IMMEDIATE) or PostgreSQL's row lock on the session
(SELECT … FOR UPDATE), so two doctors can never take the same last seat.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.courses.models import (
    Course,
    CourseCompletion,
    CourseKind,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
)
from btassist.courses.notices import SessionNotice
from btassist.courses.schedule import last_start, overlaps
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.outbox.notices import Notice, NoticeKind
from btassist.outbox.unit_of_work import UnitOfWork, unit_of_work
from btassist.roster.models import Person, PersonRole, Role

HOLDING = (EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted)
MULTI_SESSION_KINDS = frozenset({CourseKind.schemalagd_undervisning})


class Refusal(StrEnum):
    """Why an enrolment was refused; each has a polite message in the catalogue."""

    unknown_session = "unknown_session"
    not_a_doctor = "not_a_doctor"
    other_region = "other_region"
    cancelled = "cancelled"
    deadline_passed = "deadline_passed"
    already_enrolled = "already_enrolled"
    already_in_course = "already_in_course"


@dataclass(frozen=True)
class Refused:
    """The rules do not allow this enrolment, with what the message about it names."""

    reason: Refusal
    course: Course | None = None
    session: CourseSession | None = None
    other_session: CourseSession | None = None
    """The session of the same course the doctor already holds (`already_in_course`)."""


@dataclass(frozen=True)
class ClashFound:
    """The session overlaps others the doctor holds; they confirm before enrolling anyway."""

    course: Course
    session: CourseSession
    clashing: list[tuple[Course, CourseSession]]


@dataclass(frozen=True)
class Seat:
    """The outcome of an enrolment: a seat, or a place in line (1 = next), and what it is for."""

    enrolment_id: int
    status: EnrolmentStatus
    waitlist_position: int | None
    course: Course
    session: CourseSession


EnrolOutcome = Seat | Refused | ClashFound


@dataclass(frozen=True)
class Withdrawal:
    """The outcome of a cancellation, what it was for, and who moved up from the waitlist."""

    previous: EnrolmentStatus
    promoted_doctor_id: int | None
    course: Course
    session: CourseSession


async def _locked_session(session: AsyncSession, session_id: int) -> CourseSession | None:
    query = select(CourseSession).where(CourseSession.id == session_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def enrol(
    database: Database,
    *,
    doctor_id: int,
    session_id: int,
    now: datetime,
    zone: ZoneInfo,
    check_clashes: bool = True,
) -> EnrolOutcome:
    """Take a seat, or the next place on the waitlist, in one locked transaction.

    A time clash with the doctor's other sessions (in local time `zone`) is reported first, so
    the chat can show it and ask; `check_clashes=False` once the doctor has confirmed.
    """
    async with unit_of_work(database) as uow:
        session = uow.session
        course_session = await _locked_session(session, session_id)
        if course_session is None:
            return Refused(Refusal.unknown_session)
        course = await session.get(Course, course_session.course_id)
        assert course is not None
        refused = _refusal(course, course_session)
        region = (
            await session.exec(
                select(Person.region_code)
                .join(PersonRole)
                .where(Person.id == doctor_id, PersonRole.role == Role.doctor)
            )
        ).first()
        if region is None:
            return refused(Refusal.not_a_doctor)
        if region != course_session.region_code:
            return refused(Refusal.other_region)
        if course_session.status is SessionStatus.cancelled:
            return refused(Refusal.cancelled)
        if now > enrolment_closes(course_session, zone):
            return refused(Refusal.deadline_passed)
        # Everything the doctor holds, and any earlier row for this session, in one query.
        mine = (
            await session.exec(
                select(Enrolment, CourseSession, Course)
                .join(CourseSession, col(CourseSession.id) == Enrolment.session_id)
                .join(Course, col(Course.id) == CourseSession.course_id)
                .where(
                    Enrolment.doctor_id == doctor_id,
                    or_(col(Enrolment.status).in_(HOLDING), Enrolment.session_id == session_id),
                )
            )
        ).all()
        earlier = next((e for e, s, _ in mine if s.id == session_id), None)
        for held, held_session, held_course in mine:
            if held.status not in HOLDING:
                continue
            if held_session.id == session_id:
                return refused(Refusal.already_enrolled)
            if held_course.id == course.id and course.kind not in MULTI_SESSION_KINDS:
                return Refused(
                    Refusal.already_in_course, course, course_session, other_session=held_session
                )
        if check_clashes:
            clashing = [
                (held_course, held_session)
                for held, held_session, held_course in mine
                if held.status in HOLDING
                and held_session.status is SessionStatus.scheduled
                and overlaps(course_session, held_session, zone)
            ]
            if clashing:
                return ClashFound(course, course_session, clashing)
        if earlier is not None:
            if earlier.status is EnrolmentStatus.attended:
                return refused(Refusal.already_enrolled)
            # A new row, so its id (the queue order, assigned under the lock) is the newest.
            await session.delete(earlier)
            await session.flush()
        taken = await _count(session, session_id, EnrolmentStatus.enrolled)
        has_seat = course_session.capacity is None or taken < course_session.capacity
        status = EnrolmentStatus.enrolled if has_seat else EnrolmentStatus.waitlisted
        enrolment = Enrolment(
            session_id=session_id, doctor_id=doctor_id, status=status, queued_at=now, updated_at=now
        )
        session.add(enrolment)
        await session.flush()
        assert enrolment.id is not None
        position = None
        if status is EnrolmentStatus.waitlisted:
            position = await _count(session, session_id, EnrolmentStatus.waitlisted)
        return Seat(
            enrolment_id=enrolment.id,
            status=status,
            waitlist_position=position,
            course=course,
            session=course_session,
        )


def _refusal(course: Course, course_session: CourseSession) -> Callable[[Refusal], Refused]:
    def refused(reason: Refusal) -> Refused:
        return Refused(reason, course, course_session)

    return refused


def enrolment_closes(course_session: CourseSession, zone: ZoneInfo | None = None) -> datetime:
    """The deadline, else the start; a weekly series stays open until its last week starts.

    `zone` is the series' wall clock (the service's local time). Without it the weeks are
    counted in UTC, an hour off for a last week on the other side of a daylight-saving change.
    """
    if course_session.enrolment_deadline is not None:
        return course_session.enrolment_deadline
    return last_start(course_session, zone or ZoneInfo("UTC"))


async def _count(session: AsyncSession, session_id: int, status: EnrolmentStatus) -> int:
    return (
        await session.exec(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.session_id == session_id, Enrolment.status == status)
        )
    ).one()


async def withdraw(
    database: Database, *, doctor_id: int, session_id: int, now: datetime
) -> Withdrawal | None:
    """Give up a seat or waitlist place; the first in line gets a freed seat and a notice.
    None when the doctor holds nothing in that session."""
    async with unit_of_work(database) as uow:
        session = uow.session
        course_session = await _locked_session(session, session_id)
        if course_session is None:
            return None
        enrolment = (
            await session.exec(
                select(Enrolment).where(
                    Enrolment.session_id == session_id,
                    Enrolment.doctor_id == doctor_id,
                    col(Enrolment.status).in_(HOLDING),
                )
            )
        ).first()
        if enrolment is None:
            return None
        course = await session.get(Course, course_session.course_id)
        assert course is not None
        previous = enrolment.status
        enrolment.status, enrolment.updated_at = EnrolmentStatus.cancelled, now
        session.add(enrolment)
        promoted = None
        if (
            previous is EnrolmentStatus.enrolled
            and course_session.status is SessionStatus.scheduled
        ):
            promoted = await _promote_first_in_line(uow, course_session, now)
        return Withdrawal(
            previous=previous, promoted_doctor_id=promoted, course=course, session=course_session
        )


async def _promote_first_in_line(
    uow: UnitOfWork, course_session: CourseSession, now: datetime
) -> int | None:
    session = uow.session
    assert course_session.id is not None
    if course_session.capacity is not None:
        taken = await _count(session, course_session.id, EnrolmentStatus.enrolled)
        if taken >= course_session.capacity:
            return None
    first = (
        await session.exec(
            select(Enrolment)
            .where(
                Enrolment.session_id == course_session.id,
                Enrolment.status == EnrolmentStatus.waitlisted,
            )
            .order_by(col(Enrolment.id))
            .limit(1)
        )
    ).first()
    if first is None or first.id is None:
        return None
    first.status, first.updated_at = EnrolmentStatus.enrolled, now
    session.add(first)
    await uow.notify(
        Notice(NoticeKind.waitlist_promoted, SessionNotice(session_id=course_session.id)),
        to=first.doctor_id,
        key=f"{first.id}:{now.isoformat()}",
    )
    return first.doctor_id


async def fill_free_seats(
    uow: UnitOfWork, *, course_session: CourseSession, now: datetime
) -> list[int]:
    """Move the waitlist up into free seats (e.g. after capacity grew); each doctor is told."""
    promoted = []
    while (doctor_id := await _promote_first_in_line(uow, course_session, now)) is not None:
        promoted.append(doctor_id)
    return promoted


async def cancel_session(
    uow: UnitOfWork, *, course_session: CourseSession, now: datetime
) -> list[int]:
    """Mark a session cancelled (never deleted); its doctors need a new session and are told."""
    session = uow.session
    assert course_session.id is not None
    course_session.status, course_session.updated_at = SessionStatus.cancelled, now
    course_session.sequence += 1  # calendars treat a cancellation as a significant change
    session.add(course_session)
    affected = (
        await session.exec(
            select(Enrolment).where(
                Enrolment.session_id == course_session.id, col(Enrolment.status).in_(HOLDING)
            )
        )
    ).all()
    for enrolment in affected:
        enrolment.status, enrolment.updated_at = EnrolmentStatus.needs_new_session, now
        session.add(enrolment)
        await uow.notify(
            Notice(NoticeKind.session_cancelled, SessionNotice(session_id=course_session.id)),
            to=enrolment.doctor_id,
            key=f"{course_session.id}:{enrolment.doctor_id}",
        )
    return [e.doctor_id for e in affected]


class AttendanceRefusal(StrEnum):
    """Why attendance was not recorded for a doctor; each has a message in the catalogue."""

    not_seated = "not_seated"
    """No seat in the session: never enrolled, withdrew, still waiting or moved out."""
    future_date = "future_date"
    before_session = "before_session"


@dataclass(frozen=True)
class AttendanceResult:
    """Who was recorded as having attended, and who was not and why."""

    recorded: list[int]
    refused: dict[int, AttendanceRefusal]
    session: CourseSession | None
    """None when the session does not exist (nothing was recorded)."""


ATTENDABLE = (EnrolmentStatus.enrolled, EnrolmentStatus.attended)


async def record_attendance(
    database: Database,
    *,
    session_id: int,
    doctor_ids: list[int],
    on: date,
    today: date,
    zone: ZoneInfo,
    region: str | None = None,
) -> AttendanceResult:
    """Mark doctors who held a seat as having attended on `on`, which completes the course.

    Refused: a doctor without a seat (a withdrawn doctor must not take a seat back), a day in
    the future, or a day before the session began. `region` limits it to that region's sessions.
    """
    async with unit_of_work(database) as uow:
        session = uow.session
        course_session = await session.get(CourseSession, session_id)
        if course_session is None or (region and course_session.region_code != region):
            return AttendanceResult([], {}, None)
        reason = None
        if on > today:
            reason = AttendanceRefusal.future_date
        elif on < course_session.starts_at.astimezone(zone).date():
            reason = AttendanceRefusal.before_session
        if reason is not None:
            return AttendanceResult([], dict.fromkeys(doctor_ids, reason), course_session)
        enrolments = {
            e.doctor_id: e
            for e in (
                await session.exec(
                    select(Enrolment).where(
                        Enrolment.session_id == session_id,
                        col(Enrolment.doctor_id).in_(doctor_ids),
                    )
                )
            ).all()
        }
        now = utcnow()
        recorded, refused = [], {}
        for doctor_id in dict.fromkeys(doctor_ids):
            enrolment = enrolments.get(doctor_id)
            if enrolment is None or enrolment.status not in ATTENDABLE:
                refused[doctor_id] = AttendanceRefusal.not_seated
                continue
            enrolment.status, enrolment.updated_at = EnrolmentStatus.attended, now
            session.add(enrolment)
            await _complete(session, doctor_id, course_session.course_id, on, now)
            recorded.append(doctor_id)
        return AttendanceResult(recorded, refused, course_session)


async def report_web_course(
    database: Database, *, doctor_id: int, course_id: int, on: date, now: datetime
) -> Course | None:
    """A doctor reports finishing a web course on a given day; None for an unknown course."""
    async with unit_of_work(database) as uow:
        course = await uow.session.get(Course, course_id)
        if course is None or course.kind is not CourseKind.webbkurs:
            return None
        await _complete(uow.session, doctor_id, course_id, on, now, by_doctor=True)
        return course


async def _complete(
    session: AsyncSession,
    doctor_id: int,
    course_id: int,
    on: date,
    now: datetime,
    *,
    by_doctor: bool = False,
) -> None:
    existing = await session.get(CourseCompletion, (doctor_id, course_id))
    if existing is None:
        session.add(
            CourseCompletion(
                doctor_id=doctor_id,
                course_id=course_id,
                completed_on=on,
                reported_by_doctor=by_doctor,
                recorded_at=now,
            )
        )
