"""What every command shares: the consoles, settings, a reachable and migrated database, the
`--region`/`--role` options, tables that survive a pipe, and files written for Excel."""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from sqlalchemy import make_url, text
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.regions import UnknownRegion, region_code
from btassist.common.tabular import Sheet
from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.roster.models import Role
from btassist.roster.records import UnknownRole, parse_role
from btassist.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
PROGRESS_THRESHOLD = 500
DATABASE_TIMEOUT_SECONDS = 10.0


def load_settings() -> Settings:
    """Settings from the environment, or a readable error and exit code 2."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            err.print(f"[red]configuration error[/red] {where}: {problem['msg']}")
        raise typer.Exit(2) from error


def fail(message: str, *, code: int = 2) -> NoReturn:
    """End the command with `error: message` on one line (red on a terminal)."""
    err.print(f"error: {message}", style="red", markup=False, highlight=False)
    raise typer.Exit(code)


# --- the database -------------------------------------------------------------------------------


def run_with_database(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work(database)` on a reachable, migrated database; dispose of the engine afterwards."""

    async def runner() -> T:
        database = Database(load_settings().database_url)
        try:
            await _reach(database)
            await upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    return run(runner())


def run_reading(read: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`read(session)` in a read-only session of `run_with_database`."""

    async def work(database: Database) -> T:
        async with database.session(write_lock=False) as session:
            return await read(session)

    return run_with_database(work)


def require_database(url: str) -> None:
    """Exit with code 2 and one line unless the database at `url` answers (before serving)."""

    async def check() -> None:
        database = Database(url)
        try:
            await _reach(database)
        finally:
            await database.dispose()

    run(check())


async def _reach(database: Database) -> None:
    """One line saying which database failed and why, instead of the driver's traceback."""
    try:
        if database.is_sqlite:
            # Opened with the plain driver: aiosqlite's worker thread outlives a failed connect
            # and then trips over the closed event loop.
            sqlite3.connect(make_url(database.url).database or ":memory:").close()
            return
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), database.engine.connect() as link:
            await link.execute(text("SELECT 1"))
    except Exception as error:  # refused, unknown host, bad password, no such file: all alike
        shown = make_url(database.url).render_as_string(hide_password=True)
        fail(f"cannot open the database {shown}: {_reason(error)}")


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {DATABASE_TIMEOUT_SECONDS:g} s"
    inner = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    lines = str(inner).strip().splitlines()
    return lines[0] if lines else type(inner).__name__


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


# --- options ------------------------------------------------------------------------------------


def region_option(help: str) -> Any:
    """`--region`: a code, name or alias (`Gävleborg`, `rjl`); anything else lists the valid."""
    return typer.Option("--region", metavar="REGION", parser=parse_region, help=help)


def role_option(help: str) -> Any:
    """`--role`: English or Swedish (`läkare`, `handledare`); anything else lists the valid."""
    return typer.Option("--role", metavar="ROLE", parser=parse_role_option, help=help)


def parse_region(value: str) -> str:
    """The region code `value` names, or a usage error listing every code and its other names."""
    try:
        return region_code(value)
    except UnknownRegion as error:
        raise typer.BadParameter(str(error)) from error


def parse_role_option(value: str) -> Role:
    """The role `value` names, or a usage error listing every role and its Swedish words."""
    try:
        return parse_role(value)
    except UnknownRole as error:
        raise typer.BadParameter(str(error)) from error


# --- output -------------------------------------------------------------------------------------


def print_table(table: Table) -> None:
    """A table that fits the terminal; piped into another program, every value in full."""
    if out.is_terminal:
        out.print(table)
        return
    widest = Measurement.get(out, out.options.update_width(1_000_000), table).maximum
    Console(file=out.file, width=max(widest, out.width), soft_wrap=True).print(table)


def print_rows(
    columns: Sequence[str], rows: Sequence[Sequence[str]], *, as_csv: bool, title: str
) -> None:
    """Rows as CSV on stdout (for scripts and Excel) or as a table for people."""
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    print_table(table)


def csv_option(help: str) -> Any:
    """`--csv`: print CSV on stdout instead of a table."""
    return typer.Option("--csv", help=help)


def xlsx_option(help: str) -> Any:
    """`--xlsx FILE`: write an Excel workbook."""
    return typer.Option("--xlsx", metavar="FILE", dir_okay=False, help=help)


def output_sheet(sheet: Sheet, *, as_csv: bool, xlsx: Path | None, what: str) -> None:
    """CSV on stdout and/or a workbook where `--xlsx` said; the count goes to stderr."""
    if xlsx is not None:
        try:
            xlsx.write_bytes(sheet.xlsx_bytes())
        except OSError as error:
            fail(f"cannot write {xlsx}: {error.strerror or error}")
        err.print(f"wrote {len(sheet.rows)} {what} to {xlsx}", markup=False, highlight=False)
    if as_csv:
        sys.stdout.write(sheet.csv_text())


def is_loopback(host: str) -> bool:
    """Whether `host` only takes connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
