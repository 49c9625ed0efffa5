"""The cohort overview ("översikt") in Teams: every BT doctor of the region, the most urgent
first, a page at a time; filters by cohort and current placement; the whole list as a workbook."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from btassist.app import DATABASE
from btassist.assessments.models import ItemKind, PlanItem
from btassist.courses.models import Course, CourseCompletion, CourseRegion
from btassist.db.engine import Database
from btassist.desk.overview import OVERVIEW_COLUMNS
from btassist.localchat.client import BotReply, ChatClient
from btassist.roster.files import PEOPLE_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.bot import AMIR, SARA, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.files import sheet_rows

TODAY = date.today()
NOW = datetime.combine(TODAY, time(11, 0), tzinfo=UTC)
EARLY = TODAY - timedelta(days=120)  # the even doctors' cohort
LATE = TODAY - timedelta(days=10)  # the odd doctors'
COHORT = 45


async def add_cohort(database: Database) -> None:
    """45 Halland doctors: even ones in akut since EARLY, odd ones in primary care since LATE;
    Doktor 00 has two overdue items (supervisors nudged yesterday) and one mandatory course
    done, Doktor 01 an item due in three days."""
    people = [",".join(PEOPLE_COLUMNS)]
    placements = ["doctor_email,kind,unit,start,end,supervisor_email"]
    for n in range(COHORT):
        email = f"dr{n:02d}@halland.example.org"
        start = EARLY if n % 2 == 0 else LATE
        people.append(
            f"{email},Doktor {n:02d},doctor,halland,,,block,{start},{start + timedelta(days=365)}"
        )
        kind, unit = ("akut", "Akuten") if n % 2 == 0 else ("primarvard", "Vårdcentralen")
        placements.append(f"{email},{kind},{unit},{start},{TODAY + timedelta(days=60)},")
    for text in (people, placements):
        assert (await import_roster(database, parse_roster_text("\n".join(text)))).ok
    async with database.session() as session:
        ids = dict(
            (
                await session.exec(
                    select(Person.email, Person.id).where(col(Person.email).like("dr0%"))
                )
            ).all()
        )
        first, second = ids["dr00@halland.example.org"], ids["dr01@halland.example.org"]
        for key, due in (("a:1", TODAY - timedelta(days=5)), ("a:2", TODAY - timedelta(days=3))):
            session.add(
                PlanItem(
                    doctor_id=first,
                    key=key,
                    kind=ItemKind.assessment,
                    due=due,
                    due_known_on=EARLY,
                    nudged_on=TODAY - timedelta(days=1),
                )
            )
        session.add(
            PlanItem(
                doctor_id=second,
                key="iup",
                kind=ItemKind.iup,
                due=TODAY + timedelta(days=3),
                due_known_on=LATE,
            )
        )
        course_id = (
            await session.exec(select(CourseRegion.course_id).where(*_mandatory()))
        ).first()
        assert course_id is not None
        session.add(CourseCompletion(doctor_id=first, course_id=course_id, completed_on=EARLY))


def _mandatory() -> tuple[object, ...]:
    return (
        col(CourseRegion.region_code) == "halland",
        col(CourseRegion.mandatory).is_(True),
        col(CourseRegion.course_id).in_(select(Course.id).where(col(Course.active).is_(True))),
    )


async def mandatory_in_halland(database: Database) -> int:
    async with database.session(write_lock=False) as session:
        query = select(func.count()).select_from(CourseRegion).where(*_mandatory())
        return (await session.exec(query)).one()


@pytest.fixture
async def bot(db_url: str, connector: FakeConnector) -> AsyncIterator[RunningBot]:
    async with running_bot(
        local_settings(db_url), connector, roster_only=True, clock=lambda: NOW
    ) as running:
        await add_cohort(running.app[DATABASE])
        yield running


def doctor_lines(reply: BotReply) -> list[str]:
    return [line for line in reply.text.splitlines() if line.startswith("**")]


async def filtered(chat: ChatClient, **data: str) -> BotReply:
    """The overview card's Filter button with its drop-downs set (Teams adds their values)."""
    return await chat.post(
        chat.execute_activity(SARA, verb="overview", data={"verb": "overview", **data})
    )


async def test_the_overview_pages_through_the_region_most_urgent_first(
    chat: ChatClient, bot: RunningBot
) -> None:
    total = COHORT + 3  # and the demo roster's three Halland doctors
    mandatory = await mandatory_in_halland(bot.app[DATABASE])
    reply = await chat.say(SARA, "översikt")
    assert "Översikt – Region Halland" in reply.text
    assert f"BT-läkare: {total} av {total} · med försenade moment: 1 · handledare påminda: 1" in (
        reply.text
    )
    lines = doctor_lines(reply)
    assert len(lines) == 20
    nudged = (TODAY - timedelta(days=1)).isoformat()
    assert lines[0] == (
        f"**Doktor 00** · Akut sjukvård, Akuten · kurser 1/{mandatory} · **försenade: 2** · "
        f"påmind {nudged}"
    )
    assert lines[1] == (
        f"**Doktor 01** · Primärvård, Vårdcentralen · kurser 0/{mandatory} · inom 14 dagar: 1"
    )
    assert f"Visar 1–20 av {total}" in reply.text
    assert [button.title for button in reply.buttons] == [
        "Filtrera",
        "Nästa",
        "Exportera (.xlsx)",
        "Excel-filer",
    ]
    assert len(json.dumps(reply.cards[0], ensure_ascii=False).encode()) < 40_000

    second = await chat.click(SARA, reply, "Nästa")
    assert f"Visar 21–40 av {total}" in second.text
    last = await chat.click(SARA, second, "Nästa")
    assert f"Visar 41–{total} av {total}" in last.text
    assert "Nästa" not in [button.title for button in last.buttons]
    assert "Föregående" in [button.title for button in last.buttons]

    refused = await chat.say(AMIR, "översikt")
    assert "förstod inte riktigt" in refused.text
    menu = await chat.say(SARA, "hjälp")
    titles = [button.title for button in menu.buttons]
    assert "Översikt och Excel" in titles
    [card] = menu.cards  # no row of buttons longer than Teams shows
    rows = [card.get("actions", [])] + [
        e["actions"] for e in card["body"] if e.get("type") == "ActionSet"
    ]
    assert all(len(row) <= 6 for row in rows)


async def test_the_overview_filters_and_exports_what_it_shows(chat: ChatClient) -> None:
    primary = await filtered(chat, placement="primarvard", cohort="all")
    lines = doctor_lines(primary)
    assert lines[0].startswith("**Doktor 01** · Primärvård")
    assert all(" · Primärvård" in line for line in lines)

    cohort = await filtered(chat, placement="all", cohort=EARLY.strftime("%Y-%m"))
    names = [line.split("**")[1] for line in doctor_lines(cohort)]
    assert names[0] == "Doktor 00"
    assert "Doktor 01" not in names
    assert f"BT-läkare: {COHORT // 2 + 1} av {COHORT + 3}" in cohort.text

    everyone = await filtered(chat, placement="all", cohort="all")
    exported = await chat.click(SARA, everyone, "Exportera (.xlsx)")
    url = exported.button("Ladda ner overview-halland.xlsx").url
    assert url is not None
    async with chat.http.get(url) as response:
        rows = sheet_rows(await response.read())
    assert rows[0] == OVERVIEW_COLUMNS
    assert len(rows) == 1 + COHORT + 3
    first = dict(zip(OVERVIEW_COLUMNS, rows[1], strict=True))
    assert first["email"] == "dr00@halland.example.org"
    assert first["overdue"] == 2
    assert first["last_nudged_on"].date() == TODAY - timedelta(days=1)
