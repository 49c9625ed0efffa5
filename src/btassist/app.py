"""`app_factory(settings)`: the aiohttp application with every collaborator wired in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from btassist.bot.adapter import MAX_BODY_BYTES
from btassist.bot.proactive import ProactiveSender
from btassist.bot.runtime import BotRuntime, build_runtime
from btassist.calendar.http import FEEDS, FeedService, calendar_routes
from btassist.courses.importer import ensure_catalogue
from btassist.db.engine import Database
from btassist.db.migrate import current_revision, upgrade
from btassist.db.types import utcnow
from btassist.dialogs.turn import FlowContext
from btassist.faq.store import FaqStore
from btassist.faq.watch import FaqWatcher
from btassist.localchat.client import LOCAL_TENANT
from btassist.settings import Settings
from btassist.webchat.http import add_local_chat

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
RUNTIME = web.AppKey("runtime", BotRuntime)
SENDER = web.AppKey("sender", ProactiveSender)
FAQ = web.AppKey("faq", FaqStore)
LISTENING_URL = web.AppKey("listening_url", str)
"""Where the app actually listens (``http://host:port``), set by whoever starts it."""

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
    app.router.add_routes(calendar_routes())
    if settings.local_mode:  # unauthenticated by nature: never with a Bot Framework app id
        add_local_chat(
            app,
            base_url=lambda started: started.get(LISTENING_URL, settings.public_url),
            database=lambda started: started[DATABASE],
            tenant_id=min(settings.allowed_tenants, default=LOCAL_TENANT),
        )
    return app


def listening_url(host: str, port: int) -> str:
    """The address of `host:port` to open from this machine (a wildcard host means loopback)."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def public_url(settings: Settings, app: web.Application) -> str:
    """The base of links the bot prints: BTASSIST_PUBLIC_URL when set; in local mode otherwise
    the address actually serving, so a calendar link works on whatever port the app got."""
    if settings.local_mode and "public_url" not in settings.model_fields_set:
        return app.get(LISTENING_URL, settings.public_url)
    return settings.public_url


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
        now = (clock or utcnow)()
        await ensure_catalogue(database, now=now)
        if demo:
            from btassist.demo import load_demo

            await load_demo(
                database, today=now.astimezone(settings.zone).date(), zone=settings.zone
            )
        faq = FaqStore(settings.faq_dir)
        links = public_url(settings, app)
        context = FlowContext(
            database=database,
            zone=settings.zone,
            local_mode=settings.local_mode,
            public_url=links,
            faq=faq,
        )
        if clock is not None:
            context = replace(context, clock=clock)
        runtime = build_runtime(settings, context, credentials_factory=credentials_factory)
        app[DATABASE] = database
        app[FEEDS] = FeedService(
            database, zone=settings.zone, public_url=links, clock=clock or utcnow
        )
        app[RUNTIME] = runtime
        app[SENDER] = runtime.sender
        app[FAQ] = faq
        faq_watcher = FaqWatcher(faq, interval=settings.faq_reload_interval)
        faq_watcher.start()
        scheduler = AsyncIOScheduler(timezone=settings.zone)
        if settings.outbox_interval > 0:
            scheduler.add_job(
                runtime.dispatcher.dispatch_once,
                "interval",
                seconds=settings.outbox_interval,
                id="outbox",
                max_instances=1,
                coalesce=True,
            )
        scheduler.start()
        yield
        await faq_watcher.stop()
        scheduler.shutdown(wait=False)
        await runtime.dispatcher.drain()
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
