"""A small Bot Connector client for proactive sends: one aiohttp session, no per-call set-up.

botbuilder sends each proactive message through `continue_conversation`: a turn context, a
msrest client and `requests` in an executor thread — about 80 messages a second at best. A
broadcast needs far more, so proactive messages are posted here directly:
`POST {serviceUrl}/v3/conversations/{id}/activities` to send and
`DELETE …/activities/{activityId}` to recall. The bearer token still comes from the SDK's own
credentials object for the service URL (MSAL, the app's secret or certificate) and is kept until
shortly before it expires; without an app id (local mode) no token is sent, as the SDK does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt
from botframework.connector.auth import AuthenticationConstants
from yarl import URL

from btassist.bot.adapter import BTAdapter

TOKEN_MARGIN = 300.0
"""Seconds before a token's expiry at which it is fetched anew."""
UNKNOWN_LIFETIME = 600.0
"""How long to keep a token whose expiry cannot be read (not a JWT)."""
CONNECTIONS = 200
"""Open connections per client; each send holds one for a round trip."""

Credentials = Callable[[str], Awaitable[Any]]
"""The SDK's credentials object for a service URL."""


@dataclass(frozen=True)
class ConnectorResponse:
    """What the Bot Connector answered: status, `Retry-After`, and the JSON body (or {})."""

    status: int
    retry_after: str | None
    body: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        """The ErrorResponse code ("TooManyRequests", "ConversationBlockedByUser" …)."""
        error = self.body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        return str(code) if code else None


def sdk_credentials(adapter: BTAdapter, app_id: str) -> Credentials:
    """The credentials botbuilder would use for a proactive send to a service URL."""

    async def credentials(service_url: str) -> Any:
        claims = adapter.create_claims_identity(app_id)
        factory = adapter.bot_framework_authentication.create_connector_factory(claims)
        client = await factory.create(service_url, None)
        return client.config.credentials

    return credentials


class BearerTokens:
    """Tokens per service URL from the SDK's credentials, cached until near their expiry."""

    def __init__(self, credentials: Credentials, *, clock: Callable[[], float] = time.time) -> None:
        self._credentials = credentials
        self._clock = clock
        self._tokens: dict[str, tuple[str | None, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, service_url: str) -> str | None:
        """The bearer token for `service_url`; None when the bot runs without an app id."""
        cached = self._tokens.get(service_url)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        lock = self._locks.setdefault(service_url, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(service_url)
            if cached is not None and cached[1] > self._clock():
                return cached[0]
            credentials = await self._credentials(service_url)
            app_id = getattr(credentials, "microsoft_app_id", None)
            if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
                self._tokens[service_url] = (None, float("inf"))
                return None
            # MSAL may go to the network: keep it off the event loop.
            token = str(await asyncio.to_thread(credentials.get_access_token))
            self._tokens[service_url] = (token, self._expiry(token))
            return token

    def _expiry(self, token: str) -> float:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            expires = float(claims["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return self._clock() + UNKNOWN_LIFETIME
        return expires - TOKEN_MARGIN


class ConnectorClient:
    """Posts and deletes activities; one pooled aiohttp session for the process."""

    def __init__(self, tokens: BearerTokens) -> None:
        self.tokens = tokens
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONNECTIONS),
                json_serialize=json.dumps,
            )
        return self._session

    async def close(self) -> None:
        """Close the pooled connections (the app is stopping)."""
        if self._session is not None:
            await self._session.close()

    @staticmethod
    def _activities(service_url: str, conversation_id: str) -> str:
        base = service_url.rstrip("/")
        return f"{base}/v3/conversations/{quote(conversation_id, safe='')}/activities"

    async def _headers(self, service_url: str, *, body: bool) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"} if body else {}
        token = await self.tokens.token(service_url)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def send(self, service_url: str, conversation_id: str, body: bytes) -> ConnectorResponse:
        """POST one activity to a conversation."""
        url = URL(self._activities(service_url, conversation_id), encoded=True)
        headers = await self._headers(service_url, body=True)
        async with self._http().post(url, data=body, headers=headers) as response:
            return await _answer(response)

    async def delete(
        self, service_url: str, conversation_id: str, activity_id: str
    ) -> ConnectorResponse:
        """DELETE one activity the bot sent."""
        path = f"{self._activities(service_url, conversation_id)}/{quote(activity_id, safe='')}"
        headers = await self._headers(service_url, body=False)
        async with self._http().delete(URL(path, encoded=True), headers=headers) as response:
            return await _answer(response)


async def _answer(response: aiohttp.ClientResponse) -> ConnectorResponse:
    raw = await response.read()
    body: Any = {}
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
    return ConnectorResponse(
        status=response.status,
        retry_after=response.headers.get("Retry-After"),
        body=body if isinstance(body, dict) else {},
    )
