"""Shared fixtures: a migrated database on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from btassist.db.engine import Database
from btassist.localchat.client import ChatClient
from tests.support.bot import RunningBot, local_settings, running_bot
from tests.support.cards import SENT_CARDS
from tests.support.connector import FakeConnector
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    empty_tables,
    fresh_sqlite,
    migrated_sqlite_template,
    run_sync,
)
from tests.support.logscan import TYPED, RunLog, leaks, roster_words

POSTGRES_BASE_URL = os.environ.get("BTASSIST_TEST_POSTGRES_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_BASE_URL, reason="BTASSIST_TEST_POSTGRES_URL is not set"
            ),
        ],
    ),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated SQLite file every test copies."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_session_url() -> Iterator[str]:
    """One uniquely named, migrated PostgreSQL database for the whole test session."""
    url = run_sync(create_postgres_database(POSTGRES_BASE_URL))
    yield url
    run_sync(drop_postgres_database(POSTGRES_BASE_URL, url))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: a fresh SQLite file or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        return fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("postgres_session_url")
    run_sync(empty_tables(url))
    return url


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite file, for tests whose subject does not depend on the database
    (input checks, auth, retries, rendering): they run once, not once per backend. A module
    opts in with `db_url = sqlite_only`."""
    return fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A `Database` on `db_url`, disposed after the test."""
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session", autouse=True)
def cards_teams_will_render() -> Iterator[None]:
    """After the last test: every card the bot sent passes Microsoft's checks for Teams.

    One Node run over all distinct cards (tests/support/cards.py); a failure lists each card
    with the test that first sent it and what Teams would not render.
    """
    yield
    if SENT_CARDS:
        report = SENT_CARDS.report()
        if report:
            pytest.fail(f"cards Teams would not render as sent:\n\n{report}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def logs_without_personal_data() -> Iterator[None]:
    """After the last test: no log record of the whole run holds a roster name or e-mail
    address, or a text a test typed to the bot (tests/support/logscan.py).

    Records are kept from INFO up, the level `btassist serve` logs at.
    """
    root = logging.getLogger()
    run_log, level = RunLog(), root.level
    root.addHandler(run_log)
    root.setLevel(min(level, logging.INFO) if level else logging.INFO)
    yield
    root.removeHandler(run_log)
    root.setLevel(level)
    found = leaks(run_log.records, roster_words() | TYPED)
    if found:
        shown = "\n".join(found[:20])
        pytest.fail(
            f"{len(found)} log records hold personal data or message text:\n\n{shown}",
            pytrace=False,
        )


@pytest.fixture
def demo_dir() -> Path:
    """The shipped example roster."""
    return Path(__file__).resolve().parents[1] / "examples" / "roster"


def pytest_report_header() -> str:
    """Say up front which databases this run covers."""
    if POSTGRES_BASE_URL:
        return f"databases: SQLite and PostgreSQL (a fresh database next to {POSTGRES_BASE_URL})"
    return "databases: SQLite only (set BTASSIST_TEST_POSTGRES_URL to run the PostgreSQL variants)"


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """A local Bot Connector server on loopback that records what the bot sends."""
    async with FakeConnector() as fake:
        yield fake


@pytest.fixture
async def bot(db_url: str, connector: FakeConnector) -> AsyncIterator[RunningBot]:
    """The real app in local mode with the demo roster, on loopback."""
    async with running_bot(local_settings(db_url), connector) as running:
        yield running


@pytest.fixture
def chat(bot: RunningBot) -> ChatClient:
    """`say(user, text)` / `click(user, reply, title)` against the running bot."""
    return bot.chat
