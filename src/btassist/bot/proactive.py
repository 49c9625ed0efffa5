"""The proactive sender: how reminders, nudges and broadcasts reach a person outside a turn.

Every send goes through the tenant's token bucket (Teams allows 50 requests per second per app
per tenant) and, when the process shares one, through the tenant's budget in the database, so
several server processes together stay under the rate. A send is retried on 429 (after
`Retry-After`), 5xx, timeouts and network errors with jittered exponential backoff, and given up
for good on 403/404, which mean the person removed the bot or the conversation is gone, so the
reference is marked inactive. A request the connector refused created no message, so its place
in the rate is given back.

Messages go out through `ConnectorClient` (aiohttp) rather than botbuilder's
`continue_conversation`: a reply is turned into activity JSON once (`prepare`), and each send
only adds the recipient's address, so a broadcast renders once per language.

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import aiohttp

from btassist.bot.adapter import BTAdapter
from btassist.bot.connector_client import (
    BearerTokens,
    ConnectorClient,
    ConnectorResponse,
    sdk_credentials,
)
from btassist.bot.rate_limit import Clock, SharedBudget, Sleep, TokenBuckets
from btassist.bot.replies import to_activity
from btassist.conversations.models import ConversationRef
from btassist.conversations.usecases import reference_for, unreachable
from btassist.db.engine import Database
from btassist.dialogs.turn import Reply
from btassist.observability.metrics import Metrics

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
class Attempt:
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


Prepared = tuple[dict[str, Any], ...]
"""Replies as activity JSON without an address: made once, sent to many."""


@dataclass(frozen=True)
class Address:
    """Where a proactive message goes: a stored conversation reference, read once."""

    person_id: int
    reference_id: int | None
    tenant: str
    service_url: str
    conversation_id: str
    fields: dict[str, Any]
    """The activity fields that address it: channel, service URL, conversation, from, recipient."""


def address_of(
    *, person_id: int, reference_id: int | None, reference: str, tenant_id: str | None
) -> Address | None:
    """The address in a stored reference (JSON of a Bot Framework ConversationReference); None
    when it cannot be read."""
    try:
        data = json.loads(reference)
        conversation = data["conversation"]
        service_url = str(data["serviceUrl"])
        conversation_id = str(conversation["id"])
    except (ValueError, KeyError, TypeError):
        return None
    fields = {
        "channelId": data.get("channelId"),
        "serviceUrl": service_url,
        "conversation": conversation,
        "from": data.get("bot"),
        "recipient": data.get("user"),
        "locale": data.get("locale"),
    }
    return Address(
        person_id=person_id,
        reference_id=reference_id,
        tenant=tenant_id or "",
        service_url=service_url,
        conversation_id=conversation_id,
        fields={key: value for key, value in fields.items() if value is not None},
    )


def prepare(replies: Reply | Sequence[Reply]) -> Prepared:
    """Replies as activity JSON, ready to be addressed to anyone."""
    batch = [replies] if isinstance(replies, Reply) else list(replies)
    return tuple(to_activity(reply).serialize() for reply in batch)


def _answered(response: ConnectorResponse) -> Attempt:
    status = response.status
    if 200 <= status < 300:
        activity_id = response.body.get("id")
        return Attempt(activity_id=str(activity_id) if activity_id else None, delivered=True)
    code = response.error_code
    return Attempt(
        http_status=status,
        retry_after=response.retry_after,
        retryable=status in RETRY_STATUSES or status >= 500,
        error=f"HTTP {status} {code}" if code else f"HTTP {status}",
    )


def classify_failure(error: BaseException) -> Attempt:
    """What a request that got no answer tells us: whether to retry, a loggable error text."""
    if isinstance(error, TimeoutError):
        return Attempt(retryable=True, error="timed out")
    if isinstance(error, aiohttp.ClientConnectionError | ConnectionError):
        return Attempt(retryable=True, error="network error: ConnectionError")
    if isinstance(error, aiohttp.ClientError | OSError):
        return Attempt(retryable=True, error=f"network error: {type(error).__name__}")
    return Attempt(error=f"unexpected error: {type(error).__name__}")


class ProactiveSender:
    """Sends replies to stored conversation references, politely and with retries.

    Build one per process: the rate limit lives in it. Callers pass plain `Reply` data (or
    `prepare`d replies and an `Address`) and get a `SendOutcome`; no Bot Framework type crosses
    this class's public methods.
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
        budget: SharedBudget | None = None,
        metrics: Metrics | None = None,
        client: ConnectorClient | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        """`budget` shares the rate with other processes through the database; `clock`,
        `sleep`, `jitter` and `now` (wall clock for HTTP-date `Retry-After`) are injectable so
        tests record waits instead of sleeping them."""
        self.app_id = app_id
        self.database = database
        self.policy = policy or RetryPolicy()
        self.buckets = TokenBuckets(send_rate, burst, clock=clock, sleep=sleep)
        self.budget = budget
        self.metrics = metrics
        self.client = client or ConnectorClient(BearerTokens(sdk_credentials(adapter, app_id)))
        self._sleep = sleep
        self._jitter = jitter
        self._now = now

    async def close(self) -> None:
        """Close the connector client's connections."""
        await self.client.close()

    async def send_to_person(self, person_id: int, replies: Reply | Sequence[Reply]) -> SendOutcome:
        """Send to the person's most recent active reference (`no_reference` when there is none)."""
        ref = await reference_for(self.database, person_id)
        if ref is None:
            log.info("proactive send person=%s status=%s", person_id, SendStatus.NO_REFERENCE)
            return self._counted(
                SendOutcome(person_id=person_id, reference_id=None, status=SendStatus.NO_REFERENCE)
            )
        return await self.send_to_reference(ref, replies)

    async def send_to_reference(
        self, ref: ConversationRef, replies: Reply | Sequence[Reply]
    ) -> SendOutcome:
        """Send the replies in order; stop at the first one that cannot be delivered."""
        prepared = prepare(replies)
        if not prepared:
            raise ValueError("send_to_reference needs at least one reply")
        address = address_of(
            person_id=ref.person_id,
            reference_id=ref.id,
            reference=ref.reference,
            tenant_id=ref.tenant_id,
        )
        if address is None:
            return self._finish(
                ref.person_id, ref.id, SendStatus.FAILED, attempts=0, error="unreadable reference"
            )
        return await self.send(address, prepared)

    async def send(self, address: Address, prepared: Prepared) -> SendOutcome:
        """Send prepared replies to an address, in order; stop at the first undeliverable one."""
        attempts = 0
        sent: list[str] = []
        for activity in prepared:
            body = json.dumps({**activity, **address.fields}, ensure_ascii=False).encode()
            result, tries = await self._with_retries(address, self._poster(address, body))
            attempts += tries
            if not result.delivered:
                return await self._failed(address, result, attempts, sent)
            if result.activity_id:
                sent.append(result.activity_id)
        return self._finish(
            address.person_id, address.reference_id, SendStatus.DELIVERED, attempts, sent=sent
        )

    def _poster(self, address: Address, body: bytes) -> Callable[[], Awaitable[ConnectorResponse]]:
        return lambda: self.client.send(address.service_url, address.conversation_id, body)

    async def delete(self, address: Address, activity_id: str) -> SendOutcome:
        """Delete an activity the bot sent (a recalled announcement); gone already counts as
        done."""
        result, attempts = await self._with_retries(
            address,
            lambda: self.client.delete(address.service_url, address.conversation_id, activity_id),
        )
        if result.delivered or result.http_status == 404:
            return self._finish(
                address.person_id, address.reference_id, SendStatus.DELIVERED, attempts
            )
        status = SendStatus.FAILED_PERMANENT if result.http_status == 403 else SendStatus.FAILED
        return self._finish(address.person_id, address.reference_id, status, attempts, last=result)

    async def _with_retries(
        self, address: Address, request: Callable[[], Awaitable[ConnectorResponse]]
    ) -> tuple[Attempt, int]:
        """One request, retried as the policy says; the last attempt and how many were made."""
        tenant = address.tenant
        for attempt in range(1, self.policy.max_attempts + 1):
            await self.buckets.acquire(tenant)
            spent = await self.budget.acquire(tenant) if self.budget else None
            try:
                async with asyncio.timeout(self.policy.attempt_timeout):
                    result = _answered(await request())
            except Exception as error:
                result = classify_failure(error)
            if result.http_status is not None and result.http_status >= 400:
                # Refused: no message was created, so the request took no place in the rate.
                self.buckets.refund(tenant)
                if self.budget is not None and spent is not None:
                    self.budget.refund(tenant, spent)
            if result.http_status == 429 and self.metrics is not None:
                self.metrics.connector_throttled()
            if result.delivered or result.http_status in GONE_STATUSES:
                return result, attempt
            if not result.retryable or attempt == self.policy.max_attempts:
                return result, attempt
            wait = self._wait_before_retry(attempt, result)
            log.info(
                "proactive send retry person=%s reference=%s attempt=%d http_status=%s "
                "wait=%.3f error=%s",
                address.person_id,
                address.reference_id,
                attempt,
                result.http_status,
                wait,
                result.error,
            )
            await self._sleep(wait)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    async def _failed(
        self, address: Address, result: Attempt, attempts: int, sent: list[str]
    ) -> SendOutcome:
        if result.http_status in GONE_STATUSES:
            if address.reference_id is not None:
                await unreachable(self.database, address.reference_id)
            status = SendStatus.FAILED_PERMANENT
        else:
            status = SendStatus.FAILED
        return self._finish(
            address.person_id, address.reference_id, status, attempts, sent=sent, last=result
        )

    def _wait_before_retry(self, attempt: int, result: Attempt) -> float:
        if result.http_status == 429:
            retry_after = parse_retry_after(result.retry_after, self._now())
            if retry_after is not None:
                return min(retry_after, self.policy.max_retry_after)
        return self.policy.backoff(attempt, self._jitter())

    def _counted(self, outcome: SendOutcome) -> SendOutcome:
        if self.metrics is not None:
            self.metrics.send_finished(outcome=outcome.status.value)
        return outcome

    def _finish(
        self,
        person_id: int,
        reference_id: int | None,
        status: SendStatus,
        attempts: int,
        *,
        sent: Sequence[str] = (),
        last: Attempt | None = None,
        error: str | None = None,
    ) -> SendOutcome:
        outcome = SendOutcome(
            person_id=person_id,
            reference_id=reference_id,
            status=status,
            attempts=attempts,
            http_status=last.http_status if last else None,
            activity_ids=tuple(sent),
            error=last.error if last else error,
        )
        # A broadcast delivers thousands: those are counted in the metrics, not logged one by one.
        level = logging.DEBUG if status is SendStatus.DELIVERED else logging.WARNING
        if log.isEnabledFor(level):
            log.log(
                level,
                "proactive send person=%s reference=%s status=%s attempts=%d http_status=%s "
                "error=%s",
                outcome.person_id,
                outcome.reference_id,
                outcome.status,
                outcome.attempts,
                outcome.http_status,
                outcome.error,
            )
        return self._counted(outcome)
