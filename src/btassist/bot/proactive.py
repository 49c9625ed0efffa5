"""The proactive sender: how reminders, nudges and broadcasts reach a person outside a turn.

Every send goes through the tenant's token bucket (Teams allows 50 requests per second per app
per tenant), is retried on 429 (after `Retry-After`), 5xx, timeouts and network errors with
jittered exponential backoff, and gives up for good on 403/404, which mean the person removed
the bot or the conversation is gone, so the reference is marked inactive.

Delivery is at least once: a request that timed out may still have reached Teams, which has no
idempotency key, so its retry can show the message twice. A duplicate reminder is the lesser
harm than a silently lost one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError

from btassist.bot.adapter import BTAdapter
from btassist.bot.rate_limit import Clock, Sleep, TokenBuckets
from btassist.bot.replies import to_activity
from btassist.conversations.models import ConversationRef
from btassist.conversations.usecases import reference_for, unreachable
from btassist.db.engine import Database
from btassist.dialogs.turn import Reply

log = logging.getLogger(__name__)

GONE_STATUSES = frozenset({403, 404})  # blocked / uninstalled / conversation deleted
RETRY_STATUSES = frozenset({408, 429})  # plus every 5xx


class SendStatus(StrEnum):
    """How a proactive send ended."""

    DELIVERED = "delivered"
    FAILED_PERMANENT = "failed_permanent"  # Teams refused the conversation; reference deactivated
    FAILED = "failed"  # retries exhausted or an error retrying cannot fix
    NO_REFERENCE = "no_reference"  # the person never talked to the bot (or removed it)


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one send, for callers to record delivery (ids and statuses only)."""

    person_id: int
    reference_id: int | None
    status: SendStatus
    attempts: int = 0
    """HTTP requests made, retries included, over every reply of the send."""
    http_status: int | None = None
    """The status of the last error response (None after a success or a network error)."""
    activity_ids: tuple[str, ...] = ()
    """Ids Teams gave the delivered activities, in order (also on partial failure)."""
    error: str | None = None
    """Short and free of personal data: an HTTP status and error code, or an exception name."""

    @property
    def delivered(self) -> bool:
        """True when every reply arrived."""
        return self.status is SendStatus.DELIVERED


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take and how often and how patiently it is retried."""

    max_attempts: int = 5
    """Attempts per activity, the first one included."""
    attempt_timeout: float = 15.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_retry_after: float = 60.0
    """A longer `Retry-After` is shortened to this, so one send never stalls a worker for long."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")

    def backoff(self, retry: int, draw: float) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(retry-1))), from a draw in [0, 1)."""
        return draw * min(self.backoff_cap, self.backoff_base * 2.0 ** (retry - 1))


@dataclass(frozen=True)
class _Attempt:
    """The result of one HTTP request: an activity id, or why there is none."""

    activity_id: str | None = None
    delivered: bool = False
    http_status: int | None = None
    retry_after: str | None = None
    retryable: bool = False
    error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if unusable."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a missing zone means the same
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _classify(error: BaseException) -> _Attempt:
    """What a failed request tells us: its status, whether to retry, a loggable error text."""
    if isinstance(error, HttpOperationError):
        response: Any = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        if not isinstance(status, int):
            return _Attempt(error=f"HTTP error without status: {type(error).__name__}")
        headers = getattr(response, "headers", None) or {}
        body: Any = getattr(error, "error", None)
        code = getattr(getattr(body, "error", None), "code", None)
        return _Attempt(
            http_status=status,
            retry_after=headers.get("Retry-After"),
            retryable=status in RETRY_STATUSES or status >= 500,
            error=f"HTTP {status} {code}" if code else f"HTTP {status}",
        )
    if isinstance(error, ClientRequestError):
        inner = getattr(error, "inner_exception", None)
        cause = type(inner).__name__ if inner is not None else type(error).__name__
        return _Attempt(retryable=True, error=f"network error: {cause}")
    if isinstance(error, TimeoutError):
        return _Attempt(retryable=True, error="timed out")
    return _Attempt(error=f"unexpected error: {type(error).__name__}")


class ProactiveSender:
    """Sends replies to stored conversation references, politely and with retries.

    Build one per process: the rate limit lives in it. Callers pass plain `Reply` data and get a
    `SendOutcome`; no Bot Framework type crosses this class's public methods.
    """

    def __init__(
        self,
        adapter: BTAdapter,
        *,
        app_id: str,
        database: Database,
        send_rate: float,
        policy: RetryPolicy | None = None,
        burst: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        """`clock`, `sleep`, `jitter` and `now` (wall clock for HTTP-date `Retry-After`) are
        injectable so tests record waits instead of sleeping them."""
        self.adapter = adapter
        self.app_id = app_id
        self.database = database
        self.policy = policy or RetryPolicy()
        self.buckets = TokenBuckets(send_rate, burst, clock=clock, sleep=sleep)
        self._sleep = sleep
        self._jitter = jitter
        self._now = now

    async def send_to_person(self, person_id: int, replies: Reply | Sequence[Reply]) -> SendOutcome:
        """Send to the person's most recent active reference (`no_reference` when there is none)."""
        ref = await reference_for(self.database, person_id)
        if ref is None:
            log.info("proactive send person=%s status=%s", person_id, SendStatus.NO_REFERENCE)
            return SendOutcome(
                person_id=person_id, reference_id=None, status=SendStatus.NO_REFERENCE
            )
        return await self.send_to_reference(ref, replies)

    async def send_to_reference(
        self, ref: ConversationRef, replies: Reply | Sequence[Reply]
    ) -> SendOutcome:
        """Send the replies in order; stop at the first one that cannot be delivered."""
        batch = [replies] if isinstance(replies, Reply) else list(replies)
        if not batch:
            raise ValueError("send_to_reference needs at least one reply")
        try:
            reference = ConversationReference().deserialize(json.loads(ref.reference))
        except ValueError as error:
            return self._finish(
                ref, SendStatus.FAILED, attempts=0, error=f"unreadable: {type(error).__name__}"
            )
        tenant = ref.tenant_id or ""
        attempts = 0
        sent: list[str] = []
        for reply in batch:
            for attempt in range(1, self.policy.max_attempts + 1):
                await self.buckets.acquire(tenant)
                attempts += 1
                result = await self._attempt(reference, reply)
                if result.delivered:
                    if result.activity_id:
                        sent.append(result.activity_id)
                    break
                if result.http_status in GONE_STATUSES:
                    await self._deactivate(ref)
                    return self._finish(
                        ref, SendStatus.FAILED_PERMANENT, attempts=attempts, sent=sent, last=result
                    )
                if not result.retryable or attempt == self.policy.max_attempts:
                    return self._finish(
                        ref, SendStatus.FAILED, attempts=attempts, sent=sent, last=result
                    )
                wait = self._wait_before_retry(attempt, result)
                log.info(
                    "proactive send retry person=%s reference=%s attempt=%d http_status=%s "
                    "wait=%.3f error=%s",
                    ref.person_id,
                    ref.id,
                    attempt,
                    result.http_status,
                    wait,
                    result.error,
                )
                await self._sleep(wait)
        return self._finish(ref, SendStatus.DELIVERED, attempts=attempts, sent=sent)

    def _wait_before_retry(self, attempt: int, result: _Attempt) -> float:
        if result.http_status == 429:
            retry_after = parse_retry_after(result.retry_after, self._now())
            if retry_after is not None:
                return min(retry_after, self.policy.max_retry_after)
        return self.policy.backoff(attempt, self._jitter())

    async def _attempt(self, reference: ConversationReference, reply: Reply) -> _Attempt:
        """One request. The adapter's `on_turn_error` would swallow (and apologise for) an
        exception raised in the callback, so the callback catches and reports instead."""
        results: list[_Attempt] = []

        async def send(turn_context: TurnContext) -> None:
            try:
                responses = await asyncio.wait_for(
                    turn_context.send_activities([to_activity(reply)]),
                    self.policy.attempt_timeout,
                )
            except Exception as error:
                results.append(_classify(error))
            else:
                activity_id = getattr(responses[0], "id", None) if responses else None
                results.append(_Attempt(activity_id=activity_id or None, delivered=True))

        try:
            await self.adapter.continue_conversation(reference, send, self.app_id)
        except Exception as error:  # before the callback: connector or credentials
            return _classify(error)
        if not results:
            return _Attempt(error="turn ended without a result")
        return results[0]

    async def _deactivate(self, ref: ConversationRef) -> None:
        if ref.id is not None:
            await unreachable(self.database, ref.id)

    def _finish(
        self,
        ref: ConversationRef,
        status: SendStatus,
        *,
        attempts: int,
        sent: Sequence[str] = (),
        last: _Attempt | None = None,
        error: str | None = None,
    ) -> SendOutcome:
        outcome = SendOutcome(
            person_id=ref.person_id,
            reference_id=ref.id,
            status=status,
            attempts=attempts,
            http_status=last.http_status if last else None,
            activity_ids=tuple(sent),
            error=last.error if last else error,
        )
        level = logging.INFO if status is SendStatus.DELIVERED else logging.WARNING
        log.log(
            level,
            "proactive send person=%s reference=%s status=%s attempts=%d http_status=%s error=%s",
            outcome.person_id,
            outcome.reference_id,
            outcome.status,
            outcome.attempts,
            outcome.http_status,
            outcome.error,
        )
        return outcome
