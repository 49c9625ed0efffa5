"""What every command shares: the consoles, settings and a migrated database."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.settings import Settings

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

    return run(runner())


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
    out.print(table)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
