"""`app_factory(settings)`: the aiohttp application with every collaborator wired in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from btassist.db.engine import Database
from btassist.db.migrate import current_revision, upgrade
from btassist.settings import Settings

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)


def app_factory(settings: Settings, *, demo: bool = False) -> web.Application:
    """Build the web application; nothing connects until the app starts."""
    app = web.Application()
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_database_context(settings, demo=demo))
    app.router.add_get("/healthz", healthz)
    return app


def _database_context(
    settings: Settings, *, demo: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def database_context(app: web.Application) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        await upgrade(database)
        if demo:
            from btassist.demo import load_demo

            await load_demo(database)
        app[DATABASE] = database
        yield
        await database.dispose()

    return database_context


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
        }
    )
