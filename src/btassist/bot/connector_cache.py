"""Reusing Bot Connector clients across turns, which botbuilder 4.17 rebuilds on every turn.

A new msrest client costs ~3 ms of CPU (its retry policy scans a 999-entry list), a new MSAL
app and token request, and a new TCP/TLS connection. This wrapper keeps one client per
(service URL, app id, audience) and one user-token client per app id, and switches msrest's own
retries off: our proactive sender retries with backoff, and a retry inside msrest would hide the
HTTP status. A cached client also reads its proxy and CA settings from the environment once,
where `requests` would re-read them on every call.
"""

from __future__ import annotations

import os
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from cachetools import LRUCache
from requests.utils import get_environ_proxies

CLIENT_TIMEOUT_SECONDS = 30.0  # msrest's default is 100 s


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    claims = claims_identity.claims or {}
    app_id = claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(
        AuthenticationConstants.APP_ID_CLAIM
    )
    return str(app_id) if app_id else None


def without_msrest_retries(client: Any) -> Any:
    """Make every request one attempt with a readable status: our proactive sender retries.

    msrest hands its urllib3 `Retry` object itself to each requests session it makes (one per
    executor thread), so changing it in place reaches sessions made before and after; without
    this a failed GET is tried four times over ~5 s and surfaces as a status-less RetryError.
    tests/test_connector_cache.py fails if msrest stops working this way.
    """
    retry_policy = client.config.retry_policy
    retry_policy.retries = 0  # msrest's setter: total, connect and read attempts
    retry_policy.policy.raise_on_status = False  # urllib3: hand back the 503, not RetryError
    retry_policy.policy.respect_retry_after_header = False
    client.config.connection.timeout = CLIENT_TIMEOUT_SECONDS
    return client


def with_environment_resolved(client: Any, service_url: str) -> Any:
    """Settle proxy and CA bundle from the environment once for this client's service URL.

    With `trust_env` on, `requests` scans `os.environ` for proxies and looks for ~/.netrc on
    every call; a cached client talks to one service URL for its whole life, so the answer
    cannot change. The proxies and CA bundle resolve as `requests` would resolve them; .netrc
    is left out on purpose (Basic auth from it would replace the bot's bearer token).
    """
    config = client.config
    for scheme, proxy in get_environ_proxies(service_url).items():
        config.proxies.add(scheme, proxy)
    if config.connection.verify is True:
        config.connection.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
    config.proxies.use_env_settings = False
    return client


class _CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(
        self,
        inner: ConnectorFactory,
        cache: LRUCache[Any, Any],
        app_id: str | None,
        default_audience: str,
    ) -> None:
        self._inner, self._cache = inner, cache
        self._app_id, self._default_audience = app_id, default_audience

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        # Inbound turns pass the audience, proactive ones None: normalise so both share a client.
        key = (service_url, self._app_id, audience or self._default_audience)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            client = with_environment_resolved(without_msrest_retries(client), service_url)
            self._cache[key] = client
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Delegates to botbuilder's authentication, caching the clients it creates."""

    def __init__(self, inner: BotFrameworkAuthentication, size: int = 64) -> None:
        self._inner = inner
        self._connectors: LRUCache[Any, Any] = LRUCache(size)
        self._token_clients: LRUCache[Any, Any] = LRUCache(size)

    def _caching(self, factory: ConnectorFactory, claims: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(
            factory, self._connectors, _app_id(claims), self._inner.get_originating_audience()
        )

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._caching(
                result.connector_factory, result.claims_identity
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._caching(self._inner.create_connector_factory(claims_identity), claims_identity)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
