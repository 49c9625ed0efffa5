"""Fresh test databases: a migrated SQLite file per test, one PostgreSQL database per session."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from btassist.db.engine import Database
from btassist.db.migrate import upgrade

T = TypeVar("T")
# Reference data the migrations insert; everything else is emptied between tests.
KEEP_TABLES = frozenset({"alembic_version", "region"})


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a sync fixture without touching pytest-asyncio's event loop."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema."""
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def migrated_sqlite_template(directory: Path) -> Path:
    """A SQLite file migrated once per session; tests copy it instead of migrating again."""
    path = directory / "template.db"
    run_sync(migrate(f"sqlite:///{path}"))
    return path


def fresh_sqlite(template: Path, directory: Path) -> str:
    """A URL to a private copy of the migrated template."""
    path = directory / f"test-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database(base_url: str) -> str:
    """Create a uniquely named database next to `base_url` and migrate it."""
    name = f"btassist_test_{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(_admin_dsn(base_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = make_url(base_url).set(drivername="postgresql", database=name)
    rendered = url.render_as_string(hide_password=False)
    await migrate(rendered)
    return rendered


async def drop_postgres_database(base_url: str, url: str) -> None:
    """Drop a database made by `create_postgres_database`, closing stray connections."""
    name = make_url(url).database
    connection = await asyncpg.connect(_admin_dsn(base_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def empty_tables(url: str) -> None:
    """Delete every row the tests made, keeping migrations' reference data."""
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            names = await connection.run_sync(
                lambda sync: [n for n in sync.dialect.get_table_names(sync) if n not in KEEP_TABLES]
            )
            if names:
                quoted = ", ".join(f'"{name}"' for name in names)
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()
