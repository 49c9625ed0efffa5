"""Running an aiohttp app on a free loopback port: for the terminal chat, tests and benches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


@asynccontextmanager
async def serving(app: web.Application, **runner_options: Any) -> AsyncIterator[str]:
    """Start `app` on 127.0.0.1 (its startup hooks run here) and yield its base URL."""
    runner = web.AppRunner(app, **({"access_log": None} | runner_options))
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
