"""Running an aiohttp app on a free loopback port: for the terminal chat, tests and benches."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from btassist.app import LISTENING_URL


@asynccontextmanager
async def serving(app: web.Application, **runner_options: Any) -> AsyncIterator[str]:
    """Start `app` on 127.0.0.1 (its startup hooks run here) and yield its base URL.

    The port is bound before the app starts, so the app knows where it listens (its links and
    the local connector's ``serviceUrl`` use it).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    app[LISTENING_URL] = url
    runner = web.AppRunner(app, **({"access_log": None} | runner_options))
    try:
        await runner.setup()
        await web.SockSite(runner, listener).start()
        yield url
    finally:
        await runner.cleanup()
        listener.close()
