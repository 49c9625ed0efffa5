"""`app_factory(settings)`: the aiohttp application with every collaborator wired in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from btassist.bot.adapter import MAX_BODY_BYTES
from btassist.bot.proactive import ProactiveSender
from btassist.bot.runtime import BotRuntime, build_runtime
from btassist.db.engine import Database
from btassist.db.migrate import current_revision, upgrade
from btassist.dialogs.turn import FlowContext
from btassist.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
RUNTIME = web.AppKey("runtime", BotRuntime)
SENDER = web.AppKey("sender", ProactiveSender)

LOCAL_MODE_BANNER = (
    "LOCAL MODE: MicrosoftAppId is not set, so /api/messages accepts requests WITHOUT "
    "Bot Framework authentication. Use it on loopback only; set MicrosoftAppId and "
    "MicrosoftAppPassword for Teams."
)


def app_factory(
    settings: Settings,
    *,
    demo: bool = False,
    credentials_factory: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """Build the web application; nothing connects until the app starts.

    `credentials_factory` (tests only) replaces Entra ID for the bot's outbound tokens;
    `clock` replaces the wall clock.
    """
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(
        _service_context(settings, demo=demo, credentials_factory=credentials_factory, clock=clock)
    )
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app


def _service_context(
    settings: Settings,
    *,
    demo: bool,
    credentials_factory: Any,
    clock: Callable[[], datetime] | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def service_context(app: web.Application) -> AsyncIterator[None]:
        if settings.local_mode:
            log.warning(LOCAL_MODE_BANNER)
        database = Database(settings.database_url)
        await upgrade(database)
        if demo:
            from btassist.demo import load_demo

            await load_demo(database)
        context = FlowContext(database=database, zone=settings.zone, local_mode=settings.local_mode)
        if clock is not None:
            context = FlowContext(
                database=database, zone=settings.zone, local_mode=settings.local_mode, clock=clock
            )
        app[DATABASE] = database
        app[RUNTIME] = build_runtime(settings, context, credentials_factory=credentials_factory)
        app[SENDER] = app[RUNTIME].sender
        yield
        await database.dispose()

    return service_context


async def messages(request: web.Request) -> web.Response:
    """POST /api/messages: the Bot Framework endpoint."""
    return await request.app[RUNTIME].handle(request)


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database status for load balancers and the README's first command."""
    database = request.app[DATABASE]
    if not await database.ping():
        return web.json_response({"status": "degraded", "database": "unreachable"}, status=503)
    revision = await current_revision(database)
    return web.json_response(
        {
            "status": "ok",
            "database": "ok",
            "backend": database.engine.dialect.name,
            "schema": revision,
            "mode": "local" if request.app[SETTINGS].local_mode else "bot-framework",
        }
    )
