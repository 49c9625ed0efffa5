"""Excel in and out: people and sessions imported from `.xlsx` like CSV (all-or-nothing, every
problem by sheet and row), and exports in the import format, so export → import changes nothing
and export → edit → import changes only the edit."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from btassist.cli import app
from btassist.common.tabular import XLSX_MEDIA_TYPE, FileFormat, parse_csv_text, parse_table
from btassist.courses.enrolment import enrol
from btassist.courses.exports import export_participants, export_sessions
from btassist.courses.importer import (
    SessionFile,
    ensure_catalogue,
    import_sessions,
    parse_course_file,
    parse_sessions_text,
)
from btassist.db.engine import Database
from btassist.roster.exports import export_people, export_placements
from btassist.roster.files import parse_roster_file, read_roster_file
from btassist.roster.importer import import_roster
from btassist.roster.models import Role
from tests.support.snapshots import snapshot, snapshot_at

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def as_workbook(csv_text: str, *, title: str) -> bytes:
    """A CSV file as a coordinator keeps it in Excel: dates and times as real Excel dates,
    numbers as numbers, everything else as text."""
    table = parse_csv_text(csv_text, name="source.csv")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(table.header)
    for row in table.rows:
        sheet.append([_typed(value) for value in row.values.values()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(value: str) -> object:
    for parse in (
        lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M"),
        date.fromisoformat,
        int,
    ):
        try:
            return parse(value)
        except ValueError:
            continue
    return value or None


def edited(data: bytes, cell: str, value: object) -> bytes:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert sheet is not None
    sheet[cell] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def import_demo_roster(db: Database, demo_dir: Path) -> None:
    for name in ("people.csv", "placements.csv"):
        assert (await import_roster(db, read_roster_file(demo_dir / name))).ok


async def import_example_sessions(db: Database) -> None:
    await ensure_catalogue(db, now=NOW)
    sessions = parse_course_file(
        (EXAMPLES / "courses" / "sessions.csv").read_bytes(), name="sessions.csv"
    )
    assert isinstance(sessions, SessionFile)
    assert (await import_sessions(db, sessions, zone=STOCKHOLM, now=NOW)).ok


# --- Excel in -----------------------------------------------------------------------------------


async def test_people_workbook_with_a_bad_row_names_sheet_and_row_and_stores_nothing(
    db: Database, demo_dir: Path
) -> None:
    text = (demo_dir / "people.csv").read_text(encoding="utf-8")
    good = as_workbook(text, title="People")
    bad = edited(good, "D8", "atlantis")  # row 8: a doctor's region (nobody's supervisor)
    before = await snapshot(db)

    refused = await import_roster(db, parse_roster_file(bad, name="people.xlsx"))

    assert [(p.line, p.message.split(" (")[0]) for p in refused.problems] == [
        (8, "unknown region 'atlantis'")
    ]
    roster = parse_roster_file(bad, name="people.xlsx")
    assert roster.source.at(8) == "people.xlsx:People:8"
    assert await snapshot(db) == before

    imported = await import_roster(db, parse_roster_file(good, name="people.xlsx"))
    again = await import_roster(db, parse_roster_file(good, name="people.xlsx"))
    assert (len(imported.created), imported.problems) == (16, [])
    assert (again.created, again.updated, again.unchanged) == ([], [], 16)


async def test_sessions_workbook_with_excel_dates_and_numbers_imports_like_its_csv(
    db: Database,
) -> None:
    await ensure_catalogue(db, now=NOW)
    text = (EXAMPLES / "courses" / "sessions.csv").read_text(encoding="utf-8")
    from_csv = await import_sessions(
        db, parse_sessions_text(text, name="sessions.csv"), zone=STOCKHOLM, now=NOW
    )
    before = await snapshot(db)
    workbook = parse_course_file(as_workbook(text, title="Sessions"), name="sessions.xlsx")
    assert isinstance(workbook, SessionFile)

    from_excel = await import_sessions(db, workbook, zone=STOCKHOLM, now=NOW)

    assert len(from_csv.created) == 7
    assert (from_excel.created, from_excel.updated, from_excel.unchanged) == ([], [], 7)
    assert await snapshot(db) == before
    broken = parse_course_file(
        edited(as_workbook(text, title="Sessions"), "H3", -5), name="sessions.xlsx"
    )
    assert isinstance(broken, SessionFile)
    refused = await import_sessions(db, broken, zone=STOCKHOLM, now=NOW)
    assert [str(p) for p in refused.problems] == [
        "sessions.xlsx:Sessions:3: capacity -5 must be 1 or more (blank: no limit)"
    ]


# --- export → import ----------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", list(FileFormat))
async def test_roster_export_then_import_changes_nothing(
    db: Database, demo_dir: Path, file_format: FileFormat
) -> None:
    await import_demo_roster(db, demo_dir)
    before = await snapshot(db)

    people = await export_people(db, file_format=file_format)
    placements = await export_placements(db, file_format=file_format)
    results = [
        await import_roster(db, parse_roster_file(exported.data, name=exported.name))
        for exported in (people, placements)
    ]

    assert (people.name, people.rows, placements.rows) == (f"people.{file_format}", 16, 19)
    assert [(r.problems, r.created, r.updated) for r in results] == [([], [], [])] * 2
    assert [r.unchanged for r in results] == [16, 19]
    assert await snapshot(db) == before


async def test_roster_export_edit_import_changes_only_the_edit(
    db: Database, demo_dir: Path
) -> None:
    await import_demo_roster(db, demo_dir)
    halland_doctors = await export_people(
        db, file_format=FileFormat.xlsx, region="halland", role=Role.doctor
    )
    assert halland_doctors.media_type == XLSX_MEDIA_TYPE
    assert halland_doctors.name == "people-halland-doctor.xlsx"
    table = parse_table(halland_doctors.data, name=halland_doctors.name)
    assert [row.values["email"] for row in table.rows] == [
        "amir.haddad@halland.example.org",
        "elena.petrova@halland.example.org",
        "lukas.novak@halland.example.org",
    ]
    assert table.rows[0].values["main_supervisor_email"] == "karin.holm@halland.example.org"

    renamed = edited(halland_doctors.data, "B2", "Amir Haddad Karlsson")
    result = await import_roster(db, parse_roster_file(renamed, name="people.xlsx"))

    assert (result.updated, result.unchanged) == (["amir.haddad@halland.example.org"], 2)


async def _sessions_with_history(db: Database) -> None:
    """The example sessions, one of them cancelled since."""
    await import_example_sessions(db)
    cancelled = parse_sessions_text(
        "course_code,key,region,start,end,location,capacity,status\n"
        "halland-temadag-vald-i-nara-relationer,hal-vald-2027-02,halland,2027-02-17 09:00,"
        "2027-02-17 16:00,Hallands sjukhus Varberg (exempel),2,inställd\n",
        name="cancel.csv",
    )
    assert (await import_sessions(db, cancelled, zone=STOCKHOLM, now=NOW)).cancelled


@pytest.mark.parametrize("file_format", list(FileFormat))
async def test_sessions_export_then_import_changes_nothing(
    db: Database, file_format: FileFormat
) -> None:
    await _sessions_with_history(db)
    before = await snapshot(db)

    exported = await export_sessions(db, zone=STOCKHOLM, file_format=file_format)
    sessions = parse_course_file(exported.data, name=exported.name)
    assert isinstance(sessions, SessionFile)
    result = await import_sessions(db, sessions, zone=STOCKHOLM, now=NOW + timedelta(hours=1))

    assert exported.rows == 7
    assert (result.problems, result.created, result.updated, result.cancelled) == ([], [], [], [])
    assert result.unchanged == 7
    assert await snapshot(db) == before
    rows = {row.values["key"]: row.values for row in parse_table(exported.data, name="s").rows}
    assert rows["hal-fm-2027-03"]["deadline"] == "2027-03-01"  # the whole day, as imported
    assert rows["hal-stas-2027-02"]["deadline"] == "2027-01-26 12:00"
    assert rows["hal-vald-2027-02"]["status"] == "cancelled"
    assert rows["hal-fm-2027-03"]["status"] == ""  # blank never undoes a later cancellation
    assert rows["hal-onsdag-vt27"]["recurrence"] == "weekly"


async def test_sessions_export_follows_region_and_ended_filters(db: Database) -> None:
    await import_example_sessions(db)
    kronoberg = await export_sessions(
        db, zone=STOCKHOLM, file_format=FileFormat.csv, region="kronoberg"
    )
    assert kronoberg.name == "sessions-kronoberg.csv"
    assert kronoberg.rows == 1
    later = await export_sessions(
        db,
        zone=STOCKHOLM,
        file_format=FileFormat.csv,
        current_at=datetime(2027, 3, 1, tzinfo=UTC),
    )
    keys = [row.values["key"] for row in parse_table(later.data, name="s.csv").rows]
    assert "hal-stas-2027-02" not in keys  # ended by then
    assert "hal-onsdag-vt27" in keys  # a weekly series runs until June


async def test_participants_of_a_session_and_of_a_course(db: Database, demo_dir: Path) -> None:
    await import_demo_roster(db, demo_dir)
    await import_example_sessions(db)
    exported = await export_sessions(db, zone=STOCKHOLM, file_format=FileFormat.csv)
    assert exported.rows == 7
    ids = await _session_ids(db)
    emails = await _doctor_ids(db)
    for minute, name in enumerate(("lukas.novak", "amir.haddad", "elena.petrova")):
        await enrol(
            db,
            zone=STOCKHOLM,
            doctor_id=emails[f"{name}@halland.example.org"],
            session_id=ids["hal-vald-2027-02"],
            now=NOW + timedelta(minutes=minute),
        )

    session_file = await export_participants(
        db, zone=STOCKHOLM, file_format=FileFormat.xlsx, session_id=ids["hal-vald-2027-02"]
    )
    course_file = await export_participants(
        db,
        zone=STOCKHOLM,
        file_format=FileFormat.csv,
        course_code="halland-temadag-vald-i-nara-relationer",
    )

    assert session_file is not None
    assert course_file is not None
    assert session_file.name == "participants-hal-vald-2027-02.xlsx"
    rows = [row.values for row in parse_table(session_file.data, name="p.xlsx").rows]
    assert [(r["email"], r["status"], r["waitlist_position"]) for r in rows] == [
        ("lukas.novak@halland.example.org", "enrolled", ""),
        ("amir.haddad@halland.example.org", "enrolled", ""),
        ("elena.petrova@halland.example.org", "waitlisted", "1"),
    ]
    assert rows[0]["session_start"] == "2027-02-17 09:00"
    assert rows[0]["queued_at"] == "2026-11-23 10:00"  # local time
    assert (
        parse_table(course_file.data, name="p.csv").rows
        == parse_table(session_file.data, name="p.xlsx").rows
    )
    assert (
        await export_participants(db, zone=STOCKHOLM, file_format=FileFormat.csv, session_id=99999)
        is None
    )


async def _session_ids(db: Database) -> dict[str, int]:
    from sqlmodel import select

    from btassist.courses.models import CourseSession

    async with db.session() as session:
        return {s.key: s.id for s in (await session.exec(select(CourseSession))).all() if s.id}


async def _doctor_ids(db: Database) -> dict[str, int]:
    from sqlmodel import select

    from btassist.roster.models import Person

    async with db.session() as session:
        return {p.email: p.id for p in (await session.exec(select(Person))).all() if p.id}


# --- the command line ---------------------------------------------------------------------------


def test_cli_round_trips_roster_and_sessions_through_excel_and_csv(
    db_url: str, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", db_url)
    runner = CliRunner()
    for name in ("people.csv", "placements.csv"):
        assert runner.invoke(app, ["roster", "import", str(demo_dir / name)]).exit_code == 0
    sessions_csv = str(EXAMPLES / "courses" / "sessions.csv")
    assert runner.invoke(app, ["courses", "import", sessions_csv]).exit_code == 0
    people, placements, sessions = (tmp_path / n for n in ("p.xlsx", "pl.csv", "s.xlsx"))

    wrote = runner.invoke(app, ["roster", "list", "--xlsx", str(people)])
    listed = runner.invoke(app, ["roster", "placements", "--csv"])
    placements.write_text(listed.stdout, encoding="utf-8")
    exported = runner.invoke(app, ["courses", "list", "--past", "--xlsx", str(sessions)])

    assert wrote.exit_code == 0, wrote.output
    assert f"wrote 16 people to {people}" in wrote.output
    assert listed.stdout.splitlines()[0] == "doctor_email,kind,unit,start,end,supervisor_email"
    assert exported.exit_code == 0, exported.output
    before = snapshot_at(db_url)
    again = [
        runner.invoke(app, ["roster", "import", str(people)]),
        runner.invoke(app, ["roster", "import", str(placements)]),
        runner.invoke(app, ["courses", "import", str(sessions)]),
    ]
    assert [r.exit_code for r in again] == [0, 0, 0], [r.output for r in again]
    assert "0 were created, 0 were updated, 16 unchanged" in again[0].output
    assert "0 were created, 0 were updated, 19 unchanged" in again[1].output
    assert "0 were created, 0 were updated, 0 were cancelled" in again[2].output
    assert snapshot_at(db_url) == before


def test_cli_reports_workbook_problems_by_sheet_and_row(
    tmp_path: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    text = (demo_dir / "people.csv").read_text(encoding="utf-8")
    bad = tmp_path / "people.xlsx"
    bad.write_bytes(edited(as_workbook(text, title="Personal"), "C3", "trollkarl"))

    result = CliRunner().invoke(app, ["roster", "import", str(bad)])

    assert result.exit_code == 1
    assert f"{bad}:Personal: 1 problem(s); nothing was imported." in result.output
    assert f"{bad}:Personal:3: unknown role 'trollkarl'" in result.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    refused = CliRunner().invoke(app, ["roster", "import", str(broken)])
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1
    assert "is damaged" in refused.output
