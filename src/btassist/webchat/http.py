"""The local chat in the bot's own app (local mode only): /chat, Direct Line and Bot Connector.

The bot's replies, card updates and proactive messages go to the ``serviceUrl`` of the activity
or of the stored conversation reference. Here that is the app itself: it serves the local Bot
Connector's routes, so everything the bot sends lands in the person's conversation, and the
Direct Line routes show it to Web Chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Final

import aiohttp
from aiohttp import web

from btassist.common.language import Language
from btassist.db.engine import Database
from btassist.localchat.client import chat_user
from btassist.localchat.connector import LocalConnector
from btassist.roster.identity import find_person
from btassist.roster.queries import list_people
from btassist.webchat.directline import ROUTE_PREFIX, DirectLine
from btassist.webchat.page import POLLING_INTERVAL_MS, STATIC, chat_page, picker_page

LOCAL_CONNECTOR: Final = web.AppKey("local_connector", LocalConnector)
DIRECT_LINE: Final = web.AppKey("direct_line", DirectLine)

# What the app knows once it has started (it builds them in its own startup context).
BaseUrl = Callable[[web.Application], str]
DatabaseOf = Callable[[web.Application], Database]


def add_local_chat(
    app: web.Application, *, base_url: BaseUrl, database: DatabaseOf, tenant_id: str
) -> None:
    """Serve /chat, the Direct Line and the local Bot Connector from `app` (local mode only).

    `base_url(app)` is the address the started app listens on: the bot is posted to there and
    the connector's ``serviceUrl`` points there. `database(app)` is the started app's database.
    """
    connector = LocalConnector()
    direct_line = DirectLine(connector)
    app[LOCAL_CONNECTOR] = connector
    app[DIRECT_LINE] = direct_line
    app.router.add_routes(connector.routes())
    app.router.add_routes(direct_line.routes())
    app.router.add_get("/chat", _chat_handler(database, tenant_id))
    app.router.add_static(STATIC, Path(str(resources.files(__package__).joinpath("static"))))
    app.cleanup_ctx.append(_attached(base_url))


def _attached(
    base_url: BaseUrl,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def attached(app: web.Application) -> AsyncIterator[None]:
        url = base_url(app).rstrip("/")
        app[LOCAL_CONNECTOR].base_url = url
        async with aiohttp.ClientSession() as http:
            app[DIRECT_LINE].attach(bot_url=url, http=http)
            yield

    return attached


def _language(request: web.Request) -> Language | None:
    try:
        return Language(request.query.get("lang", "").strip().lower())
    except ValueError:
        return None


def _chat_handler(
    database_of: DatabaseOf, tenant_id: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def chat(request: web.Request) -> web.Response:
        """GET /chat: the picker; /chat?as=EMAIL&lang=sv|en: Web Chat as that person."""
        language = _language(request)
        email = request.query.get("as", "").strip()
        database = database_of(request.app)
        if not email:
            async with database.session(write_lock=False) as session:
                people = await list_people(session)
            return _html(picker_page(people, language or Language.sv))
        async with database.session(write_lock=False) as session:
            summary = await find_person(session, email=email)
        language = language or (summary.person.language if summary else None) or Language.sv
        user = chat_user(summary, email, language, tenant_id=tenant_id)
        config = {
            "domain": ROUTE_PREFIX,
            "token": request.app[DIRECT_LINE].open(user),
            "userID": user.id,
            "username": user.name,
            "initials": "".join(part[:1] for part in user.name.split()[:2]).upper(),
            "locale": user.locale,
            "pollingInterval": POLLING_INTERVAL_MS,
        }
        return _html(chat_page(language=language, email=email, summary=summary, config=config))

    return chat


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", headers={"Cache-Control": "no-store"})
