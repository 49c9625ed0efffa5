"""Excel out of Teams: each file through a one-time link, in the import format where there is one,
so export → send back changes nothing and export → edit → send back changes only the edit."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from btassist.app import DATABASE
from btassist.assessments.exports import PLAN_COLUMNS
from btassist.courses.exports import PARTICIPANT_COLUMNS
from btassist.courses.importer import SESSION_COLUMNS
from btassist.localchat.client import BotReply, ChatClient
from btassist.roster.files import PEOPLE_COLUMNS, PLACEMENT_COLUMNS
from btassist.roster.models import Person
from tests.support.bot import AMIR, SARA, RunningBot
from tests.support.files import FileServer, file_server, send_file, sheet_rows


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    async with file_server() as server:
        yield server


async def fetch(chat: ChatClient, reply: BotReply, title: str) -> bytes:
    """Download the file behind the button titled `title` (the link then stops working)."""
    url = reply.button(title).url
    assert url is not None
    async with chat.http.get(url) as response:
        assert response.status == 200, await response.text()
        assert "attachment" in response.headers["Content-Disposition"]
        return await response.read()


async def test_exports_sent_back_change_nothing(chat: ChatClient, files: FileServer) -> None:
    """The roster's two files and the sessions, each exported and sent straight back."""
    roster = await chat.say(SARA, "exportera roster")
    assert "Klart – Region Halland" in roster.text
    assert "fungerar en gång" in roster.text
    sessions = await chat.say(SARA, "exportera kurstillfällen")
    for reply, name, header in (
        (roster, "people-halland.xlsx", PEOPLE_COLUMNS),
        (roster, "placements-halland.xlsx", PLACEMENT_COLUMNS),
        (sessions, "sessions-halland.xlsx", SESSION_COLUMNS),
    ):
        data = await fetch(chat, reply, f"Ladda ner {name}")
        rows = sheet_rows(data)
        assert rows[0] == header
        assert len(rows) > 1
        back = await send_file(chat, files, SARA, name, data)
        assert f"”{name}” ändrar ingenting" in back.text, back.text
        assert back.buttons == []


async def test_an_edited_roster_export_changes_only_the_edit(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    reply = await chat.say(SARA, "exportera roster")
    data = await fetch(chat, reply, "Ladda ner people-halland.xlsx")
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    emails = [cell.value for cell in sheet["A"]]
    sheet.cell(row=emails.index(AMIR.email) + 1, column=2).value = "Amir Haddad Berg"
    edited = io.BytesIO()
    book.save(edited)

    preview = await send_file(chat, files, SARA, "people-halland.xlsx", edited.getvalue())
    assert "Ändras: 1" in preview.text
    assert "Nya: 0" in preview.text
    assert AMIR.email in preview.text
    done = await chat.click(SARA, preview, "Importera")
    assert "Importerat" in done.text
    async with bot.app[DATABASE].session(write_lock=False) as session:
        amir = (await session.exec(select(Person).where(col(Person.email) == AMIR.email))).one()
    assert amir.name == "Amir Haddad Berg"


async def test_plans_and_participants_are_lists_for_coordinators(chat: ChatClient) -> None:
    reply = await chat.say(SARA, "exportera bedömningar")
    rows = sheet_rows(await fetch(chat, reply, "Ladda ner plans-halland.xlsx"))
    assert rows[0] == PLAN_COLUMNS
    doctors = {row[0] for row in rows[1:]}
    assert AMIR.email in doctors
    assert all(email.endswith("@halland.example.org") for email in doctors)

    picked = await chat.say(SARA, "exportera deltagare försäkringsmedicin")
    assert "Menade du någon av dessa?" in picked.text
    [choices] = [e for e in picked.cards[0]["body"] if e["type"] == "Input.ChoiceSet"]
    titles = {choice["title"]: choice["value"] for choice in choices["choices"]}
    assert "Försäkringsmedicin AT/BT" in titles
    # Teams adds the drop-down's value to the button's data.
    data = {**picked.button("Deltagare").data, "course_id": titles["Försäkringsmedicin AT/BT"]}
    reply = await chat.post(chat.activity(SARA, value=data))
    [button] = reply.buttons
    assert button.title == "Ladda ner participants-halland-forsakringsmedicin.xlsx"
    rows = sheet_rows(await fetch(chat, reply, button.title))
    assert rows[0] == PARTICIPANT_COLUMNS

    refused = await chat.say(AMIR, "exportera roster")
    assert "förstod inte riktigt" in refused.text
    assert not any(button.title.startswith("Ladda ner") for button in refused.buttons)
