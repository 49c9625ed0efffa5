"""GET /download/{token}: a one-time download link's file, as an attachment.

GET only: a HEAD (link checkers, previews) gets 405 and leaves the link working. Unknown, used,
expired and malformed links all get the same 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from aiohttp import web

from btassist.common.language import requested_language
from btassist.db.engine import Database
from btassist.desk.links import DOWNLOAD_PREFIX, take_download
from btassist.i18n.catalogue import t


@dataclass(frozen=True)
class DownloadService:
    """What the download route needs: the database and the clock deciding expiry."""

    database: Database
    clock: Callable[[], datetime]


DOWNLOADS = web.AppKey("downloads", DownloadService)


async def download(request: web.Request) -> web.StreamResponse:
    """The file behind the link, once."""
    service = request.app[DOWNLOADS]
    taken = await take_download(
        service.database, token=request.match_info["token"], now=service.clock()
    )
    if taken is None:
        language = requested_language(
            request.query.get("lang"), request.headers.get("Accept-Language")
        )
        return web.Response(
            status=404,
            text=t("download.gone", language) + "\n",
            content_type="text/plain",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )
    return web.Response(
        body=taken.data,
        headers={
            "Content-Type": taken.media_type,
            "Content-Disposition": _attachment(taken.name),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


def _attachment(name: str) -> str:
    """`attachment` with an ASCII fallback name and the real one (RFC 6266, RFC 8187)."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_routes() -> list[web.RouteDef]:
    """The download route; its service lives under `DOWNLOADS`."""
    return [web.get(DOWNLOAD_PREFIX + "{token}", download, allow_head=False)]
