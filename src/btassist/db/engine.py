"""Creating the async engine and its sessions for SQLite or PostgreSQL from one URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.settings import async_database_url

SQLITE_BUSY_TIMEOUT_MS = 15_000
_IMMEDIATE = "btassist_sqlite_immediate"


class Database:
    """One engine and its session factory; the unit every service receives."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite default."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, *, write_lock: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        `write_lock` is for read-then-write work that must not interleave (taking the last
        seat): SQLite takes its write lock up front (BEGIN IMMEDIATE) instead of failing to
        upgrade a stale read snapshot; on PostgreSQL the caller locks rows (FOR UPDATE).
        """
        async with self.sessions() as session:
            if write_lock and self.is_sqlite:
                await session.connection(execution_options={_IMMEDIATE: True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for a plain or driver-qualified URL, with SQLite tuned for a service."""
    engine = create_async_engine(async_database_url(url), echo=echo, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL so readers never wait for the writer, enforced foreign keys, and patience when busy."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The driver's own implicit BEGIN cannot be made IMMEDIATE; we emit BEGIN in _begin_sqlite.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Connection) -> None:
    """Start SQLite transactions ourselves, IMMEDIATE when the session asked for the lock."""
    immediate = connection.get_execution_options().get(_IMMEDIATE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
