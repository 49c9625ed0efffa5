"""The Bot Framework adapter: input hygiene, tenant allow-list and fail-closed authentication.

botbuilder's `CloudAdapter.process` turns only `PermissionError` into 401: a forged or expired
token, an unknown key id or unreachable signing keys escape as other exceptions (500). So this
adapter checks the request itself, authenticates first and maps *any* authentication failure to
401, and only then runs the turn. The channel's signing keys come from our own `SigningKeys`
(fetched with a time limit, off the event loop's path), not from botbuilder's blocking fetch.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity
from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.serialization import Model

from btassist.bot.connector_cache import CachingBotFrameworkAuthentication
from btassist.bot.signing_keys import SigningKeys
from btassist.observability.metrics import Metrics, Outcome
from btassist.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


class BTAdapter(CloudAdapter):  # type: ignore[misc]
    """CloudAdapter that refuses bad input with 4xx and fails closed on authentication."""

    def __init__(
        self,
        settings: Settings,
        *,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        auth = ConfigurationBotFrameworkAuthentication(
            settings, credentials_factory=credentials_factory
        )
        super().__init__(CachingBotFrameworkAuthentication(auth))
        self.allowed_tenants = settings.allowed_tenants
        self.signing_keys = SigningKeys(timeout=settings.signing_keys_timeout).install()

    async def close(self) -> None:
        """Stop key fetches under way; call when the app shuts down."""
        await self.signing_keys.close()

    async def process(self, request: web.Request, bot: Bot) -> web.Response:
        """Handle one POST /api/messages."""
        activity = await read_activity(request)
        tenant = tenant_of(activity)
        if self.allowed_tenants and tenant not in self.allowed_tenants:
            log.warning("refused activity from a tenant outside the allow-list")
            raise web.HTTPForbidden(
                text=json.dumps({"error": "tenant not allowed"}), content_type="application/json"
            )
        try:
            auth = await self.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except Exception as error:
            log.info("refused unauthenticated request: %s", type(error).__name__)
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "unauthorized"}), content_type="application/json"
            ) from None
        invoke_response = await self._timed(auth, activity, bot)
        if invoke_response is None:
            return web.Response(status=201)
        return web.json_response(json_body(invoke_response.body), status=invoke_response.status)

    async def _timed(self, auth: Any, activity: Activity, bot: Bot) -> Any:
        """Run the turn, counted and timed by activity type; a turn the apology handler had to
        answer counts as an error (see `turn_failed`)."""
        started = time.perf_counter()
        token = TURN_FAILED.set(False)
        outcome = Outcome.error
        try:
            response = await self.process_activity(auth, activity, bot.on_turn)
            outcome = Outcome.error if TURN_FAILED.get() else Outcome.ok
            return response
        finally:
            TURN_FAILED.reset(token)
            if self.metrics is not None:
                self.metrics.turn_handled(
                    activity=str(activity.type or "unknown"),
                    outcome=outcome,
                    seconds=time.perf_counter() - started,
                )


TURN_FAILED: ContextVar[bool] = ContextVar("btassist_turn_failed", default=False)
"""Set by the turn's error handler, read by the adapter when it counts the turn."""


def turn_failed() -> None:
    """Mark the current turn as failed (its error was handled with an apology)."""
    TURN_FAILED.set(True)


def json_body(value: Any) -> Any:
    """An invoke response body as JSON data.

    msrest's serializer cannot handle a plain dict (an Adaptive Card) inside a model such as
    `AdaptiveCardInvokeResponse`, so models are walked by their attribute map instead.
    """
    if isinstance(value, Model):
        return {
            spec["key"]: json_body(getattr(value, name))
            for name, spec in value._attribute_map.items()
            if getattr(value, name, None) is not None
        }
    if isinstance(value, list):
        return [json_body(item) for item in value]
    return value


def _bad_request(reason: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": reason}), content_type="application/json")


async def read_activity(request: web.Request) -> Activity:
    """Parse the body as an activity, or raise the right 4xx (never a 500)."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"error": "Content-Type must be application/json"}),
            content_type="application/json",
        )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=MAX_BODY_BYTES, actual_size=request.content_length
        )
    body = await request.read()  # aiohttp enforces client_max_size for chunked bodies
    try:
        payload: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _bad_request("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _bad_request("body must be a JSON object")
    missing = [
        name for name in ("type", "from", "conversation", "serviceUrl") if not payload.get(name)
    ]
    if missing:
        raise _bad_request(f"activity lacks {', '.join(missing)}")
    if not isinstance(payload["from"], dict) or not isinstance(payload["conversation"], dict):
        raise _bad_request("from and conversation must be objects")
    try:
        activity = Activity().deserialize(payload)
    except ValueError:
        raise _bad_request("body is not a Bot Framework activity") from None
    return activity


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant an activity comes from, as Teams reports it."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    return (
        (tenant.get("id") if isinstance(tenant, dict) else None)
        or getattr(activity.conversation, "tenant_id", None)
        or None
    )
