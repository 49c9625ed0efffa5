"""Each doctor's plan: made from policy and roster, kept in step with roster changes without
losing what was done or set by hand, changed by the people allowed to, and roster warnings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.assessments.roster_checks import RosterIssue, check_roster, plans_after_import
from btassist.assessments.service import (
    LineState,
    PlanChangeRefused,
    PlanRefusal,
    instrument_named,
    mark_done,
    may_change,
    move_item,
    plan_of,
    trainees_overdue,
)
from btassist.assessments.sync import shipped_policies, sync_plans
from btassist.cli import app
from btassist.db.engine import Database
from btassist.roster.files import PEOPLE_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person, PersonRole, Role

NOW = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
PEOPLE = (
    ",".join(PEOPLE_COLUMNS)
    + """
hh@g.example.org,Huvud,supervisor,gavleborg,,,,,,
hl@g.example.org,Handledare,supervisor,gavleborg,,,,,,
kb@g.example.org,Koordinator,coordinator,gavleborg,,,,,,
other@h.example.org,Annan koordinator,coordinator,halland,,,,,,
doc@g.example.org,Läkare,doctor,gavleborg,,,block,2026-08-17,2027-08-13,hh@g.example.org
"""
)
PLACEMENTS = """doctor_email,kind,unit,start,end,supervisor_email
doc@g.example.org,primarvard,HC Strömsbro,2026-08-17,2026-10-30,hl@g.example.org
doc@g.example.org,akut,Medicin Gävle,2026-11-02,2027-02-26,hl@g.example.org
doc@g.example.org,psykiatri,Psykiatri Gävle,2027-03-01,2027-05-28,
doc@g.example.org,primarvard,HC Strömsbro,2027-05-31,2027-08-13,hl@g.example.org
"""


async def _import(db: Database, text: str) -> None:
    result = await import_roster(db, parse_roster_text(text))
    assert result.ok, result.problems


async def _ids(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {
            p.email.split("@")[0]: p.id or 0 for p in (await session.exec(select(Person))).all()
        }


async def _items(db: Database) -> dict[str, PlanItem]:
    async with db.session() as session:
        rows = (await session.exec(select(PlanItem).order_by(col(PlanItem.due)))).all()
    return {item.key: item for item in rows}


@pytest.fixture
async def planned(db: Database) -> Database:
    await _import(db, PEOPLE)
    await _import(db, PLACEMENTS)
    first = await sync_plans(db, now=NOW)
    assert (first.created, first.changed) == (15, 15)
    return db


async def test_regenerating_changes_nothing_and_keeps_done_and_hand_set_dates(
    planned: Database,
) -> None:
    db = planned
    again = await sync_plans(db, now=NOW)
    assert again.changed == 0
    items = await _items(db)
    iup, first_monthly = items["iup"], next(i for k, i in items.items() if k.endswith(":1"))
    async with db.session() as session:
        await mark_done(
            session,
            item_id=iup.id or 0,
            on=date(2026, 8, 28),
            today=date(2026, 8, 28),
            instrument=None,
            assessor="Huvud",
            by_person_id=None,
            now=NOW,
        )
        await move_item(
            session,
            item_id=first_monthly.id or 0,
            due=date(2026, 9, 24),
            by_person_id=None,
            now=NOW,
        )
    # The last placement moves two weeks earlier, ending on the old date of its first assessment.
    await _import(
        db,
        PLACEMENTS.replace(
            "primarvard,HC Strömsbro,2027-05-31,2027-08-13",
            "primarvard,HC Strömsbro,2027-05-31,2027-07-30",
        ),
    )
    moved = await sync_plans(db, now=NOW)
    assert (moved.created, moved.cancelled, moved.moved) == (0, 1, 1)  # one monthly fewer
    items = await _items(db)
    assert items["iup"].status is ItemStatus.done
    assert items["iup"].assessor == "Huvud"
    assert items[first_monthly.key].due == date(2026, 9, 24)  # set by hand: kept
    last = [i for i in items.values() if i.kind is ItemKind.placement_assessment][-1]
    assert last.due == date(2027, 7, 30)
    cancelled = [i for i in items.values() if i.status is ItemStatus.cancelled]
    assert len(cancelled) == 1
    # Back again: the cancelled item reopens rather than a new one being made.
    await _import(db, PLACEMENTS)
    back = await sync_plans(db, now=NOW)
    assert (back.created, back.reopened) == (0, 1)


async def test_roster_warnings_follow_the_region_rules(planned: Database) -> None:
    db = planned
    await _import(
        db,
        PLACEMENTS
        + "doc@g.example.org,valfri,Infektion,2027-02-15,2027-03-12,hl@g.example.org\n"
        + "doc@g.example.org,akut,Kirurgi,2027-08-02,2027-09-10,hl@g.example.org\n",
    )
    async with db.session() as session:
        warnings = await check_roster(session, policies=shipped_policies())
    issues = sorted(w.issue for w in warnings)
    assert issues == sorted(
        [
            RosterIssue.last_placement,  # Gävleborg ends in primary care
            RosterIssue.too_many_placements,  # six, at most four
            RosterIssue.no_supervisor,  # the psychiatry placement
            RosterIssue.overlapping,  # valfri overlaps akut and psykiatri
            RosterIssue.overlapping,
            RosterIssue.overlapping,  # the late akut overlaps the last primary care
            RosterIssue.outside_bt,  # … and runs past the BT
        ]
    )
    assert all(w.doctor_email == "doc@g.example.org" for w in warnings)


async def test_doctor_without_dates_is_warned_and_gets_no_plan(db: Database) -> None:
    # The roster file requires BT dates for doctors; a doctor added another way may lack them.
    async with db.session() as session:
        doctor = Person(email="nodates@v.example.org", name="Utan datum", region_code="vgr")
        session.add(doctor)
        await session.flush()
        session.add(PersonRole(person_id=doctor.id or 0, role=Role.doctor))
    after = await plans_after_import(db, emails=["NoDates@v.example.org "])
    assert after.plans.doctors == 1
    assert after.plans.created == 0
    assert [w.issue for w in after.warnings] == [RosterIssue.no_programme]


async def test_who_may_mark_done_and_what_is_checked(planned: Database) -> None:
    db = planned
    ids = await _ids(db)
    items = await _items(db)
    monthly = next(i for i in items.values() if i.kind is ItemKind.assessment)
    policy = shipped_policies()["gavleborg"]
    assert instrument_named(policy, "minicex") == "Mini-CEX"
    with pytest.raises(PlanChangeRefused) as unknown:
        instrument_named(policy, "OSCE")
    assert unknown.value.reason is PlanRefusal.unknown_instrument
    async with db.session() as session:
        for person, allowed in (
            ("doc", True),
            ("hh", True),
            ("hl", True),
            ("kb", True),
            ("other", False),
        ):
            assert await may_change(session, person_id=ids[person], item=monthly) is allowed, person
        with pytest.raises(PlanChangeRefused) as refused:
            await mark_done(
                session,
                item_id=monthly.id or 0,
                on=date(2026, 9, 17),
                today=date(2026, 9, 17),
                instrument="Mini-CEX",
                assessor=None,
                by_person_id=ids["other"],
                now=NOW,
            )
        assert refused.value.reason is PlanRefusal.not_allowed
        with pytest.raises(PlanChangeRefused) as future:
            await mark_done(
                session,
                item_id=monthly.id or 0,
                on=date(2026, 9, 18),
                today=date(2026, 9, 17),
                instrument=None,
                assessor=None,
                by_person_id=ids["doc"],
                now=NOW,
            )
        assert future.value.reason is PlanRefusal.in_the_future
        with pytest.raises(PlanChangeRefused) as own_date:  # supervisors set new dates
            await move_item(
                session,
                item_id=monthly.id or 0,
                due=date(2026, 12, 1),
                by_person_id=ids["doc"],
                now=NOW,
            )
        assert own_date.value.reason is PlanRefusal.not_allowed
        done = await mark_done(
            session,
            item_id=monthly.id or 0,
            on=date(2026, 9, 17),
            today=date(2026, 9, 17),
            instrument="Mini-CEX",
            assessor="Handledare",
            by_person_id=ids["hl"],
            now=NOW,
        )
        assert (done.status, done.done_by, done.instrument) == (
            ItemStatus.done,
            ids["hl"],
            "Mini-CEX",
        )
    async with db.session() as session:
        lines = await plan_of(session, doctor_id=ids["doc"], today=date(2026, 10, 1))
        trainees = await trainees_overdue(session, supervisor_id=ids["hl"], today=date(2026, 10, 1))
    states = {line.item.key: line.state for line in lines}
    assert states[monthly.key] is LineState.done
    assert states["iup"] is LineState.overdue
    assert states["final_assessment"] is LineState.upcoming
    assert [(t.doctor.email, t.is_main_supervisor) for t in trainees] == [
        ("doc@g.example.org", False)
    ]
    assert [v.item.key for v in trainees[0].overdue] == ["iup"]


async def test_a_new_date_restarts_the_reminders(planned: Database) -> None:
    db = planned
    items = await _items(db)
    async with db.session() as session:
        item = await session.get(PlanItem, items["final_assessment"].id)
        assert item is not None
        item.nudged_on, item.escalated_on = date(2027, 8, 5), date(2027, 8, 13)
        session.add(item)
    async with db.session() as session:
        moved = await move_item(
            session,
            item_id=items["final_assessment"].id or 0,
            due=date(2027, 8, 6),
            by_person_id=None,
            now=NOW,
        )
    assert (moved.nudged_on, moved.escalated_on) == (None, None)
    assert moved.due_known_on == date(2026, 8, 1)
    assert moved.due_edited_at == NOW


def test_roster_import_regenerates_plans_and_prints_warnings(tmp_path: Path) -> None:
    env = {"BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    people, placements = tmp_path / "people.csv", tmp_path / "placements.csv"
    people.write_text(PEOPLE, "utf-8")
    placements.write_text(PLACEMENTS, "utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["roster", "import", str(people)], env=env).exit_code == 0
    result = runner.invoke(app, ["roster", "import", str(placements)], env=env)
    assert result.exit_code == 0, result.output
    assert "plans: 13 item(s) added" in result.output  # the people file made 2 (IUP, final)
    assert "doc@g.example.org: no handledare for psykiatri 2027-03-01–2027-05-28" in result.output

    listed = runner.invoke(app, ["assessments", "list", "doc@g.example.org", "--csv"], env=env)
    assert listed.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    assert [row["item"] for row in rows][:3] == [
        "Individuell utbildningsplan (IUP)",
        "Kompetensvärdering",
        "Kompetensvärdering",
    ]
    assert rows[3]["item"] == "Slutbedömning av placeringen"
    number = rows[0]["#"]
    done = runner.invoke(
        app,
        ["assessments", "done", "doc@g.example.org", number, "--date", "2026-08-28",
         "--instrument", "cbd", "--assessor", "Huvud", "--by", "hh@g.example.org"],
        env=env,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"#{number} done on 2026-08-28 (CBD)" in done.output
    wrong = runner.invoke(
        app, ["assessments", "done", "hh@g.example.org", number, "--date", "2026-08-28"], env=env
    )
    assert wrong.exit_code == 1
    assert "has no item" in wrong.output
    moved = runner.invoke(
        app,
        ["assessments", "move", "doc@g.example.org", f"#{number}", "--date", "2026-09-01"],
        env=env,
    )
    assert moved.exit_code == 0
    assert "is now due on 2026-09-01" in moved.output
