"""The `btassist` command line: serve the bot, migrate the database, manage the roster."""

from __future__ import annotations

import asyncio
import csv
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from btassist.common.language import Language
from btassist.courses.catalogue import CourseFileError
from btassist.courses.enrolment import record_attendance
from btassist.courses.importer import (
    CourseFileKind,
    CourseImportResult,
    ensure_catalogue,
    import_course_file,
    read_course_file,
)
from btassist.courses.models import Course, CourseSession, Recurrence, SessionStatus
from btassist.courses.queries import (
    CourseListing,
    Participant,
    enrolled_doctor_ids,
    find_session,
    list_courses,
    session_participants,
)
from btassist.db.engine import Database
from btassist.db.migrate import current_revision, head_revision, upgrade
from btassist.db.types import utcnow
from btassist.roster.csv_files import RosterFileError, read_roster_file
from btassist.roster.importer import ImportResult, import_roster
from btassist.roster.models import Role
from btassist.roster.queries import list_people
from btassist.settings import Settings

app = typer.Typer(
    help="BT-assistenten: a Teams bot for Swedish bastjänstgöring (BT).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
roster_app = typer.Typer(
    help="The cohort: people, roles, BT programmes, placements.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(roster_app, name="roster")
courses_app = typer.Typer(
    help="Courses: the catalogue, sessions, participants and attendance.", no_args_is_help=True
)
app.add_typer(courses_app, name="courses")
faq_app = typer.Typer(
    help="The FAQ knowledge base: ask it, reload it, see what it could not answer.",
    no_args_is_help=True,
)
app.add_typer(faq_app, name="faq")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
PROGRESS_THRESHOLD = 500
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def load_settings() -> Settings:
    """Settings from the environment, or a readable error and exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            err.print(f"[red]configuration error[/red] {where}: {problem['msg']}")
        raise typer.Exit(2) from error


def run_with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work(database)` on a migrated database and dispose of the engine afterwards."""

    async def runner() -> T:
        database = Database(load_settings().database_url)
        try:
            await upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    return _run(runner())


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 3978,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Load the demo roster and course sessions (idempotent)."),
    ] = False,
) -> None:
    """Run the bot's web app (/api/messages, /healthz); migrates the database on start."""
    from aiohttp import web

    from btassist.app import app_factory
    from btassist.calendar.http import FeedAccessLogger

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per timer tick is noise
    if settings.local_mode:
        err.print(
            "[bold yellow]LOCAL MODE[/]: MicrosoftAppId is not set, so /api/messages takes "
            "requests without Bot Framework authentication (like the Bot Framework Emulator)."
        )
        if host not in LOOPBACK_HOSTS:
            err.print(
                f"[bold red]WARNING[/]: listening on {host} in local mode: anyone who can reach "
                "this address can talk to the bot as anyone. Use --host 127.0.0.1, or set "
                "MicrosoftAppId and MicrosoftAppPassword."
            )
    web.run_app(
        app_factory(settings, demo=demo),
        host=host,
        port=port,
        print=out.print,
        access_log_class=FeedAccessLogger,  # personal feed links are secrets: kept out of logs
    )


@app.command()
def chat(
    as_email: Annotated[
        str | None,
        typer.Option("--as", metavar="EMAIL", help="Chat as this person; skips the picker."),
    ] = None,
    lang: Annotated[
        Language | None, typer.Option(help="Teams language sv or en; skips the question.")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo roster (idempotent).")
    ] = True,
) -> None:
    """Chat with the bot in the terminal as a roster person: no Teams, no Azure (local mode)."""
    from btassist.localchat.repl import ChatOptions, ChatStartError, run_chat

    settings = load_settings()
    # Errors only: the chat says itself that it runs in local mode, and turn failures still show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    try:
        code = run_chat(settings, ChatOptions(demo=demo, as_email=as_email, language=lang))
    except ChatStartError as error:
        err.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from error
    except KeyboardInterrupt:  # where the chat cannot catch Ctrl-C itself (Windows)
        code = 0
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""

    async def work(database: Database) -> str | None:
        return await current_revision(database)

    revision = run_with_database(work)
    out.print(f"database at revision {revision} (newest: {head_revision()})")


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="people.csv or placements.csv (header decides).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
) -> None:
    """Import people or placements from Excel CSV; any bad row means nothing is imported."""
    try:
        roster = read_roster_file(file)
    except RosterFileError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error

    async def work(database: Database) -> ImportResult:
        with Progress(
            TextColumn("checking rows"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=len(roster.rows) < PROGRESS_THRESHOLD or not err.is_terminal,
        ) as progress:
            task = progress.add_task("rows", total=len(roster.rows))
            return await import_roster(
                database,
                roster,
                dry_run=dry_run,
                progress=lambda n: progress.advance(task, n),
            )

    result = run_with_database(work)
    _report_import(file, result)
    if not result.ok:
        raise typer.Exit(1)


def _report_import(file: Path, result: ImportResult) -> None:
    if not result.ok:
        err.print(f"[red]{file}: {len(result.problems)} problem(s); nothing was imported.[/red]")
        for problem in result.problems:
            err.print(f"  line {problem.line}: {problem.message}", markup=False, highlight=False)
        return
    verb = "would be" if result.dry_run else "were"
    out.print(
        f"{result.kind}: {len(result.created)} {verb} created, {len(result.updated)} {verb} "
        f"updated, {result.unchanged} unchanged"
        + (" (dry run: nothing written)" if result.dry_run else "")
    )
    for label, items in (("create", result.created), ("update", result.updated)):
        for item in items[:50] if not result.dry_run else items:
            out.print(f"  {label}: {item}", markup=False, highlight=False)
    shown = (
        0 if result.dry_run else max(len(result.created) - 50, 0) + max(len(result.updated) - 50, 0)
    )
    if shown:
        out.print(f"  … and {shown} more")


@roster_app.command("list")
def roster_list(
    region: Annotated[str | None, typer.Option(help="Only this region code, e.g. halland.")] = None,
    role: Annotated[Role | None, typer.Option(help="Only people holding this role.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """List the roster."""

    async def work(database: Database) -> list[Any]:
        async with database.session(write_lock=False) as session:
            return await list_people(session, region=region, role=role)

    people = run_with_database(work)
    columns = ("email", "name", "roles", "region", "language", "bt", "active")
    rows = [
        (
            s.person.email,
            s.person.name,
            "|".join(sorted(s.roles)),
            s.person.region_code,
            s.person.language or "",
            f"{s.programme.bt_type} {s.programme.start}–{s.programme.planned_end}"
            if s.programme
            else "",
            "yes" if s.person.active else "no",
        )
        for s in people
    ]
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
        return
    table = Table(*columns, title=f"{len(rows)} people")
    for row in rows:
        table.add_row(*row)
    out.print(table)


@courses_app.command("import")
def courses_import(
    file: Annotated[
        Path, typer.Argument(help="A .yaml course catalogue or a .csv list of sessions.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
) -> None:
    """Import a YAML catalogue or a CSV session list; any bad line means nothing is imported."""
    settings = load_settings()
    try:
        course_file = read_course_file(file)
    except CourseFileError as error:
        err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from error

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
        str | None, typer.Option(help="Only courses offered in this region, e.g. halland.")
    ] = None,
    past: Annotated[
        bool, typer.Option("--past", help="Also show sessions that have ended.")
    ] = False,
) -> None:
    """List the catalogue: each course, where it is mandatory, its sessions and their seats."""
    zone = load_settings().zone
    region = region.lower() if region else None

    async def work(database: Database) -> list[CourseListing]:
        await ensure_catalogue(database, now=utcnow())
        async with database.session() as session:
            return await list_courses(session, region=region, current_at=None if past else utcnow())

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
    session_id: Annotated[int, typer.Argument(help="The session's number (#) in `courses list`.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Who holds a seat in a session, in the order they enrolled, then the waitlist in order."""
    zone = load_settings().zone

    async def work(
        database: Database,
    ) -> tuple[tuple[Course, CourseSession] | None, list[Participant]]:
        async with database.session() as session:
            found = await find_session(session, session_id=session_id)
            return found, await session_participants(session, session_id=session_id)

    found, participants = run_with_database(work)
    if found is None:
        err.print(f"[red]error:[/red] no session #{session_id} (see `btassist courses list`)")
        raise typer.Exit(1)
    columns = ("name", "email", "status", "waitlist_position", "queued_at")
    rows = [
        (
            p.name,
            p.email,
            p.status.value,
            "" if p.waitlist_position is None else str(p.waitlist_position),
            f"{p.queued_at.astimezone(zone):%Y-%m-%d %H:%M}",
        )
        for p in participants
    ]
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
        return
    course, course_session = found
    start = course_session.starts_at.astimezone(zone)
    table = Table(*columns, title=f"#{session_id} {course.title_sv}, {start:%Y-%m-%d %H:%M}")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)


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

    async def work(database: Database) -> tuple[list[str], int, date | None]:
        async with database.session() as session:
            found = await find_session(session, session_id=session_id)
            if found is None:
                return [], 0, None
            ids = await enrolled_doctor_ids(session, session_id=session_id, emails=wanted)
        missing = [email for email in wanted if email not in ids]
        course_session = found[1]
        day = course_session.starts_at.astimezone(zone).date()
        if on is not None:
            day = on.date()
        elif course_session.recurrence is Recurrence.weekly:
            day = datetime.now(zone).date()
        if missing:
            return missing, 0, day
        recorded = await record_attendance(
            database, session_id=session_id, doctor_ids=list(ids.values()), on=day, now=utcnow()
        )
        return [], recorded, day

    missing, recorded, day = run_with_database(work)
    if day is None:
        err.print(f"[red]error:[/red] no session #{session_id} (see `btassist courses list`)")
        raise typer.Exit(1)
    if missing:
        err.print(
            f"not enrolled in session #{session_id}, so nothing was recorded:",
            style="red",
            markup=False,
        )
        for email in missing:
            err.print(f"  {email}", markup=False, highlight=False)
        raise typer.Exit(1)
    out.print(f"{recorded} attendance(s) recorded for {day}; the course is completed for them.")


def _faq_directory() -> Path:
    from btassist.faq.kb import PACKAGED_KB

    return load_settings().faq_dir or PACKAGED_KB


def _faq_region(region: str | None) -> str | None:
    from btassist.common.regions import UnknownRegion, region_code

    if region is None:
        return None
    try:
        return region_code(region)
    except UnknownRegion as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error


def _load_faq(directory: Path) -> Any:
    from btassist.faq.kb import KnowledgeBaseError
    from btassist.faq.store import load_knowledge_base

    try:
        return load_knowledge_base(directory)
    except KnowledgeBaseError as error:
        err.print(f"[red]{directory}: {len(error.problems)} problem(s)[/red]")
        for problem in error.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from error


@faq_app.command("ask")
def faq_ask(
    question: Annotated[str, typer.Argument(help="The question, as a doctor would type it.")],
    lang: Annotated[
        Language | None, typer.Option(help="Answer language; default: the question's.")
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="The asker's region code, e.g. halland (ranked first).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Ask the FAQ as a doctor would; prints the entry it answers with, or that it is not sure."""
    import json

    kb = _load_faq(_faq_directory())
    result = kb.search(question, region=_faq_region(region))
    language = lang or (Language(result.language) if result.language else Language.sv)
    hit = result.answer
    payload: dict[str, Any] = {
        "answered": hit is not None,
        "entry_id": hit.entry.id if hit else None,
        "score": round(result.best.score, 3) if result.best else 0.0,
        "answer": hit.entry.answer[language] if hit else None,
        "source": hit.entry.source.model_dump(exclude_none=True) if hit else None,
        "scope": hit.entry.scope if hit else None,
        "caution": hit.entry.caution if hit else None,
        "declined": result.declined,
        "closest": [h.entry.id for h in result.closest(2)] if hit is None else [],
    }
    if as_json:
        print(json.dumps(payload, ensure_ascii=False))
        return
    if hit is None:
        out.print("[yellow]not sure[/yellow] – the bot would offer a person to ask", end="")
        out.print(f" (declined topic: {result.declined})" if result.declined else "")
        for near in result.closest(2):
            out.print(f"  closest: {near.entry.id} – {near.entry.title(language)}", markup=False)
        return
    entry = hit.entry
    out.print(f"[bold]{escape(entry.title(language))}[/bold]  [dim]({entry.id})[/dim]")
    out.print(entry.answer[language], markup=False, highlight=False)
    source = entry.source
    out.print(
        f"[dim]scope: {entry.scope} · source: {escape(source.name)}"
        f"{' ' + source.url if source.url else ''} · reviewed {entry.reviewed}[/dim]"
    )


@faq_app.command("reload")
def faq_reload(
    pid: Annotated[
        int | None, typer.Option(help="Also send SIGHUP to this running `btassist serve`.")
    ] = None,
) -> None:
    """Check the knowledge-base files (BTASSIST_FAQ_DIR) and have a running server reload them.

    A running server also reloads by itself within BTASSIST_FAQ_RELOAD_INTERVAL seconds of a
    change, and keeps serving the old knowledge base when a file is broken.
    """
    import os
    import signal

    directory = _faq_directory()
    kb = _load_faq(directory)
    regions = sorted({entry.scope for entry in kb.entries.values()})
    out.print(
        f"{directory}: {len(kb.entries)} entries ({', '.join(regions)}), "
        f"indexed in {kb.build_seconds:.2f} s"
    )
    if pid is not None:
        try:
            os.kill(pid, signal.SIGHUP)
        except (OSError, AttributeError) as error:
            err.print(f"[red]could not signal process {pid}:[/red] {error}")
            raise typer.Exit(1) from error
        out.print(f"sent SIGHUP to {pid}")


@faq_app.command("report")
def faq_report_command(
    region: Annotated[str | None, typer.Option(help="Only this region code.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows per list.")] = 10,
) -> None:
    """Top unanswered questions, down-voted answers and questions waiting for a coordinator."""
    from btassist.faq.service import FaqReport, faq_report

    wanted = _faq_region(region)

    async def work(database: Database) -> FaqReport:
        async with database.session(write_lock=False) as session:
            return await faq_report(session, region=wanted, limit=limit)

    report = run_with_database(work)
    unanswered = Table("count", "question", title="Unanswered questions (no asker stored)")
    for counted in report.unanswered:
        unanswered.add_row(str(counted.count), escape(counted.example))
    out.print(unanswered)
    votes = Table("entry", "👎", "👍", "a question that got 👎", title="Down-voted answers")
    for counted in report.unhelpful:
        votes.add_row(
            counted.key,
            str(counted.count),
            str(report.helpful.get(counted.key, 0)),
            escape(counted.example),
        )
    out.print(votes)
    declined = Table("count", "topic", title="Declined topics")
    for counted in report.declined:
        declined.add_row(str(counted.count), counted.key)
    out.print(declined)
    waiting = Table("asked", "region", "by", "question", title="Waiting for a coordinator")
    for view in report.open_questions:
        waiting.add_row(
            view.question.created_at.date().isoformat(),
            view.question.region_code,
            escape(view.asker_name),
            escape(view.question.text),
        )
    out.print(waiting)


@app.command("teams-package")
def teams_package(
    output: Annotated[
        Path, typer.Option("--out", help="Where to write the zip to upload in Teams.")
    ] = Path("btassist-teams.zip"),
) -> None:
    """Build the Teams app package for this bot (MicrosoftAppId, BTASSIST_PUBLIC_URL)."""
    from btassist.teamsapp.package import PackageError, build_package

    settings = load_settings()
    try:
        data = build_package(app_id=settings.APP_ID, public_url=settings.public_url)
    except PackageError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    out.print(
        f"wrote {output} ({len(data)} bytes); upload it in Teams: Apps → Manage your apps → "
        "Upload an app",
        markup=False,
        highlight=False,
    )
