"""`app_factory(settings)`: the aiohttp application with every collaborator wired in."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CONTENT_TYPE_LATEST

from btassist.assessments.store import PolicyStore
from btassist.assessments.sync import sync_plans
from btassist.bot.adapter import MAX_BODY_BYTES
from btassist.bot.runtime import BotRuntime, build_runtime
from btassist.calendar.http import FEEDS, FeedService, calendar_routes
from btassist.common.jobs import OwnedJobs
from btassist.common.watch import FileWatcher, Watched
from btassist.courses.importer import ensure_catalogue
from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.db.types import utcnow
from btassist.desk.cleanup import SWEEP_EVERY, forget_expired_files
from btassist.desk.http import DOWNLOADS, DownloadService, download_routes
from btassist.dialogs.turn import FlowContext
from btassist.faq.store import FaqStore
from btassist.i18n.catalogue import catalogue
from btassist.legal.pages import legal_routes
from btassist.localchat.client import LOCAL_TENANT
from btassist.observability.health import readiness
from btassist.observability.metrics import METRICS, Metrics, outbox_backlog
from btassist.privacy.http import EXPORTS, ExportDownloads, privacy_routes
from btassist.reminders.scheduling import add_reminder_jobs, sweeper
from btassist.reminders.sweep import SweepResult
from btassist.settings import Settings
from btassist.webchat.http import add_local_chat

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
RUNTIME = web.AppKey("runtime", BotRuntime)
FAQ = web.AppKey("faq", FaqStore)
POLICIES = web.AppKey("policies", PolicyStore)
WATCHER = web.AppKey("watcher", FileWatcher)
"""Keeps the FAQ and the region policies current (polling, SIGHUP); `check()` looks now."""
SWEEP: web.AppKey[Callable[[], Awaitable[SweepResult]]] = web.AppKey("reminder_sweep")
"""The app's reminder sweep at its clock's time (what the 08:30 timer runs), recorded in metrics."""
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
    `clock` replaces the wall clock (so does BTASSIST_CLOCK_START, in local mode).
    """
    clock = clock or configured_clock(settings)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(
        _service_context(settings, demo=demo, credentials_factory=credentials_factory, clock=clock)
    )
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_routes(calendar_routes())
    app.router.add_routes(download_routes())
    app.router.add_routes(
        legal_routes(organisation=settings.organisation, contact=settings.privacy_contact)
    )
    app.router.add_routes(privacy_routes())
    if settings.local_mode:  # unauthenticated by nature: never with a Bot Framework app id
        add_local_chat(
            app,
            base_url=lambda started: started.get(LISTENING_URL, settings.public_url),
            database=lambda started: started[DATABASE],
            tenant_id=min(settings.allowed_tenants, default=LOCAL_TENANT),
        )
    return app


def configured_clock(settings: Settings) -> Callable[[], datetime] | None:
    """BTASSIST_CLOCK_START's clock: that moment when the app is made, running on in real time
    (local mode only, which the settings enforce); None for the wall clock."""
    start = settings.clock_start_utc
    if start is None:
        return None
    offset = start - utcnow()
    return lambda: utcnow() + offset


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
        now_of = clock or utcnow
        now = now_of()
        policies = PolicyStore(settings.policy_dir)
        await ensure_catalogue(database, now=now)
        if demo:
            from btassist.demo import load_demo

            await load_demo(
                database,
                today=now.astimezone(settings.zone).date(),
                zone=settings.zone,
                now=now,
                policies=policies.current,
            )
        faq = FaqStore(settings.faq_dir)
        links = public_url(settings, app)
        context = FlowContext(
            database=database,
            zone=settings.zone,
            local_mode=settings.local_mode,
            public_url=links,
            faq=faq,
            policies=policies,
        )
        if clock is not None:
            context = replace(context, clock=clock)
        runtime = build_runtime(
            settings, context, credentials_factory=credentials_factory, metrics=app[METRICS]
        )
        catalogue()  # parsed now, not in the first turn or notice that needs a message
        runtime.worker.start()
        app[DATABASE] = database
        app[FEEDS] = FeedService(database, zone=settings.zone, public_url=links, clock=now_of)
        app[RUNTIME] = runtime
        app[EXPORTS] = ExportDownloads(database, clock=clock or utcnow)
        app[DOWNLOADS] = DownloadService(database, clock or utcnow)
        app[FAQ] = faq
        app[POLICIES] = policies

        async def plans_follow_policies() -> None:
            result = await sync_plans(database, policies=policies.current, now=now_of())
            log.info("plans regenerated after a policy change: %d item(s) changed", result.changed)

        watcher = FileWatcher(
            [
                Watched(faq, "FAQ"),
                Watched(policies, "policies", on_reload=plans_follow_policies),
            ],
            interval=settings.faq_reload_interval,
        )
        watcher.start()
        app[WATCHER] = watcher
        app[SWEEP] = sweeper(
            database, zone=settings.zone, policies=policies, clock=now_of, metrics=app[METRICS]
        )
        scheduler = AsyncIOScheduler(timezone=settings.zone)
        jobs = OwnedJobs()
        if settings.reminder_sweeps:
            add_reminder_jobs(scheduler, run_sweep=jobs.owned(app[SWEEP]), zone=settings.zone)
        scheduler.add_job(
            jobs.owned(_forget_expired_files),
            "interval",
            seconds=SWEEP_EVERY.total_seconds(),
            args=[database, clock or utcnow],
        )
        scheduler.start()
        yield
        await watcher.stop()
        scheduler.shutdown(wait=False)  # a sweep under way is cancelled: its transaction undone
        await jobs.stop()  # … and has let go of its connection before the database is disposed
        await runtime.worker.stop()
        await runtime.sender.close()
        if runtime.installer is not None:
            await runtime.installer.close()
        await runtime.adapter.close()
        await database.dispose()

    return service_context


async def _forget_expired_files(database: Database, clock: Callable[[], datetime]) -> None:
    """The coordinator's desk: uploads and download links past their expiry are deleted."""
    await forget_expired_files(database, now=clock())


async def messages(request: web.Request) -> web.Response:
    """POST /api/messages: the Bot Framework endpoint."""
    return await request.app[RUNTIME].handle(request)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process serves HTTP. Never touches the database (a slow one is no reason
    to restart the process; that is what /readyz is for)."""
    return web.json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers and its schema is the one this code ships; else 503."""
    database = request.app[DATABASE]
    found = await readiness(database)
    body = {
        "status": "ready" if found.ready else "not ready",
        "database": "ok" if found.database else "unreachable",
        "backend": database.engine.dialect.name,
        "schema": found.schema,
        "expected_schema": found.expected,
        "mode": "local" if request.app[SETTINGS].local_mode else "bot-framework",
    }
    return web.json_response(
        body, status=200 if found.ready else 503, headers={"Cache-Control": "no-store"}
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics; with `BTASSIST_METRICS_TOKEN` set, only for `Bearer <token>`."""
    token = request.app[SETTINGS].metrics_token.get_secret_value()
    if token and not hmac.compare_digest(
        request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()
    ):
        return web.json_response({"error": "unauthorized"}, status=401)
    measured = request.app[METRICS]
    measured.show_outbox(await outbox_backlog(request.app[DATABASE]))
    return web.Response(
        body=measured.exposition(),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )
