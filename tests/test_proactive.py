"""Proactive sends through the real HTTP path: pacing, retries, and giving up on refused chats.

The bot runs on loopback against the fake Bot Connector server; failures are injected there, so
the SDK's real HTTP client, error types and headers are exercised. Waits are recorded on a fake
clock instead of slept.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, TypeVar

import pytest

from btassist.app import DATABASE, RUNTIME, SETTINGS
from btassist.bot.proactive import (
    ProactiveSender,
    RetryPolicy,
    SendOutcome,
    SendStatus,
    parse_retry_after,
)
from btassist.bot.rate_limit import TokenBuckets
from btassist.conversations.models import ConversationRef
from btassist.conversations.refs import active_reference
from btassist.dialogs.turn import Reply
from btassist.localchat.client import ChatUser
from btassist.roster.identity import find_person
from tests.support.bot import AMIR, ELENA, RunningBot
from tests.support.connector import FakeConnector


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """What these tests check does not depend on the database: they run on SQLite only."""
    return sqlite_url


T = TypeVar("T")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REMINDER = Reply(text="Påminnelse: kursen i försäkringsmedicin börjar i morgon kl 09.00.")


# --- time you can read instead of wait ----------------------------------------------------------


class RecordedTime:
    """A monotonic clock that only moves when someone sleeps; every sleep is recorded.

    Right for one caller at a time, such as a sender's retry loop.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class VirtualTime:
    """A clock for many concurrent sleepers: time jumps to the next wake-up once all are idle."""

    # Enough loop turns for a woken task to pass its lock and register its next sleep.
    SETTLE_TURNS = 20

    def __init__(self) -> None:
        self.now = 0.0
        self.sleep_count = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleep_count += 1
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), wake))
        await wake

    async def run(self, coroutines: Iterable[Awaitable[T]]) -> list[T]:
        """Run the coroutines concurrently to completion, in virtual time."""
        tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
        while True:
            for _ in range(self.SETTLE_TURNS):
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            if not self._sleepers:
                raise RuntimeError("tasks are blocked but nobody sleeps")
            when, _, wake = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            wake.set_result(None)


def draws(*values: float) -> Callable[[], float]:
    """A jitter source returning these values in turn."""
    source: Iterator[float] = iter(values)
    return lambda: next(source)


# --- helpers ------------------------------------------------------------------------------------


async def talks_to_bot(bot: RunningBot, user: ChatUser) -> int:
    """Let the user say something, which stores their reference; return their person id."""
    await bot.chat.say(user, "hjälp")
    return await person_id(bot, user)


async def person_id(bot: RunningBot, user: ChatUser) -> int:
    async with bot.app[DATABASE].session() as session:
        found = await find_person(session, aad_object_id=user.aad_object_id)
    assert found is not None
    assert found.person.id is not None
    return found.person.id


async def stored_reference(bot: RunningBot, reference_id: int | None) -> ConversationRef:
    async with bot.app[DATABASE].session() as session:
        ref = await session.get(ConversationRef, reference_id)
    assert ref is not None
    return ref


def sender_for(
    bot: RunningBot,
    time: RecordedTime,
    *,
    jitter: Callable[[], float] = lambda: 0.5,
    **policy: Any,
) -> ProactiveSender:
    """A sender on the running bot's adapter whose waits are recorded, not slept."""
    settings = bot.app[SETTINGS]
    return ProactiveSender(
        bot.app[RUNTIME].adapter,
        app_id=settings.APP_ID,
        database=bot.app[DATABASE],
        send_rate=settings.send_rate,
        policy=RetryPolicy(**policy),
        client=bot.app[RUNTIME].sender.client,  # the app's connections, closed with it
        clock=time.monotonic,
        sleep=time.sleep,
        jitter=jitter,
        now=lambda: NOW,
    )


def statuses(connector: FakeConnector, after: int = 0) -> list[int]:
    """Statuses of the activity posts the connector answered, after the first `after` requests."""
    return [a.status for a in connector.attempts[after:] if "/activities" in a.path]


# --- delivery -----------------------------------------------------------------------------------


async def test_reminder_reaches_a_person_who_talked_to_the_bot(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    outcome = await bot.app[RUNTIME].sender.send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert outcome.delivered
    assert outcome.attempts == 1
    assert outcome.person_id == amir
    assert outcome.error is None
    delivered = connector.sent[-1]
    assert delivered.conversation_id == AMIR.conversation_id
    assert delivered.text == REMINDER.text
    assert delivered.activity["recipient"]["id"] == AMIR.id
    assert outcome.activity_ids == (delivered.activity_id,)


async def test_several_replies_arrive_in_order_and_are_paced(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    time = RecordedTime()
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Ny"}]}
    outcome = await sender_for(bot, time).send_to_person(
        amir, [REMINDER, Reply(text="Kurskort", card=card)]
    )
    assert outcome.status is SendStatus.DELIVERED
    assert outcome.attempts == 2
    first, second = connector.sent[-2:]
    assert outcome.activity_ids == (first.activity_id, second.activity_id)
    assert first.text == REMINDER.text
    assert second.activity["attachments"][0]["content"] == card
    assert time.sleeps == [pytest.approx(1 / 40)]  # the second request waited for a token


async def test_person_who_never_talked_to_the_bot_has_no_reference(
    bot: RunningBot, connector: FakeConnector
) -> None:
    requests_before = len(connector.attempts)
    outcome = await bot.app[RUNTIME].sender.send_to_person(await person_id(bot, ELENA), REMINDER)
    assert outcome.status is SendStatus.NO_REFERENCE
    assert outcome.reference_id is None
    assert outcome.attempts == 0
    assert len(connector.attempts) == requests_before


# --- retries ------------------------------------------------------------------------------------


async def test_429_waits_as_long_as_retry_after_says(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    before = len(connector.attempts)
    shown = len(connector.sent_to(AMIR.conversation_id))
    connector.fail_next(429, retry_after=7, path_contains="/activities")
    time = RecordedTime()
    outcome = await sender_for(bot, time).send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert outcome.attempts == 2
    assert time.sleeps == [7.0]
    assert statuses(connector, before) == [429, 201]
    # Exactly the reminder, once: no apology from the adapter's on_turn_error either.
    assert [a["text"] for a in connector.sent_to(AMIR.conversation_id)[shown:]] == [REMINDER.text]


async def test_a_long_retry_after_is_capped(bot: RunningBot, connector: FakeConnector) -> None:
    amir = await talks_to_bot(bot, AMIR)
    connector.fail_next(429, retry_after=3600, path_contains="/activities")
    time = RecordedTime()
    outcome = await sender_for(bot, time, max_retry_after=60.0).send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert time.sleeps == [60.0]


async def test_429_without_retry_after_backs_off(bot: RunningBot, connector: FakeConnector) -> None:
    amir = await talks_to_bot(bot, AMIR)
    connector.fail_next(429, path_contains="/activities")
    time = RecordedTime()
    outcome = await sender_for(bot, time, jitter=draws(0.5)).send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert time.sleeps == [0.5]


async def test_server_errors_are_retried_with_jittered_backoff(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    before = len(connector.attempts)
    connector.fail_next(500, count=2, path_contains="/activities")
    time = RecordedTime()
    sender = sender_for(bot, time, jitter=draws(0.25, 0.75), backoff_base=1.0)
    outcome = await sender.send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert outcome.attempts == 3
    assert statuses(connector, before) == [500, 500, 201]
    # Full jitter: retry n waits a fraction of base * 2**(n-1).
    assert time.sleeps == [0.25, 1.5]
    assert all(0 <= wait < 1.0 * 2**n for n, wait in enumerate(time.sleeps))


async def test_persistent_503_fails_after_max_attempts(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    before = len(connector.attempts)
    shown = len(connector.sent_to(AMIR.conversation_id))
    connector.fail_next(503, count=5, path_contains="/activities")
    time = RecordedTime()
    outcome = await sender_for(bot, time, max_attempts=5, backoff_cap=3.0).send_to_person(
        amir, REMINDER
    )
    assert outcome.status is SendStatus.FAILED
    assert outcome.attempts == 5
    assert outcome.http_status == 503
    assert outcome.error == "HTTP 503 ServiceUnavailable"
    assert outcome.activity_ids == ()
    assert statuses(connector, before) == [503] * 5
    assert connector.sent_to(AMIR.conversation_id)[shown:] == []
    assert connector.pending_faults == 0
    assert time.sleeps == [0.5, 1.0, 1.5, 1.5]  # half of 1, 2, then the 3 s cap
    assert (await stored_reference(bot, outcome.reference_id)).active


async def test_a_timed_out_send_is_retried_and_may_arrive_twice(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    before = len(connector.sent_to(AMIR.conversation_id))
    # The first answer comes after the sender gave up; the retry has a whole second, so a
    # busy machine cannot make it time out too.
    connector.delay_next(1.5, path_contains="/activities")
    time = RecordedTime()
    outcome = await sender_for(bot, time, attempt_timeout=1.0).send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.DELIVERED
    assert outcome.attempts == 2
    assert time.sleeps == [0.5]  # the backoff after the timeout
    # The slow request was not cancelled on the server: at least once, not exactly once.
    arrived = await connector.wait_for(AMIR.conversation_id, count=before + 2)
    assert [a["text"] for a in arrived[before:]] == [REMINDER.text, REMINDER.text]


async def test_unreachable_connector_is_retried_then_fails(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    async with bot.app[DATABASE].session() as session:
        ref = await active_reference(session, amir)
    assert ref is not None
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    reference = json.loads(ref.reference)
    reference["serviceUrl"] = f"http://127.0.0.1:{closed_port}/"
    elsewhere = ref.model_copy(update={"reference": json.dumps(reference)})
    time = RecordedTime()
    outcome = await sender_for(bot, time, max_attempts=2).send_to_reference(elsewhere, REMINDER)
    assert outcome.status is SendStatus.FAILED
    assert outcome.reference_id == ref.id
    assert outcome.attempts == 2
    assert outcome.http_status is None
    assert outcome.error == "network error: ConnectionError"
    assert len(time.sleeps) == 1


# --- giving up ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404])
async def test_refused_conversation_is_deactivated(
    bot: RunningBot, connector: FakeConnector, status: int
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    before = len(connector.attempts)
    connector.fail_next(status, path_contains="/activities")
    time = RecordedTime()
    sender = sender_for(bot, time)
    outcome = await sender.send_to_person(amir, REMINDER)
    assert outcome.status is SendStatus.FAILED_PERMANENT
    assert outcome.attempts == 1
    assert outcome.http_status == status
    assert time.sleeps == []
    assert not (await stored_reference(bot, outcome.reference_id)).active

    later = await sender.send_to_person(amir, REMINDER)
    assert later.status is SendStatus.NO_REFERENCE
    assert statuses(connector, before) == [status]


async def test_talking_to_the_bot_again_makes_a_person_reachable_again(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    connector.fail_next(403, path_contains="/activities")
    sender = sender_for(bot, RecordedTime())
    assert (await sender.send_to_person(amir, REMINDER)).status is SendStatus.FAILED_PERMANENT
    await bot.chat.say(AMIR, "hjälp")
    assert (await sender.send_to_person(amir, REMINDER)).status is SendStatus.DELIVERED


async def test_other_client_errors_fail_without_retry(
    bot: RunningBot, connector: FakeConnector
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    connector.fail_next(400, path_contains="/activities", code="BadArgument")
    time = RecordedTime()
    outcome = await sender_for(bot, time).send_to_person(amir, REMINDER)
    assert outcome == SendOutcome(
        person_id=amir,
        reference_id=outcome.reference_id,
        status=SendStatus.FAILED,
        attempts=1,
        http_status=400,
        error="HTTP 400 BadArgument",
    )
    assert time.sleeps == []
    assert (await stored_reference(bot, outcome.reference_id)).active


async def test_logs_carry_ids_and_statuses_but_no_names_or_text(
    bot: RunningBot, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    amir = await talks_to_bot(bot, AMIR)
    connector.fail_next(429, retry_after=1, path_contains="/activities")
    caplog.set_level(logging.DEBUG, logger="btassist.bot.proactive")
    await sender_for(bot, RecordedTime()).send_to_person(amir, REMINDER)
    logged = [r.getMessage() for r in caplog.records if r.name == "btassist.bot.proactive"]
    assert any("retry" in line and "http_status=429" in line for line in logged)
    assert any(f"person={amir}" in line and "status=delivered" in line for line in logged)
    assert not any(
        secret in line
        for line in logged
        for secret in (REMINDER.text, AMIR.name, AMIR.email, "Amir")
    )


# --- Retry-After --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


# --- the token bucket ---------------------------------------------------------------------------


async def test_one_tenant_is_paced_at_the_rate_in_arrival_order() -> None:
    time = VirtualTime()
    buckets = TokenBuckets(40, clock=time.monotonic, sleep=time.sleep)
    passed: list[tuple[int, float]] = []

    async def send(number: int) -> None:
        await buckets.acquire("tenant-a")
        passed.append((number, time.now))

    await time.run(send(n) for n in range(100))
    assert [number for number, _ in passed] == list(range(100))  # fair: first come, first served
    times = [at for _, at in passed]
    assert times == pytest.approx([n / 40 for n in range(100)])
    assert times[-1] >= 99 / 40 - 1e-9  # the first goes at once, the 100th 99 intervals later
    # Never more than 40 in any second (the 1e-6 forgives float noise at the window's edge).
    assert max(sum(1 for t in times if start <= t < start + 1 - 1e-6) for start in times) == 40
    assert time.sleep_count == 99  # waiters queue, so one wake-up per token, not a stampede


async def test_tenants_do_not_throttle_each_other() -> None:
    time = VirtualTime()
    buckets = TokenBuckets(40, clock=time.monotonic, sleep=time.sleep)
    passed: dict[str, list[float]] = {"tenant-a": [], "tenant-b": []}

    async def send(tenant: str) -> None:
        await buckets.acquire(tenant)
        passed[tenant].append(time.now)

    await time.run(send(tenant) for _ in range(100) for tenant in passed)
    for tenant_times in passed.values():
        assert tenant_times == pytest.approx([n / 40 for n in range(100)])
    assert time.now == pytest.approx(99 / 40)  # not 199 / 40: neither waited for the other


async def test_burst_lets_a_quiet_tenant_catch_up_then_paces() -> None:
    time = VirtualTime()
    buckets = TokenBuckets(10, burst=3, clock=time.monotonic, sleep=time.sleep)
    passed: list[float] = []

    async def send() -> None:
        await buckets.acquire("tenant-a")
        passed.append(time.now)

    await time.run(send() for _ in range(5))
    assert passed == pytest.approx([0, 0, 0, 0.1, 0.2])
    time.now += 60  # a long quiet spell refills the bucket, but only up to the burst
    passed.clear()
    await time.run(send() for _ in range(4))
    assert passed == pytest.approx([60.2, 60.2, 60.2, 60.3])


def test_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        TokenBuckets(0)
    with pytest.raises(ValueError, match="burst"):
        TokenBuckets(40, burst=0.5)
