"""Importing the cohort from Excel CSV: all-or-nothing, idempotent, every problem by line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from btassist.cli import app
from btassist.common.language import Language
from btassist.db.engine import Database
from btassist.roster.files import (
    PEOPLE_COLUMNS,
    RosterFileError,
    parse_roster_text,
    read_roster_file,
)
from btassist.roster.importer import import_roster
from btassist.roster.models import BTProgramme, Person, Placement, Role
from btassist.roster.queries import list_people
from tests.support.snapshots import snapshot, snapshot_at

PEOPLE_HEADER = (
    "email,name,role,region,aad_object_id,language,bt_type,bt_start,bt_end,main_supervisor_email"
)


async def import_text(db: Database, text: str, *, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return await import_roster(db, parse_roster_text(text), dry_run=dry_run)


async def import_demo(db: Database, demo_dir: Path) -> None:
    for name in ("people.csv", "placements.csv"):
        result = await import_roster(db, read_roster_file(demo_dir / name))
        assert result.ok, result.problems


async def test_demo_cohort_imports_and_reimport_changes_nothing(
    db: Database, demo_dir: Path
) -> None:
    first = await import_roster(db, read_roster_file(demo_dir / "people.csv"))
    assert (len(first.created), first.updated, first.unchanged) == (16, [], 0)
    placements = await import_roster(db, read_roster_file(demo_dir / "placements.csv"))
    assert len(placements.created) == 19
    before = await snapshot(db)

    again = await import_roster(db, read_roster_file(demo_dir / "people.csv"))
    again_placements = await import_roster(db, read_roster_file(demo_dir / "placements.csv"))

    assert (again.created, again.updated, again.unchanged) == ([], [], 16)
    assert (again_placements.created, again_placements.updated) == ([], [])
    assert await snapshot(db) == before


async def test_roles_programme_and_supervisor_are_stored(db: Database, demo_dir: Path) -> None:
    await import_demo(db, demo_dir)
    async with db.session() as session:
        people = {s.person.email: s for s in await list_people(session)}
        amir = people["amir.haddad@halland.example.org"]
        karin = people["karin.holm@halland.example.org"]
        per = people["per.ekstrom@halland.example.org"]
        placements = (
            await session.exec(select(Placement).where(Placement.doctor_id == amir.person.id))
        ).all()
    assert per.roles == {Role.studierektor}
    assert karin.roles == {Role.supervisor}
    assert amir.programme is not None
    assert amir.programme.main_supervisor_id == karin.person.id
    assert [p.kind for p in sorted(placements, key=lambda p: p.start)] == [
        "psykiatri",
        "akut",
        "primarvard",
    ]


def test_cli_refuses_a_file_with_three_bad_rows_and_changes_nothing(
    db_url: str, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", db_url)
    runner = CliRunner()
    for name in ("people.csv", "placements.csv"):
        assert runner.invoke(app, ["roster", "import", str(demo_dir / name)]).exit_code == 0
    before = snapshot_at(db_url)
    bad = tmp_path / "people.csv"
    bad.write_text(
        PEOPLE_HEADER + "\n"
        "new.doctor@halland.example.org,Ny Läkare,doctor,halland,,,block,2027-01-01,2027-12-31,"
        "karin.holm@halland.example.org\n"
        "amir.haddad@halland.example.org,Amir H,doctor,atlantis,,,block,2026-09-01,2027-08-31,\n"
        "karin.holm@halland.example.org,Karin Holm,supervisor,halland,,,,,,\n"
        "x@halland.example.org,X,doctor,halland,,,block,2027-05-01,2027-01-01,\n"
        "y@halland.example.org,Y,doctor,halland,,,block,2027-01-01,2027-12-31,"
        "nobody@halland.example.org\n",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["roster", "import", str(bad)])

    assert result.exit_code == 1
    assert "3 problem(s); nothing was imported" in result.output
    assert f"{bad}:3: unknown region 'atlantis'" in result.output
    assert f"{bad}:5: bt_end 2027-01-01 is before bt_start 2027-05-01" in result.output
    assert f"{bad}:6: unknown supervisor nobody@halland.example.org" in result.output
    assert snapshot_at(db_url) == before


async def test_every_kind_of_bad_people_row_is_reported(db: Database) -> None:
    result = await import_text(
        db,
        PEOPLE_HEADER + "\n"
        "a@x.se,A,doctor|wizard,halland,,,block,2027-01-01,2027-12-31,\n"
        "a@x.se,A again,supervisor,halland,,,,,,\n"
        "not-an-email,B,supervisor,halland,,de,,,,\n"
        "c@x.se,,coordinator,halland,,,block,,,\n"
        "d@x.se,D,doctor,halland,,,weekly,2027-13-01,2027-12-31,\n"
        "e@x.se,E,doctor,halland,,,block,2027-01-01,2027-12-31,c@x.se,extra\n",
    )
    lines = {(p.line, p.message.split(" ")[0]) for p in result.problems}
    assert not result.ok
    assert (2, "unknown") in lines  # role wizard
    assert (2, "duplicate") in lines
    assert (3, "duplicate") in lines
    assert (4, "email") in lines
    assert (4, "language") in lines
    assert (5, "name") in lines
    assert (5, "BT") in lines
    assert (6, "bt_type") in lines
    assert (6, "bt_start") in lines
    assert (7, "more") in lines
    async with db.session() as session:
        assert (await session.exec(select(Person))).all() == []


async def test_excel_semicolon_file_with_bom_and_swedish_letters(db: Database) -> None:
    text = (
        "\ufeff" + PEOPLE_HEADER.replace(",", ";") + "\r\n"
        "åsa.öberg@region.example.org;Åsa Öberg;Handledare;Halland;;;;;;\r\n"
        '"björn@region.example.org";"Björn, Ärlig";läkare;halland;;EN;Block;2027-01-04;'
        "2027-12-31;åsa.öberg@region.example.org\r\n"
    )
    result = await import_text(db, text)
    assert result.ok, result.problems
    async with db.session() as session:
        bjorn = (
            await session.exec(select(Person).where(Person.email == "björn@region.example.org"))
        ).one()
        programme = (await session.exec(select(BTProgramme))).one()
    assert (bjorn.name, bjorn.language) == ("Björn, Ärlig", Language.en)
    assert programme.start.isoformat() == "2027-01-04"


async def test_dry_run_reports_changes_and_writes_nothing(db: Database, demo_dir: Path) -> None:
    await import_demo(db, demo_dir)
    before = await snapshot(db)
    text = (demo_dir / "people.csv").read_text(encoding="utf-8")
    text = text.replace("Karin Holm", "Karin Holm-Lund") + (
        "ny.lakare@halland.example.org,Ny Läkare,doctor,halland,,,block,2027-01-04,2027-12-31,\n"
    )
    result = await import_text(db, text, dry_run=True)
    assert result.created == ["ny.lakare@halland.example.org"]
    assert result.updated == ["karin.holm@halland.example.org"]
    assert result.unchanged == 15
    assert await snapshot(db) == before


async def test_update_changes_only_what_the_file_says(db: Database, demo_dir: Path) -> None:
    await import_demo(db, demo_dir)
    async with db.session() as session:
        elena = (
            await session.exec(select(Person).where(Person.email.startswith("elena")))  # type: ignore[attr-defined]
        ).one()
        elena.language = Language.sv  # she switched language in the chat
        elena.aad_object_id = "learned-by-the-bot"
        session.add(elena)
    text = (
        (demo_dir / "people.csv")
        .read_text(encoding="utf-8")
        .replace(
            "elena.petrova@halland.example.org,Elena Petrova,doctor,halland,"
            "6d1c0f6e-0000-4000-8000-000000000112,en,",
            "elena.petrova@halland.example.org,Elena Petrova,doctor|supervisor,halland,,,",
        )
    )
    result = await import_text(db, text)
    assert result.updated == ["elena.petrova@halland.example.org"]
    async with db.session() as session:
        people = {s.person.email: s for s in await list_people(session)}
    elena_now = people["elena.petrova@halland.example.org"]
    assert elena_now.roles == {Role.doctor, Role.supervisor}
    assert elena_now.person.language == Language.sv
    assert elena_now.person.aad_object_id == "learned-by-the-bot"


async def test_bad_placements_are_all_reported(db: Database, demo_dir: Path) -> None:
    await import_demo(db, demo_dir)
    result = await import_text(
        db,
        "doctor_email,kind,unit,start,end,supervisor_email\n"
        "nobody@halland.example.org,akut,Akuten,2027-01-01,2027-02-01,\n"
        "karin.holm@halland.example.org,akut,Akuten,2027-01-01,2027-02-01,\n"
        "amir.haddad@halland.example.org,kirurgi,Kirurgen,2027-01-01,2027-02-01,\n"
        "amir.haddad@halland.example.org,akut,Akuten,2027-03-01,2027-02-01,\n"
        "amir.haddad@halland.example.org,valfri,Infektion,2027-01-01,2027-02-01,"
        "amir.haddad@halland.example.org\n"
        "amir.haddad@halland.example.org,valfri,Infektion,2027-05-01,2027-06-01,"
        "sara.lindqvist@halland.example.org\n"
        "amir.haddad@halland.example.org,psykiatri,Psyk,2027-05-01,2027-06-01,\n"
        "amir.haddad@halland.example.org,psykiatri,Psyk 2,2027-05-01,2027-06-30,\n",
    )
    messages = [(p.line, p.message) for p in result.problems]
    assert messages == [
        (2, "unknown doctor nobody@halland.example.org (import the people file first)"),
        (3, "karin.holm@halland.example.org is in the roster but not a doctor"),
        (4, "unknown placement kind 'kirurgi' (valid: akut, primarvard, psykiatri, valfri)"),
        (5, "end 2027-02-01 is before start 2027-03-01"),
        (6, "a doctor cannot be their own supervisor"),
        (7, "sara.lindqvist@halland.example.org is in the roster but not a supervisor"),
        (9, "duplicate placement (same as line 8)"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name,email\nA,a@x.se\n", "unrecognised header"),
        (b"email,name,role\n", r"lacks the column\(s\): region"),
        ("email;name\nÅsa;x".encode("cp1252"), "not UTF-8"),
    ],
)
def test_unreadable_files_get_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(RosterFileError, match=message):
        read_roster_file(path)


def test_cli_dry_run_and_file_errors(
    tmp_path: Path, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    dry = runner.invoke(app, ["roster", "import", "--dry-run", str(demo_dir / "people.csv")])
    assert dry.exit_code == 0
    assert "16 would be created" in dry.output
    assert "dry run: nothing written" in dry.output
    listed = runner.invoke(app, ["roster", "list", "--csv"])
    assert listed.output.strip().splitlines() == [",".join(PEOPLE_COLUMNS)]
    missing = runner.invoke(app, ["roster", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    copy = tmp_path / "people.csv"
    shutil.copyfile(demo_dir / "people.csv", copy)
    assert runner.invoke(app, ["roster", "import", str(copy)]).exit_code == 0
    halland = runner.invoke(
        app, ["roster", "list", "--csv", "--region", "halland", "--role", "doctor"]
    )
    assert [line.split(",")[0] for line in halland.output.strip().splitlines()[1:]] == [
        "amir.haddad@halland.example.org",
        "elena.petrova@halland.example.org",
        "lukas.novak@halland.example.org",
    ]


async def test_the_files_language_never_overrides_a_chosen_one(
    db: Database, demo_dir: Path
) -> None:
    await import_demo(db, demo_dir)
    async with db.session() as session:
        elena = (
            await session.exec(
                select(Person).where(Person.email == "elena.petrova@halland.example.org")
            )
        ).one()
        elena.language = Language.sv  # she switched to Swedish in the chat; the file says en
        session.add(elena)
    again = await import_roster(db, read_roster_file(demo_dir / "people.csv"))
    assert again.updated == []
    async with db.session() as session:
        elena = (
            await session.exec(
                select(Person).where(Person.email == "elena.petrova@halland.example.org")
            )
        ).one()
    assert elena.language == Language.sv
