"""Broadcasts with real `btassist serve` processes: killed with SIGKILL mid-broadcast and
restarted, nobody is skipped and duplicates never exceed what was in flight; two processes on
one PostgreSQL database together keep the tenant's send rate."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from btassist.bot.rate_limit import SharedBudget
from btassist.broadcast import usecases
from btassist.broadcast.audience import Audience, AudienceRole
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.outbox.models import OutboxMessage, OutboxStatus
from tests.support.broadcasts import CountingConnector, Serve, add_recipients
from tests.support.databases import empty_tables
from tests.support.processes import free_port

REPO = Path(__file__).resolve().parents[1]
KILLS = 3
EVERYONE = 2000


@pytest.fixture
async def connector() -> AsyncIterator[CountingConnector]:  # type: ignore[override]
    counting = CountingConnector()
    await counting.start()
    yield counting
    await counting.stop()


async def queue_broadcast(database: Database) -> int:
    """An announcement to every BT doctor in Halland, queued as the CLI does."""
    author = usecases.operator("cli:test")
    draft = await usecases.compose(database, author=author, text="Ny omgång", now=utcnow())
    shown = await usecases.preview(
        database,
        author=author,
        broadcast_id=draft.broadcast_id,
        audience=Audience(regions=("halland",), role=AudienceRole.doctors),
        ack=False,
        send_at=None,
        now=utcnow(),
    )
    assert isinstance(shown, usecases.Preview)
    queued = await usecases.send(
        database, author=author, broadcast_id=draft.broadcast_id, now=utcnow()
    )
    assert isinstance(queued, usecases.QueuedUp)
    return queued.count


async def in_flight(database: Database) -> int:
    """Rows a dead process still holds: claimed, and sent or not, but not recorded."""
    async with database.session(write_lock=False) as session:
        query = select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.sending)
        return int((await session.exec(query)).one())


async def until(predicate: object, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {seconds} s")
        await asyncio.sleep(0.02)


async def test_sigkill_three_times_mid_broadcast_nobody_skipped_few_duplicates(
    sqlite_url: str, connector: CountingConnector, tmp_path: Path
) -> None:
    database = Database(sqlite_url)
    try:
        await add_recipients(database, count=EVERYONE, service_url=connector.url)
        assert await queue_broadcast(database) == EVERYONE
        env = {
            "BTASSIST_DATABASE_URL": sqlite_url,
            "BTASSIST_SEND_RATE": "400",
            "BTASSIST_OUTBOX_INTERVAL": "0.2",
            "BTASSIST_OUTBOX_LEASE": "1.5",
            "MicrosoftAppId": "",
        }
        serve = Serve(cwd=tmp_path, env=env, port=free_port(), log=tmp_path / "serve.log")
        held_at_kills = 0
        try:
            for kill in range(1, KILLS + 1):
                await serve.start()
                target = kill * EVERYONE // (KILLS + 2)
                await until(
                    lambda t=target: len(connector.accepted) >= t, seconds=30, what="sending"
                )
                serve.kill()
                held_at_kills += await in_flight(database)
            await serve.start()
            await until(
                lambda: len(connector.by_conversation) == EVERYONE, seconds=40, what="everyone"
            )
        finally:
            serve.stop()
        assert len(connector.by_conversation) == EVERYONE  # nobody skipped
        assert connector.duplicates <= held_at_kills, (connector.duplicates, held_at_kills)
        report = await usecases.report(
            database, author=usecases.operator("cli:test"), broadcast_id=1
        )
        assert isinstance(report, usecases.Report)
        assert report.counts.delivered == EVERYONE
    finally:
        await database.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("BTASSIST_TEST_POSTGRES_URL"), reason="BTASSIST_TEST_POSTGRES_URL is not set"
)
async def test_two_processes_on_one_database_keep_the_tenants_rate_together(
    postgres_session_url: str, connector: CountingConnector, tmp_path: Path
) -> None:
    run_sync_url = postgres_session_url
    await empty_tables(run_sync_url)
    database = Database(run_sync_url)
    rate, people = 50, 300
    try:
        await add_recipients(database, count=people, service_url=connector.url)
        env = {
            "BTASSIST_DATABASE_URL": run_sync_url,
            "BTASSIST_SEND_RATE": str(rate),
            "BTASSIST_OUTBOX_INTERVAL": "0.2",
            "MicrosoftAppId": "",
        }
        servers = [
            Serve(cwd=tmp_path, env=env, port=free_port(), log=tmp_path / f"serve-{n}.log")
            for n in range(2)
        ]
        try:
            await asyncio.gather(*(server.start() for server in servers))
            assert await queue_broadcast(database) == people
            await until(
                lambda: len(connector.by_conversation) == people, seconds=40, what="everyone"
            )
        finally:
            for server in servers:
                server.stop()
        async with database.session(write_lock=False) as session:
            workers = set((await session.exec(select(OutboxMessage.claimed_by))).all())
        assert len(workers) == 2  # both processes sent
        most = SharedBudget(rate, lambda *_: asyncio.sleep(0, 0)).most_in_a_second  # type: ignore[arg-type]
        assert most <= rate * 1.1
        assert connector.peak_per_second() <= most, connector.peak_per_second()
        elapsed = connector.accepted[-1] - connector.accepted[0]
        assert people / elapsed >= rate * 0.8  # together they use the rate, not half of it
    finally:
        await database.dispose()
