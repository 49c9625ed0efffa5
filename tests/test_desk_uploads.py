"""Excel files sent to the bot in Teams: a preview by row, nothing stored until "Importera", only
coordinators and only for their own region — transcripts through the real HTTP path, with the
file fetched from a loopback server as Teams' `downloadUrl`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlmodel import col, select

from btassist.app import DATABASE
from btassist.courses.importer import SESSION_COLUMNS
from btassist.courses.models import Course, CourseSession
from btassist.desk.models import PendingUpload
from btassist.localchat.client import ChatClient
from btassist.roster.files import PEOPLE_COLUMNS
from btassist.roster.models import BTProgramme, Person, PersonRole, Role
from tests.support.bot import FATIMA, SARA, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.files import FileServer, file_activity, file_server, send_file, workbook

KARIN_EMAIL = "karin.holm@halland.example.org"
NORA = (
    "nora.lund@halland.example.org",
    "Nora Lund",
    "doctor",
    "halland",
    None,
    "sv",
    "block",
    date(2027, 1, 4),
    date(2027, 12, 31),
    KARIN_EMAIL,
)
OLLE = ("olle.ek@halland.example.org", "Olle Ek", "handledare", "halland")


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    async with file_server() as server:
        yield server


async def person(bot: RunningBot, email: str) -> Person | None:
    async with bot.app[DATABASE].session(write_lock=False) as session:
        return (await session.exec(select(Person).where(col(Person.email) == email))).first()


async def test_a_bad_row_is_named_and_the_fixed_file_imports_on_importera(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    broken = workbook("People", PEOPLE_COLUMNS, [NORA, (*OLLE[:2], "kirurg", "halland")])
    reply = await send_file(chat, files, SARA, "people.xlsx", broken)
    assert "Inget importerat: people.xlsx, blad People" in reply.text
    assert "rad 3: unknown role 'kirurg'" in reply.text
    assert "Importera" not in [button.title for button in reply.buttons]
    assert await person(bot, NORA[0]) is None

    fixed = workbook("People", PEOPLE_COLUMNS, [NORA, OLLE])
    reply = await send_file(chat, files, SARA, "people.xlsx", fixed)
    assert "Förhandsgranskning: people.xlsx, blad People" in reply.text
    assert "Nya: 2" in reply.text
    assert "Ändras: 0" in reply.text
    assert "nora.lund@halland.example.org" in reply.text
    assert "Inget är sparat än" in reply.text
    assert await person(bot, NORA[0]) is None  # a preview stores nothing

    reply = await chat.click(SARA, reply, "Importera")
    assert "Importerat: people.xlsx, blad People" in reply.text
    assert "Nya: 2" in reply.text
    assert "planer uppdaterades" in reply.text  # Nora's plan was made from her BT dates
    nora, olle = await person(bot, NORA[0]), await person(bot, OLLE[0])
    assert nora is not None
    assert olle is not None
    async with bot.app[DATABASE].session(write_lock=False) as session:
        roles = set((await session.exec(select(PersonRole.role))).all())
        programme = (
            await session.exec(select(BTProgramme).where(col(BTProgramme.doctor_id) == nora.id))
        ).one()
        kept = (await session.exec(select(PendingUpload))).all()
    assert {Role.doctor, Role.supervisor} <= roles
    assert programme.start == date(2027, 1, 4)
    assert kept == []  # the file is gone once imported
    assert reply.buttons == []  # the answer took the preview's place: nothing to press twice


async def test_a_coordinator_cannot_import_another_regions_people(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    gavleborg_row = ("ny.person@gavleborg.example.org", "Ny Person", "supervisor", "gavleborg")
    moved = (FATIMA.email, "Fatima Rahimi", "supervisor", "halland")
    data = workbook("People", PEOPLE_COLUMNS, [OLLE, gavleborg_row, moved])
    reply = await send_file(chat, files, SARA, "people.xlsx", data)
    assert "rad 3: raden gäller Region Gävleborg" in reply.text
    assert f"rad 4: {FATIMA.email} hör till Region Gävleborg" in reply.text
    assert "Importera" not in [button.title for button in reply.buttons]
    fatima = await person(bot, FATIMA.email)
    assert fatima is not None
    assert fatima.region_code == "gavleborg"
    assert await person(bot, OLLE[0]) is None  # the good row waits for a good file


async def test_avbryt_drops_the_upload_and_an_old_importera_stores_nothing(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    preview = await send_file(
        chat, files, SARA, "people.xlsx", workbook("People", PEOPLE_COLUMNS, [OLLE])
    )
    cancelled = await chat.click(SARA, preview, "Avbryt")
    assert "avbröt" in cancelled.text
    late = await chat.click(SARA, preview, "Importera")
    assert "väntar jag inte längre på" in late.text
    assert await person(bot, OLLE[0]) is None


async def test_another_server_process_takes_the_importera_click(
    db_url: str, connector: FakeConnector, files: FileServer
) -> None:
    """The preview and the click reach different processes sharing the database."""
    async with (
        running_bot(local_settings(db_url), connector, roster_only=True) as first,
        running_bot(local_settings(db_url), connector, roster_only=True) as second,
    ):
        url = files.put("people.xlsx", workbook("People", PEOPLE_COLUMNS, [OLLE]))
        preview = await first.chat.post(
            file_activity(first.chat, SARA, name="people.xlsx", url=url)
        )
        reply = await second.chat.click(SARA, preview, "Importera")
        assert "Importerat" in reply.text
        assert await person(second, OLLE[0]) is not None


CATALOGUE = """\
courses:
  - code: halland-nytt-seminarium
    kind: seminarium
    title: {sv: Nytt seminarium, en: New seminar}
    regions: {halland: optional}
  - code: vgr-och-halland
    kind: kurs
    title: {sv: Delad kurs, en: Shared course}
    regions: {halland: optional, vgr: mandatory}
"""


async def test_course_files_import_only_the_own_regions_courses_and_sessions(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    reply = await send_file(chat, files, SARA, "kurser.yaml", CATALOGUE.encode())
    assert "Inget importerat: kurser.yaml" in reply.text
    assert "rad 6: kursen vgr-och-halland ges i Västra Götalandsregionen" in reply.text
    own = CATALOGUE.split("  - code: vgr-och-halland")[0]
    preview = await send_file(chat, files, SARA, "kurser.yaml", own.encode())
    assert "Kurskatalog" in preview.text
    assert "Nya: 1" in preview.text
    done = await chat.click(SARA, preview, "Importera")
    assert "Importerat: kurser.yaml" in done.text
    async with bot.app[DATABASE].session(write_lock=False) as session:
        codes = set((await session.exec(select(Course.code))).all())
    assert "halland-nytt-seminarium" in codes
    assert "vgr-och-halland" not in codes

    start = datetime.combine(date.today() + timedelta(days=30), time(9, 0))
    row = ["halland-forsakringsmedicin", "fm-teams-1", "halland", start, start + timedelta(hours=4)]
    rows = [
        [*row, "Halmstad, sal 2", None, 20],
        ["gavleborg-introduktion", "gb-1", "gavleborg", *row[3:], "Gävle", None, 10],
    ]
    refused = await send_file(
        chat, files, SARA, "sessions.xlsx", workbook("Sessions", SESSION_COLUMNS[:8], rows)
    )
    assert "rad 3: raden gäller Region Gävleborg" in refused.text
    preview = await send_file(
        chat, files, SARA, "sessions.xlsx", workbook("Sessions", SESSION_COLUMNS[:8], rows[:1])
    )
    assert "Kurstillfällen" in preview.text
    assert "Nya: 1" in preview.text
    assert "Ställs in: 0" in preview.text
    await chat.click(SARA, preview, "Importera")
    async with bot.app[DATABASE].session(write_lock=False) as session:
        added = (
            await session.exec(select(CourseSession).where(CourseSession.key == "fm-teams-1"))
        ).one()
    assert added.capacity == 20
