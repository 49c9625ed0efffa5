"""Every Prometheus metric btassist exports, and the small calls that record them.

One `Metrics` per web app, on a registry of its own: tests and benchmarks run several apps in
one process, and each app's `/metrics` shows only its own numbers. The app keeps it under
`METRICS`; whoever records gets it from there (or through a constructor), never from a global.

Labels carry kinds and outcomes only, never ids, names or message text: the exposition is
readable by anyone who can reach `/metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from sqlalchemy import func
from sqlmodel import col, select

from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.outbox.models import OutboxMessage, OutboxStatus

# A turn is a database round trip or a few; a feed is served from memory or built once.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAITING = (OutboxStatus.pending, OutboxStatus.sending)


class Outcome(StrEnum):
    """How a turn or a reminder sweep ended: done, or an exception escaped it."""

    ok = "ok"
    error = "error"


@dataclass(frozen=True)
class OutboxBacklog:
    """Messages waiting in the outbox and how long the oldest has waited."""

    pending: int
    sending: int
    oldest_age_seconds: float


class Metrics:
    """The metrics of one app: turns, proactive sends, 429s, outbox, reminders, feeds."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        r = self.registry
        self.build_info = Gauge("btassist_build_info", "Running version", ["version"], registry=r)
        self.build_info.labels(version=_version()).set(1)
        self.turns = Counter(
            "btassist_turns",
            "Bot turns handled, by activity type and outcome.",
            ["activity", "outcome"],
            registry=r,
        )
        self.turn_seconds = Histogram(
            "btassist_turn_duration_seconds",
            "Time from receiving an activity to answering it.",
            ["activity"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "btassist_proactive_sends",
            "Proactive sends (reminders, notices, broadcasts) by outcome.",
            ["outcome"],
            registry=r,
        )
        self.throttled = Counter(
            "btassist_connector_throttled",
            "429 Too Many Requests answers from the Bot Connector.",
            registry=r,
        )
        self.outbox_messages = Gauge(
            "btassist_outbox_messages",
            "Outbox messages due to go out, by status (read from the database at scrape time).",
            ["status"],
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "btassist_outbox_oldest_age_seconds",
            "How long the longest-waiting due outbox message has waited; 0 when none waits.",
            registry=r,
        )
        self.reminder_sweeps = Counter(
            "btassist_reminder_sweeps",
            "Reminder sweeps by outcome.",
            ["outcome"],
            registry=r,
        )
        self.reminders_queued = Counter(
            "btassist_reminders_queued", "Reminders the sweeps queued for sending.", registry=r
        )
        self.reminder_sweep_last_success = Gauge(
            "btassist_reminder_sweep_last_success_timestamp_seconds",
            "Unix time of the last reminder sweep that finished without an error.",
            registry=r,
        )
        self.feed_requests = Counter(
            "btassist_feed_requests",
            "Calendar feed requests by feed kind and HTTP status.",
            ["feed", "status"],
            registry=r,
        )
        self.feed_seconds = Histogram(
            "btassist_feed_request_duration_seconds",
            "Time to answer a calendar feed request.",
            ["feed"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    # Turns (bot/) ------------------------------------------------------------------------------

    def turn_handled(self, *, activity: str, outcome: Outcome, seconds: float) -> None:
        """Record one turn: its activity type ("message", "invoke" …), outcome and duration."""
        self.turns.labels(activity=activity, outcome=outcome).inc()
        self.turn_seconds.labels(activity=activity).observe(seconds)

    @contextmanager
    def timed_turn(self, activity: str) -> Iterator[None]:
        """Time the block as a turn; an exception escaping it counts as an error turn."""
        started = time.perf_counter()
        outcome = Outcome.error
        try:
            yield
            outcome = Outcome.ok
        finally:
            self.turn_handled(
                activity=activity, outcome=outcome, seconds=time.perf_counter() - started
            )

    # Proactive sends (bot/proactive.py) ---------------------------------------------------------

    def send_finished(self, *, outcome: str) -> None:
        """Record how one proactive send ended (a `SendStatus` value such as "delivered")."""
        self.sends.labels(outcome=outcome).inc()

    def connector_throttled(self) -> None:
        """Record one 429 from the Bot Connector (each retried attempt counts)."""
        self.throttled.inc()

    # Reminders ----------------------------------------------------------------------------------

    def reminder_sweep_finished(self, *, outcome: Outcome, queued: int, at: datetime) -> None:
        """Record one reminder sweep, the reminders it queued and when it finished."""
        self.reminder_sweeps.labels(outcome=outcome).inc()
        self.reminders_queued.inc(queued)
        if outcome is Outcome.ok:
            self.reminder_sweep_last_success.set(at.timestamp())

    # Outbox (read at scrape time) ---------------------------------------------------------------

    def show_outbox(self, backlog: OutboxBacklog) -> None:
        """Set the outbox gauges from a fresh reading."""
        self.outbox_messages.labels(status=OutboxStatus.pending.value).set(backlog.pending)
        self.outbox_messages.labels(status=OutboxStatus.sending.value).set(backlog.sending)
        self.outbox_oldest_age.set(backlog.oldest_age_seconds)

    # Feeds (calendar/http.py) -------------------------------------------------------------------

    def feed_served(self, *, feed: str, status: int, seconds: float) -> None:
        """Record one calendar feed request."""
        self.feed_requests.labels(feed=feed, status=str(status)).inc()
        self.feed_seconds.labels(feed=feed).observe(seconds)

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format."""
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def counted_feed(feed: str, handler: Handler) -> Handler:
    """`handler` with each request counted and timed as a `feed` request (if the app measures)."""

    async def counted(request: web.Request) -> web.StreamResponse:
        metrics = request.app.get(METRICS)
        if metrics is None:
            return await handler(request)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            metrics.feed_served(feed=feed, status=status, seconds=time.perf_counter() - started)

    return counted


async def outbox_backlog(database: Database, *, now: datetime | None = None) -> OutboxBacklog:
    """Count the outbox messages due to go out and age the longest waiting, in one query.

    Messages scheduled for later are not backlog yet; a message waits from its `available_at`.
    """
    now = now or utcnow()
    query = (
        select(OutboxMessage.status, func.count(), func.min(OutboxMessage.available_at))
        .where(col(OutboxMessage.status).in_(WAITING), col(OutboxMessage.available_at) <= now)
        .group_by(OutboxMessage.status)
    )
    async with database.session(write_lock=False) as session:
        rows = (await session.exec(query)).all()
    counts = {status: count for status, count, _ in rows}
    oldest = min((due for _, _, due in rows if due is not None), default=None)
    return OutboxBacklog(
        pending=counts.get(OutboxStatus.pending, 0),
        sending=counts.get(OutboxStatus.sending, 0),
        oldest_age_seconds=0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()),
    )


def _version() -> str:
    try:
        return version("btassist")
    except PackageNotFoundError:  # a source tree that was not installed
        return "source"
