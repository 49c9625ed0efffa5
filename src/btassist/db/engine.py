"""Creating the async engine and its sessions for SQLite or PostgreSQL from one URL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Self

from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.settings import async_database_url

SQLITE_BUSY_TIMEOUT_MS = 15_000
_IMMEDIATE = "btassist_sqlite_immediate"
_TRIPS = "btassist_sqlite_trips"


class Database:
    """One engine and its session factory; the unit every service receives."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        self._sqlite_writer = asyncio.Lock()

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
        event.listen(engine.sync_engine, "connect", _one_trip_per_statement)
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
    begin = "BEGIN IMMEDIATE" if connection.get_execution_options().get(_IMMEDIATE) else "BEGIN"
    trips = connection.connection.info.get(_TRIPS)
    if trips is None:
        connection.exec_driver_sql(begin)
    else:
        trips.begin = begin  # sent with the transaction's first statement


def _one_trip_per_statement(_dbapi_connection: Any, record: Any) -> None:
    """Reach the new aiosqlite connection through `SqliteTrips`."""
    driver = record.driver_connection
    if callable(getattr(driver, "_execute", None)):  # else aiosqlite changed: keep its own calls
        record.info[_TRIPS] = SqliteTrips(driver)


class SqliteTrips:
    """An aiosqlite connection reached in as few trips to its thread as the SQL allows.

    aiosqlite runs every driver call on the connection's own thread, and each hand-off costs
    more than a small SQLite query: a statement took four (make a cursor, execute, fetch,
    close) and a transaction two more (BEGIN, and the pool's rollback after COMMIT). Here a
    statement is one trip, BEGIN travels with the transaction's first statement, and commit and
    rollback stay home when SQLite says no transaction is open.
    """

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.begin: str | None = None  # waiting for the transaction's first statement
        self.in_transaction = False  # as SQLite reported at the end of the last trip
        self._commit, self._rollback = driver.commit, driver.rollback
        driver.cursor, driver.commit, driver.rollback = self.cursor, self.commit, self.rollback

    def cursor(self) -> OneTripCursor:
        """A cursor whose statements are one trip each."""
        return OneTripCursor(self)

    async def run(
        self, statement: Callable[[sqlite3.Cursor], object]
    ) -> tuple[Any, int, Any, list[Any]]:
        """Run a statement (after a waiting BEGIN) and fetch its rows, in one trip."""
        begin, self.begin = self.begin, None

        def on_driver_thread(connection: sqlite3.Connection) -> tuple[Any, ...]:
            if begin:
                connection.execute(begin)
            cursor = connection.cursor()
            try:
                statement(cursor)
                rows = cursor.fetchall() if cursor.description else []
                return (
                    cursor.description,
                    cursor.rowcount,
                    cursor.lastrowid,
                    rows,
                    connection.in_transaction,
                )
            finally:
                cursor.close()

        self.in_transaction = True  # until SQLite says otherwise; a failed trip leaves it so
        outcome = await self.driver._execute(on_driver_thread, self.driver._conn)
        description, rowcount, lastrowid, rows, self.in_transaction = outcome
        return description, rowcount, lastrowid, rows

    async def commit(self) -> None:
        """COMMIT, if SQLite has a transaction to commit."""
        self.begin = None
        if self.in_transaction:
            await self._commit()
            self.in_transaction = False

    async def rollback(self) -> None:
        """ROLLBACK, if SQLite has a transaction to roll back."""
        self.begin = None
        if self.in_transaction:
            await self._rollback()
            self.in_transaction = False


class OneTripCursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, one trip per statement."""

    arraysize = 1

    def __init__(self, trips: SqliteTrips) -> None:
        self._trips = trips
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> Self:
        """Run one statement and keep its rows."""
        await self._keep(lambda cursor: cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Any) -> Self:
        """Run one statement for each set of parameters."""
        await self._keep(lambda cursor: cursor.executemany(sql, parameters))
        return self

    async def _keep(self, statement: Callable[[sqlite3.Cursor], object]) -> None:
        self.description, self.rowcount, self.lastrowid, rows = await self._trips.run(statement)
        self._rows = deque(rows)

    async def fetchone(self) -> Any:
        """The next kept row, or None."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` kept rows."""
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        """Every kept row."""
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        if not self._rows:
            raise StopAsyncIteration
        return self._rows.popleft()

    async def close(self) -> None:
        """Forget the kept rows (the driver's cursor closed within its trip)."""
        self._rows.clear()
