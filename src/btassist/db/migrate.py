"""Bringing a database schema to the newest migration: the only way the schema is created."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from btassist.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0010"
"""The newest revision in migrations/versions (a test holds it to alembic's own reading).

Knowing it without alembic lets a process whose database is already there start, and answer
/readyz, without importing alembic: some 8 MB of memory (alembic, mako, pygments and the
migration scripts) that every `btassist serve` process would otherwise keep."""
VERSION_TABLE = "alembic_version"
"""Where alembic records the revision a database is at (its default table, one row)."""
# Any fixed number: several `serve` processes starting at once on one PostgreSQL take turns.
_MIGRATION_LOCK_KEY = 0x6274_6173


def alembic_config(url: str = "") -> Config:
    """An alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(database: Database, revision: str = "head") -> None:
    """Upgrade the schema; safe to call from several processes at once."""
    if revision == "head" and await current_revision(database) == HEAD:
        return  # nothing to do, and nothing of alembic loaded to find that out
    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(database: Database) -> str | None:
    """The revision the database is at, or None before the first migration."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(found) > 1:  # a branched history, which these migrations never have
        raise RuntimeError(f"{VERSION_TABLE} holds several revisions: {', '.join(found)}")
    return found[0] if found else None


def head_revision() -> str:
    """The newest revision shipped with this code."""
    return HEAD
