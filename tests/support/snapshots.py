"""Whole-database snapshots, to prove that a refused operation changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from btassist.db.engine import Database
from btassist.db.tables import metadata
from tests.support.databases import run_sync


async def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, keyed by table name."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            result = await connection.execute(text(f'SELECT * FROM "{table.name}"'))
            rows[table.name] = sorted((tuple(row) for row in result), key=repr)
    return rows


def snapshot_at(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """`snapshot` of the database at `url`, from synchronous code (command-line tests)."""

    async def take() -> dict[str, list[tuple[Any, ...]]]:
        database = Database(url)
        try:
            return await snapshot(database)
        finally:
            await database.dispose()

    return run_sync(take())
