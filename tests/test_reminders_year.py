"""A whole BT year in seconds: four doctors (Gävleborg, Jönköping, Kronoberg, Halland) live
through their plans while the clock is moved through every day, sweeping at night, before,
at and after 08:30, across both DST changes, Christmas, Easter and midsummer.

What they get is compared with an oracle written from the rules as the region policies and the
issue state them (working days from the `holidays` library directly), and every reminder must
have been queued at 08:30 local time on a working day.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlmodel import col, select

from btassist.assessments.models import ItemKind, ItemStatus, PlanItem
from btassist.assessments.policy import RegionPolicies
from btassist.assessments.service import mark_done
from btassist.assessments.sync import shipped_policies, sync_plans
from btassist.courses.enrolment import enrol
from btassist.courses.importer import (
    SESSION_COLUMNS,
    ensure_catalogue,
    import_sessions,
    parse_sessions_text,
)
from btassist.courses.models import CourseSession
from btassist.courses.schedule import occurrences
from btassist.db.engine import Database
from btassist.outbox.models import OutboxMessage
from btassist.outbox.notices import NoticeKind
from btassist.reminders.kinds import REMINDER_KINDS
from btassist.reminders.pauses import pause, resume
from btassist.reminders.sweep import sweep
from btassist.roster.files import PEOPLE_COLUMNS, parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import BTProgramme, Person, Placement
from tests.support.databases import fresh_sqlite, run_sync

ZONE = ZoneInfo("Europe/Stockholm")
FIRST_DAY, LAST_DAY = date(2026, 8, 10), date(2027, 9, 3)
EX = "example.org"
PEOPLE = (
    ",".join(PEOPLE_COLUMNS)
    + f"""
hh.gavle@{EX},Huvud Gävle,supervisor,gavleborg,,,,,,
hl.gavle1@{EX},Handledare Gävle PV,supervisor,gavleborg,,,,,,
hl.gavle2@{EX},Handledare Gävle akut,supervisor,gavleborg,,,,,,
sr.gavle@{EX},Studierektor Gävle,studierektor,gavleborg,,,,,,
doc.gavle@{EX},Läkare Gävle,doctor,gavleborg,,,block,2026-08-17,2027-08-13,hh.gavle@{EX}
hh.jkpg@{EX},Huvud Jönköping,supervisor,jonkoping,,,,,,
hl.jkpg@{EX},Handledare Jönköping,supervisor,jonkoping,,,,,,
sr.jkpg@{EX},Studierektor Jönköping,studierektor,jonkoping,,,,,,
doc.jkpg@{EX},Läkare Jönköping,doctor,jonkoping,,,integrated,2026-09-01,2027-08-31,hh.jkpg@{EX}
hh.kbg@{EX},Huvud Kronoberg,supervisor,kronoberg,,,,,,
hl.kbg@{EX},Handledare Kronoberg,supervisor,kronoberg,,,,,,
sr1.kbg@{EX},Studierektor Kronoberg 1,studierektor,kronoberg,,,,,,
sr2.kbg@{EX},Studierektor Kronoberg 2,studierektor,kronoberg,,,,,,
doc.kbg@{EX},Läkare Kronoberg,doctor,kronoberg,,,block,2026-08-24,2027-08-20,hh.kbg@{EX}
hh.hal@{EX},Huvud Halland,supervisor,halland,,,,,,
hl.hal1@{EX},Handledare Halland psykiatri,supervisor,halland,,,,,,
hl.hal2@{EX},Handledare Halland akut,supervisor,halland,,,,,,
sr.hal@{EX},Studierektor Halland,studierektor,halland,,,,,,
doc.hal@{EX},Läkare Halland,doctor,halland,,,block,2026-09-01,2027-08-31,hh.hal@{EX}
"""
)
PLACEMENTS = f"""doctor_email,kind,unit,start,end,supervisor_email
doc.gavle@{EX},primarvard,HC Strömsbro,2026-08-17,2026-10-30,hl.gavle1@{EX}
doc.gavle@{EX},akut,Medicin Gävle,2026-11-02,2027-02-26,hl.gavle2@{EX}
doc.gavle@{EX},psykiatri,Psykiatri Gävle,2027-03-01,2027-05-28,hl.gavle2@{EX}
doc.gavle@{EX},primarvard,HC Strömsbro,2027-05-31,2027-08-13,hl.gavle1@{EX}
doc.jkpg@{EX},akut,Medicinkliniken Jönköping,2026-09-01,2026-11-30,hl.jkpg@{EX}
doc.jkpg@{EX},psykiatri,Psykiatrikliniken Jönköping,2026-12-01,2027-02-28,hl.jkpg@{EX}
doc.jkpg@{EX},primarvard,VC Ekhagen,2027-03-01,2027-08-31,hl.jkpg@{EX}
doc.kbg@{EX},akut,Internmedicin Växjö,2026-09-21,2026-11-20,hl.kbg@{EX}
doc.kbg@{EX},akut,Kirurgi Växjö,2026-11-23,2027-01-22,hl.kbg@{EX}
doc.kbg@{EX},psykiatri,Psykiatri Växjö,2027-02-22,2027-04-23,hl.kbg@{EX}
doc.kbg@{EX},primarvard,VC Teleborg,2027-04-26,2027-08-20,hl.kbg@{EX}
doc.hal@{EX},psykiatri,Psykiatri Varberg,2026-09-01,2026-11-30,hl.hal1@{EX}
doc.hal@{EX},akut,Akutkliniken Varberg,2026-12-01,2027-04-15,hl.hal2@{EX}
doc.hal@{EX},primarvard,VC Söder,2027-04-16,2027-08-31,hh.hal@{EX}
"""
SESSIONS = (
    ",".join(SESSION_COLUMNS)
    + "\n"
    + "\n".join(
        [
            "kronoberg-schemalagd-undervisning,kbg-ht26,kronoberg,"
            # weekly, across the end of summer time
            "2026-10-21 13:00,2026-10-21 17:00,Växjö,,,,,weekly,2026-11-04",
            "halland-stas,hal-stas,halland,2026-12-28 08:30,2026-12-28 16:00,Varberg,,,,,,",
            "halland-temadag-smarta-och-palliation,hal-smarta,halland,2027-03-30 09:00,"
            "2027-03-30 16:00,Halmstad,,,,,,",  # the day after Easter Monday
            "halland-forsakringsmedicin,hal-fm,halland,"
            "2027-06-28 08:30,2027-06-29 16:30,Halmstad,,,,,,",
        ]
    )
)
ENROLMENTS = {
    "kbg-ht26": "doc.kbg",
    "hal-stas": "doc.hal",
    "hal-smarta": "doc.hal",
    "hal-fm": "doc.hal",
}
# Each doctor marks an item done at 15:00 on its day, except these (days late; None: never).
LATE = {
    ("doc.gavle", date(2026, 12, 30)): None,  # the akut placement's second monthly assessment
    ("doc.jkpg", date(2026, 9, 15)): 20,  # the IUP
    ("doc.hal", date(2027, 3, 2)): 6,  # the BT-kollegium
}
# The Kronoberg doctor pauses the weekly summary through October (at 15:00 those days).
PAUSED = (date(2026, 10, 1), date(2026, 11, 1))
# Every day: night, early, the send, the afternoon; DST and holiday weeks sweep more often.
TIMES = (time(0, 10), time(2, 30), time(7, 59), time(8, 30), time(17, 0), time(21, 30))
BUSY_WEEKS = (date(2026, 10, 19), date(2026, 12, 21), date(2026, 12, 28), date(2027, 3, 22),
              date(2027, 3, 29), date(2027, 6, 21))  # fmt: skip

OFF = holidays.country_holidays("SE", categories=("public", "de_facto"), include_sundays=False)


def working(day: date) -> bool:
    return day.weekday() < 5 and day not in OFF


def on_or_before(day: date) -> date:
    while not working(day):
        day -= timedelta(days=1)
    return day


def on_or_after(day: date) -> date:
    while not working(day):
        day += timedelta(days=1)
    return day


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)


@dataclass
class Year:
    """What the simulation leaves behind."""

    outbox: list[OutboxMessage]
    items: list[PlanItem]
    people: dict[str, Person]
    programmes: dict[int, BTProgramme]
    placements: dict[int, Placement]
    sessions: dict[str, tuple[int, list[date]]]  # enrolled session id and its days, by key
    done_at: dict[int, datetime] = field(default_factory=dict)

    def email(self, person_id: int | None) -> str:
        return next(p.email for p in self.people.values() if p.id == person_id).split("@")[0]

    def id(self, name: str) -> int:
        person = self.people[name]
        assert person.id is not None
        return person.id


def _times(day: date, rng: random.Random) -> Iterator[time]:
    """The moments the clock is moved to on a day, with doctors acting at 15:00."""
    yield from TIMES[:4]
    monday = day - timedelta(days=day.weekday())
    if monday in BUSY_WEEKS or rng.random() < 0.15:
        yield time(rng.randint(8, 16), rng.randint(31, 59))  # a second sweep in sending hours
    yield time(15, 0)
    yield from TIMES[4:]


async def _simulate(url: str, policies: RegionPolicies) -> Year:
    database = Database(url)
    setup = local(date(2026, 8, 8), time(12, 0))  # a Saturday: event notices wait for Monday
    await ensure_catalogue(database, now=setup)
    for text in (PEOPLE, PLACEMENTS):
        result = await import_roster(database, parse_roster_text(text))
        assert result.ok, result.problems
    await sync_plans(database, policies=policies, now=setup)
    imported = await import_sessions(
        database, parse_sessions_text(SESSIONS, name="sessions.csv"), zone=ZONE, now=setup
    )
    assert imported.ok, imported.problems
    async with database.session() as session:
        people = {p.email.split("@")[0]: p for p in (await session.exec(select(Person))).all()}
        keyed = {s.key: s for s in (await session.exec(select(CourseSession))).all()}
    for key, doctor in ENROLMENTS.items():
        doctor_id, session_id = people[doctor].id, keyed[key].id
        assert doctor_id is not None
        assert session_id is not None
        await enrol(
            database,
            zone=ZONE,
            check_clashes=False,
            doctor_id=doctor_id,
            session_id=session_id,
            now=setup,
        )

    done_at: dict[int, datetime] = {}
    year_id = people["doc.kbg"].id or 0
    rng = random.Random(10)
    names = {p.id: name for name, p in people.items()}
    day = FIRST_DAY
    while day <= LAST_DAY:
        for moment in _times(day, rng):
            now = local(day, moment)
            if moment == time(15, 0):
                await _act(database, day, now, names, done_at)
                if day in PAUSED:
                    change = pause if day == PAUSED[0] else resume
                    async with database.session() as session:
                        await change(
                            session, person_id=year_id, kind=NoticeKind.weekly_digest, now=now
                        )
            await sweep(database, now=now, zone=ZONE, policies=policies)
        day += timedelta(days=1)

    async with database.session() as session:
        outbox = list((await session.exec(select(OutboxMessage))).all())
        items = list((await session.exec(select(PlanItem).order_by(col(PlanItem.due)))).all())
        programmes = {p.doctor_id: p for p in (await session.exec(select(BTProgramme))).all()}
        placements = {p.id or 0: p for p in (await session.exec(select(Placement))).all()}
    await database.dispose()
    sessions = {
        key: (
            keyed[key].id or 0,
            [start.astimezone(ZONE).date() for start, _ in occurrences(keyed[key], ZONE)],
        )
        for key in ENROLMENTS
    }
    return Year(outbox, items, people, programmes, placements, sessions, done_at)


async def _act(
    database: Database,
    day: date,
    now: datetime,
    names: dict[int | None, str],
    done_at: dict[int, datetime],
) -> None:
    """Doctors mark today's items done (and late ones when their delay is up)."""
    async with database.session() as session:
        open_items = (
            await session.exec(
                select(PlanItem).where(
                    col(PlanItem.status) == ItemStatus.open, col(PlanItem.due) <= day
                )
            )
        ).all()
        for item in open_items:
            late = LATE.get((names[item.doctor_id], item.due), 0)
            if late is None or item.due + timedelta(days=late) != day:
                continue
            assert item.id is not None
            await mark_done(
                session,
                item_id=item.id,
                on=day,
                today=day,
                instrument=None,
                assessor=None,
                by_person_id=item.doctor_id,
                now=now,
            )
            done_at[item.id] = now


@pytest.fixture(scope="module")
def year(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Year:
    url = fresh_sqlite(sqlite_template, tmp_path_factory.mktemp("year"))
    return run_sync(_simulate(url, shipped_policies()))


# --- the oracle -----------------------------------------------------------------------------

Sent = tuple[str, str, str, date, date]  # recipient, kind, subject, date, local day queued
SWEPT = {kind.value for kind in REMINDER_KINDS} - {"session_new", "session_moved"}


def sent(year: Year) -> set[Sent]:
    """The swept reminders in the outbox as (recipient, kind, subject, date, day queued)."""
    found = set()
    for row in year.outbox:
        if row.kind not in SWEPT:
            continue
        kind, rest = row.dedupe_key.split(":", 1)
        person, rest = rest.split(":", 1)
        subject, on = rest.rsplit(":", 1)
        assert int(person) == row.person_id
        queued = row.available_at.astimezone(ZONE).date()
        found.add((year.email(row.person_id), kind, subject, date.fromisoformat(on), queued))
    return found


def _open_at(year: Year, item: PlanItem, day: date) -> bool:
    done = year.done_at.get(item.id or 0)
    return done is None or done > local(day, time(8, 30))


def expected(year: Year, policies: RegionPolicies) -> set[Sent]:
    """What the rules say each person gets, and on which day."""
    out: set[Sent] = set()

    def add(person_id: int | None, kind: NoticeKind, subject: str, on: date, day: date) -> None:
        if person_id is not None and FIRST_DAY <= day <= LAST_DAY:
            out.add((year.email(person_id), kind.value, subject, on, day))

    region_of = {p.id: p.region_code for p in year.people.values()}
    directors = defaultdict(list)
    for name, person in year.people.items():
        if name.startswith("sr"):
            directors[person.region_code].append(person.id)
    for item in year.items:
        programme = year.programmes[item.doctor_id]
        policy = policies[region_of[item.doctor_id]]
        attendees = {a.value for a in policy.attendees(item.kind)}
        main = programme.main_supervisor_id
        owner = item.doctor_id if "doctor" in attendees else main
        subject, due = f"item:{item.id}", item.due
        if item.kind is not ItemKind.end_meeting:
            add(owner, NoticeKind.item_due_soon, subject, due, on_or_before(due - timedelta(7)))
        add(owner, NoticeKind.item_due_today, subject, due, on_or_before(due))
        placement = year.placements.get(item.placement_id or 0)
        handledare = placement.supervisor_id if placement else None
        if item.kind is ItemKind.end_meeting:
            people = {
                "doctor": [item.doctor_id],
                "handledare": [handledare],
                "huvudhandledare": [main],
                "studierektor": directors[region_of[item.doctor_id]],
            }
            day = on_or_before(due - timedelta(days=14))
            for role in attendees:
                for person_id in people[role]:
                    add(person_id, NoticeKind.meeting_proposal, subject, due, day)
        # Overdue: supervisors on the 3rd working day late and every 5th after, for 42 days;
        # the studierektor once, 14 days late.
        late, day = 0, due
        while (day := day + timedelta(days=1)) <= due + timedelta(days=42):
            if not working(day):
                continue
            late += 1
            if not _open_at(year, item, day):
                break
            if late >= 3 and (late - 3) % 5 == 0:
                for supervisor in {handledare, main}:
                    add(supervisor, NoticeKind.supervisor_overdue, "trainees", day, day)
        told = on_or_after(due + timedelta(days=14))
        if told <= due + timedelta(days=42) and _open_at(year, item, told):
            for director in directors[region_of[item.doctor_id]]:
                add(director, NoticeKind.studierektor_overdue, "region", told, told)
    for doctor_id, programme in year.programmes.items():
        day = on_or_after(programme.start)
        for person_id in (doctor_id, programme.main_supervisor_id):
            add(person_id, NoticeKind.bt_start, f"doctor:{doctor_id}", programme.start, day)
        _digests(year, policies, doctor_id, programme, add)
    for key, (session_id, days) in year.sessions.items():
        doctor_id = year.id(ENROLMENTS[key])
        for day in days:
            before = on_or_before(day - timedelta(days=1))
            add(doctor_id, NoticeKind.session_tomorrow, f"session:{session_id}", day, before)
    return out


def _digests(
    year: Year, policies: RegionPolicies, doctor_id: int, programme: BTProgramme, add: Any
) -> None:
    policy = policies[next(p.region_code for p in year.people.values() if p.id == doctor_id)]
    hours = policy.teaching.weekly_hours
    monday = programme.start - timedelta(days=programme.start.weekday())
    while monday <= programme.planned_end:
        first = on_or_after(monday)
        week = (monday, monday + timedelta(days=6))
        due = [
            i
            for i in year.items
            if i.doctor_id == doctor_id
            and week[0] <= i.due <= week[1]
            and i.kind is not ItemKind.kollegium
            and _open_at(year, i, first)
        ]
        sessions = [
            d
            for key, (_, days) in year.sessions.items()
            if year.id(ENROLMENTS[key]) == doctor_id
            for d in days
            if week[0] <= d <= week[1]
        ]
        paused = doctor_id == year.id("doc.kbg") and PAUSED[0] < first <= PAUSED[1]
        if (hours or due or sessions) and not paused:
            add(doctor_id, NoticeKind.weekly_digest, "week", monday, first)
        monday += timedelta(days=7)


# --- the tests ------------------------------------------------------------------------------


def _plan(year: Year, doctor: str) -> list[tuple[str, date]]:
    doctor_id = year.id(doctor)
    return [(i.kind.value, i.due) for i in year.items if i.doctor_id == doctor_id]


def test_each_plan_is_what_its_region_policy_implies(year: Year) -> None:
    d = date
    assert _plan(year, "doc.gavle") == [  # monthly with instruments, a final one per placement
        ("iup", d(2026, 8, 31)),
        ("assessment", d(2026, 9, 17)),
        ("assessment", d(2026, 10, 16)),  # 17 Oct is a Saturday
        ("placement_assessment", d(2026, 10, 30)),
        ("assessment", d(2026, 12, 2)),
        ("assessment", d(2026, 12, 30)),  # 2 Jan: Saturday, New Year, nyårsafton before it
        ("assessment", d(2027, 2, 2)),
        ("placement_assessment", d(2027, 2, 26)),
        ("assessment", d(2027, 4, 1)),
        ("assessment", d(2027, 4, 30)),
        ("placement_assessment", d(2027, 5, 28)),
        ("assessment", d(2027, 6, 30)),
        ("assessment", d(2027, 7, 30)),
        ("final_assessment", d(2027, 7, 30)),
        ("placement_assessment", d(2027, 8, 13)),
    ]
    assert _plan(year, "doc.jkpg") == [  # two per three months, scaled to six months of PV
        ("iup", d(2026, 9, 15)),
        ("assessment", d(2026, 10, 16)),
        ("assessment", d(2026, 11, 30)),
        ("assessment", d(2027, 1, 14)),
        ("assessment", d(2027, 2, 26)),  # 28 Feb is a Sunday
        ("assessment", d(2027, 4, 15)),
        ("assessment", d(2027, 5, 31)),
        ("assessment", d(2027, 7, 16)),
        ("final_assessment", d(2027, 8, 17)),
        ("assessment", d(2027, 8, 31)),
    ]
    assert _plan(year, "doc.kbg") == [  # two per placement, an overall one, kollegium halfway
        ("iup", d(2026, 9, 7)),
        ("assessment", d(2026, 10, 9)),
        ("assessment", d(2026, 10, 30)),
        ("placement_assessment", d(2026, 11, 20)),
        ("assessment", d(2026, 12, 11)),
        ("assessment", d(2026, 12, 30)),
        ("placement_assessment", d(2027, 1, 22)),
        ("kollegium", d(2027, 2, 19)),
        ("assessment", d(2027, 3, 12)),
        ("assessment", d(2027, 4, 2)),
        ("placement_assessment", d(2027, 4, 23)),
        ("assessment", d(2027, 6, 3)),
        ("assessment", d(2027, 7, 12)),
        ("final_assessment", d(2027, 8, 6)),
        ("placement_assessment", d(2027, 8, 20)),
    ]
    assert _plan(year, "doc.hal") == [  # hand-over meetings, kollegium, IUP and contract
        ("iup", d(2026, 9, 15)),
        ("supervision_contract", d(2026, 9, 15)),
        ("assessment", d(2026, 10, 16)),
        ("assessment", d(2026, 11, 30)),
        ("end_meeting", d(2026, 11, 30)),
        ("assessment", d(2027, 1, 15)),
        ("assessment", d(2027, 3, 1)),
        ("kollegium", d(2027, 3, 2)),
        ("assessment", d(2027, 4, 15)),
        ("end_meeting", d(2027, 4, 15)),
        ("assessment", d(2027, 5, 31)),
        ("assessment", d(2027, 7, 16)),
        ("final_assessment", d(2027, 8, 17)),
        ("assessment", d(2027, 8, 31)),
        ("end_meeting", d(2027, 8, 31)),
    ]


def test_the_year_brings_exactly_what_the_policies_imply(year: Year) -> None:
    got, wanted = sent(year), expected(year, shipped_policies())
    assert sorted(got - wanted) == []
    assert sorted(wanted - got) == []
    kinds = {kind for _, kind, *_ in got}
    assert kinds == SWEPT  # the year exercised every swept kind


def test_every_reminder_was_queued_at_0830_on_a_working_day(year: Year) -> None:
    assert year.outbox
    for row in year.outbox:
        queued = row.available_at.astimezone(ZONE)
        assert queued.time() == time(8, 30), row.dedupe_key
        assert working(queued.date()), row.dedupe_key
    # …including the weeks the clocks change and the holidays.
    days = {row.available_at.astimezone(ZONE).date() for row in year.outbox}
    assert {
        date(2026, 10, 26),
        date(2026, 12, 23),
        date(2027, 3, 25),
        date(2027, 3, 29 + 1),
    } <= days
    assert not days & {date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 6), date(2027, 6, 25)}


def _sent_to(year: Year, kind: NoticeKind, person: str) -> list[date]:
    return sorted(day for who, k, _, _, day in sent(year) if k == kind.value and who == person)


def test_marking_done_stops_the_nudges_and_the_studierektor_hears_once(year: Year) -> None:
    overdue, director = NoticeKind.supervisor_overdue, NoticeKind.studierektor_overdue
    d = date
    # Never done: every fifth working day from the third, for six weeks; escalated once.
    gavle = [d(2027, 1, 7), d(2027, 1, 14), d(2027, 1, 21), d(2027, 1, 28), d(2027, 2, 4)]
    assert _sent_to(year, overdue, "hl.gavle2") == gavle
    assert _sent_to(year, overdue, "hh.gavle") == gavle
    assert _sent_to(year, director, "sr.gavle") == [d(2027, 1, 13)]
    # Done 20 days late (5 Oct): nudged three times, escalated on day 14, then quiet.
    assert _sent_to(year, overdue, "hh.jkpg") == [d(2026, 9, 18), d(2026, 9, 25), d(2026, 10, 2)]
    assert _sent_to(year, director, "sr.jkpg") == [d(2026, 9, 29)]
    # Done 6 days late: one nudge, never escalated.
    assert _sent_to(year, overdue, "hl.hal2") == [d(2027, 3, 5)]
    assert _sent_to(year, director, "sr.hal") == []
    # Kronoberg's doctor was never late: the two studierektorer heard nothing.
    assert _sent_to(year, director, "sr1.kbg") == _sent_to(year, director, "sr2.kbg") == []


def test_a_paused_summary_stops_and_resumes(year: Year) -> None:
    mondays = _sent_to(year, NoticeKind.weekly_digest, "doc.kbg")
    assert d(2026, 9, 28) in mondays
    assert d(2026, 11, 2) in mondays
    assert not [m for m in mondays if d(2026, 10, 1) < m < d(2026, 11, 1)]
    hours = {
        row.params["teaching_hours"]
        for row in year.outbox
        if row.kind == "weekly_digest" and row.person_id == year.id("doc.kbg")
    }
    assert hours == {4}


def d(year: int, month: int, day: int) -> date:
    return date(year, month, day)


def test_new_sessions_are_told_on_the_next_working_morning(year: Year) -> None:
    told = {
        (year.email(row.person_id), row.available_at.astimezone(ZONE))
        for row in year.outbox
        if row.kind == "session_new"
    }
    # Imported on Saturday 8 August: told on Monday at 08:30.
    monday = datetime(2026, 8, 10, 8, 30, tzinfo=ZONE)
    assert {("doc.hal", monday), ("doc.kbg", monday)} <= told
    assert {who for who, _ in told} == {"doc.hal", "doc.kbg"}  # Gävleborg, Jönköping: no course
