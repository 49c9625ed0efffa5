"""Two `btassist serve` processes on one PostgreSQL behave as one: any turn may land on either
(conversation state lives in the database), notices go out once, and the feeds agree."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from btassist.localchat.client import BotReply, ChatClient, ChatUser
from tests.support.bot import AMIR, SARA
from tests.support.connector import FakeConnector
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.processes import free_port, running_service

POSTGRES = os.environ.get("BTASSIST_TEST_POSTGRES_URL", "")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES, reason="BTASSIST_TEST_POSTGRES_URL is not set"),
]
QUESTION = "kan jag jobba deltid under BT?"


@dataclass
class Pair:
    """Two serving processes, a client for each, and the one Bot Connector both answer to."""

    first: ChatClient
    second: ChatClient
    connector: FakeConnector
    http: aiohttp.ClientSession

    def texts(self, user: ChatUser) -> list[str]:
        return [
            json.dumps(activity, ensure_ascii=False)
            for activity in self.connector.sent_to(user.conversation_id)
        ]

    async def arrived(self, user: ChatUser, text: str, *, count: int = 1) -> int:
        """Wait (a few seconds at most) for `count` messages containing `text` to reach `user`."""
        for _ in range(100):
            found = sum(text in sent for sent in self.texts(user))
            if found >= count:
                return found
            await asyncio.sleep(0.05)
        return sum(text in sent for sent in self.texts(user))


@pytest.fixture
def database_url() -> Iterator[str]:
    loop = asyncio.new_event_loop()
    try:
        url = loop.run_until_complete(create_postgres_database(POSTGRES))
        yield url
        loop.run_until_complete(drop_postgres_database(POSTGRES, url))
    finally:
        loop.close()


@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[Pair]:
    ports = (free_port(), free_port())
    env = {"BTASSIST_DATABASE_URL": database_url, "BTASSIST_OUTBOX_INTERVAL": "0.2"}
    with ExitStack() as stack:
        for port in ports:  # one after the other: the second finds the demo already loaded
            stack.enter_context(
                running_service(
                    ["serve", "--demo", "--port", str(port)], cwd=tmp_path, env=env, port=port
                )
            )
        async with FakeConnector() as connector, aiohttp.ClientSession() as http:
            clients = [
                ChatClient(bot_url=f"http://127.0.0.1:{port}", connector=connector, http=http)
                for port in ports
            ]
            yield Pair(clients[0], clients[1], connector, http)


async def test_a_conversation_may_move_between_processes_turn_by_turn(pair: Pair) -> None:
    """Each step of a question, its answer and a confirmation lands on the other process."""
    await pair.first.say(SARA, "hjälp")  # Sara can be reached
    unsure = await pair.first.say(AMIR, QUESTION)
    forwarded = await pair.second.click(AMIR, unsure, "Fråga en person")
    assert "Jag har skickat din fråga till Sara Lindqvist" in forwarded.text
    assert await pair.arrived(SARA, "Fråga från en BT-läkare") == 1

    notice = [a for a in pair.connector.sent_to(SARA.conversation_id) if QUESTION in str(a)]
    prompt = await pair.first.click(SARA, BotReply(200, notice[-1:]), "Svara")
    assert "Skriv ditt svar till Amir Haddad" in prompt.text
    done = await pair.second.say(SARA, "Ja, 75 % går bra.")  # the other process takes it
    assert "Ditt svar skickas till Amir Haddad" in done.text
    assert await pair.arrived(AMIR, "Ja, 75 % går bra.") == 1

    # A confirmation asked on one process is answered on the other.
    await pair.first.say(AMIR, "kalender")
    asked = await pair.first.say(AMIR, "ny kalenderlänk")
    assert "Din nuvarande kalenderlänk slutar fungera direkt" in asked.text
    confirmed = await pair.second.say(AMIR, "ja")
    assert "Här är din nya kalenderlänk" in confirmed.text

    await asyncio.sleep(1.0)  # both workers have looked at the outbox several times since
    assert sum("Fråga från en BT-läkare" in text for text in pair.texts(SARA)) == 1
    assert sum("Ja, 75 % går bra." in text for text in pair.texts(AMIR)) == 1

    # Both serve the same calendar feed (one database, deterministic builds).
    bodies = []
    for client in (pair.first, pair.second):
        async with pair.http.get(f"{client.bot_url}/calendar/region/halland.ics") as response:
            assert response.status == 200
            bodies.append((response.headers["ETag"], await response.text()))
    (first_tag, first_body), (second_tag, second_body) = bodies
    assert first_tag == second_tag
    assert first_body == second_body
