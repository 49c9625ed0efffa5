"""Delivering the outbox: claim due messages, render them, send them, record the outcome.

Any number of processes may run this at once; the database claim (outbox/queue.py) makes sure
each message is taken by exactly one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import timedelta

from btassist.bot.proactive import ProactiveSender, SendStatus
from btassist.common.language import language_for
from btassist.dialogs.notifications import render_notice
from btassist.dialogs.turn import Asker, FlowContext
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.queue import claim, finish
from btassist.roster.identity import person_by_id

log = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=2)


def worker_name() -> str:
    """A name unique to this process, recorded on the rows it claims."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxDispatcher:
    """Sends queued notices through the proactive sender."""

    def __init__(self, *, context: FlowContext, sender: ProactiveSender) -> None:
        self.context = context
        self.sender = sender
        self.worker = worker_name()
        self._running = asyncio.Lock()
        self._tasks: set[asyncio.Task[int]] = set()

    def wake(self) -> None:
        """Deliver what is due now, in the background (called right after a flow queues)."""
        task = asyncio.get_running_loop().create_task(self.dispatch_once())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for background deliveries started by `wake` (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def dispatch_once(self) -> int:
        """Claim and deliver one batch; returns how many messages were handled."""
        async with self._running:
            database = self.context.database
            async with database.session(write_lock=True) as session:
                batch = await claim(
                    session, worker=self.worker, limit=BATCH, now=self.context.now()
                )
            for message in batch:
                await self._deliver(message)
            return len(batch)

    async def _deliver(self, message: OutboxMessage) -> None:
        assert message.id is not None
        status, error, retry_at = OutboxStatus.failed, None, None
        try:
            async with self.context.database.session(write_lock=False) as session:
                found = await person_by_id(session, message.person_id)
            if found is None or found.person.id is None:
                status, error = OutboxStatus.no_reference, "person inactive or removed"
            else:
                asker = Asker(
                    person_id=found.person.id,
                    name=found.person.name,
                    email=found.person.email,
                    region=found.person.region_code,
                    roles=found.roles,
                    language=language_for(found.person.language, None),
                )
                replies = await render_notice(self.context, asker, message.template, message.params)
                if not replies:
                    status, error = OutboxStatus.failed, "nothing to say any more"
                else:
                    outcome = await self.sender.send_to_person(found.person.id, replies)
                    status, error = _status_of(outcome.status), outcome.error
                    if outcome.status is SendStatus.FAILED and message.attempts < MAX_ATTEMPTS:
                        retry_at = self.context.now() + RETRY_DELAY * message.attempts
        except Exception as failure:  # one bad message must not stop the batch
            log.exception("outbox message %s failed", message.id)
            error = type(failure).__name__
            if message.attempts < MAX_ATTEMPTS:
                retry_at = self.context.now() + RETRY_DELAY * message.attempts
        async with self.context.database.session() as session:
            await finish(
                session,
                message_id=message.id,
                worker=self.worker,
                status=status,
                error=error,
                retry_at=retry_at,
            )
        log.info(
            "outbox message %s: %s (attempt %s)",
            message.id,
            "retry" if retry_at else status.value,
            message.attempts,
        )


def _status_of(status: SendStatus) -> OutboxStatus:
    return {
        SendStatus.DELIVERED: OutboxStatus.sent,
        SendStatus.NO_REFERENCE: OutboxStatus.no_reference,
        SendStatus.FAILED_PERMANENT: OutboxStatus.failed,
        SendStatus.FAILED: OutboxStatus.failed,
    }[status]
