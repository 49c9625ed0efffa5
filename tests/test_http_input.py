"""Bad input on /api/messages gets a clear 4xx, never a 500, and the process keeps serving."""

from __future__ import annotations

import json
import logging
import re

import aiohttp
import pytest
from sqlalchemy import text

from btassist.app import DATABASE, RUNTIME
from btassist.observability.metrics import METRICS
from tests.support.bot import AMIR, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.snapshots import snapshot


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """What these tests check does not depend on the database: they run on SQLite only."""
    return sqlite_url


async def _post(bot: RunningBot, body: bytes, content_type: str | None) -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{bot.url}/api/messages", data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def _activity(bot: RunningBot, **changes: object) -> dict[str, object]:
    activity = bot.chat.activity(AMIR, text="hjälp")
    for key, value in changes.items():
        if value is None:
            activity.pop(key)
        else:
            activity[key] = value
    return activity


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'{"type": "message", ', "application/json", 400, "not valid JSON"),
        (b"\xff\xfe", "application/json", 400, "not valid JSON"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b'{"type": "message"}', "text/plain", 415, "application/json"),
        (b'{"type": "message"}', None, 415, "application/json"),
        (b"{}", "application/json", 400, "lacks type, from, conversation, serviceUrl"),
    ],
)
async def test_malformed_requests_are_refused(
    bot: RunningBot, body: bytes, content_type: str | None, status: int, message: str
) -> None:
    got, answer = await _post(bot, body, content_type)
    assert got == status
    assert message in answer


@pytest.mark.parametrize("missing", ["from", "conversation", "serviceUrl"])
async def test_activities_missing_a_part_are_refused(bot: RunningBot, missing: str) -> None:
    status, answer = await _post(
        bot, json.dumps(_activity(bot, **{missing: None})).encode(), "application/json"
    )
    assert status == 400
    assert missing in answer


async def test_oversized_bodies_are_refused(bot: RunningBot) -> None:
    activity = _activity(bot, text="x" * (300 * 1024))
    status, _ = await _post(bot, json.dumps(activity).encode(), "application/json")
    assert status == 413
    ok = await bot.chat.say(AMIR, "hjälp")
    assert ok.status in (200, 201)


async def test_foreign_tenant_is_refused_and_nothing_is_stored(
    db_url: str, connector: FakeConnector
) -> None:
    settings = local_settings(db_url, allowed_tenants=frozenset({"our-tenant"}))
    async with running_bot(settings, connector) as running:
        await running.app[RUNTIME].worker.deliver_due()  # the demo's notices are settled first
        before = await snapshot(running.app[DATABASE])
        foreign = await running.chat.say(AMIR, "hjälp")  # AMIR's tenant is local-tenant
        assert foreign.status == 403
        assert connector.sent == []
        assert await snapshot(running.app[DATABASE]) == before
        ours = running.chat.activity(AMIR, text="hjälp")
        ours["channelData"] = {"tenant": {"id": "our-tenant"}}
        ours["conversation"]["tenantId"] = "our-tenant"  # type: ignore[index]
        allowed = await running.chat.post(ours)
        assert allowed.status in (200, 201)
        assert "Vad vill du göra?" in allowed.text


async def test_a_failing_turn_apologises_with_a_correlation_id(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    engine = bot.app[DATABASE].engine
    async with engine.begin() as connection:  # the placements query will fail mid-turn
        await connection.execute(text("ALTER TABLE placement RENAME TO placement_away"))
    try:
        with caplog.at_level(logging.ERROR, logger="btassist.bot"):
            reply = await bot.chat.say(AMIR, "kalender")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE placement_away RENAME TO placement"))
    assert reply.status < 500
    match = re.search(r"Felkod ([0-9a-f]{8})", reply.text)
    assert match, reply.text
    assert any(match.group(1) in record.getMessage() for record in caplog.records)
    assert "amir" not in caplog.text.lower()
    still = await bot.chat.say(AMIR, "hjälp")
    assert "Vad vill du göra?" in still.text


async def test_turns_are_counted_and_a_failed_one_as_an_error(bot: RunningBot) -> None:
    metrics = bot.app[METRICS]

    def turns(outcome: str) -> float:
        value = metrics.registry.get_sample_value(
            "btassist_turns_total", {"activity": "message", "outcome": outcome}
        )
        return value or 0.0

    await bot.chat.say(AMIR, "hjälp")
    assert (turns("ok"), turns("error")) == (1.0, 0.0)
    engine = bot.app[DATABASE].engine
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE placement RENAME TO placement_away"))
    try:
        await bot.chat.say(AMIR, "kalender")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE placement_away RENAME TO placement"))
    assert (turns("ok"), turns("error")) == (1.0, 1.0)
    seconds = metrics.registry.get_sample_value(
        "btassist_turn_duration_seconds_count", {"activity": "message"}
    )
    assert seconds == 2.0
