"""Creating the async engine and its sessions for SQLite or PostgreSQL from one URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Executable, Row, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.settings import async_database_url

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
_IMMEDIATE = "btassist_sqlite_immediate"
_NO_BEGIN = "btassist_sqlite_no_begin"


class Database:
    """One engine and its session factory; the unit every service receives."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._sqlite_writer = asyncio.Lock()
        self._wake_listeners: list[Callable[[], None]] = []

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded SQLite default."""
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self, *, write_lock: bool = True) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        On SQLite a transaction that reads and then writes fails ("database is locked") when
        another writer committed in between, whatever the busy timeout. So by default SQLite
        takes its write lock up front (BEGIN IMMEDIATE) and such transactions queue instead;
        pass `write_lock=False` for read-only work, which then runs beside the writer. On
        PostgreSQL the flag changes nothing: code that must not interleave locks its rows
        (SELECT … FOR UPDATE).
        """
        if write_lock and self.is_sqlite:
            # One writer at a time is all SQLite allows; queueing here in the event loop is
            # fair and instant, where SQLite's busy handler polls with sleeps of up to 100 ms.
            async with self._sqlite_writer, self.sessions() as session:
                await session.connection(execution_options={_IMMEDIATE: True})
                async with _committing(session):
                    yield session
            return
        async with self.sessions() as session, _committing(session):
            yield session

    async def read_once(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row[Any]]:
        """The rows of one read-only statement, outside any transaction.

        A single SELECT is consistent on its own; on SQLite this skips the BEGIN and COMMIT a
        session would send (each a trip to the driver's thread), which matters on the path every
        turn takes.
        """
        async with self.engine.connect() as connection:
            if self.is_sqlite:
                connection = await connection.execution_options(**{_NO_BEGIN: True})
            return (await connection.execute(statement, params)).all()

    def on_wake(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a transaction committed notices (the delivery worker)."""
        self._wake_listeners.append(listener)

    def wake(self) -> None:
        """Tell this process's listeners that notices were committed."""
        for listener in self._wake_listeners:
            try:
                listener()
            except Exception:  # a listener's failure must not fail the committed use case
                log.exception("wake listener failed")

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


@asynccontextmanager
async def _committing(session: AsyncSession) -> AsyncIterator[None]:
    """Commit when the block succeeds, roll back when it raises."""
    try:
        yield
        await session.commit()
    except BaseException:
        await session.rollback()
        raise


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for a plain or driver-qualified URL, with SQLite tuned for a service."""
    async_url = async_database_url(url)
    # A pooled PostgreSQL connection can die with the server or a proxy, so it is pinged on
    # checkout; a SQLite file cannot, and its ping is a round trip to the driver's thread.
    sqlite = make_url(async_url).get_backend_name() == "sqlite"
    engine = create_async_engine(async_url, echo=echo, pool_pre_ping=not sqlite)
    if sqlite:
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
    options = connection.get_execution_options()
    if options.get(_NO_BEGIN):
        return  # one statement, read only: SQLite runs it in a transaction of its own
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_IMMEDIATE) else "BEGIN")
