"""Importing course files all-or-nothing: a YAML catalogue (courses by code) or an Excel CSV list
of sessions (by key). Every problem is reported with its file and line; --dry-run rolls back.

Sessions are written in local time (`YYYY-MM-DD HH:MM`, settings.timezone) and stored as UTC. A
row turning `cancelled` cancels the session through `courses.enrolment.cancel_session`, so its
doctors are moved to `needs_new_session` and told, in the same transaction as the import. So are
the doctors of a session whose time or place changes, and those who still need the course of a
new session (`reminders.courses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.tabular import (
    CellReader,
    CsvRow,
    Problem,
    Table,
    TableFileError,
    parse_csv_text,
    parse_table,
    read_file_bytes,
)
from btassist.common.workdays import WorkingDays
from btassist.courses.catalogue import (
    CatalogueDocument,
    CourseFileError,
    CourseRecord,
    FileProblem,
    bundled_catalogue,
    check_catalogues,
    parse_catalogue_bytes,
)
from btassist.courses.enrolment import cancel_session, fill_free_seats
from btassist.courses.models import Course, CourseRegion, CourseSession, Recurrence, SessionStatus
from btassist.courses.queries import seats_taken
from btassist.courses.schedule import MAX_OCCURRENCES
from btassist.db.engine import Database
from btassist.outbox.unit_of_work import UnitOfWork, unit_of_work
from btassist.reminders.courses import SessionChange, notify_moved, notify_new
from btassist.roster.models import Region

SESSION_COLUMNS = (
    "course_code",
    "key",
    "region",
    "start",
    "end",
    "location",
    "meeting_url",
    "capacity",
    "deadline",
    "status",
    "recurrence",
    "repeat_until",
)
REQUIRED_SESSION_COLUMNS = SESSION_COLUMNS[:5]
LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S")
STATUS_WORDS = {
    "scheduled": SessionStatus.scheduled,
    "planerad": SessionStatus.scheduled,
    "cancelled": SessionStatus.cancelled,
    "canceled": SessionStatus.cancelled,
    "inställd": SessionStatus.cancelled,
}
RECURRENCE_WORDS = {"weekly": Recurrence.weekly, "veckovis": Recurrence.weekly}
MAX_KEY = 120
MAX_LOCATION = 300
MAX_URL = 500
# Changes that move a session in calendars; each bumps its iCalendar SEQUENCE.
TIME_FIELDS = frozenset({"starts_at", "ends_at", "recurrence", "repeat_until"})
# Changes its doctors are told about: when and where.
PLACE_FIELDS = frozenset({"location", "meeting_url"})
E = TypeVar("E", bound=StrEnum)


class CourseFileKind(StrEnum):
    """Which course file this is: the extension decides."""

    catalogue = "catalogue"
    sessions = "sessions"


@dataclass(frozen=True)
class SessionFile:
    """A parsed CSV list of sessions and the name its problems are reported under."""

    name: str
    rows: list[CsvRow]


CourseFile = CatalogueDocument | SessionFile


@dataclass
class CourseImportResult:
    """What an import did, or would do with --dry-run, or why it did nothing."""

    kind: CourseFileKind
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    doctors_told: int = 0
    reminders_queued: int = 0
    unchanged: int = 0
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file had no bad lines."""
        return not self.problems


def read_course_file(path: Path) -> CourseFile:
    """Read a `.yaml`/`.yml` catalogue, or a `.csv`/`.xlsx` session list."""
    try:
        data = read_file_bytes(path)
    except TableFileError as error:
        raise CourseFileError(str(error)) from error
    return parse_course_file(data, name=str(path))


def parse_course_file(data: bytes, *, name: str) -> CourseFile:
    """A course file from its bytes (a file sent to the bot); the name's extension decides."""
    suffix = Path(name).suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return parse_catalogue_bytes(data, name=name)
    if suffix not in {".csv", ".xlsx"}:
        raise CourseFileError(
            f"{name}: expected a .yaml catalogue or a .csv/.xlsx list of sessions"
        )
    try:
        return sessions_of_table(parse_table(data, name=name))
    except TableFileError as error:
        raise CourseFileError(str(error)) from error


def parse_sessions_text(text: str, *, name: str) -> SessionFile:
    """Parse a CSV session list from text (tests, the demo)."""
    try:
        return sessions_of_table(parse_csv_text(text, name=name))
    except TableFileError as error:
        raise CourseFileError(f"{name}: {error}") from error


def sessions_of_table(table: Table) -> SessionFile:
    """A read table as a list of sessions, if its header is one."""
    name, header = table.source.label, table.header
    missing = [column for column in REQUIRED_SESSION_COLUMNS if column not in header]
    if missing:
        raise CourseFileError(
            f"{name}: the header lacks the column(s) {', '.join(missing)}; expected\n  "
            + ",".join(SESSION_COLUMNS)
        )
    unknown = [column for column in header if column and column not in SESSION_COLUMNS]
    if unknown:
        raise CourseFileError(
            f"{name}: unknown column(s) {', '.join(unknown)} (valid: {', '.join(SESSION_COLUMNS)})"
        )
    return SessionFile(name=name, rows=table.rows)


async def import_course_file(
    database: Database,
    course_file: CourseFile,
    *,
    zone: ZoneInfo,
    now: datetime,
    dry_run: bool = False,
) -> CourseImportResult:
    """Import either kind of course file; any bad line means nothing is written."""
    if isinstance(course_file, SessionFile):
        return await import_sessions(database, course_file, zone=zone, now=now, dry_run=dry_run)
    return await import_catalogues(database, [course_file], now=now, dry_run=dry_run)


async def ensure_catalogue(database: Database, *, now: datetime) -> CourseImportResult | None:
    """Load the bundled catalogue when the course table is empty (a first start), else nothing.

    Only into an empty table, so courses coordinators have imported or edited since are never
    overwritten by the copy shipped with the code.
    """
    async with database.session() as session:
        if (await session.exec(select(Course.id).limit(1))).first() is not None:
            return None
    try:
        result = await import_catalogues(database, bundled_catalogue(), now=now)
    except IntegrityError:  # another process started at the same moment and loaded it first
        return None
    if not result.ok:
        raise RuntimeError(
            "the bundled catalogue is invalid: " + "; ".join(map(str, result.problems))
        )
    return result


# --- catalogues ---------------------------------------------------------------------------------


async def import_catalogues(
    database: Database,
    documents: list[CatalogueDocument],
    *,
    now: datetime,
    dry_run: bool = False,
) -> CourseImportResult:
    """Upsert courses by code, and which regions offer them (mandatory or not) as the files say."""
    result = CourseImportResult(kind=CourseFileKind.catalogue, dry_run=dry_run)
    async with database.session(write_lock=True) as session:
        regions = set((await session.exec(select(Region.code))).all())
        records, result.problems = check_catalogues(documents, regions)
        if result.ok:
            await _upsert_courses(session, records, result, now)
        if dry_run or not result.ok:
            await session.rollback()
    return result


def _course_values(record: CourseRecord) -> dict[str, Any]:
    return {
        "title_sv": record.title_sv,
        "title_en": record.title_en,
        "description_sv": record.description_sv,
        "description_en": record.description_en,
        "kind": record.kind,
        "provider": record.provider,
        "hours": record.hours,
        "link": record.link,
        "source": record.source,
        "active": record.active,
    }


async def _upsert_courses(
    session: AsyncSession, records: list[CourseRecord], result: CourseImportResult, now: datetime
) -> None:
    codes = [record.code for record in records]
    existing = {
        course.code: course
        for course in (await session.exec(select(Course).where(col(Course.code).in_(codes)))).all()
    }
    offered: dict[int, dict[str, CourseRegion]] = {}
    for offer in (
        await session.exec(
            select(CourseRegion).where(
                col(CourseRegion.course_id).in_([c.id for c in existing.values()])
            )
        )
    ).all():
        offered.setdefault(offer.course_id, {})[offer.region_code] = offer
    courses: list[tuple[CourseRecord, Course]] = []
    changed: set[str] = set()
    for record in records:
        wanted = _course_values(record)
        course = existing.get(record.code)
        if course is None:
            course = Course(code=record.code, updated_at=now, **wanted)
            result.created.append(record.code)
        elif any(getattr(course, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(course, key, value)
            course.updated_at = now
            changed.add(record.code)
        session.add(course)
        courses.append((record, course))
    await session.flush()  # new courses get their ids
    for record, course in courses:
        assert course.id is not None
        current = offered.get(course.id, {})
        for region, mandatory in record.regions.items():
            link = current.get(region)
            if link is None:
                session.add(
                    CourseRegion(course_id=course.id, region_code=region, mandatory=mandatory)
                )
            elif link.mandatory != mandatory:
                link.mandatory = mandatory
                session.add(link)
            else:
                continue
            changed.add(record.code)
        gone = [region for region in current if region not in record.regions]
        if gone:
            await session.exec(
                delete(CourseRegion).where(
                    col(CourseRegion.course_id) == course.id,
                    col(CourseRegion.region_code).in_(gone),
                )
            )
            changed.add(record.code)
        if record.code in changed and record.code not in result.created:
            course.updated_at = now
            session.add(course)
    result.updated = sorted(changed - set(result.created))
    result.unchanged = len(records) - len(result.created) - len(result.updated)


# --- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferedCourse:
    """A course as the session checks need it: its id and the regions offering it."""

    id: int
    code: str
    regions: frozenset[str]


@dataclass
class KnownSessions:
    """What the database holds that session rows refer to or change."""

    regions: set[str]
    courses: dict[str, OfferedCourse]
    sessions: dict[str, CourseSession]
    seats: dict[int, int]

    def course_code(self, course_id: int) -> str:
        """The code of a course by id (for messages about existing sessions)."""
        return next((c.code for c in self.courses.values() if c.id == course_id), str(course_id))


@dataclass(frozen=True)
class SessionRecord:
    """A valid row of a session list, times in UTC; `status` None keeps an existing one's."""

    line: int
    key: str
    course: OfferedCourse
    region: str
    starts_at: datetime
    ends_at: datetime
    location: str
    meeting_url: str | None
    capacity: int | None
    enrolment_deadline: datetime | None
    status: SessionStatus | None
    recurrence: Recurrence | None
    repeat_until: date | None

    def values(self) -> dict[str, Any]:
        """The columns a re-import compares and overwrites (status is handled on its own)."""
        return {
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "location": self.location,
            "meeting_url": self.meeting_url,
            "capacity": self.capacity,
            "enrolment_deadline": self.enrolment_deadline,
            "recurrence": self.recurrence,
            "repeat_until": self.repeat_until,
        }


async def import_sessions(
    database: Database,
    sessions: SessionFile,
    *,
    zone: ZoneInfo,
    now: datetime,
    dry_run: bool = False,
    notify: bool = True,
) -> CourseImportResult:
    """Upsert sessions by key; a moved session's sequence goes up, a cancelled one's doctors are
    told. Sessions missing from the file are left as they are. With `notify` (the default)
    doctors hear of moved sessions and new sessions of courses they need; the demo's own
    sessions, re-dated at every start, are no news."""
    result = CourseImportResult(kind=CourseFileKind.sessions, dry_run=dry_run)
    async with unit_of_work(database) as uow:
        known = await _known_sessions(uow.session, sessions.rows)
        records, problems = check_sessions(sessions.rows, known, zone)
        result.problems = [FileProblem(sessions.name, p.line, p.message) for p in problems]
        if result.ok:
            await _upsert_sessions(uow, records, known, result, zone, now, notify=notify)
        if dry_run or not result.ok:
            await uow.session.rollback()
            uow.queued = 0
    return result


async def _known_sessions(session: AsyncSession, rows: list[CsvRow]) -> KnownSessions:
    regions = set((await session.exec(select(Region.code))).all())
    offered: dict[int, set[str]] = {}
    for course_id, region in await session.exec(
        select(CourseRegion.course_id, CourseRegion.region_code)
    ):
        offered.setdefault(course_id, set()).add(region)
    courses = {
        code: OfferedCourse(id=course_id, code=code, regions=frozenset(offered.get(course_id, ())))
        for course_id, code in await session.exec(select(Course.id, Course.code))
        if course_id is not None
    }
    keys = [row.values.get("key", "") for row in rows]
    query = select(CourseSession).where(col(CourseSession.key).in_(keys))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()  # enrolments wait until the import has committed
    existing = {s.key: s for s in (await session.exec(query)).all()}
    seats = await seats_taken(session, [s.id for s in existing.values() if s.id is not None])
    return KnownSessions(regions=regions, courses=courses, sessions=existing, seats=seats)


class _SessionCells(CellReader):
    """Reads a session row's local times, seat counts and choices."""

    def __init__(self, row: CsvRow, problems: list[Problem], zone: ZoneInfo) -> None:
        super().__init__(row, problems)
        self.zone = zone

    def moment(self, column: str, *, required: bool = True) -> datetime | None:
        """A local `YYYY-MM-DD HH:MM` as UTC; a bare date (deadlines) means the end of that day."""
        value = self.text(column, required=required)
        if not value:
            return None
        naive = _parse_local(value, date_means_end_of_day=not required)
        if naive is None:
            formats = "YYYY-MM-DD HH:MM" + (" or YYYY-MM-DD" if not required else "")
            self.fail(f"{column} {value!r} is not a local time (use {formats})")
            return None
        instant = naive.replace(tzinfo=self.zone).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != naive:
            self.fail(f"{column} {value} does not exist in {self.zone} (the clocks go forward)")
            return None
        return instant

    def seats(self, column: str) -> int | None:
        value = self.text(column, required=False)
        if not value:
            return None
        try:
            seats = int(value)
        except ValueError:
            self.fail(f"{column} {value!r} is not a whole number (blank: no limit)")
            return None
        if seats < 1:
            self.fail(f"{column} {seats} must be 1 or more (blank: no limit)")
            return None
        return seats

    def choice(self, column: str, words: Mapping[str, E]) -> E | None:
        value = self.text(column, required=False).lower()
        if not value:
            return None
        if value not in words:
            valid = ", ".join(sorted({word.value for word in words.values()}))
            self.fail(f"{column} {value!r} must be blank or one of: {valid}")
            return None
        return words[value]

    def web_address(self, column: str) -> str | None:
        value = self.text(column, required=False)
        if value and (not value.startswith(("https://", "http://")) or " " in value):
            self.fail(f"{column} {value!r} must be a web address starting with https://")
        elif len(value) > MAX_URL:
            self.fail(f"{column} is longer than {MAX_URL} characters")
        return value or None


def _parse_local(value: str, *, date_means_end_of_day: bool) -> datetime | None:
    for pattern in LOCAL_FORMATS:
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    if date_means_end_of_day:
        try:
            return datetime.combine(date.fromisoformat(value), time(23, 59))
        except ValueError:
            return None
    return None


def check_sessions(
    rows: list[CsvRow], known: KnownSessions, zone: ZoneInfo
) -> tuple[list[SessionRecord], list[Problem]]:
    """Validate a session list against the catalogue and the sessions already stored."""
    problems: list[Problem] = []
    records: list[SessionRecord] = []
    seen: dict[str, int] = {}
    for row in rows:
        cells = _SessionCells(row, problems, zone)
        key = cells.text("key")
        if key in seen:
            cells.fail(f"duplicate key {key} (same as line {seen[key]})")
        elif key:
            seen[key] = row.line
        record = _session(cells, key, known)
        if record is not None:
            records.append(record)
    return records, sorted(problems)


def _session(cells: _SessionCells, key: str, known: KnownSessions) -> SessionRecord | None:
    if len(key) > MAX_KEY:
        cells.fail(f"key is longer than {MAX_KEY} characters")
    code = cells.text("course_code")
    course = known.courses.get(code)
    if code and course is None:
        cells.fail(f"unknown course code {code!r} (import the catalogue first)")
    region = cells.text("region").lower()
    if region and region not in known.regions:
        cells.fail(f"unknown region {region!r} (valid: {', '.join(sorted(known.regions))})")
    elif region and course is not None and region not in course.regions:
        offered = ", ".join(sorted(course.regions)) or "no region"
        cells.fail(f"{code} is not offered in {region} (offered in: {offered})")
    starts_at, ends_at = cells.moment("start"), cells.moment("end")
    if starts_at and ends_at and ends_at <= starts_at:
        cells.fail(f"end {cells.text('end')} is not after start {cells.text('start')}")
    location = cells.text("location", required=False)
    if len(location) > MAX_LOCATION:
        cells.fail(f"location is longer than {MAX_LOCATION} characters")
    meeting_url = cells.web_address("meeting_url")
    if not location and not meeting_url:
        cells.fail("give a location, a meeting_url, or both")
    capacity = cells.seats("capacity")
    deadline = cells.moment("deadline", required=False)
    if deadline and starts_at and deadline > starts_at:
        cells.fail(f"deadline {cells.text('deadline')} is after start {cells.text('start')}")
    status = cells.choice("status", STATUS_WORDS)
    recurrence = cells.choice("recurrence", RECURRENCE_WORDS)
    repeat_until = cells.day("repeat_until", required=False)
    _check_series(cells, recurrence, repeat_until, starts_at, ends_at)
    current = known.sessions.get(key)
    if current is not None and course is not None and region:
        if current.course_id != course.id or current.region_code != region:
            cells.fail(
                f"key {key} is already a session of {known.course_code(current.course_id)} in "
                f"{current.region_code}; a different course or region needs a new key"
            )
        taken = known.seats.get(current.id or 0, 0)
        if capacity is not None and capacity < taken and status is not SessionStatus.cancelled:
            cells.fail(f"capacity {capacity} is less than the {taken} doctors holding a seat")
    if not cells.ok or course is None or starts_at is None or ends_at is None:
        return None
    return SessionRecord(
        line=cells.row.line,
        key=key,
        course=course,
        region=region,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        meeting_url=meeting_url,
        capacity=capacity,
        enrolment_deadline=deadline,
        status=status,
        recurrence=recurrence,
        repeat_until=repeat_until,
    )


def _check_series(
    cells: _SessionCells,
    recurrence: Recurrence | None,
    repeat_until: date | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> None:
    if recurrence is None:
        if repeat_until is not None:
            cells.fail("repeat_until is only for a weekly series (recurrence weekly)")
        return
    if repeat_until is None:
        cells.fail("repeat_until is needed for a weekly series (the date of the last week)")
        return
    if starts_at is None or ends_at is None:
        return
    if ends_at - starts_at >= timedelta(days=7):
        cells.fail("end is the end of the first week's occasion, so it must be within a week")
    first_day = starts_at.astimezone(cells.zone).date()
    if repeat_until < first_day:
        cells.fail(f"repeat_until {repeat_until} is before the first occasion {first_day}")
    elif (repeat_until - first_day).days // 7 + 1 > MAX_OCCURRENCES:
        cells.fail(f"a weekly series may have at most {MAX_OCCURRENCES} occasions")


async def _upsert_sessions(
    uow: UnitOfWork,
    records: list[SessionRecord],
    known: KnownSessions,
    result: CourseImportResult,
    zone: ZoneInfo,
    now: datetime,
    *,
    notify: bool,
) -> None:
    session = uow.session
    created: list[CourseSession] = []
    moved: list[SessionChange] = []
    for record in records:
        local_start = record.starts_at.astimezone(zone)
        label = f"{record.key} ({record.course.code}, {local_start:%Y-%m-%d %H:%M})"
        current = known.sessions.get(record.key)
        wanted = record.values()
        if current is None:
            new = CourseSession(
                course_id=record.course.id,
                key=record.key,
                region_code=record.region,
                status=record.status or SessionStatus.scheduled,
                created_at=now,
                updated_at=now,
                **wanted,
            )
            session.add(new)
            created.append(new)
            result.created.append(label)
            continue
        changes = {k: v for k, v in wanted.items() if getattr(current, k) != v}
        if changes.keys() & (TIME_FIELDS | PLACE_FIELDS):
            place_changed = bool(changes.keys() & PLACE_FIELDS)
            moved.append(SessionChange(current, current.starts_at, place_changed))
        more_seats = (
            "capacity" in changes
            and current.capacity is not None
            and (record.capacity is None or record.capacity > current.capacity)
        )
        for name, value in changes.items():
            setattr(current, name, value)
        if changes.keys() & TIME_FIELDS:
            current.sequence += 1
        if changes:
            current.updated_at = now
            session.add(current)
        if record.status is SessionStatus.cancelled and current.status is SessionStatus.scheduled:
            told = await cancel_session(uow, course_session=current, now=now)
            result.cancelled.append(label)
            result.doctors_told += len(told)
        elif record.status is SessionStatus.scheduled and current.status is SessionStatus.cancelled:
            current.status, current.updated_at = SessionStatus.scheduled, now
            session.add(current)
            result.updated.append(f"{label}: reinstated")
        elif changes:
            if more_seats and current.status is SessionStatus.scheduled:
                await fill_free_seats(uow, course_session=current, now=now)
            result.updated.append(f"{label}: {', '.join(sorted(changes))} changed")
        else:
            result.unchanged += 1
    await session.flush()  # new sessions get their ids
    if not notify:
        return
    days = WorkingDays(zone)
    result.reminders_queued += await notify_moved(session, moved, now=now, days=days)
    result.reminders_queued += await notify_new(session, created, now=now, days=days)
