"""Files people attach in their personal chat with the bot, fetched from where Teams put them.

Teams uploads an attached file to the sender's OneDrive and hands the bot an attachment of type
`application/vnd.microsoft.teams.file.download.info` whose `content.downloadUrl` is a short-lived,
pre-authorised link (the manifest's `supportsFiles` turns this on). The file is fetched only when
a flow asks for it, with a size limit and a time limit, over https (plain http on loopback in
local mode only).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from botbuilder.schema import Activity
from yarl import URL

from btassist.dialogs.uploads import FileTooLarge, FileUnavailable

log = logging.getLogger(__name__)

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
DOWNLOAD_TIMEOUT_SECONDS = 30.0
CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class TeamsFile:
    """A file attached to a message: its name and where Teams lets the bot fetch it."""

    name: str
    download_url: str
    allow_http: bool = False
    seconds: float = DOWNLOAD_TIMEOUT_SECONDS

    async def read(self, *, max_bytes: int) -> bytes:
        """The file's bytes (`FileTooLarge` beyond `max_bytes`, else `FileUnavailable`)."""
        return await download(
            self.download_url, max_bytes=max_bytes, seconds=self.seconds, allow_http=self.allow_http
        )


def sent_files(activity: Activity, *, allow_http: bool = False) -> list[TeamsFile]:
    """The files attached to a message (none for cards, pasted images and plain text)."""
    files = []
    for attachment in activity.attachments or []:
        if getattr(attachment, "content_type", None) != FILE_DOWNLOAD_INFO:
            continue
        content: Any = attachment.content if isinstance(attachment.content, dict) else {}
        url = content.get("downloadUrl")
        if isinstance(url, str) and url:
            name = str(attachment.name or "file")[:200]
            files.append(TeamsFile(name=name, download_url=url, allow_http=allow_http))
    return files


async def download(url: str, *, max_bytes: int, seconds: float, allow_http: bool) -> bytes:
    """GET `url` into memory within `seconds`, refusing more than `max_bytes` before and while
    reading."""
    if not _allowed(URL(url), allow_http):
        log.info("file download refused: not https")
        raise FileUnavailable()
    try:
        async with (
            asyncio.timeout(seconds),
            aiohttp.ClientSession() as http,
            http.get(url, max_redirects=MAX_REDIRECTS) as response,
        ):
            if not _allowed(response.url, allow_http):
                log.info("file download refused: redirected off https")
                raise FileUnavailable()
            if response.status != 200:
                log.info("file download failed: HTTP %s", response.status)
                raise FileUnavailable()
            if (response.content_length or 0) > max_bytes:
                raise FileTooLarge()
            data = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                data += chunk
                if len(data) > max_bytes:
                    raise FileTooLarge()
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.info("file download failed: %s", type(error).__name__)
        raise FileUnavailable() from error


def _allowed(url: URL, allow_http: bool) -> bool:
    return url.scheme == "https" or (allow_http and url.scheme == "http")
