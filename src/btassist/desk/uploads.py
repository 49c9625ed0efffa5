"""Files coordinators send to the bot: recognised, previewed, and imported all at once on request.

A file is people, placements or course sessions (`.xlsx` or `.csv`, the header decides) or a
course catalogue (`.yaml`). The preview runs the real import as a dry run, so it finds exactly the
problems the import would; nothing is stored until "Importera". A coordinator may only import
for their own region(s): a row naming another region, or a person, doctor, session or course of
another region, is a problem of that row like any other, and then nothing is imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, delete, select

from btassist.assessments.roster_checks import RosterWarning, plans_after_import
from btassist.assessments.sync import SyncResult
from btassist.common.regions import REGION_CODES
from btassist.common.tabular import (
    Problem,
    TableFileError,
    TableRow,
    TableSource,
    parse_table,
)
from btassist.courses.catalogue import (
    CatalogueDocument,
    CourseFileError,
    check_catalogues,
    parse_catalogue_bytes,
)
from btassist.courses.importer import (
    CourseImportResult,
    SessionFile,
    import_catalogues,
    import_sessions,
    sessions_of_table,
)
from btassist.courses.models import Course, CourseRegion
from btassist.db.engine import Database
from btassist.desk.models import PendingUpload
from btassist.roster.files import RosterFile, roster_of_table
from btassist.roster.importer import ImportResult, import_roster
from btassist.roster.models import Person

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""Files sent in the chat: far more than any region's roster, far less than a stray video."""
UPLOAD_LIFETIME = timedelta(minutes=30)
TABLE_SUFFIXES = frozenset({".xlsx", ".xlsm", ".csv", ".txt"})
CATALOGUE_SUFFIXES = frozenset({".yaml", ".yml"})


class UploadKind(StrEnum):
    """What a sent file holds."""

    people = "people"
    placements = "placements"
    sessions = "sessions"
    catalogue = "catalogue"


class Unreadable(StrEnum):
    """Why a sent file cannot be read at all."""

    too_large = "too_large"
    old_excel = "old_excel"  # .xls
    not_spreadsheet = "not_spreadsheet"  # a PDF, a Word file, a picture …
    broken = "broken"  # damaged, password-protected, not UTF-8, no header …
    unknown_header = "unknown_header"  # a table, but none of ours


class UploadUnreadable(Exception):
    """The file as a whole cannot be read; `detail` says why in the file reader's words."""

    def __init__(self, reason: Unreadable, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Upload:
    """A read file: its kind, where its rows came from (file and sheet), and its parsed content."""

    kind: UploadKind
    source: TableSource
    content: RosterFile | SessionFile | CatalogueDocument


def read_upload(data: bytes, *, name: str) -> Upload:
    """Recognise and parse a sent file (CPU-bound: callers run it in a thread)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadUnreadable(Unreadable.too_large)
    suffix = Path(name).suffix.lower()
    if suffix in CATALOGUE_SUFFIXES:
        try:
            document = parse_catalogue_bytes(data, name=name)
        except CourseFileError as error:
            raise UploadUnreadable(Unreadable.broken, str(error)) from error
        return Upload(UploadKind.catalogue, TableSource(name), document)
    if suffix == ".xls":
        raise UploadUnreadable(Unreadable.old_excel)
    if suffix not in TABLE_SUFFIXES:
        raise UploadUnreadable(Unreadable.not_spreadsheet, suffix)
    try:
        table = parse_table(data, name=name)
        header = set(table.header)
        if header & {"email", "doctor_email"}:
            roster = roster_of_table(table)
            return Upload(UploadKind(roster.kind.value), table.source, roster)
        if header & {"course_code", "key"}:
            return Upload(UploadKind.sessions, table.source, sessions_of_table(table))
    except (TableFileError, CourseFileError) as error:
        raise UploadUnreadable(Unreadable.broken, str(error)) from error
    raise UploadUnreadable(Unreadable.unknown_header, ",".join(table.header)[:200])


@dataclass(frozen=True)
class OutOfRegion:
    """A row the coordinator may not import: it concerns `region`, which is not theirs.

    `subject` is what the row names (a region code, an e-mail address, a session key or a course
    code); `region` is where that belongs.
    """

    line: int
    subject: str
    region: str


@dataclass
class UploadOutcome:
    """What importing a file would do (a preview), did, or why it did nothing."""

    kind: UploadKind
    source: TableSource
    stored: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    outside: list[OutOfRegion] = field(default_factory=list)
    warnings: list[RosterWarning] = field(default_factory=list)
    plans: SyncResult | None = None
    doctors_told: int = 0

    @property
    def ok(self) -> bool:
        """No bad rows: the file can be (or was) imported."""
        return not self.problems and not self.outside

    @property
    def changes(self) -> int:
        """How many things the file creates, changes or cancels."""
        return len(self.created) + len(self.updated) + len(self.cancelled)


async def preview_upload(
    database: Database,
    *,
    data: bytes,
    name: str,
    regions: Collection[str],
    zone: ZoneInfo,
    now: datetime,
) -> UploadOutcome:
    """What importing the file would do, as a dry run; raises `UploadUnreadable`."""
    upload = await asyncio.to_thread(read_upload, data, name=name)
    return await _run(database, upload, regions=regions, zone=zone, now=now, dry_run=True)


async def _run(
    database: Database,
    upload: Upload,
    *,
    regions: Collection[str],
    zone: ZoneInfo,
    now: datetime,
    dry_run: bool,
) -> UploadOutcome:
    outside = await out_of_region(database, upload, regions=regions)
    dry_run = dry_run or bool(outside)  # rows for another region: nothing is imported
    content = upload.content
    if isinstance(content, RosterFile):
        roster = await import_roster(database, content, dry_run=dry_run)
        outcome = _outcome(upload, roster)
    elif isinstance(content, SessionFile):
        sessions = await import_sessions(database, content, zone=zone, now=now, dry_run=dry_run)
        outcome = _outcome(upload, sessions)
    else:
        courses = await import_catalogues(database, [content], now=now, dry_run=dry_run)
        outcome = _outcome(upload, courses)
    outcome.outside = outside
    outcome.stored = not dry_run and outcome.ok
    if outcome.stored and isinstance(content, RosterFile):
        after = await plans_after_import(database, emails=content.emails())
        outcome.plans, outcome.warnings = after.plans, after.warnings
    return outcome


def _outcome(upload: Upload, result: ImportResult | CourseImportResult) -> UploadOutcome:
    """The import's result in the terms of a sent file (course files note cancellations)."""
    courses = result if isinstance(result, CourseImportResult) else None
    return UploadOutcome(
        kind=upload.kind,
        source=upload.source,
        stored=False,
        created=result.created,
        updated=result.updated,
        cancelled=courses.cancelled if courses else [],
        unchanged=result.unchanged,
        problems=sorted(Problem(p.line, p.message) for p in result.problems),
        doctors_told=courses.doctors_told if courses else 0,
    )


async def out_of_region(
    database: Database, upload: Upload, *, regions: Collection[str]
) -> list[OutOfRegion]:
    """The rows of `upload` that concern a region outside `regions` (one query per file)."""
    content = upload.content
    if isinstance(content, CatalogueDocument):
        return await _courses_out_of_region(database, content, regions)
    rows = content.rows
    found: list[OutOfRegion] = []
    if upload.kind in (UploadKind.people, UploadKind.sessions):
        found += _named_regions(rows, regions)
    if upload.kind is not UploadKind.sessions:
        column = "email" if upload.kind is UploadKind.people else "doctor_email"
        emails = {row.values.get(column, "").strip().lower() for row in rows} - {""}
        async with database.session(write_lock=False) as session:
            stored = dict(
                (
                    await session.exec(
                        select(Person.email, Person.region_code).where(
                            col(Person.email).in_(emails)
                        )
                    )
                ).all()
            )
        for row in rows:
            email = row.values.get(column, "").strip().lower()
            region = stored.get(email)
            if region is not None and region not in regions:
                found.append(OutOfRegion(row.line, email, region))
    return sorted(found, key=lambda problem: problem.line)


def _named_regions(rows: Iterable[TableRow], regions: Collection[str]) -> list[OutOfRegion]:
    """Rows whose `region` cell names another of the known regions (unknown ones are the
    importer's to report)."""
    found = []
    for row in rows:
        region = row.values.get("region", "").strip().lower()
        if region in REGION_CODES and region not in regions:
            found.append(OutOfRegion(row.line, region, region))
    return found


async def _courses_out_of_region(
    database: Database, document: CatalogueDocument, regions: Collection[str]
) -> list[OutOfRegion]:
    """Courses offered in another region, in the file or already: an import replaces a course's
    regions, so only someone coordinating every one of them may import it."""
    records, _ = check_catalogues([document], set(REGION_CODES))
    codes = [record.code for record in records]
    async with database.session(write_lock=False) as session:
        offered: dict[str, set[str]] = {}
        for code, region in await session.exec(
            select(Course.code, CourseRegion.region_code)
            .join(CourseRegion, col(CourseRegion.course_id) == Course.id)
            .where(col(Course.code).in_(codes))
        ):
            offered.setdefault(code, set()).add(region)
    found = []
    for record in records:
        others = (set(record.regions) | offered.get(record.code, set())) - set(regions)
        for region in sorted(others):
            found.append(OutOfRegion(record.line, record.code, region))
    return sorted(found, key=lambda problem: problem.line)


# --- waiting for "Importera" --------------------------------------------------------------------


async def keep_upload(
    database: Database, *, person_id: int, name: str, data: bytes, now: datetime
) -> int:
    """Keep a previewed file until its owner says "Importera"; one per person (a new file
    replaces the last). Returns its id."""
    async with database.session() as session:
        await session.exec(delete(PendingUpload).where(col(PendingUpload.person_id) == person_id))
        upload = PendingUpload(
            person_id=person_id,
            name=name[:200],
            data=data,
            created_at=now,
            expires_at=now + UPLOAD_LIFETIME,
        )
        session.add(upload)
        await session.flush()
        assert upload.id is not None
        return upload.id


async def import_upload(
    database: Database,
    *,
    person_id: int,
    upload_id: int,
    regions: Collection[str],
    zone: ZoneInfo,
    now: datetime,
) -> UploadOutcome | None:
    """Import a kept file for real, all at once, and forget it; None when it is gone (expired,
    already imported, or someone else's)."""
    async with database.session() as session:
        kept = (
            await session.exec(
                select(PendingUpload).where(
                    col(PendingUpload.id) == upload_id,
                    col(PendingUpload.person_id) == person_id,
                    col(PendingUpload.expires_at) > now,
                )
            )
        ).first()
        gone = await session.exec(delete(PendingUpload).where(col(PendingUpload.id) == upload_id))
        if kept is None or gone.rowcount != 1:
            return None
        name, data = kept.name, kept.data
    upload = await asyncio.to_thread(read_upload, data, name=name)
    return await _run(database, upload, regions=regions, zone=zone, now=now, dry_run=False)
