"""Message turns per second: our "hjälp" turn against a bare botbuilder echo bot, in one run.

Target (issue "No per-turn waste"): our turn at least 2× the echo bot's turns/s, where the echo
bot is botbuilder 4.17 with SDK defaults (a `CloudAdapter` that builds new connector clients on
every turn). Both bots run on loopback in this process and answer through the same local Bot
Connector; each gets the same Teams-shaped activity from a demo doctor. Turns are sequential
and alternate between the bots in blocks, so drift in machine load hits both alike; a turn
counts only when its answer (the echo, or our menu card) reached the connector.

Run: `python bench/turns.py [--turns 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from btassist.app import app_factory
from btassist.localchat.client import ChatClient, ChatUser, cards_of
from btassist.localchat.connector import JsonDict
from btassist.localchat.loopback import serving
from btassist.settings import Settings

if TYPE_CHECKING:
    from tests.support.connector import FakeConnector

TARGET_RATIO = 2.0
WARMUP_TURNS = 50
BLOCK_TURNS = 50  # the bots take turns in blocks this long
JSON = {"Content-Type": "application/json"}
REPO = Path(__file__).resolve().parents[1]

# A doctor from the demo roster (src/btassist/demo/roster/people.csv).
AMIR = ChatUser(
    "Amir Haddad", "amir.haddad@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000111"
)


def connector_server() -> FakeConnector:
    """The local Bot Connector on a loopback port of its own, in a thread (tests/support)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # a script's own path is bench/, not the repository
    from tests.support.connector import FakeConnector

    return FakeConnector()


class EchoBot(ActivityHandler):  # type: ignore[misc]
    """The baseline: repeats what it was told."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(turn_context.activity.text))


def echo_app() -> web.Application:
    """A bare echo bot with SDK defaults and authentication off (no app id)."""
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response: web.Response = await adapter.process(request, bot)
        return response

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


@dataclass
class Runner:
    """One bot under test: how to reach it, what to say, and what was measured."""

    name: str
    text: str
    chat: ChatClient
    answered: Callable[[JsonDict], bool]  # is this activity the answer we expect?
    latencies: list[float] = field(default_factory=list)
    replies: int = 0

    async def turn(self) -> float:
        """One message turn, timed from POST to HTTP response; the reply must have reached the
        connector by then (the bot awaits the connector before it answers the POST)."""
        activity = self.chat.activity(AMIR, text=self.text, textFormat="plain")
        body = json.dumps(activity)
        seen = self.chat.connector.last_seq
        began = time.perf_counter()
        async with self.chat.http.post(
            f"{self.chat.bot_url}/api/messages", data=body, headers=JSON
        ) as response:
            await response.read()
        elapsed = time.perf_counter() - began
        replies = [
            r.activity
            for r in self.chat.connector.deliveries(AMIR.conversation_id, after=seen)
            if r.is_new and r.reply_to_id == activity["id"]
        ]
        if response.status not in (200, 201) or not any(map(self.answered, replies)):
            raise SystemExit(f"{self.name}: no answer (HTTP {response.status}): {replies!r}")
        self.replies += len(replies)
        return elapsed

    async def run(self, turns: int) -> None:
        for _ in range(turns):
            self.latencies.append(await self.turn())

    @property
    def turns_per_second(self) -> float:
        return len(self.latencies) / sum(self.latencies)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[p - 1] * 1000

    def report(self) -> str:
        return (
            f"{self.name:<14} {self.turns_per_second:7.1f} turns/s   "
            f"p50 {self.percentile(50):5.2f} ms   p95 {self.percentile(95):5.2f} ms   "
            f"({len(self.latencies)} turns, {self.replies} replies at the connector)"
        )


async def main(turns: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", APP_ID=""
        )
        async with (
            connector_server() as connector,
            serving(echo_app()) as echo_url,
            serving(app_factory(settings, demo=True)) as our_url,
            aiohttp.ClientSession() as http,
        ):
            talk = {"connector": connector, "http": http}
            echo = Runner(
                "echo (SDK)",
                "hello",
                ChatClient(bot_url=echo_url, **talk),
                lambda reply: reply.get("text") == "hello",
            )
            ours = Runner(
                "ours (hjälp)",
                "hjälp",
                ChatClient(bot_url=our_url, **talk),
                lambda reply: bool(cards_of(reply)),
            )
            for runner in (echo, ours):
                for _ in range(WARMUP_TURNS):
                    await runner.turn()
                runner.replies = 0
            for start in range(0, turns, BLOCK_TURNS):
                for runner in (echo, ours):
                    await runner.run(min(BLOCK_TURNS, turns - start))
    ratio = ours.turns_per_second / echo.turns_per_second
    print(echo.report())
    print(ours.report())
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"ratio ours/echo: {ratio:.2f} (target ≥ {TARGET_RATIO:.1f})  {verdict}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=1000, help="measured turns per bot (≥ 2)")
    arguments = parser.parse_args()
    if arguments.turns < 2:
        parser.error("--turns must be at least 2")
    raise SystemExit(asyncio.run(main(arguments.turns)))
