"""Microsoft Graph for proactive installation: an app-only token from Entra ID (msal, client
credentials) and requests that keep to Graph's throttling.

Graph answers 429 (or 503) with `Retry-After` when the app exceeds its limits. Every request of
this client then waits until that moment, not only the refused one, so a run slows down to what
Graph allows instead of pressing on; at most `concurrency` requests are in flight. Network
errors, timeouts and 5xx are retried with jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import msal

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Sleep = Callable[[float], Awaitable[None]]


class TokenSource(Protocol):
    """Something that hands out a bearer token for Graph."""

    async def __call__(self) -> str: ...


class TokenRefused(Exception):
    """Entra ID gave no token (wrong secret, unknown tenant, …); the text has no personal data."""


def graph_scope(graph_url: str) -> str:
    """The app-only scope of the Graph at `graph_url` (`https://graph.microsoft.com/.default`)."""
    parts = urlsplit(graph_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


class EntraToken:
    """An app-only token for the bot's own app registration, kept by msal until near expiry.

    msal is synchronous (it uses `requests`), so it runs in a worker thread; its token cache
    makes every call after the first free until the token is about to expire.
    """

    def __init__(
        self, *, client_id: str, client_secret: str, tenant_id: str, login_url: str, scope: str
    ) -> None:
        self._client_id, self._secret = client_id, client_secret
        self._authority = f"{login_url.rstrip('/')}/{tenant_id}"
        self._scope = scope
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    async def __call__(self) -> str:
        """A valid access token (from msal's cache when it has one)."""
        try:
            return await asyncio.to_thread(self._acquire)
        except TokenRefused:
            raise
        except Exception as error:  # unreachable login host, bad metadata: msal's own errors
            raise TokenRefused(f"cannot reach Entra ID: {type(error).__name__}") from error

    def _acquire(self) -> str:
        with self._lock:
            if self._app is None:  # built lazily: msal fetches the authority's metadata here
                self._app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._secret,
                    authority=self._authority,
                    instance_discovery=False,  # a sovereign or test login host is fine too
                )
            result: dict[str, Any] = self._app.acquire_token_for_client(scopes=[self._scope])
        token = result.get("access_token")
        if not token:
            described = str(result.get("error_description") or "").strip().splitlines()
            raise TokenRefused(
                f"Entra ID gave no token: {result.get('error')}"
                + (f": {described[0]}" if described else "")
            )
        return str(token)


@dataclass(frozen=True)
class GraphAnswer:
    """One Graph response: its status and JSON body (empty when there was none)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        """Graph's error code (`Forbidden`, `NotFound`, …), if the body has one."""
        error = self.body.get("error")
        return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None

    @property
    def detail(self) -> str:
        """The status and error code, fit for logs and the outcome table."""
        return f"HTTP {self.status} {self.code}" if self.code else f"HTTP {self.status}"


@dataclass(frozen=True)
class GraphPolicy:
    """How patient the client is."""

    max_attempts: int = 6
    timeout: float = 30.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    max_retry_after: float = 300.0
    """A longer `Retry-After` is shortened to this."""


def retry_after_seconds(value: str | None) -> float | None:
    """Graph's `Retry-After` (delta-seconds); None when missing or unusable."""
    try:
        seconds = float(value) if value else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class GraphClient:
    """Requests to Microsoft Graph with a token, bounded concurrency and shared back-off."""

    def __init__(
        self,
        *,
        base_url: str,
        token: TokenSource,
        concurrency: int = 4,
        policy: GraphPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """`sleep`, `clock` and `jitter` are injectable so tests record waits, not sleep them."""
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._slots = asyncio.Semaphore(concurrency)
        self.policy = policy or GraphPolicy()
        self._sleep, self._clock, self._jitter = sleep, clock, jitter
        self._resume_at = 0.0  # no request goes out before this (clock) time: Graph said so
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def request(
        self, method: str, path: str, *, json: dict[str, Any] | None = None
    ) -> GraphAnswer:
        """`method path` (relative to the base URL) until it succeeds, fails for good, or the
        attempts run out; the last answer either way (status 0: no answer at all)."""
        last = GraphAnswer(0)
        for attempt in range(1, self.policy.max_attempts + 1):
            wait = self._resume_at - self._clock()
            if wait > 0:
                await self._sleep(wait)
            async with self._slots:
                try:
                    last, retry_after = await self._send(method, path, json)
                except (aiohttp.ClientError, TimeoutError) as error:
                    last, retry_after = (
                        GraphAnswer(0, {"error": {"code": type(error).__name__}}),
                        None,
                    )
            if last.status and last.status not in RETRY_STATUSES:
                return last
            if attempt == self.policy.max_attempts:
                break
            if retry_after is not None:
                shared = min(retry_after, self.policy.max_retry_after)
                self._resume_at = max(self._resume_at, self._clock() + shared)
            else:
                backoff = self._jitter() * min(
                    self.policy.backoff_cap, self.policy.backoff_base * 2.0 ** (attempt - 1)
                )
                await self._sleep(backoff)
            log.info(
                "graph retry %s attempt=%d status=%s retry_after=%s",
                method,
                attempt,
                last.status,
                retry_after,
            )
        return last

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[GraphAnswer, float | None]:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.policy.timeout)
            )
        headers = {"Authorization": f"Bearer {await self._token()}"}
        async with self._http.request(
            method, f"{self.base_url}{path}", json=body, headers=headers
        ) as response:
            try:
                payload = await response.json(content_type=None)
            except ValueError:
                payload = None
            answer = GraphAnswer(response.status, payload if isinstance(payload, dict) else {})
            return answer, retry_after_seconds(response.headers.get("Retry-After"))
