"""`btassist courses`: the catalogue, sessions, participants and attendance."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from btassist.cli.common import (
    csv_option,
    err,
    fail,
    load_settings,
    out,
    output_sheet,
    print_table,
    region_option,
    run_reading,
    run_with_database,
    xlsx_option,
)
from btassist.common.tabular import Sheet, cell_text
from btassist.courses.catalogue import CourseFileError
from btassist.courses.enrolment import AttendanceResult, record_attendance
from btassist.courses.exports import participant_list, sessions_sheet
from btassist.courses.importer import (
    CourseFileKind,
    CourseImportResult,
    ensure_catalogue,
    import_course_file,
    read_course_file,
)
from btassist.courses.models import CourseSession, Recurrence, SessionStatus
from btassist.courses.queries import (
    CourseListing,
    enrolled_doctor_ids,
    find_session,
    list_courses,
)
from btassist.db.engine import Database
from btassist.db.types import utcnow

courses_app = typer.Typer(
    help="Courses: the catalogue, sessions, participants and attendance.", no_args_is_help=True
)


@courses_app.command("import")
def courses_import(
    file: Annotated[
        Path, typer.Argument(help="A .yaml course catalogue, or a .csv or .xlsx list of sessions.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
) -> None:
    """Import a YAML catalogue or a CSV/Excel session list; any bad line means nothing is
    imported."""
    settings = load_settings()
    try:
        course_file = read_course_file(file)
    except CourseFileError as error:
        fail(str(error))

    async def work(database: Database) -> CourseImportResult:
        await ensure_catalogue(database, now=utcnow())
        return await import_course_file(
            database, course_file, zone=settings.zone, now=utcnow(), dry_run=dry_run
        )

    result = run_with_database(work)
    _report_course_import(file, result)
    if not result.ok:
        raise typer.Exit(1)


def _report_course_import(file: Path, result: CourseImportResult) -> None:
    if not result.ok:
        err.print(
            f"{file}: {len(result.problems)} problem(s); nothing was imported.",
            style="red",
            markup=False,
        )
        for problem in result.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        return
    verb = "would be" if result.dry_run else "were"
    counts = [f"{len(result.created)} {verb} created", f"{len(result.updated)} {verb} updated"]
    if result.kind is CourseFileKind.sessions:
        told = "to tell" if result.dry_run else "told"
        counts.append(
            f"{len(result.cancelled)} {verb} cancelled ({result.doctors_told} doctor(s) {told})"
        )
    counts.append(f"{result.unchanged} unchanged")
    out.print(
        f"{result.kind}: {', '.join(counts)}"
        + (" (dry run: nothing written)" if result.dry_run else ""),
        markup=False,
        highlight=False,
    )
    for label, items in (
        ("create", result.created),
        ("update", result.updated),
        ("cancel", result.cancelled),
    ):
        for item in items:
            out.print(f"  {label}: {item}", markup=False, highlight=False)


@courses_app.command("list")
def courses_list(
    region: Annotated[
        str | None, region_option("Only courses offered in this region, e.g. halland.")
    ] = None,
    past: Annotated[
        bool, typer.Option("--past", help="Also show sessions that have ended.")
    ] = False,
    as_csv: Annotated[
        bool, csv_option("Print the sessions file `courses import` reads instead of the list.")
    ] = False,
    xlsx: Annotated[
        Path | None, xlsx_option("Write the sessions file `courses import` reads as Excel.")
    ] = None,
) -> None:
    """List the catalogue: each course, where it is mandatory, its sessions and their seats; or
    export the sessions to edit and import again."""
    zone = load_settings().zone
    current_at = None if past else utcnow()
    if as_csv or xlsx:

        async def export(database: Database) -> Sheet:
            await ensure_catalogue(database, now=utcnow())
            async with database.session(write_lock=False) as session:
                return await sessions_sheet(
                    session, zone=zone, region=region, current_at=current_at
                )

        sheet = run_with_database(export)
        output_sheet(sheet, as_csv=as_csv, xlsx=xlsx, what="sessions")
        return

    async def work(database: Database) -> list[CourseListing]:
        await ensure_catalogue(database, now=utcnow())
        async with database.session() as session:
            return await list_courses(session, region=region, current_at=current_at)

    listings = run_with_database(work)
    where = f" offered in {region}" if region else ""
    if region:
        mandatory = sum(1 for listing in listings if listing.regions.get(region))
        out.print(f"{len(listings)} course(s){where}, {mandatory} mandatory", highlight=False)
    else:
        out.print(f"{len(listings)} course(s)", highlight=False)
    for listing in listings:
        course = listing.course
        out.print()
        out.print(f"[bold]{escape(course.code)}[/bold]  {escape(course.title_sv)}")
        offered = ", ".join(
            f"{code}: {'mandatory' if mandatory else 'optional'}"
            for code, mandatory in listing.regions.items()
        )
        facts = [course.kind.value.replace("_", " "), offered]
        facts += [f"{course.hours:g} h"] if course.hours else []
        facts += [f"source {course.source}"] if course.source else []
        out.print("  " + " · ".join(facts), markup=False, highlight=False)
        if course.link:
            out.print(f"  {course.link}", markup=False, highlight=False)
        for seats in listing.sessions:
            out.print("  " + _session_line(seats.session, seats.enrolled, seats.waitlisted, zone))
        if not listing.sessions:
            out.print("  [dim]no sessions" + ("" if past else " ahead") + "[/dim]")


def _session_line(session: CourseSession, enrolled: int, waitlisted: int, zone: ZoneInfo) -> str:
    start, end = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    same_day = start.date() == end.date()
    when = (
        f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
        if same_day
        else f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M}"
    )
    if session.recurrence is Recurrence.weekly:
        when = f"weekly {start:%a %H:%M}–{end:%H:%M}, {start:%Y-%m-%d} → {session.repeat_until}"
    place = " + ".join(filter(None, (session.location, session.meeting_url)))
    seats = f"seats {enrolled}/{session.capacity}" if session.capacity else f"{enrolled} enrolled"
    parts = [f"#{session.id}", when, place, seats]
    if waitlisted:
        parts.append(f"{waitlisted} waiting")
    if session.enrolment_deadline:
        parts.append(f"enrol by {session.enrolment_deadline.astimezone(zone):%Y-%m-%d %H:%M}")
    line = escape("  ".join(parts))
    return f"[red]CANCELLED[/red] {line}" if session.status is SessionStatus.cancelled else line


@courses_app.command("participants")
def courses_participants(
    target: Annotated[
        str,
        typer.Argument(
            metavar="SESSION_ID|COURSE_CODE",
            help="A session's number (#) in `courses list`, or a course code for all its sessions.",
        ),
    ],
    region: Annotated[
        str | None, region_option("With a course code: only this region's sessions.")
    ] = None,
    as_csv: Annotated[bool, csv_option("Print CSV instead of a table.")] = False,
    xlsx: Annotated[Path | None, xlsx_option("Write the list as an Excel workbook.")] = None,
) -> None:
    """Who holds a seat in a session, in the order they enrolled, then the waitlist in order."""
    zone = load_settings().zone
    session_id = int(target.removeprefix("#")) if target.removeprefix("#").isdigit() else None
    found = run_reading(
        lambda session: participant_list(
            session,
            zone=zone,
            session_id=session_id,
            course_code=None if session_id is not None else target,
            region=region,
        )
    )
    if found is None:
        what = f"session #{session_id}" if session_id is not None else f"course {target}"
        fail(f"no {what} (see `btassist courses list`)", code=1)
    if as_csv or xlsx:
        output_sheet(found.sheet, as_csv=as_csv, xlsx=xlsx, what="participants")
        return
    if session_id is not None:
        start = found.sessions[0].starts_at.astimezone(zone)
        title = f"#{session_id} {found.course.title_sv}, {start:%Y-%m-%d %H:%M}"
    else:
        title = f"{found.course.code}: {found.course.title_sv}, {len(found.sessions)} session(s)"
    table = Table(*found.sheet.header, title=escape(title))
    for row in found.sheet.rows:
        table.add_row(*(escape(cell_text(cell)) for cell in row))
    print_table(table)


@courses_app.command("attendance")
def courses_attendance(
    session_id: Annotated[int, typer.Argument(help="The session's number (#) in `courses list`.")],
    emails: Annotated[
        list[str], typer.Argument(metavar="EMAIL...", help="E-mail addresses of who attended.")
    ],
    on: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The day attended (default: the session's day; today for a weekly series).",
        ),
    ] = None,
) -> None:
    """Record that enrolled doctors attended a session; this completes the course for them."""
    zone = load_settings().zone
    wanted = sorted({email.strip().lower() for email in emails})

    async def work(database: Database) -> tuple[list[str], AttendanceResult | None, date | None]:
        async with database.session(write_lock=False) as session:
            found = await find_session(session, session_id=session_id)
            if found is None:
                return [], None, None
            ids = await enrolled_doctor_ids(session, session_id=session_id, emails=wanted)
        missing = [email for email in wanted if email not in ids]
        course_session = found[1]
        today = datetime.now(zone).date()
        day = course_session.starts_at.astimezone(zone).date()
        if on is not None:
            day = on.date()
        elif course_session.recurrence is Recurrence.weekly:
            day = today
        if missing:
            return missing, None, day
        result = await record_attendance(
            database,
            session_id=session_id,
            doctor_ids=list(ids.values()),
            on=day,
            today=today,
            zone=zone,
        )
        by_id = {doctor_id: email for email, doctor_id in ids.items()}
        return [f"{by_id[d]}: {why.value}" for d, why in result.refused.items()], result, day

    refused, result, day = run_with_database(work)
    if day is None:
        err.print(f"[red]error:[/red] no session #{session_id} (see `btassist courses list`)")
        raise typer.Exit(1)
    if result is None or refused:
        err.print(
            f"not recorded for session #{session_id} "
            "(not enrolled, withdrew, still waiting, or a day in the future / before the session):",
            style="red",
            markup=False,
        )
        for line in refused:
            err.print(f"  {line}", markup=False, highlight=False)
        if result is None or not result.recorded:
            raise typer.Exit(1)
    recorded = len(result.recorded)
    out.print(f"{recorded} attendance(s) recorded for {day}; the course is completed for them.")
