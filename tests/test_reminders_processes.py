"""Reminders from real `btassist serve` processes sharing one PostgreSQL: each reminder reaches
its recipient exactly once however many processes sweep and deliver, and a process killed in the
middle of its sweep loses nothing (its transaction is undone; the next sweep writes it all).

The processes run in local mode with `BTASSIST_CLOCK_START` (honoured in local mode only), so
their clocks start on a Monday at 08:30 and their sweep at start has reminders to send.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from btassist.assessments.sync import sync_plans
from btassist.conversations.refs import save_reference
from btassist.db.engine import Database
from btassist.localchat.client import BOT_ID
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.reminders.sweep import PreviewLine, preview
from btassist.roster.files import PEOPLE_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.connector import FakeConnector
from tests.support.databases import empty_tables, run_sync
from tests.support.processes import Service, started_services

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("BTASSIST_TEST_POSTGRES_URL"),
        reason="BTASSIST_TEST_POSTGRES_URL is not set",
    ),
]

ZONE = ZoneInfo("Europe/Stockholm")
CLOCK_START = "2026-09-14 08:30"  # a Monday: BT starts, IUPs due, the weekly summaries
NOW = datetime(2026, 9, 14, 8, 30, tzinfo=ZONE).astimezone(UTC)
DOCTORS = 12


def _roster() -> tuple[str, str]:
    people = [",".join(PEOPLE_COLUMNS)]
    placements = ["doctor_email,kind,unit,start,end,supervisor_email"]
    for n in range(3):
        people.append(f"hh{n}@h.example.org,Huvud {n},supervisor,halland,,,,,,")
    for n in range(DOCTORS):
        start = f"2026-09-{n + 1:02d}"  # BT started during the last two weeks
        people.append(
            f"doc{n}@h.example.org,Läkare {n},doctor,halland,,,block,{start},2027-08-31,"
            f"hh{n % 3}@h.example.org"
        )
        placements.append(
            f"doc{n}@h.example.org,psykiatri,Psykiatri {n},{start},2026-11-30,"
            f"hh{(n + 1) % 3}@h.example.org"
        )
    return "\n".join(people) + "\n", "\n".join(placements) + "\n"


@pytest.fixture
def pg_url(postgres_session_url: str) -> str:
    run_sync(empty_tables(postgres_session_url))
    return postgres_session_url


async def _seed(url: str, connector: FakeConnector) -> tuple[list[PreviewLine], dict[int, str]]:
    """The roster and plans, everyone reachable through the fake connector; what the sweep at
    the processes' start will send (by preview) and each person's conversation."""
    database = Database(url)
    try:
        for roster in _roster():
            result = await import_roster(database, parse_roster_text(roster))
            assert result.ok, result.problems
        await sync_plans(database, now=datetime(2026, 8, 3, 9, tzinfo=UTC))
        conversations = {}
        async with database.session() as session:
            for person in (await session.exec(select(Person))).all():
                assert person.id is not None
                conversation = f"a:personal-{person.id}"
                reference = {
                    "bot": {"id": BOT_ID, "name": "BT-assistenten"},
                    "user": {"id": f"29:person-{person.id}"},
                    "conversation": {"id": conversation, "conversationType": "personal"},
                    "channelId": "msteams",
                    "serviceUrl": connector.url,
                }
                await save_reference(
                    session,
                    person_id=person.id,
                    channel_id="msteams",
                    conversation_id=conversation,
                    tenant_id="local-tenant",
                    reference=json.dumps(reference),
                )
                conversations[person.id] = conversation
        wanted = await preview(database, now=NOW, zone=ZONE)
    finally:
        await database.dispose()
    assert len(wanted) > 3 * DOCTORS  # bt_start (doctor, huvudhandledare), due soon, summaries
    return wanted, conversations


def _env(url: str) -> dict[str, str]:
    return {
        "BTASSIST_DATABASE_URL": url,
        "BTASSIST_CLOCK_START": CLOCK_START,
        "BTASSIST_OUTBOX_INTERVAL": "0.2",
        "BTASSIST_FAQ_RELOAD_INTERVAL": "0",
        "MicrosoftAppId": "",
    }


async def _rows(url: str) -> list[OutboxMessage]:
    database = Database(url)
    try:
        async with database.session(write_lock=False) as session:
            query = select(OutboxMessage).order_by(col(OutboxMessage.id))
            return list((await session.exec(query)).all())
    finally:
        await database.dispose()


async def _all_sent(url: str, count: int, services: list[Service]) -> list[OutboxMessage]:
    """The outbox once `count` reminders are in it and none waits any more."""
    waiting = (OutboxStatus.pending, OutboxStatus.sending)
    for _ in range(300):
        rows = await _rows(url)
        if len(rows) >= count and all(row.status not in waiting for row in rows):
            return rows
        await asyncio.sleep(0.1)  # real processes: nothing to inject a clock into
    statuses = Counter(row.status for row in rows)
    logs = "\n".join(service.output()[-3000:] for service in services)
    raise AssertionError(f"not all {count} reminders were sent: {statuses}\n{logs}")


def _per_conversation(wanted: list[PreviewLine], conversations: dict[int, str]) -> Counter[str]:
    return Counter(conversations[line.person_id] for line in wanted)


async def test_two_processes_deliver_every_reminder_exactly_once(
    pg_url: str, connector: FakeConnector, tmp_path: Path
) -> None:
    wanted, conversations = await _seed(pg_url, connector)
    with started_services(2, ["serve"], cwd=tmp_path, env=_env(pg_url)) as services:
        rows = await _all_sent(pg_url, len(wanted), services)
        await connector.wait_until(lambda: len(connector.sent) >= len(wanted), timeout=10)
        swept = [service.output() for service in services]
    assert sorted(row.dedupe_key for row in rows) == sorted(_key(line) for line in wanted)
    assert all(row.status is OutboxStatus.sent and row.attempts == 1 for row in rows)
    delivered = Counter(record.conversation_id for record in connector.sent)
    assert delivered == _per_conversation(wanted, conversations)  # each once, none twice
    # Both processes swept at start; one queued everything, the other found it all queued.
    new = sorted(
        int(line.rsplit(", ", 1)[1].split()[0])
        for output in swept
        for line in output.splitlines()
        if "reminder sweep for 2026-09-14" in line
    )
    assert new == [0, len(wanted)], swept


async def test_a_process_killed_mid_sweep_loses_nothing(
    pg_url: str, connector: FakeConnector, tmp_path: Path
) -> None:
    wanted, conversations = await _seed(pg_url, connector)
    # Hold one of the sweep's keys in an open transaction: the first process to sweep gets as
    # far as inserting that row and waits, its rows before it written but not committed; the
    # other process waits for its turn to sweep.
    keys = sorted(_key(line) for line in wanted)
    blocker = Database(pg_url)
    try:
        async with blocker.engine.connect() as holding:
            transaction = await holding.begin()
            await holding.execute(
                text(
                    "INSERT INTO outbox_message (person_id, kind, params, dedupe_key, status, "
                    "attempts, available_at, created_at) "
                    "VALUES (:person, 'bt_start', '{}', :key, 'pending', 0, now(), now())"
                ),
                {"person": wanted[0].person_id, "key": keys[len(keys) // 2]},
            )
            with started_services(2, ["serve"], cwd=tmp_path, env=_env(pg_url)) as services:
                pid, port = await _backend_waiting_to_insert(holding)
                doomed = _owner_of(port, services)
                doomed.process.send_signal(signal.SIGKILL)
                doomed.process.wait(timeout=10)
                await transaction.rollback()
                [survivor] = [service for service in services if service is not doomed]
                rows = await _all_sent(pg_url, len(wanted), [survivor])
                await connector.wait_until(lambda: len(connector.sent) >= len(wanted), timeout=10)
                assert await _gone(holding, pid)
                swept = survivor.output()
    finally:
        await blocker.dispose()
    assert "reminder sweep for" not in doomed.output()  # it died in the middle of its sweep
    # The survivor wrote every reminder itself: none of the killed sweep's rows survived.
    assert f"reminder sweep for 2026-09-14: {len(wanted)} notices offered, {len(wanted)} new" in (
        swept
    )
    assert sorted(row.dedupe_key for row in rows) == keys
    assert all(row.status is OutboxStatus.sent and row.attempts == 1 for row in rows)
    delivered = Counter(record.conversation_id for record in connector.sent)
    assert delivered == _per_conversation(wanted, conversations)


def _key(line: PreviewLine) -> str:
    """The outbox key of a reminder the preview lists."""
    return f"{line.kind.value}:{line.person_id}:{line.subject}:{line.due.isoformat()}"


def _owner_of(port: int, services: list[Service]) -> Service:
    """The process holding the database connection from local TCP port `port` (Linux /proc)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for service in services:
        fds = Path(f"/proc/{service.process.pid}/fd")
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return service
    raise AssertionError(f"no process has the connection from port {port}")


async def _backend_waiting_to_insert(connection: AsyncConnection) -> tuple[int, int]:
    """The PostgreSQL backend (pid, client port) of the sweep that is writing the outbox and
    waits for this connection's transaction to give up the key it holds."""
    query = text(
        "SELECT pid, client_port FROM pg_stat_activity "
        "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    )
    for _ in range(400):
        found = (await connection.execute(query)).first()
        if found is not None:
            return int(found[0]), int(found[1])
        await asyncio.sleep(0.05)  # a real process: nothing to inject a clock into
    raise AssertionError("no sweep got as far as writing the outbox")


async def _gone(connection: AsyncConnection, pid: int) -> bool:
    """Whether PostgreSQL ended the killed process's session (undoing its transaction)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
    for _ in range(200):
        if (await connection.execute(query, {"pid": pid})).scalar_one() == 0:
            return True
        await asyncio.sleep(0.05)
    return False
