"""Course files: the bundled catalogue, coordinators' YAML catalogues and CSV session lists.

All-or-nothing with every problem by file and line, idempotent, and a cancellation in the file
keeps the session, moves its doctors to `needs_new_session` and tells each of them once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from btassist.cli import app
from btassist.courses.catalogue import CourseFileError, bundled_catalogue, parse_catalogue
from btassist.courses.enrolment import enrol
from btassist.courses.exports import PARTICIPANT_COLUMNS
from btassist.courses.importer import (
    CourseImportResult,
    SessionFile,
    ensure_catalogue,
    import_catalogues,
    import_sessions,
    parse_sessions_text,
    read_course_file,
)
from btassist.courses.models import (
    Course,
    CourseCompletion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
    Recurrence,
    SessionStatus,
)
from btassist.courses.queries import list_courses, session_participants
from btassist.db.engine import Database
from btassist.demo import load_demo
from btassist.demo.courses import demo_sessions
from btassist.outbox.models import OutboxMessage
from btassist.roster.files import read_roster_file
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.databases import run_sync
from tests.support.snapshots import snapshot, snapshot_at

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "courses"
HEADER = (
    "course_code,key,region,start,end,location,meeting_url,capacity,deadline,status,"
    "recurrence,repeat_until"
)
HALLAND_COURSES = {
    "halland-introduktion",
    "halland-stas",
    "halland-organisation-styrning-juridik",
    "halland-forsakringsmedicin",
    "halland-temadag-vald-i-nara-relationer",
    "halland-temadag-smarta-och-palliation",
    "halland-webb-klinisk-forsakringsmedicin",
    "halland-webb-antibiotika-smart",
    "halland-webb-lakemedel-och-miljo",
    "halland-det-goda-svara-samtalet",
    "halland-at-onsdagsutbildningar",
}


async def import_text(
    db: Database, text: str, *, dry_run: bool = False, now: datetime = NOW
) -> CourseImportResult:
    sessions = parse_sessions_text(text, name="sessions.csv")
    return await import_sessions(db, sessions, zone=STOCKHOLM, now=now, dry_run=dry_run)


async def import_example_sessions(db: Database) -> CourseImportResult:
    await ensure_catalogue(db, now=NOW)
    sessions = read_course_file(EXAMPLES / "sessions.csv")
    assert isinstance(sessions, SessionFile)
    result = await import_sessions(db, sessions, zone=STOCKHOLM, now=NOW)
    assert result.ok, result.problems
    return result


async def import_demo_roster(db: Database, demo_dir: Path) -> dict[str, int]:
    for name in ("people.csv", "placements.csv"):
        assert (await import_roster(db, read_roster_file(demo_dir / name))).ok
    async with db.session() as session:
        return {p.email: p.id for p in (await session.exec(select(Person))).all() if p.id}


async def session_by_key(db: Database, key: str) -> CourseSession:
    async with db.session() as session:
        return (await session.exec(select(CourseSession).where(CourseSession.key == key))).one()


def example_text() -> str:
    return (EXAMPLES / "sessions.csv").read_text(encoding="utf-8")


# --- the bundled catalogue ----------------------------------------------------------------------


async def test_bundled_catalogue_loads_once_with_hallands_courses(db: Database) -> None:
    first = await ensure_catalogue(db, now=NOW)
    assert first is not None
    assert first.ok
    async with db.session() as session:
        halland = {c.course.code: c for c in await list_courses(session, region="halland")}
        everything = await list_courses(session)

    assert set(halland) == HALLAND_COURSES
    assert halland["halland-forsakringsmedicin"].regions == {"halland": True}
    assert halland["halland-forsakringsmedicin"].course.title_sv == "Försäkringsmedicin AT/BT"
    assert halland["halland-at-onsdagsutbildningar"].regions == {"halland": False}
    optional = [code for code, listing in halland.items() if not listing.regions["halland"]]
    assert optional == ["halland-at-onsdagsutbildningar"], "listed last, after the mandatory"
    assert all(c.course.source for c in everything), "every bundled course names its source"
    assert all(c.course.link is None for c in everything), "no link is in the seeds"
    assert {c.course.code for c in everything if c.course.hours} == {
        "kronoberg-schemalagd-undervisning"
    }
    nassjo = next(c for c in everything if c.course.code == "jonkoping-nassjo-introduktion")
    assert nassjo.regions == {"jonkoping": False}
    assert {r for c in everything for r in c.regions} == {
        "halland",
        "kronoberg",
        "vgr",
        "jonkoping",
        "orebro",
    }

    before = await snapshot(db)
    assert await ensure_catalogue(db, now=NOW + timedelta(days=1)) is None
    again = await import_catalogues(db, bundled_catalogue(), now=NOW + timedelta(days=1))
    assert (again.created, again.updated, again.unchanged) == ([], [], len(everything))
    assert await snapshot(db) == before


async def test_catalogue_edits_update_fields_and_regions(db: Database) -> None:
    await ensure_catalogue(db, now=NOW)
    edited = parse_catalogue(
        """
courses:
  - code: halland-forsakringsmedicin
    kind: kurs
    title: {sv: Försäkringsmedicin AT/BT, en: Insurance medicine (AT/BT)}
    hours: 14
    source: S4; studierektor
    regions: {halland: mandatory, gavleborg: optional}
  - code: halland-stas
    kind: kurs
    title: {sv: "StAS – Strukturerat omhändertagande av akuta sjukdomstillstånd",
            en: "StAS – Structured management of acute conditions"}
    description:
      sv: Omfattning ej angiven – fråga din studierektor.
      en: Length not stated – ask your director of studies (studierektor).
    source: S4
    regions: {halland: optional}
""",
        name="edit.yaml",
    )
    result = await import_catalogues(db, [edited], now=NOW)
    assert result.ok, result.problems
    assert result.updated == ["halland-forsakringsmedicin", "halland-stas"]
    async with db.session() as session:
        gavleborg = await list_courses(session, region="gavleborg")
        halland = {c.course.code: c for c in await list_courses(session, region="halland")}
    assert [c.course.code for c in gavleborg] == ["halland-forsakringsmedicin"]
    assert halland["halland-forsakringsmedicin"].course.hours == 14
    assert halland["halland-forsakringsmedicin"].course.description_sv == ""
    assert halland["halland-stas"].regions == {"halland": False}


def test_catalogue_with_errors_lists_every_problem_and_changes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", db_url)
    runner = CliRunner()
    assert (
        runner.invoke(app, ["courses", "import", str(EXAMPLES / "catalogue.yaml")]).exit_code == 0
    )
    before = snapshot_at(db_url)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """courses:
  - code: Halland Nytt
    kind: föreläsning
    title: {sv: Ny kurs}
    hours: -2
    link: www.example.org
    regions: {halland: mandatory, atlantis: optional, kronoberg: kanske}
    pris: 100
  - code: halland-stas
    kind: kurs
    title: {sv: StAS, en: StAS}
    regions: {halland: mandatory}
    active: ja
  - code: halland-stas
    kind: kurs
    title: {sv: StAS igen, en: StAS again}
    regions: {halland: mandatory}
""",
        encoding="utf-8",
    )

    result = runner.invoke(app, ["courses", "import", str(bad)])

    assert result.exit_code == 1
    assert "10 problem(s); nothing was imported" in result.output
    lines = [line.strip() for line in result.output.splitlines() if line.startswith("  ")]
    assert lines == [
        f"{bad}:2: code 'Halland Nytt' must be lower-case letters, digits and single dashes "
        "(at most 80), e.g. halland-forsakringsmedicin",
        f"{bad}:3: unknown kind 'föreläsning' "
        "(valid: kurs, seminarium, temadag, webbkurs, schemalagd_undervisning)",
        f"{bad}:4: title.en is missing",
        f"{bad}:5: hours must be more than 0",
        f"{bad}:6: link 'www.example.org' must be a web address starting with https://",
        f"{bad}:7: kronoberg: 'kanske' must be mandatory or optional",
        f"{bad}:7: unknown region 'atlantis' (valid: gavleborg, halland, jonkoping, kronoberg, "
        "orebro, vgr)",
        f"{bad}:8: unknown field 'pris' (valid: code, kind, title, description, provider, hours, "
        "link, source, regions, active)",
        f"{bad}:13: active must be true or false",
        f"{bad}:14: duplicate course code halland-stas (also at {bad}:9)",
    ]
    assert snapshot_at(db_url) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.yaml", "courses:\n  - code: [a,\n", "broken.yaml:3: not valid YAML"),
        ("latin1.yaml", "courses: []\n# Växjö\n".encode("cp1252"), "not UTF-8"),
        ("sessions.csv", b"course_code,key,region,start\n", "lacks the column(s) end"),
        ("sessions.csv", (HEADER + ",room\n").encode(), "unknown column(s) room"),
        ("sessions.xlsx", b"PK", "sessions.xlsx is not an Excel workbook"),
        ("sessions.txt", b"x", "expected a .yaml catalogue or a .csv/.xlsx list of sessions"),
        ("missing.yaml", None, "cannot read"),
    ],
)
def test_unreadable_course_files_exit_with_code_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str | bytes | None,
    message: str,
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CourseFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_course_file(path)
    result = CliRunner().invoke(app, ["courses", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")


# --- session lists ------------------------------------------------------------------------------


async def test_sessions_import_in_local_time_and_reimport_changes_nothing(db: Database) -> None:
    first = await import_example_sessions(db)
    assert (len(first.created), first.updated, first.unchanged) == (7, [], 0)
    fm = await session_by_key(db, "hal-fm-2027-03")
    assert fm.starts_at == datetime(2027, 3, 15, 7, 30, tzinfo=UTC)  # 08:30 CET
    assert fm.enrolment_deadline == datetime(2027, 3, 1, 22, 59, tzinfo=UTC)  # the whole day
    assert (fm.capacity, fm.status, fm.sequence) == (20, SessionStatus.scheduled, 0)
    series = await session_by_key(db, "hal-onsdag-vt27")
    assert (series.recurrence, series.repeat_until) == (Recurrence.weekly, date(2027, 6, 9))
    online = await session_by_key(db, "hal-samtal-2027-03")
    assert (online.location, online.meeting_url) == ("", "https://teams.example.org/samtal")
    before = await snapshot(db)

    again = await import_text(db, example_text(), now=NOW + timedelta(hours=1))

    assert (again.created, again.updated, again.cancelled, again.unchanged) == ([], [], [], 7)
    assert await snapshot(db) == before


async def test_summer_time_is_converted_and_the_skipped_hour_refused(db: Database) -> None:
    await ensure_catalogue(db, now=NOW)
    result = await import_text(
        db,
        HEADER + "\n"
        "halland-stas,summer,halland,2027-06-01 08:30,2027-06-01 16:00,Varberg,,,,,,\n"
        "halland-stas,gap,halland,2027-03-28 02:30,2027-03-28 04:00,Varberg,,,,,,\n",
    )
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "start 2027-03-28 02:30 does not exist in Europe/Stockholm (the clocks go forward)")
    ]
    fixed = await import_text(
        db, HEADER + "\nhalland-stas,summer,halland,2027-06-01 08:30,2027-06-01 16:00,Varberg,,,,,,"
    )
    assert fixed.ok
    assert (await session_by_key(db, "summer")).starts_at == datetime(2027, 6, 1, 6, 30, tzinfo=UTC)


async def test_every_kind_of_bad_session_row_is_reported(db: Database) -> None:
    await import_example_sessions(db)
    before = await snapshot(db)
    result = await import_text(
        db,
        HEADER + "\n"
        "halland-okand,a,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,,\n"
        "halland-stas,b,kronoberg,2027-03-01 09:00,2027-03-01 12:00,Växjö,,,,,,\n"
        "halland-stas,c,atlantis,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,,\n"
        "halland-stas,d,halland,2027-03-01,2027-13-01 12:00,Halmstad,,,,,,\n"
        "halland-stas,e,halland,2027-03-01 12:00,2027-03-01 09:00,Halmstad,,,,,,\n"
        "halland-stas,f,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,-5,,,,\n"
        "halland-stas,g,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,2027-03-02,,,\n"
        "halland-stas,h,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,,\n"
        "halland-stas,h,halland,2027-03-02 09:00,2027-03-02 12:00,Halmstad,,,,,,\n"
        "halland-stas,i,halland,2027-03-01 09:00,2027-03-01 12:00,,,,,,,\n"
        "halland-stas,j,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,postponed,,\n"
        "halland-stas,k,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,weekly,\n"
        "halland-stas,l,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,,2027-04-01\n"
        "halland-stas,hal-fm-2027-03,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,,,,,,\n"
        "halland-stas,m,halland,2027-03-01 09:00,2027-03-01 12:00,Halmstad,teams,,,,,\n"
        ",,,,,,,,,,,,extra\n",
    )
    assert [(p.line, p.message) for p in result.problems] == [
        (2, "unknown course code 'halland-okand' (import the catalogue first)"),
        (3, "halland-stas is not offered in kronoberg (offered in: halland)"),
        (
            4,
            "unknown region 'atlantis' (valid: gavleborg, halland, jonkoping, kronoberg, "
            "orebro, vgr)",
        ),
        (5, "end '2027-13-01 12:00' is not a local time (use YYYY-MM-DD HH:MM)"),
        (5, "start '2027-03-01' is not a local time (use YYYY-MM-DD HH:MM)"),
        (6, "end 2027-03-01 09:00 is not after start 2027-03-01 12:00"),
        (7, "capacity -5 must be 1 or more (blank: no limit)"),
        (8, "deadline 2027-03-02 is after start 2027-03-01 09:00"),
        (10, "duplicate key h (same as line 9)"),
        (11, "give a location, a meeting_url, or both"),
        (12, "status 'postponed' must be blank or one of: cancelled, scheduled"),
        (13, "repeat_until is needed for a weekly series (the date of the last week)"),
        (14, "repeat_until is only for a weekly series (recurrence weekly)"),
        (
            15,
            "key hal-fm-2027-03 is already a session of halland-forsakringsmedicin in halland; "
            "a different course or region needs a new key",
        ),
        (16, "meeting_url 'teams' must be a web address starting with https://"),
        (17, "course_code is empty"),
        (17, "end is empty"),
        (17, "give a location, a meeting_url, or both"),
        (17, "key is empty"),
        (17, "more cells than header columns (a stray delimiter?)"),
        (17, "region is empty"),
        (17, "start is empty"),
    ]
    assert await snapshot(db) == before


async def test_moving_a_session_bumps_its_sequence_and_dry_run_writes_nothing(
    db: Database,
) -> None:
    await import_example_sessions(db)
    moved = example_text().replace(
        "hal-fm-2027-03,halland,2027-03-15 08:30,2027-03-16 16:30",
        "hal-fm-2027-03,halland,2027-03-22 08:30,2027-03-23 16:30",
    )
    moved = moved.replace("Hallands sjukhus Varberg (exempel),,16", "Hallands sjukhus Varberg,,16")
    before = await snapshot(db)
    dry = await import_text(db, moved, dry_run=True)
    assert dry.updated == [
        "hal-fm-2027-03 (halland-forsakringsmedicin, 2027-03-22 08:30): ends_at, starts_at changed",
        "hal-stas-2027-02 (halland-stas, 2027-02-09 08:00): location changed",
    ]
    assert await snapshot(db) == before

    result = await import_text(db, moved)

    assert result.ok
    assert (len(result.updated), result.unchanged) == (2, 5)
    fm = await session_by_key(db, "hal-fm-2027-03")
    stas = await session_by_key(db, "hal-stas-2027-02")
    assert (fm.sequence, fm.starts_at) == (1, datetime(2027, 3, 22, 7, 30, tzinfo=UTC))
    assert stas.sequence == 0, "a new room is not a new time"


async def test_cancelling_in_the_file_keeps_the_session_and_tells_each_doctor_once(
    db: Database, demo_dir: Path
) -> None:
    people = await import_demo_roster(db, demo_dir)
    await import_example_sessions(db)
    vald = await session_by_key(db, "hal-vald-2027-02")
    assert vald.id is not None
    assert vald.capacity == 2
    doctors = ["amir.haddad", "elena.petrova", "lukas.novak"]
    for minute, name in enumerate(doctors):
        await enrol(
            db,
            zone=STOCKHOLM,
            doctor_id=people[f"{name}@halland.example.org"],
            session_id=vald.id,
            now=NOW + timedelta(minutes=minute),
        )
    cancelled = example_text().replace(
        "Hallands sjukhus Varberg (exempel),,2,,,,",
        "Hallands sjukhus Varberg (exempel),,2,,inställd,,",
    )

    dry = await import_text(db, cancelled, dry_run=True)
    assert (len(dry.cancelled), dry.doctors_told) == (1, 3)
    result = await import_text(db, cancelled)

    assert result.cancelled == [
        "hal-vald-2027-02 (halland-temadag-vald-i-nara-relationer, 2027-02-17 09:00)"
    ]
    assert (result.doctors_told, result.unchanged) == (3, 6)
    async with db.session() as session:
        kept = await session.get(CourseSession, vald.id)
        statuses = set(
            (
                await session.exec(select(Enrolment.status).where(Enrolment.session_id == vald.id))
            ).all()
        )
        # (the first import told the doctors of new sessions too: see test_reminders_courses)
        notices = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind != "session_new"))
        ).all()
    assert kept is not None
    assert kept.status is SessionStatus.cancelled
    assert statuses == {EnrolmentStatus.needs_new_session}
    assert sorted(n.person_id for n in notices) == sorted(
        people[f"{name}@halland.example.org"] for name in doctors
    )
    assert {(n.kind, n.params["session_id"]) for n in notices} == {("session_cancelled", vald.id)}

    before = await snapshot(db)
    again = await import_text(db, cancelled)
    assert (again.cancelled, again.doctors_told, again.unchanged) == ([], 0, 7)
    blank = await import_text(db, example_text())
    assert blank.unchanged == 7, "a blank status never undoes a cancellation"
    assert await snapshot(db) == before

    reinstated = await import_text(db, example_text().replace(",,2,,,,", ",,2,,scheduled,,"))
    assert reinstated.updated == [
        "hal-vald-2027-02 (halland-temadag-vald-i-nara-relationer, 2027-02-17 09:00): reinstated"
    ]
    assert (await session_by_key(db, "hal-vald-2027-02")).status is SessionStatus.scheduled


async def test_more_seats_in_the_file_move_the_waitlist_up(db: Database, demo_dir: Path) -> None:
    people = await import_demo_roster(db, demo_dir)
    await import_example_sessions(db)
    vald = await session_by_key(db, "hal-vald-2027-02")
    assert vald.id is not None
    for minute, name in enumerate(("amir.haddad", "elena.petrova", "lukas.novak")):
        await enrol(
            db,
            zone=STOCKHOLM,
            doctor_id=people[f"{name}@halland.example.org"],
            session_id=vald.id,
            now=NOW + timedelta(minutes=minute),
        )
    shrunk = await import_text(db, example_text().replace(",,2,,,,", ",,1,,,,"))
    assert [p.message for p in shrunk.problems] == [
        "capacity 1 is less than the 2 doctors holding a seat"
    ]

    grown = await import_text(db, example_text().replace(",,2,,,,", ",,3,,,,"))

    assert grown.ok
    assert len(grown.updated) == 1
    async with db.session() as session:
        participants = await session_participants(session, session_id=vald.id)
        notices = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind != "session_new"))
        ).all()
    assert [p.status for p in participants] == [EnrolmentStatus.enrolled] * 3
    assert [(n.kind, n.person_id) for n in notices] == [
        ("waitlist_promoted", people["lukas.novak@halland.example.org"])
    ]


# --- the demo -----------------------------------------------------------------------------------


def test_demo_sessions_are_dated_from_today() -> None:
    today = date(2026, 11, 25)  # a Wednesday
    rows = {row.values["key"]: row.values for row in demo_sessions(today).rows}
    assert rows["demo-halland-stas"]["start"] == "2026-11-26 08:30"  # tomorrow
    assert rows["demo-halland-forsakringsmedicin"]["start"] == "2026-11-30 08:30"  # next Monday
    assert rows["demo-halland-temadag-smarta-och-palliation"]["deadline"] == "2026-11-24"
    assert rows["demo-halland-temadag-vald-i-nara-relationer"]["capacity"] == "2"
    series = rows["demo-halland-at-onsdagsutbildningar"]
    assert (series["recurrence"], series["start"]) == ("weekly", "2026-12-02 13:00")
    assert {row["region"] for row in rows.values()} == {"halland", "gavleborg"}


async def test_demo_loads_catalogue_and_sessions_idempotently(db: Database) -> None:
    today = date(2026, 11, 25)
    await load_demo(db, today, zone=STOCKHOLM)
    before = await snapshot(db)
    await load_demo(db, today, zone=STOCKHOLM)
    assert await snapshot(db) == before
    async with db.session() as session:
        gavleborg = await list_courses(session, region="gavleborg")
        sessions = (await session.exec(select(CourseSession))).all()
    assert [len(c.sessions) for c in gavleborg] == [2]
    assert len(sessions) == 9

    await load_demo(db, today + timedelta(days=7), zone=STOCKHOLM)
    stas = await session_by_key(db, "demo-halland-stas")
    assert stas.starts_at.astimezone(STOCKHOLM).date() == date(2026, 12, 3)
    assert stas.sequence == 1


# --- the command line ---------------------------------------------------------------------------


def test_cli_import_dry_run_list_participants_and_attendance(
    db_url: str, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BTASSIST_DATABASE_URL", db_url)
    runner = CliRunner()
    for name in ("people.csv", "placements.csv"):
        assert runner.invoke(app, ["roster", "import", str(demo_dir / name)]).exit_code == 0
    sessions = str(EXAMPLES / "sessions.csv")

    dry = runner.invoke(app, ["courses", "import", "--dry-run", sessions])
    assert dry.exit_code == 0, dry.output
    assert "sessions: 7 would be created, 0 would be updated, 0 would be cancelled" in dry.output
    assert "dry run: nothing written" in dry.output
    assert "create: hal-fm-2027-03 (halland-forsakringsmedicin, 2027-03-15 08:30)" in dry.output

    imported = runner.invoke(app, ["courses", "import", sessions])
    assert imported.exit_code == 0, imported.output
    assert "7 were created" in imported.output
    again = runner.invoke(app, ["courses", "import", sessions])
    assert "0 were created, 0 were updated, 0 were cancelled (0 doctor(s) told), 7 unchanged" in (
        again.output
    )

    listed = runner.invoke(app, ["courses", "list", "--region", "halland", "--past"])
    assert listed.exit_code == 0, listed.output
    assert "11 course(s) offered in halland, 10 mandatory" in listed.output
    assert "kronoberg" not in listed.output
    fm_block = listed.output.split("halland-forsakringsmedicin")[1]
    assert "2027-03-15 08:30 → 2027-03-16 16:30" in fm_block
    assert "seats 0/20" in fm_block
    assert "weekly Wed 13:00–16:00, 2027-01-20 → 2027-06-09" in listed.output

    vald_id = run_sync(_session_id(db_url, "hal-vald-2027-02"))
    run_sync(_enrol(db_url, vald_id, ["lukas.novak", "amir.haddad", "elena.petrova"]))
    participants = runner.invoke(app, ["courses", "participants", str(vald_id), "--csv"])
    assert participants.exit_code == 0, participants.output
    rows = [line.split(",") for line in participants.output.strip().splitlines()]
    assert rows[0] == list(PARTICIPANT_COLUMNS)
    assert [(r[4], r[5], r[6]) for r in rows[1:]] == [
        ("lukas.novak@halland.example.org", "enrolled", ""),
        ("amir.haddad@halland.example.org", "enrolled", ""),
        ("elena.petrova@halland.example.org", "waitlisted", "1"),
    ]
    table = runner.invoke(app, ["courses", "participants", str(vald_id)])
    assert "Temadag: Våld i nära relationer" in table.output
    assert runner.invoke(app, ["courses", "participants", "9999"]).exit_code == 1

    future = runner.invoke(
        app, ["courses", "attendance", str(vald_id), "amir.haddad@halland.example.org"]
    )
    assert future.exit_code == 1
    assert "amir.haddad@halland.example.org: future_date" in future.output
    run_sync(_move_to(db_url, vald_id, date(2026, 11, 17)))  # the day has come and gone
    stranger = runner.invoke(
        app, ["courses", "attendance", str(vald_id), "amir.haddad@halland.example.org", "x@y.se"]
    )
    assert stranger.exit_code == 1
    assert "x@y.se" in stranger.output
    attended = runner.invoke(
        app,
        [
            "courses",
            "attendance",
            str(vald_id),
            "Amir.Haddad@halland.example.org",
            "lukas.novak@halland.example.org",
        ],
    )
    assert attended.exit_code == 0, attended.output
    assert "2 attendance(s) recorded for 2026-11-17" in attended.output
    assert run_sync(_completions(db_url)) == [
        ("amir.haddad@halland.example.org", "halland-temadag-vald-i-nara-relationer"),
        ("lukas.novak@halland.example.org", "halland-temadag-vald-i-nara-relationer"),
    ]


async def _session_id(url: str, key: str) -> int:
    database = Database(url)
    try:
        found = await session_by_key(database, key)
        assert found.id is not None
        return found.id
    finally:
        await database.dispose()


async def _enrol(url: str, session_id: int, names: list[str]) -> None:
    database = Database(url)
    try:
        async with database.session() as session:
            ids = {p.email: p.id for p in (await session.exec(select(Person))).all()}
        for minute, name in enumerate(names):
            doctor_id = ids[f"{name}@halland.example.org"]
            assert doctor_id is not None
            await enrol(
                database,
                zone=STOCKHOLM,
                doctor_id=doctor_id,
                session_id=session_id,
                now=NOW + timedelta(minutes=minute),
            )
    finally:
        await database.dispose()


async def _completions(url: str) -> list[tuple[str, str]]:
    database = Database(url)
    try:
        async with database.session() as session:
            rows = await session.exec(
                select(Person.email, Course.code)
                .join(CourseCompletion, col(CourseCompletion.doctor_id) == Person.id)
                .join(Course, col(Course.id) == CourseCompletion.course_id)
                .order_by(col(Person.email))
            )
            return [(email, code) for email, code in rows]
    finally:
        await database.dispose()


async def _move_to(url: str, session_id: int, day: date) -> None:
    """Put a session on an earlier day, keeping its times (as if time had passed)."""
    database = Database(url)
    try:
        async with database.session() as session:
            row = await session.get(CourseSession, session_id)
            assert row is not None
            start = row.starts_at.astimezone(STOCKHOLM)
            moved = datetime.combine(day, start.timetz().replace(tzinfo=None), tzinfo=STOCKHOLM)
            row.ends_at = moved + (row.ends_at - row.starts_at)
            row.starts_at = moved
            session.add(row)
    finally:
        await database.dispose()
