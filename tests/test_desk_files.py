"""Files in and out where the database is not the subject: who may send one, what cannot be read,
how a file is fetched from Teams (size, time, https), and how a one-time link behaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from btassist.app import DATABASE
from btassist.assessments.exports import PLAN_COLUMNS
from btassist.bot.files import download
from btassist.calendar.http import redact_path
from btassist.cli import app
from btassist.common.tabular import ExportedFile
from btassist.db.engine import Database
from btassist.demo import demo_roster
from btassist.desk.cleanup import forget_expired_files
from btassist.desk.links import LINK_LIFETIME, download_url, offer_download, take_download
from btassist.desk.uploads import MAX_UPLOAD_BYTES, UPLOAD_LIFETIME, keep_upload
from btassist.dialogs.uploads import FileTooLarge, FileUnavailable
from btassist.localchat.client import ChatClient
from btassist.roster.files import PEOPLE_COLUMNS
from btassist.roster.identity import find_person
from btassist.roster.importer import import_roster
from tests.support.bot import AMIR, PER, SARA, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.files import FileServer, file_server, send_file, sheet_rows, workbook

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
NORA = ("nora.lund@halland.example.org", "Nora Lund", "supervisor", "halland")
BAD = ("olle.ek@halland.example.org", "Olle Ek", "kirurg", "halland")


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
async def files() -> AsyncIterator[FileServer]:
    async with file_server() as server:
        yield server


async def test_the_preview_speaks_english_with_rows(chat: ChatClient, files: FileServer) -> None:
    await chat.say(PER, "in English")
    broken = workbook("People", PEOPLE_COLUMNS, [NORA, BAD])
    reply = await send_file(chat, files, PER, "people.xlsx", broken)
    assert "Nothing imported: people.xlsx, sheet People" in reply.text
    assert "row 3: unknown role 'kirurg'" in reply.text


async def test_a_doctor_sending_a_file_is_refused_and_nothing_is_fetched(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    reply = await send_file(
        chat, files, AMIR, "people.xlsx", workbook("People", PEOPLE_COLUMNS, [NORA])
    )
    assert "Filer tar jag bara emot från BT-koordinatorer och studierektorer" in reply.text
    assert files.requests == []


UNREADABLE = [
    ("people.xlsx", b"PK\x03\x04 not really a zip", "Jag kan inte läsa ”people.xlsx”"),
    ("people.xls", bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 64, "gammal Excel-fil (.xls)"),
    ("report.pdf", b"%PDF-1.7", "”report.pdf” är inget kalkylark"),
    ("people.csv", b"namn,telefon\nA,1\n", "känner inte igen rubrikerna"),
    ("people.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "är för stor för mig (högst 5 MB)"),
]


async def test_a_file_that_cannot_be_read_gets_a_clear_message(
    chat: ChatClient, files: FileServer
) -> None:
    for name, data, expected in UNREADABLE:
        reply = await send_file(chat, files, SARA, name, data)
        assert expected in reply.text, name
        assert reply.buttons == []


async def test_a_file_teams_no_longer_serves_is_asked_for_again(
    chat: ChatClient, files: FileServer
) -> None:
    files.status = 403
    reply = await send_file(chat, files, SARA, "people.csv", b"email\n")
    assert "kunde inte hämta ”people.csv”" in reply.text


async def test_many_problems_are_listed_on_the_card_and_all_of_them_in_a_file(
    chat: ChatClient, bot: RunningBot, files: FileServer
) -> None:
    rows = [(f"person{n}@halland.example.org", f"P {n}", "kirurg", "halland") for n in range(40)]
    reply = await send_file(
        chat, files, SARA, "people.xlsx", workbook("People", PEOPLE_COLUMNS, rows)
    )
    assert "Rader att rätta: 40" in reply.text
    assert "rad 31:" in reply.text
    assert "rad 32:" not in reply.text
    assert "… och 10 till" in reply.text
    link = reply.button("Alla problem (.xlsx)")
    assert link.url is not None
    async with chat.http.get(link.url) as response:
        assert response.status == 200
        assert (await response.read()).startswith(b"PK")


# --- fetching the file from Teams ---------------------------------------------------------------


async def test_a_file_announced_too_large_is_not_read(files: FileServer) -> None:
    url = files.put("big.xlsx", b"PK")
    files.announced_length = MAX_UPLOAD_BYTES + 1
    with pytest.raises(FileTooLarge):
        await download(url, max_bytes=MAX_UPLOAD_BYTES, seconds=5, allow_http=True)


async def test_a_file_growing_past_the_limit_is_cut_off(files: FileServer) -> None:
    url = files.put("big.csv", b"x" * 2000)
    with pytest.raises(FileTooLarge):
        await download(url, max_bytes=1000, seconds=5, allow_http=True)
    assert await download(url, max_bytes=2000, seconds=5, allow_http=True) == b"x" * 2000


async def test_a_download_that_does_not_answer_in_time_is_given_up(files: FileServer) -> None:
    url = files.put("slow.csv", b"email\n")
    files.hang = asyncio.Event()
    with pytest.raises(FileUnavailable):
        await download(url, max_bytes=1000, seconds=0.05, allow_http=True)


async def test_outside_local_mode_only_https_is_fetched(files: FileServer) -> None:
    url = files.put("people.csv", b"email\n")
    with pytest.raises(FileUnavailable):
        await download(url, max_bytes=1000, seconds=5, allow_http=False)
    assert files.requests == []


# --- one-time download links --------------------------------------------------------------------


@pytest.fixture
async def database(sqlite_url: str) -> AsyncIterator[Database]:
    database = Database(sqlite_url)
    yield database
    await database.dispose()


async def roster_person(database: Database) -> int:
    """Sara, the demo roster's coordinator in Halland: whom the files are made for."""
    for roster in demo_roster():
        assert (await import_roster(database, roster)).ok
    async with database.session(write_lock=False) as session:
        found = await find_person(session, email=SARA.email)
    assert found is not None
    assert found.person.id is not None
    return found.person.id


async def test_a_link_works_once_and_not_after_it_expires(database: Database) -> None:
    person_id = await roster_person(database)
    file = ExportedFile(name="people-halland.xlsx", data=b"PK data", rows=3)
    token = await offer_download(database, person_id=person_id, file=file, now=NOW)
    taken = await take_download(database, token=token, now=NOW + timedelta(minutes=5))
    assert taken is not None
    assert (taken.name, taken.data) == (file.name, b"PK data")
    assert await take_download(database, token=token, now=NOW + timedelta(minutes=6)) is None

    late = await offer_download(database, person_id=person_id, file=file, now=NOW)
    assert await take_download(database, token=late, now=NOW + LINK_LIFETIME) is None
    assert await take_download(database, token=late[:-1] + "A", now=NOW) is None
    assert await take_download(database, token="../../etc/passwd", now=NOW) is None


async def test_the_download_route_serves_once_and_keeps_the_secret_out_of_logs(
    db_url: str, connector: FakeConnector
) -> None:
    clock = [NOW]
    async with running_bot(
        local_settings(db_url), connector, roster_only=True, clock=lambda: clock[0]
    ) as bot:
        person_id = await roster_person(bot.app[DATABASE])
        file = ExportedFile(name="överblick.xlsx", data=b"PK data", rows=1)
        token = await offer_download(bot.app[DATABASE], person_id=person_id, file=file, now=NOW)
        url = download_url(bot.url, token)
        http = bot.chat.http
        async with http.head(url) as response:
            assert response.status == 405  # a link checker does not use up the link
        async with http.get(url) as response:
            assert response.status == 200
            assert await response.read() == b"PK data"
            assert response.headers["Cache-Control"] == "no-store"
            assert "filename*=UTF-8''%C3%B6verblick.xlsx" in response.headers["Content-Disposition"]
        async with http.get(url, headers={"Accept-Language": "en"}) as response:
            assert response.status == 404
            assert "already been used or has expired" in await response.text()
    assert redact_path(f"/download/{token}") == "/download/redacted"
    assert token not in redact_path(f"/download/{token}")


# --- the command line's twin of "exportera bedömningar" ----------------------------------------


def test_assessments_export_writes_the_plans_of_a_region(tmp_path: Path, demo_dir: Path) -> None:
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'plans.db'}"}
    for name in ("people.csv", "placements.csv"):
        imported = CliRunner().invoke(app, ["roster", "import", str(demo_dir / name)], env=env)
        assert imported.exit_code == 0, imported.output
    out = tmp_path / "plans.xlsx"
    written = CliRunner().invoke(
        app, ["assessments", "export", "--region", "halland", "--xlsx", str(out)], env=env
    )
    assert written.exit_code == 0, written.output
    rows = sheet_rows(out.read_bytes())
    assert rows[0] == PLAN_COLUMNS
    assert {row[0] for row in rows[1:]} == {
        "amir.haddad@halland.example.org",
        "elena.petrova@halland.example.org",
        "lukas.novak@halland.example.org",
    }
    as_csv = CliRunner().invoke(app, ["assessments", "export", "--csv"], env=env)
    assert as_csv.output.splitlines()[0] == ",".join(PLAN_COLUMNS)
    assert "fatima.rahimi@gavleborg.example.org" in as_csv.output


async def test_expired_files_are_deleted_by_the_sweep(database: Database) -> None:
    person_id = await roster_person(database)
    file = ExportedFile(name="people-halland.xlsx", data=b"PK data", rows=3)
    await offer_download(database, person_id=person_id, file=file, now=NOW)
    await keep_upload(database, person_id=person_id, name="people.xlsx", data=b"PK", now=NOW)
    assert await forget_expired_files(database, now=NOW + timedelta(minutes=29)) == 0
    assert await forget_expired_files(database, now=NOW + UPLOAD_LIFETIME) == 1
    assert await forget_expired_files(database, now=NOW + LINK_LIFETIME) == 1
