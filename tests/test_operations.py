"""What operators watch: liveness, readiness, Prometheus metrics and structured logs."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select

from btassist.app import DATABASE, RUNTIME
from btassist.db.engine import Database
from btassist.db.migrate import head_revision, upgrade
from btassist.db.types import utcnow
from btassist.observability.health import readiness
from btassist.observability.logs import LogFormat, configure_logging
from btassist.observability.metrics import Metrics, Outcome
from btassist.outbox.queue import enqueue
from btassist.roster.models import Person
from tests.support.bot import AMIR, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.processes import free_port, running_service


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def get(bot: RunningBot, path: str, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(bot.url + path, headers=headers) as r:
        return r.status, await r.text()


async def test_ready_when_the_database_answers_at_the_shipped_schema(bot: RunningBot) -> None:
    status, body = await get(bot, "/readyz")
    health_status, health = await get(bot, "/healthz")

    assert status == 200
    ready = json.loads(body)
    assert ready["status"] == "ready"
    assert ready["database"] == "ok"
    assert ready["schema"] == ready["expected_schema"] == head_revision()
    assert (health_status, json.loads(health)) == (200, {"status": "ok"})


async def test_an_empty_database_is_not_ready_but_the_process_is_alive(
    tmp_path: Path, connector: FakeConnector
) -> None:
    path = tmp_path / "bt.db"
    async with running_bot(local_settings(f"sqlite:///{path}"), connector) as bot:
        await bot.app[RUNTIME].worker.deliver_due()  # its first look at the outbox is over
        await bot.app[DATABASE].engine.dispose()
        path.unlink()  # the next connection finds an empty, unmigrated database

        status, body = await get(bot, "/readyz")
        health_status, _ = await get(bot, "/healthz")

    assert status == 503
    assert json.loads(body) | {"backend": "-"} == {
        "status": "not ready",
        "database": "ok",
        "backend": "-",
        "schema": None,
        "expected_schema": head_revision(),
        "mode": "local",
    }
    assert health_status == 200


async def test_readiness_names_an_unreachable_database_and_an_old_schema(tmp_path: Path) -> None:
    unreachable = Database(f"postgresql://nobody@127.0.0.1:{free_port()}/none")
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    await upgrade(old, "0003")
    try:
        gone, behind = await readiness(unreachable), await readiness(old)
    finally:
        await unreachable.dispose()
        await old.dispose()

    assert (gone.ready, gone.database) == (False, False)
    assert (behind.ready, behind.database, behind.schema) == (False, True, "0003")


async def test_metrics_show_feed_requests_and_the_outbox_backlog(bot: RunningBot) -> None:
    async with bot.app[DATABASE].session() as session:
        amir = (await session.exec(select(Person).where(Person.email == AMIR.email))).one()
        assert amir.id is not None
        for n, minutes in enumerate((90, 5)):
            await enqueue(
                session,
                person_id=amir.id,
                kind="reminder",
                params={},
                dedupe_key=f"metrics-{n}",
                available_at=utcnow() - timedelta(minutes=minutes),
            )
        await enqueue(  # scheduled for tomorrow: not backlog yet
            session,
            person_id=amir.id,
            kind="reminder",
            params={},
            dedupe_key="metrics-later",
            available_at=utcnow() + timedelta(days=1),
        )
    await get(bot, "/calendar/region/halland.ics")
    await get(bot, "/calendar/region/halland.ics")
    await get(bot, "/calendar/not-a-token.ics")

    status, exposition = await get(bot, "/metrics")

    assert status == 200
    found = samples(exposition)
    assert found[("btassist_feed_requests_total", (("feed", "region"), ("status", "200")))] == 2
    assert found[("btassist_feed_requests_total", (("feed", "personal"), ("status", "404")))] == 1
    assert found[("btassist_feed_request_duration_seconds_count", (("feed", "region"),))] == 2
    assert found[("btassist_outbox_messages", (("status", "pending"),))] == 2
    assert found[("btassist_outbox_messages", (("status", "sending"),))] == 0
    assert 90 * 60 <= found[("btassist_outbox_oldest_age_seconds", ())] < 95 * 60
    assert "not-a-token" not in exposition


async def test_metrics_need_the_token_when_one_is_set(
    tmp_path: Path, connector: FakeConnector
) -> None:
    settings = local_settings(f"sqlite:///{tmp_path / 'bt.db'}", metrics_token="s3cret")
    async with running_bot(settings, connector, demo=False) as bot:
        refused, _ = await get(bot, "/metrics")
        wrong, _ = await get(bot, "/metrics", Authorization="Bearer guess")
        allowed, exposition = await get(bot, "/metrics", Authorization="Bearer s3cret")

    assert (refused, wrong, allowed) == (401, 401, 200)
    assert "btassist_build_info" in exposition


def test_the_recording_calls_the_bot_uses_name_their_metrics() -> None:
    metrics = Metrics()
    with metrics.timed_turn("message"):
        pass
    with pytest.raises(RuntimeError), metrics.timed_turn("invoke"):
        raise RuntimeError("boom")
    metrics.turn_handled(activity="message", outcome=Outcome.ok, seconds=0.02)
    metrics.send_finished(outcome="delivered")
    metrics.connector_throttled()
    metrics.reminder_sweep_finished(outcome=Outcome.ok, queued=3, at=utcnow())

    found = samples(metrics.exposition().decode())

    assert found[("btassist_turns_total", (("activity", "message"), ("outcome", "ok")))] == 2
    assert found[("btassist_turns_total", (("activity", "invoke"), ("outcome", "error")))] == 1
    assert found[("btassist_turn_duration_seconds_count", (("activity", "message"),))] == 2
    assert found[("btassist_proactive_sends_total", (("outcome", "delivered"),))] == 1
    assert found[("btassist_connector_throttled_total", ())] == 1
    assert found[("btassist_reminder_sweeps_total", (("outcome", "ok"),))] == 1
    assert found[("btassist_reminders_queued_total", ())] == 3
    assert found[("btassist_reminder_sweep_last_success_timestamp_seconds", ())] > 0


def test_json_logs_are_one_object_a_line_without_email_addresses() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging(LogFormat.json, stream=stream)
        logging.getLogger("btassist.test").warning(
            "forwarded question %s for %s", 17, "anna@halland.example.org", extra={"count": 2}
        )
        try:
            raise ValueError("no seat for anna@halland.example.org")
        except ValueError:
            logging.getLogger("btassist.test").exception("turn failed")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING"
    assert first["logger"] == "btassist.test"
    assert first["message"] == "forwarded question 17 for <email>"
    assert first["count"] == 2
    assert first["time"].endswith("+00:00")
    assert "ValueError" in second["error"]
    assert "@" not in stream.getvalue()


def test_serve_writes_json_logs_when_asked(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'bt.db'}",
        "BTASSIST_LOG_FORMAT": "json",
        "BTASSIST_OUTBOX_INTERVAL": "0",
    }
    with running_service(["serve", "--port", str(port)], cwd=tmp_path, env=env, port=port) as serve:
        serve.terminate()
        assert serve.stdout is not None
        output = serve.stdout.read()

    logs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(e["logger"] == "btassist.app" and "LOCAL MODE" in e["message"] for e in logs)
    assert any(e["logger"] == "aiohttp.access" and "/healthz" in e["message"] for e in logs)


# Libraries a serve process imports only when a request needs one (or, alembic, only when the
# database is behind): each is megabytes every process would otherwise keep.
LOADED_ON_DEMAND = (
    "alembic",  # the database is already at the newest revision
    "dateparser",  # the first time phrase ("i mars") in a request
    "email_validator",  # the first address read from a table
    "holidays",  # a day off outside 2000-2099
    "icalendar",  # the first calendar feed built
    "openpyxl",  # the first workbook read or written
    "sqlalchemy.dialects.postgresql",  # never, on SQLite
    "snowballstemmer.swedish_stemmer",  # never: PyStemmer's C stemmers stand in
)


def test_a_started_process_loads_no_library_it_does_not_use_yet(sqlite_url: str) -> None:
    started = """
import asyncio, sys
from datetime import date
from zoneinfo import ZoneInfo
import btassist.cli, btassist.app
from btassist.common.workdays import WorkingDays
from btassist.db.engine import Database
from btassist.db.migrate import upgrade
from btassist.faq.store import FaqStore

async def start(url):
    database = Database(url)
    await upgrade(database)
    await database.dispose()

asyncio.run(start(sys.argv[1]))
FaqStore()
WorkingDays(ZoneInfo("Europe/Stockholm")).is_working_day(date(2026, 12, 24))
print(" ".join(sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", started, sqlite_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = set(done.stdout.split())
    assert {"btassist.app", "btassist.faq.morphology", "btassist.db.upsert"} <= loaded
    assert [name for name in LOADED_ON_DEMAND if name in loaded] == []
