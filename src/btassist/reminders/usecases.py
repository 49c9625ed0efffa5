"""Reminder use cases for the chat and the notice cards: pausing and resuming, and what a
reminder shows when it is delivered. Each owns its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from btassist.assessments.service import ItemView, item_views
from btassist.courses.models import Course, CourseSession, SessionStatus
from btassist.db.engine import Database
from btassist.outbox.notices import NoticeKind
from btassist.reminders.kinds import WeeklyDigest
from btassist.reminders.pauses import pause, paused_kinds, resume
from btassist.roster.models import Person


async def pause_reminders(
    database: Database, *, person_id: int, kind: NoticeKind | None, now: datetime
) -> None:
    """ "Pausa påminnelser": no more reminders of `kind` (None: of any kind) until resumed."""
    async with database.session() as session:
        await pause(session, person_id=person_id, kind=kind, now=now)


async def resume_reminders(
    database: Database, *, person_id: int, kind: NoticeKind | None, now: datetime
) -> None:
    """ "Återuppta påminnelser": reminders of `kind` (None: of every kind) again."""
    async with database.session() as session:
        await resume(session, person_id=person_id, kind=kind, now=now)


async def paused(database: Database, *, person_id: int) -> set[str]:
    """The kinds a person has paused ("all" for everything)."""
    async with database.session(write_lock=False) as session:
        return await paused_kinds(session, person_id=person_id)


async def scheduled_sessions(
    database: Database, session_ids: Sequence[int]
) -> dict[int, tuple[Course, CourseSession]]:
    """Sessions still scheduled, with their courses, by id (in one query): a reminder about a
    session cancelled or removed since says nothing about it."""
    if not session_ids:
        return {}
    query = (
        select(Course, CourseSession)
        .join(CourseSession, col(CourseSession.course_id) == Course.id)
        .where(
            col(CourseSession.id).in_(list(session_ids)),
            col(CourseSession.status) == SessionStatus.scheduled,
        )
    )
    async with database.session(write_lock=False) as session:
        return {target.id or 0: (course, target) for course, target in await session.exec(query)}


async def names(database: Database, person_ids: Sequence[int]) -> dict[int, str]:
    """People's names by id (active people only)."""
    if not person_ids:
        return {}
    query = select(Person.id, Person.name).where(
        col(Person.id).in_(list(person_ids)), col(Person.active).is_(True)
    )
    async with database.session(write_lock=False) as session:
        return {person_id: name for person_id, name in await session.exec(query) if person_id}


@dataclass(frozen=True)
class DigestView:
    """What is left of a weekly summary when it is delivered."""

    items: list[ItemView]
    sessions: list[tuple[Course, CourseSession, datetime]]  # with the week's occurrence


async def digest_view(database: Database, digest: WeeklyDigest) -> DigestView:
    """The week's open items and still-scheduled sessions, in two queries."""
    async with database.session(write_lock=False) as session:
        open_items = await item_views(session, digest.item_ids, open_only=True)
    found = await scheduled_sessions(database, [s.session_id for s in digest.sessions])
    sessions = [
        (*found[s.session_id], s.starts_at) for s in digest.sessions if s.session_id in found
    ]
    return DigestView(open_items, sessions)
