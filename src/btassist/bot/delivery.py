"""Delivering the outbox: claim due notices, render them, send them concurrently, record how
each ended.

Any number of processes may run a worker at once; the database claim (outbox/queue.py) gives each
notice to one of them. A worker keeps up to `concurrency` sends in flight — the proactive
sender's per-tenant token buckets keep them under Teams' rate — and renews the lease on every
notice it is still sending, so a send that is being retried is never taken by another process.
On shutdown it stops claiming, lets the sends in flight finish (for a while) and gives back what
it could not finish. Delivery is at least once: only a notice in flight when its process died
can arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import timedelta

from btassist.bot.proactive import ProactiveSender, SendStatus
from btassist.db.engine import Database
from btassist.dialogs.notices import render_notice
from btassist.dialogs.turn import FlowContext
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import parse_notice
from btassist.outbox.queue import LEASE, claim, finish, release, renew
from btassist.reach.install import ProactiveInstaller, ensure_reachable
from btassist.roster.identity import actor_by_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=2)
"""After a send failed for good (the sender already retried within it), try again this much
later, times the number of attempts so far."""
RENEW_EVERY = LEASE.total_seconds() / 3
STOP_PATIENCE = 10.0
"""Seconds a stopping worker lets its sends in flight finish before giving them back."""


def worker_name() -> str:
    """A name unique to this process, recorded on the rows it claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxWorker:
    """Sends queued notices through the proactive sender."""

    def __init__(
        self,
        *,
        context: FlowContext,
        sender: ProactiveSender,
        concurrency: int = 32,
        interval: float = 1.0,
        installer: ProactiveInstaller | None = None,
    ) -> None:
        """`interval`: seconds between looks for notices queued by other processes (this
        process's own use cases wake the worker at once); 0 looks only when woken.
        `installer` (proactive installation on): recipients without a chat get the app first."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.context = context
        self.sender = sender
        self.concurrency = concurrency
        self.interval = interval
        self.installer = installer
        self.name = worker_name()
        self._database: Database = context.database
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._loop: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._delivering = asyncio.Lock()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background until `stop`: deliver whenever woken or every `interval`."""
        self._database.on_wake(self.wake)
        self._loop = asyncio.get_running_loop().create_task(self._run())
        self._renewer = asyncio.get_running_loop().create_task(self._renew_leases())

    def wake(self) -> None:
        """Deliver what is due now instead of at the next interval."""
        self._wake.set()

    async def stop(self, *, patience: float = STOP_PATIENCE) -> None:
        """Stop claiming, let sends in flight finish (up to `patience` s), give back the rest.

        Nothing is cancelled in the middle of a database call: the loops see the stop and end
        by themselves once the sends they wait for are done or given back.
        """
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        if self._in_flight:
            await asyncio.wait(list(self._in_flight.values()), timeout=patience)
        unfinished = dict(self._in_flight)
        for task in unfinished.values():
            task.cancel()
        await asyncio.gather(*unfinished.values(), return_exceptions=True)
        if unfinished:
            async with self._database.session() as session:
                await release(session, worker=self.name, message_ids=list(unfinished))
            log.warning("outbox worker gave back %d unfinished notices", len(unfinished))
        for background in (self._loop, self._renewer):
            if background is not None:
                await background

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # a database hiccup must not end delivery for good
                log.exception("outbox delivery round failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval or None)
            self._wake.clear()

    async def _renew_leases(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), RENEW_EVERY)
            if self._stopping:
                break
            try:
                await self.renew_leases()
            except Exception:
                log.exception("renewing outbox leases failed")

    async def renew_leases(self) -> int:
        """Extend the lease of every notice this worker is sending; how many it still holds."""
        ids = list(self._in_flight)
        if not ids:
            return 0
        async with self._database.session() as session:
            return await renew(session, worker=self.name, message_ids=ids, now=self.context.now())

    @property
    def in_flight(self) -> int:
        """Notices being sent right now."""
        return len(self._in_flight)

    # --- delivery -----------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim and send until nothing is due; how many notices were handled.

        Claims in chunks as room frees up, so a large queue streams through with up to
        `concurrency` sends in flight and one claim query per half-emptied pool.
        """
        async with self._delivering:
            handled = 0
            pending: set[asyncio.Task[None]] = set()
            while True:
                room = self.concurrency - len(pending)
                if not self._stopping and room >= max(1, self.concurrency // 2):
                    batch = await self._claim(room)
                    handled += len(batch)
                    pending |= {self._start(message) for message in batch}
                    if not batch and not pending:
                        return handled
                if not pending:
                    return handled
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        async with self._database.session() as session:
            return await claim(session, worker=self.name, limit=limit, now=self.context.now())

    def _start(self, message: OutboxMessage) -> asyncio.Task[None]:
        assert message.id is not None
        message_id = message.id
        task = asyncio.get_running_loop().create_task(self._deliver(message))
        self._in_flight[message_id] = task
        task.add_done_callback(lambda _: self._in_flight.pop(message_id, None))
        return task

    async def _deliver(self, message: OutboxMessage) -> None:
        assert message.id is not None
        status, error, retry_at = OutboxStatus.failed, None, None
        try:
            status, error, retry = await self._send(message)
            if retry and message.attempts < MAX_ATTEMPTS:
                retry_at = self.context.now() + RETRY_DELAY * message.attempts
        except Exception as failure:  # one bad notice must not stop the others
            log.exception("outbox message %s failed", message.id)
            error = type(failure).__name__
            if message.attempts < MAX_ATTEMPTS:
                retry_at = self.context.now() + RETRY_DELAY * message.attempts
        async with self._database.session() as session:
            await finish(
                session,
                message_id=message.id,
                worker=self.name,
                status=status,
                now=self.context.now(),
                error=error,
                retry_at=retry_at,
            )
        log.info(
            "outbox message %s kind=%s: %s (attempt %s)",
            message.id,
            message.kind,
            "retry" if retry_at else status.value,
            message.attempts,
        )

    async def _send(self, message: OutboxMessage) -> tuple[OutboxStatus, str | None, bool]:
        """(status, error, whether to try again later) for one notice."""
        notice = parse_notice(message.kind, message.params)
        if notice is None:
            return OutboxStatus.failed, f"unreadable notice {message.kind}", False
        actor = await actor_by_id(self._database, message.person_id)
        if actor is None:
            return OutboxStatus.no_reference, "person inactive or removed", False
        replies = await render_notice(self.context, actor, notice)
        if not replies:
            return OutboxStatus.failed, "nothing to say any more", False
        outcome = await self.sender.send_to_person(actor.person_id, replies)
        if outcome.status is SendStatus.NO_REFERENCE and await ensure_reachable(
            self._database, [actor.person_id], installer=self.installer
        ):  # proactive installation opened their chat just now
            outcome = await self.sender.send_to_person(actor.person_id, replies)
        status = {
            SendStatus.DELIVERED: OutboxStatus.sent,
            SendStatus.NO_REFERENCE: OutboxStatus.no_reference,
            SendStatus.FAILED_PERMANENT: OutboxStatus.failed,
            SendStatus.FAILED: OutboxStatus.failed,
        }[outcome.status]
        return status, outcome.error, outcome.status is SendStatus.FAILED
