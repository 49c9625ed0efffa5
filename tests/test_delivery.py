"""The outbox worker: notices go out once, whichever worker takes them, and never twice while
one is still being sent — on SQLite and PostgreSQL, against the fake Bot Connector server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from btassist.bot.adapter import BTAdapter
from btassist.bot.delivery import RETRY_DELAY, OutboxWorker
from btassist.bot.proactive import ProactiveSender, RetryPolicy
from btassist.conversations.refs import save_reference
from btassist.courses.notices import SessionNotice
from btassist.db.engine import Database
from btassist.demo import demo_roster
from btassist.dialogs.turn import FlowContext
from btassist.localchat.client import BOT_ID
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import Notice, NoticeKind
from btassist.outbox.queue import LEASE, enqueue
from btassist.outbox.unit_of_work import unit_of_work
from btassist.roster.importer import import_roster
from btassist.roster.models import Person, PersonRole, Role
from tests.support.bot import local_settings
from tests.support.connector import FakeConnector
from tests.support.courses import add_course, add_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# The workers' clock runs ahead of the wall clock, so what is queued now (wall clock) is due.
START = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


class Clock:
    """The workers' wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Gate:
    """A sleep that waits until the test opens the gate: a retry that takes as long as needed."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.waiting = asyncio.Event()

    async def sleep(self, _seconds: float) -> None:
        self.waiting.set()
        await self.opened.wait()


@dataclass
class Outbox:
    database: Database
    connector: FakeConnector
    clock: Clock
    doctors: list[int]
    session_id: int
    senders: list[ProactiveSender] = field(default_factory=list)

    def worker(self, *, concurrency: int = 4, sleep: Gate | None = None) -> OutboxWorker:
        """A worker of its own (as in another process), not started: the test drives it."""
        settings = local_settings(self.database.url)
        context = FlowContext(database=self.database, zone=STOCKHOLM, clock=self.clock)
        sender = ProactiveSender(
            BTAdapter(settings),
            app_id="",
            database=self.database,
            send_rate=1000,
            policy=RetryPolicy(max_attempts=3),
            jitter=lambda: 0.0,
            **({"sleep": sleep.sleep} if sleep else {}),
        )
        self.senders.append(sender)
        return OutboxWorker(context=context, sender=sender, concurrency=concurrency, interval=0)

    async def queue(self, count: int) -> None:
        """One waitlist notice per doctor and round, `count` in all."""
        async with unit_of_work(self.database) as uow:
            for n in range(count):
                doctor = self.doctors[n % len(self.doctors)]
                await uow.notify(
                    Notice(NoticeKind.waitlist_promoted, SessionNotice(session_id=self.session_id)),
                    to=doctor,
                    key=f"test-{n}",
                    at=self.clock.now,  # due on the workers' clock, whatever the real one says
                )

    async def rows(self) -> list[OutboxMessage]:
        async with self.database.session(write_lock=False) as session:
            return list((await session.exec(select(OutboxMessage))).all())

    def delivered(self) -> int:
        """Notices that reached a person (nothing else is sent in these tests)."""
        return len(self.connector.sent)


@pytest.fixture
async def outbox(db: Database) -> AsyncIterator[Outbox]:
    """The demo roster, everyone reachable through the fake connector, and one course session."""
    for roster in demo_roster():
        assert (await import_roster(db, roster)).ok
    course = await add_course(db, "test-fm", "Försäkringsmedicin (test)")
    session = await add_session(db, course, key="test-fm-1")
    assert session.id is not None
    async with FakeConnector() as connector:
        async with db.session() as dbs:
            doctors = list(
                (
                    await dbs.exec(
                        select(Person.id).join(PersonRole).where(PersonRole.role == Role.doctor)
                    )
                ).all()
            )
            for doctor in doctors:
                assert doctor is not None
                user = f"29:doctor-{doctor}"
                connector.add_member(
                    None,
                    id=user,
                    name=f"Doctor {doctor}",
                    aad_object_id=f"oid-{doctor}",
                    email=f"doctor{doctor}@example.org",
                )
                reference = {
                    "bot": {"id": BOT_ID, "name": "BT-assistenten"},
                    "user": {"id": user},
                    "conversation": {"id": f"a:personal-{doctor}", "conversationType": "personal"},
                    "channelId": "msteams",
                    "serviceUrl": connector.url,
                }
                await save_reference(
                    dbs,
                    person_id=doctor,
                    channel_id="msteams",
                    conversation_id=f"a:personal-{doctor}",
                    tenant_id="local-tenant",
                    reference=json.dumps(reference),
                )
        outbox = Outbox(db, connector, Clock(), [d for d in doctors if d is not None], session.id)
        yield outbox
        for sender in outbox.senders:
            await sender.close()


async def test_two_workers_share_the_queue_and_send_each_notice_once(outbox: Outbox) -> None:
    await outbox.queue(30)
    first, second = outbox.worker(concurrency=3), outbox.worker(concurrency=3)
    handled = await asyncio.gather(first.deliver_due(), second.deliver_due())
    assert sum(handled) == 30
    assert all(handled), handled  # both really took rows: they competed for the same queue
    rows = await outbox.rows()
    assert {row.status for row in rows} == {OutboxStatus.sent}
    assert {row.claimed_by for row in rows} == {first.name, second.name}
    assert all(row.attempts == 1 for row in rows)
    assert outbox.delivered() == 30


async def test_a_notice_being_retried_keeps_its_claim(outbox: Outbox) -> None:
    """A send stuck in its retries outlives the lease; its worker renews it, so a second worker
    (another process) does not take the notice and send it again."""
    await outbox.queue(1)
    gate = Gate()
    outbox.connector.fail_next(503, path_contains="/activities")
    slow, rival = outbox.worker(concurrency=1, sleep=gate), outbox.worker()
    sending = asyncio.create_task(slow.deliver_due())
    await gate.waiting.wait()  # the first attempt failed; the sender waits to retry
    for _ in range(3):
        outbox.clock.now += LEASE * 0.8
        assert await slow.renew_leases() == 1
        assert await rival.deliver_due() == 0
    gate.opened.set()
    assert await sending == 1
    assert outbox.delivered() == 1
    [row] = await outbox.rows()
    assert (row.status, row.claimed_by) == (OutboxStatus.sent, slow.name)


async def test_a_dead_workers_claim_expires_and_another_sends(outbox: Outbox) -> None:
    await outbox.queue(1)
    dead = outbox.worker()
    async with outbox.database.session() as session:  # claimed, then the process died
        from btassist.outbox.queue import claim

        assert len(await claim(session, worker=dead.name, limit=10, now=outbox.clock.now)) == 1
    rival = outbox.worker()
    assert await rival.deliver_due() == 0  # the lease still holds
    outbox.clock.now += LEASE + timedelta(seconds=1)
    assert await rival.deliver_due() == 1
    assert outbox.delivered() == 1


async def test_stopping_gives_back_what_could_not_be_finished(outbox: Outbox) -> None:
    await outbox.queue(1)
    gate = Gate()
    outbox.connector.fail_next(503, path_contains="/activities")
    stopping = outbox.worker(concurrency=1, sleep=gate)
    stopping.start()
    stopping.wake()
    await gate.waiting.wait()
    await stopping.stop(patience=0.05)
    [row] = await outbox.rows()
    assert (row.status, row.claimed_by, row.attempts) == (OutboxStatus.pending, None, 0)
    assert await outbox.worker().deliver_due() == 1
    assert outbox.delivered() == 1


async def test_failed_sends_are_tried_later_and_unreadable_notices_are_dropped(
    outbox: Outbox,
) -> None:
    await outbox.queue(1)
    async with outbox.database.session() as session:
        await enqueue(
            session,
            person_id=outbox.doctors[0],
            kind="no_such_kind",
            params={},
            dedupe_key="old-release",
            available_at=outbox.clock.now,
        )
    outbox.connector.fail_next(500, count=3, path_contains="/activities")
    worker = outbox.worker()
    assert await worker.deliver_due() == 2
    async with outbox.database.session(write_lock=False) as session:
        rows = {
            row.kind: row
            for row in (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))
        }
    retried, unreadable = rows["waitlist_promoted"], rows["no_such_kind"]
    assert retried.status is OutboxStatus.pending
    assert retried.available_at == START + RETRY_DELAY * 1
    assert unreadable.status is OutboxStatus.failed
    assert unreadable.last_error == "unreadable notice no_such_kind"
    assert await worker.deliver_due() == 0  # not due yet
    outbox.clock.now += RETRY_DELAY
    assert await worker.deliver_due() == 1
    assert outbox.delivered() == 1
