"""The cohort overview for 300 BT doctors: one "översikt" card turn, through the real endpoint.

Target (issue 15): the turn answers within 300 ms on SQLite. One region with 300 doctors, each
with a programme, four placements, the plan their region's policy makes (about 20 items each),
some items overdue and nudged and some mandatory courses done; a koordinator types "översikt"
and the turn counts from the POST to the HTTP response, by which time the card has reached the
local Bot Connector (the bot awaits it). The figure is the 95th percentile of the measured turns.

Run: `python bench/overview.py [--doctors 300] [--turns 30]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy import update
from sqlmodel import col, select

from btassist.app import DATABASE, app_factory
from btassist.assessments.models import PlanItem
from btassist.assessments.sync import sync_plans
from btassist.courses.models import CourseCompletion, CourseRegion
from btassist.db.engine import Database
from btassist.localchat.client import ChatClient, ChatUser, cards_of
from btassist.localchat.loopback import serving
from btassist.roster.files import PEOPLE_COLUMNS, PLACEMENT_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from btassist.settings import Settings

if TYPE_CHECKING:
    from tests.support.connector import FakeConnector

TARGET_MS = 300.0
WARMUP_TURNS = 5
JSON = {"Content-Type": "application/json"}
REPO = Path(__file__).resolve().parents[1]
TODAY = date.today()
NOW = datetime.combine(TODAY, clock_time(11), tzinfo=UTC)
COORDINATOR = ChatUser(
    "Sara Koordinator", "sara@bench.example.org", "00000000-0000-4000-8000-00000000b001"
)


def connector_server() -> FakeConnector:
    """The local Bot Connector on a loopback port of its own, in a thread (tests/support)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # a script's own path is bench/, not the repository
    from tests.support.connector import FakeConnector

    return FakeConnector()


async def cohort(database: Database, doctors: int) -> None:
    """A Halland cohort of `doctors`, started over the past year, with plans and completions."""
    people = [
        ",".join(PEOPLE_COLUMNS),
        f"{COORDINATOR.email},{COORDINATOR.name},coordinator,halland,"
        f"{COORDINATOR.aad_object_id},sv,,,,",
    ]
    supervisors = [f"handledare{n}@bench.example.org" for n in range(20)]
    people += [
        f"{email},Handledare {n},supervisor,halland,,,,,," for n, email in enumerate(supervisors)
    ]
    placements = [",".join(PLACEMENT_COLUMNS)]
    kinds = ("akut", "primarvard", "psykiatri", "valfri")
    for n in range(doctors):
        email = f"doctor{n:03d}@bench.example.org"
        start = TODAY - timedelta(days=n % 365)
        supervisor = supervisors[n % len(supervisors)]
        people.append(
            f"{email},Läkare {n:03d},doctor,halland,,,block,{start},"
            f"{start + timedelta(days=364)},{supervisor}"
        )
        for part, kind in enumerate(kinds[n % 4 :] + kinds[: n % 4]):
            begins = start + timedelta(days=91 * part)
            placements.append(
                f"{email},{kind},Enhet {part},{begins},{begins + timedelta(days=90)},{supervisor}"
            )
    for text in (people, placements):
        result = await import_roster(database, parse_roster_text("\n".join(text)))
        assert result.ok, result.problems[:3]
    await sync_plans(database)
    async with database.session() as session:
        await session.exec(
            update(PlanItem)
            .where(col(PlanItem.due) < TODAY, col(PlanItem.id) % 3 == 0)
            .values(nudged_on=TODAY - timedelta(days=2))
        )
        await session.exec(
            update(PlanItem)
            .where(col(PlanItem.due) < TODAY, col(PlanItem.id) % 3 == 1)
            .values(status="done", done_on=TODAY - timedelta(days=1))
        )
        mandatory = (
            await session.exec(
                select(CourseRegion.course_id).where(
                    col(CourseRegion.region_code) == "halland", col(CourseRegion.mandatory)
                )
            )
        ).all()
        ids = (await session.exec(select(Person.id).where(col(Person.email).like("doctor%")))).all()
        for number, doctor_id in enumerate(ids):
            for course_id in mandatory[: number % (len(mandatory) + 1)]:
                assert doctor_id is not None
                session.add(
                    CourseCompletion(doctor_id=doctor_id, course_id=course_id, completed_on=TODAY)
                )


async def main(doctors: int, turns: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            APP_ID="",
            outbox_interval=0,
        )
        app = app_factory(settings, clock=lambda: NOW)
        async with (
            connector_server() as connector,
            serving(app) as url,
            aiohttp.ClientSession() as http,
        ):
            await cohort(app[DATABASE], doctors)
            chat = ChatClient(bot_url=url, connector=connector, http=http)
            latencies = []
            size = 0
            for turn in range(WARMUP_TURNS + turns):
                activity = chat.activity(COORDINATOR, text="översikt", textFormat="plain")
                seen = connector.last_seq
                began = time.perf_counter()
                async with http.post(
                    f"{url}/api/messages", data=json.dumps(activity), headers=JSON
                ) as response:
                    await response.read()
                elapsed = time.perf_counter() - began
                cards = [
                    card
                    for delivery in connector.deliveries(COORDINATOR.conversation_id, after=seen)
                    for card in cards_of(delivery.activity)
                ]
                if response.status not in (200, 201) or not cards:
                    raise SystemExit(f"no overview card (HTTP {response.status})")
                if "Översikt" not in json.dumps(cards[0], ensure_ascii=False):
                    raise SystemExit("the card is not the overview")
                size = len(json.dumps(cards[0], ensure_ascii=False).encode())
                if turn >= WARMUP_TURNS:
                    latencies.append(elapsed * 1000)
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else latencies[0]
    verdict = "PASS" if p95 < TARGET_MS else "FAIL"
    print(
        f"overview of {doctors} doctors, {len(latencies)} turns on SQLite: "
        f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(latencies):.1f} ms; card {size / 1024:.1f} KB"
    )
    print(f"target: p95 < {TARGET_MS:.0f} ms  {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doctors", type=int, default=300, help="BT doctors in the region")
    parser.add_argument("--turns", type=int, default=30, help="measured turns (≥ 1)")
    arguments = parser.parse_args()
    if arguments.turns < 1 or arguments.doctors < 1:
        parser.error("--turns and --doctors must be at least 1")
    raise SystemExit(asyncio.run(main(arguments.doctors, arguments.turns)))
