"""A doctor's view of the catalogue: what is mandatory, what is done, booked or missing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from rapidfuzz import fuzz
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.text import fold
from btassist.courses.models import (
    Course,
    CourseCompletion,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    SessionStatus,
)
from btassist.db.engine import Database

MATCH_CUTOFF = 70.0
AMBIGUITY_GAP = 8.0  # courses scoring this close to the best are offered as choices
EXACT = 100.0


class CourseState(StrEnum):
    """Where a doctor stands with a course (klar / anmäld / väntelista / saknas)."""

    done = "done"
    enrolled = "enrolled"
    waitlisted = "waitlisted"
    needs_new_session = "needs_new_session"
    missing = "missing"


@dataclass(frozen=True)
class SessionView:
    """An upcoming session with its free seats (None: no limit)."""

    session: CourseSession
    seats_left: int | None
    waitlisted: int
    my_status: EnrolmentStatus | None


@dataclass
class CourseView:
    """A course as one doctor sees it in their region."""

    course: Course
    mandatory: bool
    state: CourseState
    sessions: list[SessionView] = field(default_factory=list)


@dataclass(frozen=True)
class Progress:
    """How many mandatory courses remain."""

    remaining: int
    total: int


async def courses_for_doctor(
    session: AsyncSession, *, doctor_id: int, region: str, now: datetime
) -> list[CourseView]:
    """Courses offered in the region, mandatory first, each with its upcoming sessions."""
    offered = (
        await session.exec(
            select(Course, CourseRegion.mandatory)
            .join(CourseRegion)
            .where(CourseRegion.region_code == region, col(Course.active).is_(True))
            .order_by(col(CourseRegion.mandatory).desc(), Course.title_sv)
        )
    ).all()
    course_ids = [course.id for course, _ in offered]
    sessions = (
        await session.exec(
            select(CourseSession)
            .where(
                col(CourseSession.course_id).in_(course_ids),
                CourseSession.region_code == region,
                CourseSession.status == SessionStatus.scheduled,
                CourseSession.ends_at >= now,
            )
            .order_by(col(CourseSession.starts_at))
        )
    ).all()
    session_ids = [s.id for s in sessions]
    counts: dict[tuple[int, EnrolmentStatus], int] = {}
    for session_id, status, count in await session.exec(
        select(Enrolment.session_id, Enrolment.status, func.count())
        .where(col(Enrolment.session_id).in_(session_ids))
        .group_by(col(Enrolment.session_id), col(Enrolment.status))
    ):
        counts[(session_id, EnrolmentStatus(status))] = count
    mine: dict[int, EnrolmentStatus] = {}
    state_by_course: dict[int, CourseState] = {}
    for course_id, session_id, status in await session.exec(
        select(CourseSession.course_id, Enrolment.session_id, Enrolment.status)
        .join(CourseSession)
        .where(Enrolment.doctor_id == doctor_id, col(CourseSession.course_id).in_(course_ids))
    ):
        status = EnrolmentStatus(status)
        mine[session_id] = status
        state_by_course[course_id] = _stronger(
            state_by_course.get(course_id, CourseState.missing), _state_of(status)
        )
    done = set(
        (
            await session.exec(
                select(CourseCompletion.course_id).where(CourseCompletion.doctor_id == doctor_id)
            )
        ).all()
    )
    by_course: dict[int, list[SessionView]] = defaultdict(list)
    for s in sessions:
        assert s.id is not None
        enrolled = counts.get((s.id, EnrolmentStatus.enrolled), 0)
        by_course[s.course_id].append(
            SessionView(
                session=s,
                seats_left=None if s.capacity is None else max(s.capacity - enrolled, 0),
                waitlisted=counts.get((s.id, EnrolmentStatus.waitlisted), 0),
                my_status=mine.get(s.id),
            )
        )
    views = []
    for course, mandatory in offered:
        assert course.id is not None
        state = (
            CourseState.done
            if course.id in done
            else state_by_course.get(course.id, CourseState.missing)
        )
        views.append(CourseView(course, mandatory, state, by_course.get(course.id, [])))
    return views


_RANK = {
    CourseState.missing: 0,
    CourseState.needs_new_session: 1,
    CourseState.waitlisted: 2,
    CourseState.enrolled: 3,
    CourseState.done: 4,
}


def _state_of(status: EnrolmentStatus) -> CourseState:
    return {
        EnrolmentStatus.enrolled: CourseState.enrolled,
        EnrolmentStatus.waitlisted: CourseState.waitlisted,
        EnrolmentStatus.needs_new_session: CourseState.needs_new_session,
        EnrolmentStatus.attended: CourseState.done,
        EnrolmentStatus.cancelled: CourseState.missing,
    }[status]


def _stronger(first: CourseState, second: CourseState) -> CourseState:
    return first if _RANK[first] >= _RANK[second] else second


def progress(views: list[CourseView]) -> Progress:
    """Mandatory courses not yet done, out of all mandatory ones."""
    mandatory = [v for v in views if v.mandatory]
    return Progress(
        remaining=sum(v.state is not CourseState.done for v in mandatory), total=len(mandatory)
    )


async def courses_in_region(session: AsyncSession, region: str) -> list[Course]:
    """Active courses offered in a region."""
    query = (
        select(Course)
        .join(CourseRegion)
        .where(CourseRegion.region_code == region, col(Course.active).is_(True))
    )
    return list((await session.exec(query)).all())


def match_courses(text: str, courses: list[Course], *, limit: int = 3) -> list[Course]:
    """Courses a typed name may mean, best first: one when it is clear, a few when it is not."""
    scored = [pair for pair in scored_courses(text, courses) if pair[0] >= MATCH_CUTOFF]
    if not scored:
        return []
    best = scored[0][0]
    return [course for score, course in scored[:limit] if score >= best - AMBIGUITY_GAP]


def scored_courses(text: str, courses: list[Course]) -> list[tuple[float, Course]]:
    """Every course with how well `text` names it (0–100), best first; an exact name is 100.

    A name scores the mean of a typo-tolerant ratio (WRatio) and a word-set ratio, which keeps
    a shared short word ("BT") from making an unrelated course look close; or, when it is
    higher, how well each word typed matches a word of the name, inflections forgiven
    ("temadagen" is the "Temadag", "seminariet" the "seminarium").
    """
    wanted = fold(text)
    if not wanted:
        return []
    scored = []
    for course in courses:
        names = (course.code.replace("-", " "), course.title_sv, course.title_en)
        if wanted in {fold(name) for name in names}:
            score = EXACT
        else:
            score = max(
                max(
                    (fuzz.WRatio(wanted, fold(name)) + fuzz.token_set_ratio(wanted, fold(name)))
                    / 2,
                    _word_score(wanted, fold(name)),
                )
                for name in names
            )
        scored.append((score, course))
    scored.sort(key=lambda pair: -pair[0])
    if scored and scored[0][0] == EXACT:
        return [pair for pair in scored if pair[0] == EXACT]
    return scored


INFLECTION = 4
"""Letters a Swedish ending may add ("dag" → "dagen", "webbutbildning" → "…arna")."""
SHARED_STEM = 0.75


def _word_score(wanted: str, name: str) -> float:
    """The mean, over the words typed, of the best match among the name's words: the same
    word, an inflected form of it, or a typo of it."""
    typed = wanted.split()
    named = name.split()
    if not typed or not named:
        return 0.0
    return sum(max(_word_match(word, other) for other in named) for word in typed) / len(typed)


def _word_match(one: str, other: str) -> float:
    if one == other:
        return 100.0
    shorter, longer = sorted((one, other), key=len)
    inflected = len(longer) - len(shorter) <= INFLECTION
    if len(shorter) >= 3 and longer.startswith(shorter) and inflected:
        return 95.0
    shared = next(
        (i for i, (x, y) in enumerate(zip(one, other, strict=False)) if x != y), len(shorter)
    )
    if shared >= 5 and shared >= SHARED_STEM * len(shorter):
        return 92.0
    return float(fuzz.ratio(one, other))


async def doctor_courses(
    database: Database, *, doctor_id: int, region: str, now: datetime
) -> list[CourseView]:
    """`courses_for_doctor` in a read-only transaction of its own."""
    async with database.session(write_lock=False) as session:
        return await courses_for_doctor(session, doctor_id=doctor_id, region=region, now=now)


async def region_courses(database: Database, region: str) -> list[Course]:
    """`courses_in_region` in a read-only transaction of its own."""
    async with database.session(write_lock=False) as session:
        return await courses_in_region(session, region)


async def active_courses(database: Database) -> list[Course]:
    """Every active course of the catalogue, whichever regions offer it."""
    async with database.session(write_lock=False) as session:
        return list((await session.exec(select(Course).where(col(Course.active).is_(True)))).all())
