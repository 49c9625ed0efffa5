"""The `btassist` command line: serve the bot, migrate the database, manage the roster."""

from __future__ import annotations

import asyncio
import csv
import logging
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from btassist.db.engine import Database
from btassist.db.migrate import current_revision, head_revision, upgrade
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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
PROGRESS_THRESHOLD = 500


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
        bool, typer.Option("--demo", help="Load the demo roster (idempotent).")
    ] = False,
) -> None:
    """Run the bot's web app (/api/messages, /healthz); migrates the database on start."""
    from aiohttp import web

    from btassist.app import app_factory

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(app_factory(settings, demo=demo), host=host, port=port, print=out.print)


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
        async with database.session() as session:
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
