"""What each feed shows, and the one cheap query that says whether it changed.

A feed is a doctor's own calendar, a course's sessions, a region's sessions or one session.
Each has a *stamp*: counts and newest `updated_at` values read in one aggregate query. Whatever
changes what a feed shows changes its stamp, so the ETag is derived from the stamp and an
unchanged feed is answered without loading a row. Building the feed loads its rows in a fixed
number of queries, however many events it has.

Cancelled sessions stay in feeds for `RETENTION` after they were cancelled, as
STATUS:CANCELLED, so subscribed calendars remove them; then they leave, and the stamp counts
that too (the count drops, and Last-Modified becomes the moment they left).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    bindparam,
    func,
    or_,
    true,
)
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.calendar.events import CalendarHeader, EventStatus, FeedEvent
from btassist.common.language import Language
from btassist.courses.models import (
    Course,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    SessionSkip,
    SessionStatus,
)
from btassist.courses.schedule import occurrences
from btassist.db.types import UTCDateTime
from btassist.i18n.catalogue import t
from btassist.roster.models import BTProgramme, Person, Placement, Region

_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")

RETENTION = timedelta(days=30)
FORMAT_VERSION = "1"  # bump when the feed text changes for the same data, to renew every ETag
SHOWN_ENROLMENTS = (
    EnrolmentStatus.enrolled,
    EnrolmentStatus.waitlisted,
    EnrolmentStatus.attended,
    EnrolmentStatus.needs_new_session,  # the session was cancelled: shown as CANCELLED
)


@dataclass(frozen=True)
class FeedScope:
    """How feeds are written in this service: local zone, UID domain and the current instant."""

    zone: ZoneInfo
    uid_domain: str
    now: datetime

    @property
    def cutoff(self) -> datetime:
        """Sessions cancelled before this instant have left the feeds."""
        return self.now - RETENTION


class Role(StrEnum):
    """What a column of a stamp query says."""

    exists = "exists"  # NULL: no such feed; else the feed's own change time (or its key)
    tally = "tally"  # anything else whose change means a change: counts, first and last days
    modified = "modified"  # the newest change among what the feed shows
    aged_out = "aged_out"  # the newest change among cancelled rows that have left the feed


Part = tuple[Select[Any], tuple[Role, ...]]  # a one-row aggregate query and its columns' roles


@dataclass(frozen=True)
class StampQuery:
    """One SELECT over one-row aggregates, built once; each request only binds parameters."""

    statement: Select[Any]
    roles: tuple[Role, ...]

    @classmethod
    def of(cls, parts: Sequence[Part]) -> StampQuery:
        """Join the parts' aggregates (one row each) into a single row."""
        subqueries = []
        for number, (query, _) in enumerate(parts):
            subqueries.append(query.subquery(f"stamp_{number}"))
        joined: FromClause = subqueries[0]
        for subquery in subqueries[1:]:
            joined = joined.join(subquery, true())
        columns = [column for subquery in subqueries for column in subquery.c]
        roles = tuple(role for _, part_roles in parts for role in part_roles)
        assert len(columns) == len(roles)
        return cls(statement=sa_select(*columns).select_from(joined), roles=roles)


@dataclass(frozen=True)
class Stamp:
    """A feed's version (a hash of its stamp) and when it last changed."""

    version: str
    last_modified: datetime | None


class Feed(Protocol):
    """One feed: its cache identity, its stamp and its content."""

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for caches: equal keys and stamps mean equal bytes."""
        ...

    def stamp_query(self) -> StampQuery:
        """The stamp's query; the first column is NULL when the feed does not exist."""
        ...

    def stamp_params(self, cutoff: datetime) -> dict[str, Any]:
        """The values of the stamp query's bind parameters."""
        ...

    async def build(
        self, session: AsyncSession, scope: FeedScope
    ) -> tuple[CalendarHeader, list[FeedEvent]]:
        """The calendar's name and its events."""
        ...


async def read_stamp(session: AsyncSession, feed: Feed, cutoff: datetime) -> Stamp | None:
    """The feed's stamp in one round trip, or None when the feed does not exist."""
    query = feed.stamp_query()
    connection = await session.connection()
    result = await connection.execute(query.statement, feed.stamp_params(cutoff))
    row = tuple(result.one())
    if row[0] is None:
        return None
    changed = [
        value
        for value, role in zip(row, query.roles, strict=True)
        if role in (Role.exists, Role.modified) and isinstance(value, datetime)
    ]
    changed += [
        value + RETENTION
        for value, role in zip(row, query.roles, strict=True)
        if role is Role.aged_out and value is not None
    ]
    digest = hashlib.sha256(repr((FORMAT_VERSION, feed.key, row)).encode()).hexdigest()
    return Stamp(version=digest, last_modified=max(changed, default=None))


def _label(*columns: Any) -> list[Any]:
    return [column.label(f"v{number}") for number, column in enumerate(columns)]


# Sessions: shared by every feed -------------------------------------------------------------


def _visible(cutoff: Any) -> list[ColumnElement[bool]]:
    """Scheduled sessions, and cancelled ones for `RETENTION` (None: however long ago)."""
    if cutoff is None:
        return []
    return [
        or_(
            col(CourseSession.status) == SessionStatus.scheduled,
            col(CourseSession.updated_at) >= cutoff,
        )
    ]


def _joined(query: _Query, where: Sequence[ColumnElement[bool]], *, via_enrolment: bool) -> _Query:
    """`query` over sessions and their courses (and enrolments), filtered by `where`."""
    if via_enrolment:
        query = query.select_from(Enrolment).join(
            CourseSession, col(CourseSession.id) == Enrolment.session_id
        )
    else:
        query = query.select_from(CourseSession)
    return query.join(Course, col(Course.id) == CourseSession.course_id).where(*where)


def _session_parts(
    where: Sequence[ColumnElement[bool]], *, retention: bool, via_enrolment: bool
) -> list[Part]:
    """Sessions shown (with their courses, skipped weeks and enrolments) and those aged out."""
    cutoff = bindparam("cutoff", type_=UTCDateTime()) if retention else None
    shown = [*where, *_visible(cutoff)]
    changes = [func.max(CourseSession.updated_at), func.max(Course.updated_at)]
    if via_enrolment:
        changes.append(func.max(Enrolment.updated_at))
    sessions = _joined(
        sa_select(*_label(func.count(), *changes)), shown, via_enrolment=via_enrolment
    )
    skips = _joined(
        sa_select(
            *_label(func.count(), func.min(SessionSkip.occurs_on), func.max(SessionSkip.occurs_on))
        ),
        shown,
        via_enrolment=via_enrolment,
    ).join(SessionSkip, col(SessionSkip.session_id) == CourseSession.id)
    parts: list[Part] = [
        (sessions, (Role.tally, *(Role.modified for _ in changes))),
        (skips, (Role.tally, Role.tally, Role.tally)),
    ]
    if cutoff is not None:
        gone = _joined(
            sa_select(*_label(func.max(CourseSession.updated_at))),
            [
                *where,
                col(CourseSession.status) == SessionStatus.cancelled,
                col(CourseSession.updated_at) < cutoff,
            ],
            via_enrolment=via_enrolment,
        )
        parts.append((gone, (Role.aged_out,)))
    return parts


def _exists(column: Any, *where: ColumnElement[bool]) -> Part:
    return sa_select(*_label(func.max(column))).where(*where), (Role.exists,)


async def _skips(session: AsyncSession, session_ids: list[int]) -> dict[int, set[date]]:
    skipped: dict[int, set[date]] = defaultdict(set)
    if session_ids:
        rows = await session.exec(
            select(col(SessionSkip.session_id), col(SessionSkip.occurs_on)).where(
                col(SessionSkip.session_id).in_(session_ids)
            )
        )
        for session_id, day in rows:
            skipped[session_id].add(day)
    return skipped


def _title(course: Course, language: Language) -> str:
    return course.title_sv if language is Language.sv else course.title_en


class Seat(NamedTuple):
    """A doctor's enrolment as a feed shows it: only what changes the event."""

    status: EnrolmentStatus
    updated_at: datetime


def session_event(
    course: Course,
    course_session: CourseSession,
    skipped_days: set[date],
    scope: FeedScope,
    language: Language,
    *,
    enrolment: Seat | None = None,
) -> FeedEvent:
    """A session (or weekly series) as an event; with `enrolment`, as that doctor sees it."""
    zone = scope.zone
    cancelled = course_session.status is SessionStatus.cancelled or (
        enrolment is not None and enrolment.status is EnrolmentStatus.needs_new_session
    )
    waitlisted = enrolment is not None and enrolment.status is EnrolmentStatus.waitlisted
    summary = _title(course, language)
    notes = []
    if cancelled:
        status = EventStatus.cancelled
        summary = t("feed.cancelled_prefix", language) + summary
        notes.append(t("feed.cancelled_note", language))
    elif waitlisted:
        status = EventStatus.tentative
        summary = t("feed.waitlisted_prefix", language) + summary
        notes.append(t("feed.waitlisted_note", language))
    else:
        status = EventStatus.confirmed
    description = course.description_sv if language is Language.sv else course.description_en
    if description:
        notes.append(description)
    if course_session.meeting_url:
        notes.append(t("feed.meeting", language, url=course_session.meeting_url))
    if course_session.enrolment_deadline and enrolment is None and not cancelled:
        local = course_session.enrolment_deadline.astimezone(zone)
        notes.append(t("feed.deadline", language, when=f"{local:%Y-%m-%d %H:%M}"))
    starts = list(occurrences(course_session, zone))
    weekly_until: datetime | None = None
    skipped: tuple[datetime, ...] = ()
    if len(starts) > 1:
        weekly_until = starts[-1][0]
        skipped = tuple(
            start for start, _ in starts if start.astimezone(zone).date() in skipped_days
        )
    changed = [course_session.updated_at, course.updated_at]
    if enrolment is not None:
        changed.append(enrolment.updated_at)
    return FeedEvent(
        uid=f"session-{course_session.id}@{scope.uid_domain}",
        summary=summary,
        start=course_session.starts_at,
        end=course_session.ends_at,
        modified=max(changed),
        created=course_session.created_at,
        sequence=course_session.sequence,
        status=status,
        description="\n\n".join(notes),
        location=course_session.location,
        url=course_session.meeting_url,
        weekly_until=weekly_until,
        skipped=skipped,
        categories=(t(f"kind.{course.kind.value}", language),),
        busy=not cancelled,
    )


async def _session_events(
    session: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    scope: FeedScope,
    language: Language,
    *,
    cutoff: datetime | None,
) -> list[FeedEvent]:
    rows = (
        await session.exec(
            _joined(select(Course, CourseSession), [*where, *_visible(cutoff)], via_enrolment=False)
        )
    ).all()
    skipped = await _skips(session, [s.id for _, s in rows if s.id is not None])
    return [session_event(course, s, skipped[s.id or 0], scope, language) for course, s in rows]


# Public feeds: no personal data ---------------------------------------------------------------


@dataclass(frozen=True)
class CourseFeed:
    """Every session of one course, in every region."""

    code: str
    language: Language

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for caches."""
        return ("course", self.code, self.language.value)

    @staticmethod
    def where(code: Any) -> list[ColumnElement[bool]]:
        """The course's sessions."""
        return [col(Course.code) == code]

    def stamp_query(self) -> StampQuery:
        """The course's own change time (NULL: no such course) and its sessions'."""
        return _course_stamp()

    def stamp_params(self, cutoff: datetime) -> dict[str, Any]:
        """The course code and the cutoff."""
        return {"code": self.code, "cutoff": cutoff}

    async def build(
        self, session: AsyncSession, scope: FeedScope
    ) -> tuple[CalendarHeader, list[FeedEvent]]:
        """The course's name and sessions."""
        course = (await session.exec(select(Course).where(Course.code == self.code))).one()
        header = CalendarHeader(
            name=t("feed.course_name", self.language, title=_title(course, self.language)),
            description=t("feed.public_description", self.language),
        )
        events = await _session_events(
            session, self.where(self.code), scope, self.language, cutoff=scope.cutoff
        )
        return header, events


@cache
def _course_stamp() -> StampQuery:
    code = bindparam("code", type_=String())
    return StampQuery.of(
        [
            _exists(Course.updated_at, col(Course.code) == code),
            *_session_parts(CourseFeed.where(code), retention=True, via_enrolment=False),
        ]
    )


@dataclass(frozen=True)
class RegionFeed:
    """Every session a region runs."""

    code: str
    language: Language

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for caches."""
        return ("region", self.code, self.language.value)

    @staticmethod
    def where(code: Any) -> list[ColumnElement[bool]]:
        """The region's sessions."""
        return [col(CourseSession.region_code) == code]

    def stamp_query(self) -> StampQuery:
        """The region (NULL: no such region) and its sessions."""
        return _region_stamp()

    def stamp_params(self, cutoff: datetime) -> dict[str, Any]:
        """The region code and the cutoff."""
        return {"code": self.code, "cutoff": cutoff}

    async def build(
        self, session: AsyncSession, scope: FeedScope
    ) -> tuple[CalendarHeader, list[FeedEvent]]:
        """The region's name and sessions."""
        region = await session.get(Region, self.code)
        assert region is not None
        name = region.name_sv if self.language is Language.sv else region.name_en
        header = CalendarHeader(
            name=t("feed.region_name", self.language, region=name),
            description=t("feed.public_description", self.language),
        )
        events = await _session_events(
            session, self.where(self.code), scope, self.language, cutoff=scope.cutoff
        )
        return header, events


@cache
def _region_stamp() -> StampQuery:
    code = bindparam("code", type_=String())
    return StampQuery.of(
        [
            _exists(Region.code, col(Region.code) == code),
            *_session_parts(RegionFeed.where(code), retention=True, via_enrolment=False),
        ]
    )


@dataclass(frozen=True)
class SessionFeed:
    """One session, for "Lägg till i kalender"; shown however long ago it was cancelled."""

    session_id: int
    language: Language

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for caches."""
        return ("session", self.session_id, self.language.value)

    @staticmethod
    def where(session_id: Any) -> list[ColumnElement[bool]]:
        """Just this session."""
        return [col(CourseSession.id) == session_id]

    def stamp_query(self) -> StampQuery:
        """The session (NULL: no such session)."""
        return _session_stamp()

    def stamp_params(self, cutoff: datetime) -> dict[str, Any]:
        """The session's id."""
        return {"session_id": self.session_id}

    async def build(
        self, session: AsyncSession, scope: FeedScope
    ) -> tuple[CalendarHeader, list[FeedEvent]]:
        """The session, named after its course."""
        events = await _session_events(
            session, self.where(self.session_id), scope, self.language, cutoff=None
        )
        course_session = await session.get(CourseSession, self.session_id)
        assert course_session is not None
        course = await session.get(Course, course_session.course_id)
        assert course is not None
        header = CalendarHeader(
            name=_title(course, self.language),
            description=t("feed.public_description", self.language),
        )
        return header, events

    async def course_code(self, session: AsyncSession) -> str | None:
        """The course's code, for a download's file name."""
        return (
            await session.exec(
                select(Course.code)
                .join(CourseSession, col(CourseSession.course_id) == Course.id)
                .where(CourseSession.id == self.session_id)
            )
        ).first()


@cache
def _session_stamp() -> StampQuery:
    session_id = bindparam("session_id", type_=Integer())
    return StampQuery.of(
        [
            _exists(CourseSession.id, col(CourseSession.id) == session_id),
            *_session_parts(SessionFeed.where(session_id), retention=False, via_enrolment=False),
        ]
    )


# Personal feeds ------------------------------------------------------------------------------


class PersonalSource(Protocol):
    """One kind of thing in a doctor's own feed.

    Sources today: enrolled sessions, placements and the BT period. Assessments (due dates of
    Mini-CEX/DOPS/CbD and the BT-kollegium) become one more source here once `assessments/`
    exists: a stamp over its rows and a list of events, nothing else changes.
    """

    def stamp_parts(self) -> list[Part]:
        """One-row aggregates over the rows of `:person_id` (and `:cutoff`) that change
        whenever this source's events change."""
        ...

    async def events(
        self, session: AsyncSession, person_id: int, scope: FeedScope, language: Language
    ) -> list[FeedEvent]:
        """This source's events for the person."""
        ...


class EnrolledSessions:
    """Sessions the doctor holds a seat or waitlist place in (TENTATIVE), or lost (CANCELLED)."""

    @staticmethod
    def _where(person_id: Any) -> list[ColumnElement[bool]]:
        return [
            col(Enrolment.doctor_id) == person_id,
            col(Enrolment.status).in_(SHOWN_ENROLMENTS),
        ]

    def stamp_parts(self) -> list[Part]:
        """Enrolments, their sessions, courses and skipped weeks."""
        where = self._where(bindparam("person_id", type_=Integer()))
        return _session_parts(where, retention=True, via_enrolment=True)

    async def events(
        self, session: AsyncSession, person_id: int, scope: FeedScope, language: Language
    ) -> list[FeedEvent]:
        """One event per enrolment."""
        # Enrolments only as the two columns an event shows, not as loaded objects.
        rows = (
            await session.exec(
                _joined(
                    select(Course, CourseSession, col(Enrolment.status), col(Enrolment.updated_at)),
                    [*self._where(person_id), *_visible(scope.cutoff)],
                    via_enrolment=True,
                )
            )
        ).all()
        skipped = await _skips(session, [s.id for _, s, _, _ in rows if s.id is not None])
        return [
            session_event(
                course, s, skipped[s.id or 0], scope, language, enrolment=Seat(status, changed)
            )
            for course, s, status, changed in rows
        ]


class Placements:
    """Clinical placements as all-day events spanning their dates."""

    def stamp_parts(self) -> list[Part]:
        """How many placements, and the newest change."""
        query = sa_select(*_label(func.count(), func.max(Placement.updated_at)))
        mine = query.where(col(Placement.doctor_id) == bindparam("person_id", type_=Integer()))
        return [(mine, (Role.tally, Role.modified))]

    async def events(
        self, session: AsyncSession, person_id: int, scope: FeedScope, language: Language
    ) -> list[FeedEvent]:
        """One all-day event per placement."""
        rows = await session.exec(select(Placement).where(Placement.doctor_id == person_id))
        return [
            FeedEvent(
                uid=f"placement-{p.id}@{scope.uid_domain}",
                summary=t(
                    "feed.placement",
                    language,
                    kind=t(f"placement.{p.kind.value}", language),
                    unit=p.unit,
                ),
                start=p.start,
                end=p.end + timedelta(days=1),
                modified=p.updated_at,
                categories=(t("feed.placement_category", language),),
                busy=False,
            )
            for p in rows
        ]


class Programme:
    """The first and the planned last day of BT."""

    def stamp_parts(self) -> list[Part]:
        """The programme's change time (NULL when there is none)."""
        query = sa_select(*_label(func.max(BTProgramme.updated_at)))
        mine = query.where(col(BTProgramme.doctor_id) == bindparam("person_id", type_=Integer()))
        return [(mine, (Role.modified,))]

    async def events(
        self, session: AsyncSession, person_id: int, scope: FeedScope, language: Language
    ) -> list[FeedEvent]:
        """Two one-day events, or none."""
        programme = (
            await session.exec(select(BTProgramme).where(BTProgramme.doctor_id == person_id))
        ).first()
        if programme is None:
            return []
        category = (t("feed.bt_category", language),)
        return [
            FeedEvent(
                uid=f"bt-{which}-{programme.id}@{scope.uid_domain}",
                summary=t(f"feed.bt_{which}", language),
                start=day,
                end=day + timedelta(days=1),
                modified=programme.updated_at,
                categories=category,
                busy=False,
            )
            for which, day in (("start", programme.start), ("end", programme.planned_end))
        ]


PERSONAL_SOURCES: tuple[PersonalSource, ...] = (EnrolledSessions(), Placements(), Programme())


@dataclass(frozen=True)
class PersonalFeed:
    """A doctor's own calendar, in their language: everything from `PERSONAL_SOURCES`."""

    person_id: int
    sources: tuple[PersonalSource, ...] = PERSONAL_SOURCES

    @property
    def key(self) -> tuple[object, ...]:
        """Identity for caches (the token is not part of it: a new link shows the same feed)."""
        return ("person", self.person_id)

    def stamp_query(self) -> StampQuery:
        """The person (their language lives there) and every source."""
        return _personal_stamp(self.sources)

    def stamp_params(self, cutoff: datetime) -> dict[str, Any]:
        """The person and the cutoff."""
        return {"person_id": self.person_id, "cutoff": cutoff}

    async def build(
        self, session: AsyncSession, scope: FeedScope
    ) -> tuple[CalendarHeader, list[FeedEvent]]:
        """Every source's events, named in the doctor's language."""
        person = await session.get(Person, self.person_id)
        assert person is not None
        language = person.language or Language.sv
        events = []
        for source in self.sources:
            events += await source.events(session, self.person_id, scope, language)
        header = CalendarHeader(
            name=t("feed.personal_name", language),
            description=t("feed.personal_description", language),
        )
        return header, events


@cache
def _personal_stamp(sources: tuple[PersonalSource, ...]) -> StampQuery:
    person = _exists(Person.updated_at, col(Person.id) == bindparam("person_id", type_=Integer()))
    return StampQuery.of([person, *(part for source in sources for part in source.stamp_parts())])
