"""GET/POST /privacy/export/{token}: downloading one's own data through a one-time link.

GET shows a page with a download button (sv or en, as /privacy does); only the button's POST
uses the link up and returns the JSON file, so whatever previews or scans the address first
does not spend it. The token is a secret: it never reaches the access log.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from btassist.calendar.http import FeedAccessLogger
from btassist.common.language import Language, requested_language
from btassist.db.engine import Database
from btassist.i18n.catalogue import t
from btassist.legal.pages import html_page
from btassist.privacy.export import export_person
from btassist.privacy.links import LINK_LIFETIME, export_link_is_live, redeem_export_link

EXPORT_PATH = re.compile(r"^/privacy/export/[^/]+$")
REDACTED_PATH = "/privacy/export/redacted"
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


class ExportDownloads:
    """What the export routes need: the database and the clock."""

    def __init__(self, database: Database, *, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.clock = clock


EXPORTS = web.AppKey("exports", ExportDownloads)


def export_url(public_url: str, token: str) -> str:
    """The address of a one-time export link."""
    return f"{public_url.rstrip('/')}/privacy/export/{token}"


def _language(request: web.Request) -> Language:
    return requested_language(request.query.get("lang"), request.headers.get("Accept-Language"))


def _page(request: web.Request, *, live: bool) -> web.Response:
    language = _language(request)
    title = t("privacy.page.title", language)
    if live:
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        body = [
            f"<p>{html.escape(t('privacy.page.intro', language, minutes=minutes))}</p>",
            f'<form method="post" action="{html.escape(request.path)}">'
            f'<button type="submit">{html.escape(t("privacy.page.download", language))}'
            "</button></form>",
        ]
    else:
        body = [f"<p>{html.escape(t('privacy.page.gone', language))}</p>"]
    body.append(
        f'<p><a href="/privacy?lang={language.value}">'
        f"{html.escape(t('legal.privacy.title', language))}</a></p>"
    )
    return web.Response(
        text=html_page(language, title, request.path, body),
        status=200 if live else 404,
        content_type="text/html",
        charset="utf-8",
        headers=PRIVATE,
    )


async def show_export(request: web.Request) -> web.Response:
    """The page with the download button, or that the link is used up or expired."""
    downloads = request.app[EXPORTS]
    live = await export_link_is_live(
        downloads.database, token=request.match_info["token"], now=downloads.clock()
    )
    return _page(request, live=live)


async def download_export(request: web.Request) -> web.Response:
    """Use the link up and send the person's data as a JSON file."""
    downloads = request.app[EXPORTS]
    now = downloads.clock()
    person_id = await redeem_export_link(
        downloads.database, token=request.match_info["token"], now=now
    )
    data = None
    if person_id is not None:
        data = await export_person(downloads.database, person_id=person_id, now=now)
    if data is None:
        return _page(request, live=False)
    name = f"btassist-{now.date().isoformat()}.json"
    return web.Response(
        text=json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json",
        charset="utf-8",
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def privacy_routes() -> list[web.RouteDef]:
    """GET and POST /privacy/export/{token}."""
    return [
        web.get("/privacy/export/{token}", show_export),
        web.post("/privacy/export/{token}", download_export),
    ]


class PrivateLinksAccessLogger(FeedAccessLogger):
    """aiohttp's access log without the secrets of feed links and export links."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log as aiohttp does, an export link's token blanked."""
        if EXPORT_PATH.match(request.rel_url.path):
            request = request.clone(rel_url=REDACTED_PATH)
        super().log(request, response, time)
