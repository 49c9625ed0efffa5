"""Delivering the outbox: claim due notices, render them, send them concurrently, record how
each ended.

Any number of processes may run a worker at once; the database claim (outbox/queue.py) gives each
notice to one of them. A worker keeps up to `concurrency` sends in flight — the proactive
sender's per-tenant rate (shared with other processes through the database) paces them — and
renews the lease on every notice it holds, so a send that is being retried is never taken by
another process. On shutdown it stops claiming, lets the sends in flight finish (for a while),
records them and gives back what it could not finish.

Work is done in batches so a broadcast of thousands goes at the connector's pace, not the
database's: about a hundred notices claimed ahead in one statement, one query for their people
and references, one rendering per notice kind, parameters and language (an announcement is the
same for every recipient of a language), and outcomes recorded a batch at a time.

Delivery is at least once: only a notice in flight when its process died — claimed, and sent or
not, but not yet recorded — can arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cachetools import TTLCache

from btassist.bot.proactive import (
    Address,
    Prepared,
    ProactiveSender,
    SendOutcome,
    SendStatus,
    address_of,
    prepare,
)
from btassist.broadcast.usecases import recall_targets
from btassist.conversations.usecases import Reachable, reachable
from btassist.db.engine import Database
from btassist.dialogs.notices import SAME_FOR_EVERYONE, render_notice
from btassist.dialogs.turn import FlowContext
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import Notice, NoticeKind, parse_notice
from btassist.outbox.outcomes import Finished, record
from btassist.outbox.queue import LEASE, claim, release, renew
from btassist.reach.install import ProactiveInstaller, ensure_reachable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=2)
"""After a send failed for good (the sender already retried within it), try again this much
later, times the number of attempts so far."""
STOP_PATIENCE = 10.0
"""Seconds a stopping worker lets its sends in flight finish before giving them back."""
RECORD_EVERY = 0.05
RECORD_BATCH = 200
"""Outcomes are recorded when this many are waiting, or this many seconds after the first."""
RENDERED_FOR = 5.0
"""Seconds a rendering shared by every recipient of a language is reused."""
CLAIM_AHEAD = 4
"""Notices claimed per send slot: a large queue is claimed (and its people looked up) about a
hundred at a time rather than a few, and the senders never wait for the database."""


def worker_name() -> str:
    """A name unique to this process, recorded on the rows it claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class _Send:
    message: OutboxMessage
    address: Address
    prepared: Prepared


@dataclass(frozen=True)
class _Delete:
    message: OutboxMessage
    address: Address
    activity_id: str


_Job = _Send | _Delete


class OutboxWorker:
    """Sends queued notices through the proactive sender."""

    def __init__(
        self,
        *,
        context: FlowContext,
        sender: ProactiveSender,
        concurrency: int = 32,
        interval: float = 1.0,
        lease: timedelta = LEASE,
        installer: ProactiveInstaller | None = None,
    ) -> None:
        """`interval`: seconds between looks for notices queued by other processes (this
        process's own use cases wake the worker at once); 0 looks only when woken. `lease`: how
        long a claim lasts unless renewed (renewed every third of it). `installer` (proactive
        installation on): recipients without a chat get the app first."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {concurrency}")
        self.context = context
        self.sender = sender
        self.concurrency = concurrency
        self.interval = interval
        self.lease = lease
        self.installer = installer
        self.name = worker_name()
        self._database: Database = context.database
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        """Claimed notices being sent or waiting for one of the `concurrency` send slots."""
        self._slots = asyncio.Semaphore(concurrency)
        self._held: set[int] = set()
        """Claimed and not yet recorded: the rows whose lease this worker renews."""
        self._finished: list[Finished] = []
        self._first_finished = 0.0
        self._recording = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._rendered: TTLCache[tuple[str, str, str], Prepared] = TTLCache(
            maxsize=256, ttl=RENDERED_FOR, timer=time.monotonic
        )
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
        """Stop claiming, let sends in flight finish (up to `patience` s), record them, give
        back the rest.

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
        await self.record_finished()
        left = sorted(self._held)
        if left:
            async with self._database.session() as session:
                await release(session, worker=self.name, message_ids=left)
            self._held.clear()
            log.warning("outbox worker gave back %d unfinished notices", len(left))
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
        every = self.lease.total_seconds() / 3
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), every)
            if self._stopping:
                break
            try:
                await self.renew_leases()
            except Exception:
                log.exception("renewing outbox leases failed")

    async def renew_leases(self) -> int:
        """Extend the lease of every notice this worker holds; how many it still holds."""
        ids = sorted(self._held)
        if not ids:
            return 0
        async with self._database.session() as session:
            return await renew(
                session,
                worker=self.name,
                message_ids=ids,
                now=self.context.now(),
                lease=self.lease,
            )

    @property
    def in_flight(self) -> int:
        """Claimed notices being sent or waiting for a send slot."""
        return len(self._in_flight)

    # --- delivery -----------------------------------------------------------------------------

    async def deliver_due(self) -> int:
        """Claim and send until nothing is due; how many notices were handled.

        Claims ahead in chunks: when no more than one pool of sends is left waiting or in
        flight, it tops the queue up to `CLAIM_AHEAD` pools, so a large queue streams through
        with `concurrency` sends in flight and a claim query per ~hundred notices.
        """
        async with self._delivering:
            handled = 0
            ahead = self.concurrency * CLAIM_AHEAD
            pending: set[asyncio.Task[None]] = set()
            try:
                while True:
                    # Top up before the pool runs dry: sends waiting out a Retry-After hold
                    # their slots, and the senders must always have the next notice at hand.
                    if not self._stopping and len(pending) <= self.concurrency:
                        batch = await self._claim(ahead - len(pending))
                        handled += len(batch)
                        pending |= {self._start(job) for job in await self._plan(batch)}
                        if not batch and not pending:
                            return handled
                    if not pending:
                        return handled
                    _, pending = await asyncio.wait(
                        pending, timeout=RECORD_EVERY, return_when=asyncio.FIRST_COMPLETED
                    )
                    if self._record_due() and not self._recording.locked():
                        # Recorded beside the sending, so a slow write never idles the senders.
                        self._background.add(
                            asyncio.get_running_loop().create_task(self._record_quietly())
                        )
            finally:
                if not self._stopping:
                    await self.record_finished()

    async def _claim(self, limit: int) -> list[OutboxMessage]:
        async with self._database.session() as session:
            claimed = await claim(
                session, worker=self.name, limit=limit, now=self.context.now(), lease=self.lease
            )
        self._held.update(m.id for m in claimed if m.id is not None)
        return claimed

    async def _plan(self, batch: Sequence[OutboxMessage]) -> list[_Job]:
        """What to do with each claimed notice; those with nothing to send are finished here."""
        if not batch:
            return []
        people = await reachable(self._database, [m.person_id for m in batch])
        if self.installer is not None:  # proactive installation: open the missing chats first
            missing = [pid for pid, person in people.items() if person.reference is None]
            if missing and await ensure_reachable(
                self._database, missing, installer=self.installer
            ):
                people.update(await reachable(self._database, missing))
        recalls = await recall_targets(
            self._database,
            [
                (int(m.params.get("broadcast_id", 0)), m.person_id)
                for m in batch
                if m.kind == NoticeKind.broadcast_recall.value
            ],
        )
        jobs: list[_Job] = []
        for message in batch:
            try:
                job = await self._job(message, people.get(message.person_id), recalls)
            except Exception as failure:  # one bad notice must not stop the others
                log.exception("outbox message %s could not be prepared", message.id)
                self._finish(message, None, error=type(failure).__name__, retry=True)
                continue
            if job is not None:
                jobs.append(job)
        return jobs

    async def _job(
        self,
        message: OutboxMessage,
        person: Reachable | None,
        recalls: dict[tuple[int, int], tuple[int, str, str | None, str]],
    ) -> _Job | None:
        notice = parse_notice(message.kind, message.params)
        if notice is None:
            self._finish(
                message, None, status=OutboxStatus.failed, error=f"unreadable notice {message.kind}"
            )
            return None
        if person is None:
            self._finish(
                message, None, status=OutboxStatus.no_reference, error="person inactive or removed"
            )
            return None
        if notice.kind is NoticeKind.broadcast_recall:
            target = recalls.get((int(message.params["broadcast_id"]), message.person_id))
            address = target and address_of(
                person_id=message.person_id,
                reference_id=target[0],
                reference=target[1],
                tenant_id=target[2],
            )
            if not target or address is None:
                self._finish(message, None, status=OutboxStatus.failed, error="nothing to recall")
                return None
            return _Delete(message, address, target[3])
        prepared = await self._rendering(notice, person)
        if not prepared:
            self._finish(message, None, status=OutboxStatus.failed, error="nothing to say any more")
            return None
        address = (
            address_of(
                person_id=message.person_id,
                reference_id=person.reference_id,
                reference=person.reference,
                tenant_id=person.tenant_id,
            )
            if person.reference is not None
            else None
        )
        if address is None:
            self._finish(message, None, status=OutboxStatus.no_reference)
            return None
        return _Send(message, address, prepared)

    async def _rendering(self, notice: Notice, person: Reachable) -> Prepared:
        """The notice's replies as activity JSON; shared per language where the kind allows."""
        shared = notice.kind in SAME_FOR_EVERYONE
        key = (
            notice.kind.value,
            json.dumps(notice.data(), sort_keys=True),
            person.actor.language.value,
        )
        if shared and key in self._rendered:
            return self._rendered[key]
        replies = await render_notice(self.context, person.actor, notice)
        prepared = prepare(replies) if replies else ()
        if shared:
            self._rendered[key] = prepared
        return prepared

    def _start(self, job: _Job) -> asyncio.Task[None]:
        message_id = job.message.id
        assert message_id is not None
        task = asyncio.get_running_loop().create_task(self._deliver(job))
        self._in_flight[message_id] = task
        task.add_done_callback(lambda _: self._in_flight.pop(message_id, None))
        return task

    async def _deliver(self, job: _Job) -> None:
        async with self._slots:
            if not self._stopping:  # else never started: stop() gives the notice back
                await self._send(job)

    async def _send(self, job: _Job) -> None:
        try:
            if isinstance(job, _Send):
                outcome = await self.sender.send(job.address, job.prepared)
            else:
                outcome = await self.sender.delete(job.address, job.activity_id)
        except Exception as failure:  # one bad notice must not stop the others
            log.exception("outbox message %s failed", job.message.id)
            self._finish(job.message, None, error=type(failure).__name__, retry=True)
            return
        status = {
            SendStatus.DELIVERED: OutboxStatus.sent,
            SendStatus.NO_REFERENCE: OutboxStatus.no_reference,
            SendStatus.FAILED_PERMANENT: OutboxStatus.failed,
            SendStatus.FAILED: OutboxStatus.failed,
        }[outcome.status]
        self._finish(
            job.message,
            outcome,
            status=status,
            error=outcome.error,
            retry=outcome.status is SendStatus.FAILED,
        )

    def _finish(
        self,
        message: OutboxMessage,
        outcome: SendOutcome | None,
        *,
        status: OutboxStatus = OutboxStatus.failed,
        error: str | None = None,
        retry: bool = False,
    ) -> None:
        """Keep a notice's outcome for the next recording (a failure may be tried again later)."""
        assert message.id is not None
        retry_at = None
        if retry and message.attempts < MAX_ATTEMPTS:
            retry_at = self.context.now() + RETRY_DELAY * message.attempts
        if not self._finished:
            self._first_finished = time.monotonic()
        self._finished.append(
            Finished(
                message_id=message.id,
                person_id=message.person_id,
                kind=message.kind,
                params=message.params,
                status=status,
                error=error,
                retry_at=retry_at,
                reference_id=outcome.reference_id if outcome else None,
                activity_ids=outcome.activity_ids if outcome else (),
            )
        )
        log.debug(
            "outbox message %s kind=%s: %s (attempt %s)",
            message.id,
            message.kind,
            "retry" if retry_at else status.value,
            message.attempts,
        )

    async def _record_quietly(self) -> None:
        try:
            await self.record_finished()
        except Exception:  # kept for the next recording
            log.exception("recording outbox outcomes failed")
        finally:
            self._background.discard(asyncio.current_task())

    def _record_due(self) -> bool:
        return bool(self._finished) and (
            len(self._finished) >= RECORD_BATCH
            or time.monotonic() - self._first_finished >= RECORD_EVERY
        )

    async def record_finished(self) -> int:
        """Record every outcome kept so far, in one transaction; how many."""
        async with self._recording:
            finished, self._finished = self._finished, []
            if not finished:
                return 0
            try:
                await record(
                    self._database, worker=self.name, finished=finished, now=self.context.now()
                )
            except BaseException:
                self._finished = finished + self._finished  # try again with the next batch
                raise
            self._held.difference_update(item.message_id for item in finished)
            sent = sum(1 for item in finished if item.status is OutboxStatus.sent)
            log.info("outbox recorded %d notices (%d sent)", len(finished), sent)
            return len(finished)
