"""The sweep's guarantees: working days and sending hours, catching up after downtime without
sending what is stale, exactly once under concurrency and crashes, pauses, preview, the timer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import event
from sqlmodel import col, func, select
from typer.testing import CliRunner

from btassist.assessments.models import PlanItem
from btassist.assessments.sync import sync_plans
from btassist.cli import app
from btassist.common.language import Language
from btassist.common.workdays import TABLE_YEARS, WorkingDays, holiday_table, library_days_off
from btassist.courses.enrolment import enrol
from btassist.courses.models import CourseKind
from btassist.db.engine import Database
from btassist.i18n.catalogue import catalogue
from btassist.outbox.models import OutboxMessage
from btassist.outbox.notices import NoticeKind, registered
from btassist.reminders.kinds import PAUSE_ALL, REMINDER_KINDS
from btassist.reminders.pauses import pause, paused_kinds, resume
from btassist.reminders.scheduling import CATCH_UP_JOB, SWEEP_JOB, add_reminder_jobs, sweeper
from btassist.reminders.sweep import preview, sweep
from btassist.roster.files import parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.courses import add_course, add_session
from tests.support.plans import done_on_time

ZONE = ZoneInfo("Europe/Stockholm")
DAYS = WorkingDays(ZONE)
HEADER = "email,name,role,region,aad_object_id,language,bt_type,bt_start,bt_end,"
PEOPLE = (
    HEADER + "main_supervisor_email\n"
    "hh@h.example.org,Huvud,supervisor,halland,,,,,,\n"
    "hl@h.example.org,Handledare,supervisor,halland,,,,,,\n"
    "sr@h.example.org,Studierektor,studierektor,halland,,,,,,\n"
    "doc@h.example.org,Läkare,doctor,halland,,,block,2026-09-01,2027-08-31,hh@h.example.org\n"
)
PLACEMENTS = (
    "doctor_email,kind,unit,start,end,supervisor_email\n"
    "doc@h.example.org,psykiatri,Psykiatri Varberg,2026-09-01,2026-11-30,hl@h.example.org\n"
    "doc@h.example.org,akut,Akutkliniken,2026-12-01,2027-04-15,hl@h.example.org\n"
    "doc@h.example.org,primarvard,VC Söder,2027-04-16,2027-08-31,hh@h.example.org\n"
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


async def _roster(db: Database) -> dict[str, int]:
    for text in (PEOPLE, PLACEMENTS):
        result = await import_roster(db, parse_roster_text(text))
        assert result.ok, result.problems
    await sync_plans(db, now=at(date(2026, 8, 1), 12))
    async with db.session() as session:
        return {
            p.email.split("@")[0]: p.id or 0 for p in (await session.exec(select(Person))).all()
        }


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


def _the_16_october_assessment(item: PlanItem) -> bool:
    return item.due == date(2026, 10, 16)


def test_the_holiday_table_is_what_the_holidays_library_says() -> None:
    library = library_days_off(TABLE_YEARS)
    assert holiday_table() == {day: str(name) for day, name in library.items()}


def test_days_off_outside_the_table_come_from_the_library() -> None:
    assert DAYS.holiday_name(date(1999, 12, 31)) == "New Year's Eve"
    assert not DAYS.is_working_day(date(2100, 12, 24))  # a Friday, julafton
    assert DAYS.is_working_day(date(2100, 12, 23))


def test_working_days_and_sending_hours() -> None:
    assert not DAYS.is_working_day(date(2026, 12, 24))  # julafton
    assert not DAYS.is_working_day(date(2027, 6, 25))  # midsommarafton
    assert not DAYS.is_working_day(date(2026, 12, 31))  # nyårsafton
    assert DAYS.is_working_day(date(2026, 12, 23))
    assert DAYS.holiday_name(date(2026, 12, 27)) is None  # a Sunday is a weekend, not a holiday
    assert DAYS.on_or_before(date(2027, 1, 2)) == date(2026, 12, 30)
    assert DAYS.counting_back(date(2027, 1, 7), 3) == date(2027, 1, 4)  # 6 Jan is trettondagen
    for day in (date(2026, 3, 30), date(2026, 10, 26), date(2026, 1, 15), date(2026, 7, 15)):
        assert DAYS.send_time(day).astimezone(ZONE).time() == time(8, 30)
    assert DAYS.sending_day(at(date(2026, 12, 7), 8, 29)) is None
    assert DAYS.sending_day(at(date(2026, 12, 7), 8, 30)) == date(2026, 12, 7)
    assert DAYS.sending_day(at(date(2026, 12, 7), 17, 0)) is None
    assert DAYS.next_send_time(at(date(2026, 12, 23), 19)) == at(date(2026, 12, 28), 8, 30)
    assert DAYS.next_send_time(at(date(2026, 12, 7), 6)) == at(date(2026, 12, 7), 8, 30)
    assert DAYS.next_send_time(at(date(2026, 12, 7), 9)) == at(date(2026, 12, 7), 9)


async def test_outside_sending_hours_a_sweep_does_nothing(db: Database) -> None:
    await _roster(db)
    for moment in (
        at(date(2026, 9, 1), 7, 0),  # BT starts, but before 08:30
        at(date(2026, 9, 1), 17, 30),
        at(date(2026, 9, 5), 10),  # a Saturday
        at(date(2026, 12, 24), 10),  # julafton
    ):
        result = await sweep(db, now=moment, zone=ZONE)
        assert result.day is None
    assert await _outbox(db) == []
    started = await sweep(db, now=at(date(2026, 9, 1), 8, 30), zone=ZONE)
    assert started.offered == {NoticeKind.bt_start: 2}


async def test_after_downtime_a_sweep_catches_up_only_on_what_is_still_relevant(
    db: Database,
) -> None:
    ids = await _roster(db)
    one = await add_course(db, "halland-demo-1", "Demokurs 1", kind=CourseKind.temadag)
    two = await add_course(db, "halland-demo-2", "Demokurs 2", kind=CourseKind.temadag)
    during = await add_session(db, one, key="during", starts=at(date(2026, 11, 20), 9))
    after = await add_session(db, two, key="after", starts=at(date(2026, 12, 1), 9))
    for target in (during, after):
        await enrol(
            db,
            doctor_id=ids["doc"],
            session_id=target.id or 0,
            now=at(date(2026, 9, 1), 12),
            zone=ZONE,
        )
    # Up and sweeping every morning until Friday 6 November, the 16 October assessment undone.
    day = date(2026, 9, 1)
    while day <= date(2026, 11, 6):
        await done_on_time(db, day - timedelta(days=1), unless=_the_16_october_assessment)
        await sweep(db, now=at(day, 8, 30), zone=ZONE)
        day += timedelta(days=1)
    before = {row.dedupe_key for row in await _outbox(db)}
    # Down for three weeks; back on Monday 30 November at 10:17.
    await done_on_time(db, date(2026, 11, 29), unless=_the_16_october_assessment)
    back = await sweep(db, now=at(date(2026, 11, 30), 10, 17), zone=ZONE)
    caught_up = [row for row in await _outbox(db) if row.dedupe_key not in before]
    assert back.day == date(2026, 11, 30)
    kinds = sorted((row.kind, row.person_id) for row in caught_up)
    assert kinds == sorted(
        [
            ("item_due_today", ids["doc"]),  # the psychiatry placement's second assessment
            ("item_due_today", ids["doc"]),  # … and its hand-over meeting, both today
            ("weekly_digest", ids["doc"]),  # this week's, not the three missed
            ("session_tomorrow", ids["doc"]),  # 1 December; the 20 November one is past
        ]
    )
    # Not sent: due-soon and meeting proposals for today's items, the missed weeks, and the
    # nudges about the assessment now more than six weeks late.
    assert {row.available_at for row in caught_up} == {at(date(2026, 11, 30), 10, 17)}
    again = await sweep(db, now=at(date(2026, 11, 30), 12, 0), zone=ZONE)
    assert again.total == len(caught_up)
    assert len(await _outbox(db)) == len(before) + len(caught_up)  # nothing twice


async def test_a_sweep_that_dies_writes_nothing_and_the_next_writes_everything(
    db: Database,
) -> None:
    await _roster(db)
    monday = at(date(2026, 9, 14), 8, 30)

    def crash(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO outbox_message"):
            raise RuntimeError("killed mid-sweep")

    event.listen(db.engine.sync_engine, "before_cursor_execute", crash)
    with pytest.raises(RuntimeError, match="killed"):
        await sweep(db, now=monday, zone=ZONE)
    event.remove(db.engine.sync_engine, "before_cursor_execute", crash)
    assert await _outbox(db) == []
    result = await sweep(db, now=monday, zone=ZONE)
    assert result.total > 0
    assert len(await _outbox(db)) == result.total


async def test_two_sweeps_at_once_queue_nothing_twice(db_url: str, db: Database) -> None:
    await _roster(db)
    for day in (date(2026, 9, 14), date(2026, 9, 15), date(2026, 11, 16), date(2026, 11, 30)):
        wanted = await preview(db, now=at(day, 8, 30), zone=ZONE)
        before = len(await _outbox(db))
        others = [Database(db_url) for _ in range(3)]
        try:
            await asyncio.gather(
                *(sweep(other, now=at(day, 8, 30), zone=ZONE) for other in (db, *others))
            )
        finally:
            for other in others:
                await other.dispose()
        rows = await _outbox(db)
        assert wanted
        assert len(rows) - before == len(wanted)
        assert len({row.dedupe_key for row in rows}) == len(rows)
    assert await preview(db, now=at(date(2026, 11, 30), 8, 30), zone=ZONE) == []


async def test_pausing_one_kind_or_all_and_resuming(db: Database) -> None:
    ids = await _roster(db)
    doctor, now = ids["doc"], at(date(2026, 9, 1), 12)
    async with db.session() as session:
        await pause(session, person_id=doctor, kind=None, now=now)
    first = await sweep(db, now=at(date(2026, 9, 1), 8, 30), zone=ZONE)
    assert [r.person_id for r in await _outbox(db)] == [ids["hh"]]  # the doctor paused all
    assert first.offered == {NoticeKind.bt_start: 1}
    async with db.session() as session:
        await resume(session, person_id=doctor, kind=NoticeKind.bt_start, now=now)
        held = await paused_kinds(session, person_id=doctor)
    assert PAUSE_ALL not in held
    assert NoticeKind.bt_start.value not in held
    assert NoticeKind.item_due_soon.value in held
    await sweep(db, now=at(date(2026, 9, 2), 8, 30), zone=ZONE)  # catches up the start notice
    assert sorted(r.kind for r in await _outbox(db) if r.person_id == doctor) == ["bt_start"]
    async with db.session() as session:
        await resume(session, person_id=doctor, kind=None, now=now)
        assert await paused_kinds(session, person_id=doctor) == set()
    await sweep(db, now=at(date(2026, 9, 8), 8, 30), zone=ZONE)  # IUP and contract due in 7 days
    soon = [r for r in await _outbox(db) if r.person_id == doctor and r.kind == "item_due_soon"]
    assert len(soon) == 2


def test_preview_lists_what_a_sweep_would_send_and_records_nothing(tmp_path: Path) -> None:
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'preview.db'}"}
    runner = CliRunner()
    for name, text in (("people.csv", PEOPLE), ("placements.csv", PLACEMENTS)):
        (tmp_path / name).write_text(text, "utf-8")
        assert (
            runner.invoke(app, ["roster", "import", str(tmp_path / name)], env=env).exit_code == 0
        )
    shown = runner.invoke(
        app, ["reminders", "preview", "--at", "2026-09-01 08:30", "--json"], env=env
    )
    assert shown.exit_code == 0, shown.output
    lines = json.loads(shown.stdout)
    assert sorted((line["recipient"], line["kind"], line["due"]) for line in lines) == [
        ("doc@h.example.org", "bt_start", "2026-09-01"),
        ("hh@h.example.org", "bt_start", "2026-09-01"),
    ]
    assert all(line["subject"] for line in lines)
    again = runner.invoke(
        app, ["reminders", "preview", "--at", "2026-09-01 08:30", "--json"], env=env
    )
    assert json.loads(again.stdout) == lines  # the preview recorded nothing
    night = runner.invoke(
        app, ["reminders", "preview", "--at", "2026-09-01 03:00", "--json"], env=env
    )
    assert json.loads(night.stdout) == []
    bad = runner.invoke(app, ["reminders", "preview", "--at", "2026-03-29 02:30"], env=env)
    assert bad.exit_code == 2
    assert "does not exist" in bad.output
    paused = runner.invoke(app, ["reminders", "pause", "doc@h.example.org", "bt_start"], env=env)
    assert paused.exit_code == 0
    shown = runner.invoke(
        app, ["reminders", "preview", "--at", "2026-09-01 08:30", "--json"], env=env
    )
    assert [line["recipient"] for line in json.loads(shown.stdout)] == ["hh@h.example.org"]


async def test_the_timer_fires_at_0830_local_on_weekdays_across_dst(db: Database) -> None:
    await _roster(db)
    scheduler = AsyncIOScheduler(timezone=ZONE)
    clock = [at(date(2026, 9, 1), 8, 30)]
    run = sweeper(db, zone=ZONE, clock=lambda: clock[0])
    add_reminder_jobs(scheduler, run_sweep=run, zone=ZONE)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {SWEEP_JOB, CATCH_UP_JOB}
    fire, fires = datetime(2026, 10, 22, 12, 0, tzinfo=ZONE), []
    for _ in range(5):  # across the end of summer time on Sunday 25 October
        fire = jobs[SWEEP_JOB].trigger.get_next_fire_time(None, fire + timedelta(minutes=1))
        fires.append(fire)
    assert [f.astimezone(ZONE).strftime("%a %d %H:%M") for f in fires] == [
        "Fri 23 08:30",
        "Mon 26 08:30",
        "Tue 27 08:30",
        "Wed 28 08:30",
        "Thu 29 08:30",
    ]
    assert {f.utcoffset() for f in fires} == {timedelta(hours=2), timedelta(hours=1)}
    result = await run()
    assert result.offered == {NoticeKind.bt_start: 2}
    async with db.session() as session:
        count = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
    assert count == 2


def test_every_kind_has_params_and_swedish_and_english_texts() -> None:
    texts = catalogue()
    for kind in REMINDER_KINDS:
        assert kind in registered()
        for key in (f"reminder.{kind.value}", f"reminder.kind.{kind.value}"):
            assert set(texts[key]) == set(Language), key
