"""Telling doctors about course sessions as the course files change them: a session moved (time
or place) and a new session of a course they still need.

Called by the course import in its own transaction, so a rolled-back import tells nobody. The
notices go out now within sending hours, else at 08:30 on the next working day.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.workdays import WorkingDays
from btassist.courses.models import (
    CourseCompletion,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
)
from btassist.outbox.notices import NoticeKind
from btassist.outbox.queue import enqueue_many
from btassist.reminders.kinds import SessionMoved, SessionNew
from btassist.reminders.outbox import Reminder
from btassist.reminders.pauses import all_pauses, is_paused
from btassist.reminders.sql import wide_select
from btassist.roster.models import BTProgramme, Person, PersonRole, Role

# The doctor has the course in hand: a seat, or done (someone waiting in line wants to know).
HAS_IT = (EnrolmentStatus.enrolled, EnrolmentStatus.attended)


@dataclass(frozen=True)
class SessionChange:
    """A stored session whose time or place the import changed, and where it was before."""

    course_session: CourseSession
    previous_starts_at: datetime
    place_changed: bool


async def notify_moved(
    session: AsyncSession, changes: list[SessionChange], *, now: datetime, days: WorkingDays
) -> int:
    """Tell the enrolled and waitlisted doctors of each changed session; returns the notices."""
    moved = {
        c.course_session.id: c
        for c in changes
        if c.course_session.status is SessionStatus.scheduled
    }
    if not moved:
        return 0
    notices = []
    for session_id, doctor_id, status in await session.exec(
        wide_select(Enrolment.session_id, Enrolment.doctor_id, Enrolment.status)
        .join(Person, col(Person.id) == Enrolment.doctor_id)
        .where(
            col(Enrolment.session_id).in_(list(moved)),
            col(Enrolment.status).in_([EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted]),
            col(Person.active).is_(True),
        )
        .order_by(col(Enrolment.session_id), col(Enrolment.doctor_id))
    ):
        change = moved[session_id]
        target = change.course_session
        params = SessionMoved(
            session_id=session_id,
            starts_at=target.starts_at,
            previous_starts_at=change.previous_starts_at,
            place_changed=change.place_changed,
            waitlisted=status == EnrolmentStatus.waitlisted,
        )
        subject = f"session:{session_id}:{_fingerprint(target)}"
        on = target.starts_at.astimezone(days.zone).date()
        notices.append(Reminder(doctor_id, NoticeKind.session_moved, subject, on, params))
    return await _queue(session, notices, now=now, days=days)


def _fingerprint(target: CourseSession) -> str:
    """Tells one version of a session's time and place from another (in the outbox key)."""
    version = "|".join(
        str(value)
        for value in (
            target.starts_at.isoformat(),
            target.ends_at.isoformat(),
            target.location,
            target.meeting_url,
            target.recurrence,
            target.repeat_until,
        )
    )
    return hashlib.sha256(version.encode()).hexdigest()[:12]


async def notify_new(
    session: AsyncSession, created: list[CourseSession], *, now: datetime, days: WorkingDays
) -> int:
    """Tell doctors who still need a course about its new sessions (one notice per doctor and
    course): the course is mandatory in their region, or a session of it was cancelled under
    them, and they have no seat and have not done it. Returns the notices."""
    today = now.astimezone(days.zone).date()
    fresh = [
        s for s in created if s.status is SessionStatus.scheduled and _last_day(s, days) >= today
    ]
    if not fresh:
        return 0
    courses = sorted({s.course_id for s in fresh})
    regions = sorted({s.region_code for s in fresh})
    mandatory = {
        (course_id, region)
        for course_id, region in await session.exec(
            select(CourseRegion.course_id, CourseRegion.region_code).where(
                col(CourseRegion.course_id).in_(courses), col(CourseRegion.mandatory).is_(True)
            )
        )
    }
    doctors = (
        await session.exec(
            wide_select(Person.id, Person.region_code, BTProgramme.planned_end)
            .join(PersonRole, col(PersonRole.person_id) == Person.id)
            .outerjoin(BTProgramme, col(BTProgramme.doctor_id) == Person.id)
            .where(
                col(PersonRole.role) == Role.doctor,
                col(Person.active).is_(True),
                col(Person.region_code).in_(regions),
            )
            .order_by(col(Person.id))
        )
    ).all()
    done = set(
        (
            await session.exec(
                select(CourseCompletion.doctor_id, CourseCompletion.course_id).where(
                    col(CourseCompletion.course_id).in_(courses)
                )
            )
        ).all()
    )
    holding: dict[tuple[int, int], set[EnrolmentStatus]] = defaultdict(set)
    for doctor_id, course_id, status in await session.exec(
        wide_select(Enrolment.doctor_id, CourseSession.course_id, Enrolment.status)
        .join(CourseSession, col(CourseSession.id) == Enrolment.session_id)
        .where(col(CourseSession.course_id).in_(courses))
    ):
        holding[(doctor_id, course_id)].add(EnrolmentStatus(status))
    by_course: dict[tuple[int, str], list[CourseSession]] = defaultdict(list)
    for course_session in sorted(fresh, key=lambda s: (s.starts_at, s.id or 0)):
        by_course[(course_session.course_id, course_session.region_code)].append(course_session)
    notices = []
    for (course_id, region), sessions in by_course.items():
        first_day = sessions[0].starts_at.astimezone(days.zone).date()
        for doctor_id, doctor_region, bt_end in doctors:
            held = holding.get((doctor_id, course_id), set())
            needs = (course_id, region) in mandatory or EnrolmentStatus.needs_new_session in held
            if (
                doctor_region != region
                or not needs
                or held & set(HAS_IT)
                or (doctor_id, course_id) in done
                or (bt_end is not None and bt_end < first_day)
            ):
                continue
            params = SessionNew(course_id=course_id, session_ids=[s.id for s in sessions if s.id])
            subject = f"course:{course_id}:{sessions[0].id}"
            notices.append(Reminder(doctor_id, NoticeKind.session_new, subject, first_day, params))
    return await _queue(session, notices, now=now, days=days)


def _last_day(course_session: CourseSession, days: WorkingDays) -> date:
    """The local day of a session's last occurrence."""
    if course_session.repeat_until is not None:
        return course_session.repeat_until
    return course_session.ends_at.astimezone(days.zone).date()


async def _queue(
    session: AsyncSession, notices: list[Reminder], *, now: datetime, days: WorkingDays
) -> int:
    if not notices:
        return 0
    pauses = await all_pauses(session)
    kept = [n for n in notices if not is_paused(pauses, n.person_id, n.kind)]
    at = days.next_send_time(now)
    return await enqueue_many(session, [n.queued(at) for n in kept])
