"""Files sent to the bot as Teams sends them: a loopback server standing in for OneDrive, the
message activity with the file-download attachment, and workbooks built like a coordinator's."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from aiohttp import web
from openpyxl import Workbook, load_workbook

from btassist.bot.files import FILE_DOWNLOAD_INFO
from btassist.localchat.client import BotReply, ChatClient, ChatUser
from btassist.localchat.loopback import serving


@dataclass
class FileServer:
    """Serves bytes at `/files/<name>` on loopback, as OneDrive serves a `downloadUrl`."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    status: int = 200
    announced_length: int | None = None  # a Content-Length to claim instead of the real one
    hang: asyncio.Event | None = None  # set: the server waits on it before answering

    def put(self, name: str, data: bytes) -> str:
        """Make `data` downloadable; its download URL."""
        self.files[name] = data
        return f"{self.url}/files/{name}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests.append(name)
        if self.hang is not None:
            await self.hang.wait()
        if self.status != 200 or name not in self.files:
            return web.Response(status=self.status if self.status != 200 else 404)
        data = self.files[name]
        if self.announced_length is None:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse(headers={"Content-Length": str(self.announced_length)})
        await response.prepare(request)
        await response.write(data)
        return response


@asynccontextmanager
async def file_server() -> AsyncIterator[FileServer]:
    """A `FileServer` on a free loopback port."""
    server = FileServer()
    app = web.Application()
    app.router.add_get("/files/{name}", server._serve)
    async with serving(app) as url:
        server.url = url
        yield server
        if server.hang is not None:
            server.hang.set()


def file_activity(chat: ChatClient, user: ChatUser, *, name: str, url: str) -> dict[str, Any]:
    """The message Teams posts when `user` attaches a file in their personal chat with the bot."""
    return chat.activity(
        user,
        text="",
        attachments=[
            {
                "contentType": FILE_DOWNLOAD_INFO,
                "contentUrl": f"https://contoso.sharepoint.com/personal/Documents/{name}",
                "name": name,
                "content": {
                    "downloadUrl": url,
                    "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
                    "fileType": name.rsplit(".", 1)[-1],
                    "etag": "1",
                },
            }
        ],
    )


async def send_file(
    chat: ChatClient, server: FileServer, user: ChatUser, name: str, data: bytes
) -> BotReply:
    """`user` attaches `data` as `name`."""
    url = server.put(name, data)
    return await chat.post(file_activity(chat, user, name=name, url=url))


Cell = str | int | float | date | datetime | None


def workbook(title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """A one-sheet workbook as Excel saves it: real dates, numbers as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_rows(data: bytes) -> list[tuple[Any, ...]]:
    """The first sheet's rows (header first) of a workbook."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
