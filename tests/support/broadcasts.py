"""What broadcast tests and the broadcast bench share: many reachable recipients in the
database, a lean counting Bot Connector (a rate limit and injected failures), and `btassist
serve` as a real process that can be killed."""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import insert, select

from btassist.conversations.models import ConversationRef
from btassist.db.engine import Database
from btassist.localchat.client import BOT_ID
from btassist.roster.models import Person, PersonRole, Role

TENANT = "local-tenant"


async def add_recipients(
    database: Database, *, count: int, service_url: str, region: str = "halland"
) -> list[int]:
    """`count` BT doctors in `region`, each reachable at `service_url` (conversation a:bulk-N)."""
    async with database.session() as session:
        await session.exec(
            insert(Person.__table__),  # type: ignore[attr-defined]
            params=[
                {
                    "email": f"bulk-{n}@{region}.example.org",
                    "name": f"BT-läkare {n}",
                    "region_code": region,
                    "active": True,
                    "created_at": _now(),
                    "updated_at": _now(),
                }
                for n in range(count)
            ],
        )
        rows = (
            await session.exec(
                select(Person.id, Person.email).where(Person.email.like("bulk-%"))  # type: ignore[attr-defined]
            )
        ).all()
        ids = {email: person_id for person_id, email in rows}
        people = [ids[f"bulk-{n}@{region}.example.org"] for n in range(count)]
        await session.exec(
            insert(PersonRole.__table__),  # type: ignore[attr-defined]
            params=[{"person_id": p, "role": Role.doctor.value} for p in people],
        )
        await session.exec(
            insert(ConversationRef.__table__),  # type: ignore[attr-defined]
            params=[
                {
                    "person_id": person_id,
                    "channel_id": "msteams",
                    "conversation_id": f"a:bulk-{n}",
                    "tenant_id": TENANT,
                    "active": True,
                    "updated_at": _now(),
                    "reference": json.dumps(
                        {
                            "bot": {"id": BOT_ID, "name": "BT-assistenten"},
                            "user": {"id": f"29:bulk-{n}"},
                            "conversation": {
                                "id": f"a:bulk-{n}",
                                "conversationType": "personal",
                                "tenantId": TENANT,
                            },
                            "channelId": "msteams",
                            "serviceUrl": service_url,
                        }
                    ),
                }
                for n, person_id in enumerate(people)
            ],
        )
    return people


def _now() -> Any:
    from btassist.db.types import utcnow

    return utcnow()


@dataclass
class CountingConnector:
    """A Bot Connector that counts messages like Teams: at most `rate` *accepted* messages in any
    sliding second (more gets a real 429 with Retry-After), plus injected 429s (with
    Retry-After) and 500s that create no message. Records when each message was accepted."""

    rate: float | None = None
    throttle_share: float = 0.0
    error_share: float = 0.0
    retry_after: int = 1
    seed: int = 7
    accepted: list[float] = field(default_factory=list)
    """Monotonic times of accepted messages, in order."""
    by_conversation: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    injected_429: int = 0
    injected_500: int = 0
    over_limit_429: int = 0
    first_request: float | None = None
    url: str = ""

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        # botbuilder's continue_conversation replies to its continuation activity's id
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._post)
        app.router.add_delete(
            "/v3/conversations/{conversation}/activities/{activity}", self._delete
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _error(self, status: int, code: str, retry_after: int | None = None) -> web.Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        body = {"error": {"code": code, "message": "injected by the counting connector"}}
        return web.json_response(body, status=status, headers=headers)

    async def _post(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        if self.first_request is None:
            self.first_request = now
        if self.rate is not None:
            recent = len(self.accepted) - bisect.bisect_right(self.accepted, now - 1.0)
            if recent >= self.rate:
                self.over_limit_429 += 1
                return self._error(429, "TooManyRequests", self.retry_after)
        draw = self._random.random()
        if draw < self.throttle_share:
            self.injected_429 += 1
            return self._error(429, "TooManyRequests", self.retry_after)
        if draw < self.throttle_share + self.error_share:
            self.injected_500 += 1
            return self._error(500, "InternalServerError")
        self.accepted.append(now)
        conversation = request.match_info["conversation"]
        self.by_conversation[conversation] += 1
        return web.json_response({"id": f"{len(self.accepted)}"}, status=201)

    async def _delete(self, request: web.Request) -> web.Response:
        self.deleted[request.match_info["conversation"]] += 1
        return web.Response(status=200)

    def peak_per_second(self) -> int:
        """The most messages accepted in any one-second window."""
        times = self.accepted
        return max(
            (bisect.bisect_right(times, start + 1.0 - 1e-9) - i for i, start in enumerate(times)),
            default=0,
        )

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.by_conversation.values() if count > 1)


class Serve:
    """`btassist serve` as a real process (output to a file, so a full pipe never stalls it)."""

    def __init__(self, *, cwd: Path, env: dict[str, str], port: int, log: Path) -> None:
        self.cwd, self.env, self.port, self.log = cwd, env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, patience: float = 60.0) -> None:
        with self.log.open("ab") as output:
            # Popen returns at once; the wait for /healthz below yields to the event loop.
            self.process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "btassist", "serve", "--port", str(self.port)],
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + patience
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.log.read_text()[-3000:]}")
            if await asyncio.to_thread(self._healthy):
                return
            if time.monotonic() > deadline:
                raise AssertionError("serve did not answer /healthz in time")
            await asyncio.sleep(0.05)

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError):
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no giving back."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def peak_rss_kb(self) -> int:
        """The process's peak resident set size so far (VmHWM)."""
        return self._status("VmHWM:")

    def rss_kb(self) -> int:
        """The process's resident set size now (VmRSS)."""
        return self._status("VmRSS:")

    def _status(self, field: str) -> int:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
        return 0
