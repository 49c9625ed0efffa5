"""Course files tell doctors what changed: a moved session (time or place) to its enrolled and
waitlisted doctors, and a new session to those who still need the course ("Du får besked här när
det finns ett"), at once in sending hours and otherwise at 08:30 on the next working day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from btassist.courses.enrolment import enrol, record_attendance
from btassist.courses.importer import CourseImportResult, import_sessions, parse_sessions_text
from btassist.courses.models import CourseKind, CourseSession, EnrolmentStatus
from btassist.db.engine import Database
from btassist.outbox.models import OutboxMessage
from btassist.outbox.notices import NoticeKind
from btassist.reminders.pauses import pause
from btassist.roster.files import parse_roster_text
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.courses import add_course

ZONE = ZoneInfo("Europe/Stockholm")
PEOPLE = (
    "email,name,role,region,aad_object_id,language,bt_type,bt_start,bt_end,main_supervisor_email\n"
    "hh@h.example.org,Huvud,supervisor,halland,,,,,,\n"
    "anna@h.example.org,Anna,doctor,halland,,,block,2026-09-01,2027-08-31,hh@h.example.org\n"
    "bo@h.example.org,Bo,doctor,halland,,,block,2026-09-01,2027-08-31,hh@h.example.org\n"
    "cia@h.example.org,Cia,doctor,halland,,,block,2026-09-01,2027-08-31,hh@h.example.org\n"
    "dan@h.example.org,Dan,doctor,halland,,,block,2025-09-01,2026-08-31,hh@h.example.org\n"
    "eva@g.example.org,Eva,doctor,gavleborg,,,block,2026-09-01,2027-08-31,\n"
    "fia@h.example.org,Fia,doctor,halland,,,block,2026-09-01,2027-08-31,hh@h.example.org\n"
)
HEADER = "course_code,key,region,start,end,location,meeting_url,capacity,deadline,status\n"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE).astimezone(UTC)


async def _people(db: Database) -> dict[str, int]:
    result = await import_roster(db, parse_roster_text(PEOPLE))
    assert result.ok, result.problems
    async with db.session() as session:
        return {
            p.email.split("@")[0]: p.id or 0 for p in (await session.exec(select(Person))).all()
        }


async def _import(db: Database, rows: str, now: datetime) -> CourseImportResult:
    result = await import_sessions(
        db, parse_sessions_text(HEADER + rows, name="sessions.csv"), zone=ZONE, now=now
    )
    assert result.ok, result.problems
    return result


async def _notices(db: Database, kind: NoticeKind) -> list[OutboxMessage]:
    async with db.session() as session:
        query = select(OutboxMessage).where(col(OutboxMessage.kind) == kind.value)
        return list((await session.exec(query.order_by(col(OutboxMessage.id)))).all())


async def _session_id(db: Database, key: str) -> int:
    async with db.session() as session:
        found = (
            await session.exec(select(CourseSession).where(col(CourseSession.key) == key))
        ).one()
    return found.id or 0


async def test_a_new_session_is_told_to_those_who_still_need_the_course(db: Database) -> None:
    ids = await _people(db)
    await add_course(db, "halland-stas", "StAS", regions={"halland": True})
    async with db.session() as session:
        await pause(
            session,
            person_id=ids["cia"],
            kind=NoticeKind.session_new,
            now=at(date(2026, 9, 1), 9),
        )
    first = "halland-stas,f1,halland,2026-10-05 09:00,2026-10-05 16:00,Varberg,,,,\n"
    await _import(db, first, at(date(2026, 9, 1), 9))
    f1 = await _session_id(db, "f1")
    told = await _notices(db, NoticeKind.session_new)
    # Not Cia (paused), Dan (his BT ended before), Eva (another region).
    assert sorted(n.person_id for n in told) == [ids["anna"], ids["bo"], ids["fia"]]
    await enrol(
        db,
        zone=ZONE,
        check_clashes=False,
        doctor_id=ids["fia"],
        session_id=f1,
        now=at(date(2026, 9, 1), 10),
    )
    await record_attendance(
        db,
        session_id=f1,
        doctor_ids=[ids["fia"]],
        on=date(2026, 10, 5),
        today=date(2026, 10, 5),
        zone=ZONE,
    )
    # Fia has done StAS now: a new session tells the others.
    rows = first + "halland-stas,s1,halland,2026-11-10 08:30,2026-11-10 16:00,Varberg,,1,,\n"
    result = await _import(db, rows, at(date(2026, 10, 6), 10, 15))  # a Tuesday morning
    told = await _notices(db, NoticeKind.session_new)
    stas = [n for n in told if n.params["session_ids"] == [await _session_id(db, "s1")]]
    assert sorted(n.person_id for n in stas) == [ids["anna"], ids["bo"]]
    assert {n.available_at for n in stas} == {at(date(2026, 10, 6), 10, 15)}
    assert result.reminders_queued == 2
    # Bo takes the seat, Anna the waiting list: a second session tells Anna (still waiting)
    # but not Bo (he has a seat).
    s1 = await _session_id(db, "s1")
    await enrol(
        db,
        zone=ZONE,
        check_clashes=False,
        doctor_id=ids["bo"],
        session_id=s1,
        now=at(date(2026, 10, 6), 11),
    )
    anna = await enrol(
        db,
        zone=ZONE,
        check_clashes=False,
        doctor_id=ids["anna"],
        session_id=s1,
        now=at(date(2026, 10, 6), 11, 5),
    )
    assert anna.status is EnrolmentStatus.waitlisted
    again = await _import(db, rows, at(date(2026, 10, 6), 12))
    assert again.reminders_queued == 0  # the same file again: nothing new
    await _import(
        db,
        rows + "halland-stas,s2,halland,2026-12-01 08:30,2026-12-01 16:00,Halmstad,,,,\n",
        at(date(2026, 10, 9), 18),
    )
    s2 = await _session_id(db, "s2")
    later = [
        n for n in await _notices(db, NoticeKind.session_new) if n.params["session_ids"] == [s2]
    ]
    assert [n.person_id for n in later] == [ids["anna"]]
    # Imported on a Friday evening: told on Monday at 08:30.
    assert later[0].available_at == at(date(2026, 10, 12), 8, 30)


async def test_a_moved_session_tells_its_enrolled_and_waitlisted_doctors(db: Database) -> None:
    ids = await _people(db)
    await add_course(
        db, "halland-tema", "Temadag", regions={"halland": False}, kind=CourseKind.temadag
    )
    rows = "halland-tema,t1,halland,2026-11-10 09:00,2026-11-10 16:00,Varberg,,1,,\n"
    await _import(db, rows, at(date(2026, 10, 1), 9))
    assert await _notices(db, NoticeKind.session_new) == []  # optional: nobody "needs" it
    t1 = await _session_id(db, "t1")
    await enrol(
        db,
        zone=ZONE,
        check_clashes=False,
        doctor_id=ids["anna"],
        session_id=t1,
        now=at(date(2026, 10, 1), 10),
    )
    await enrol(
        db,
        zone=ZONE,
        check_clashes=False,
        doctor_id=ids["bo"],
        session_id=t1,
        now=at(date(2026, 10, 1), 11),
    )
    moved = rows.replace("2026-11-10 09:00,2026-11-10 16:00", "2026-11-12 09:00,2026-11-12 16:00")
    await _import(db, moved, at(date(2026, 10, 2), 10))
    first = await _notices(db, NoticeKind.session_moved)
    assert sorted((n.person_id, n.params["waitlisted"]) for n in first) == [
        (ids["anna"], False),
        (ids["bo"], True),
    ]
    assert {n.params["previous_starts_at"] for n in first} == {"2026-11-10T08:00:00Z"}
    assert {n.params["place_changed"] for n in first} == {False}
    await _import(db, moved, at(date(2026, 10, 2), 11))
    assert len(await _notices(db, NoticeKind.session_moved)) == 2  # unchanged: nobody told
    elsewhere = moved.replace(",Varberg,", ",Halmstad,")
    await _import(db, elsewhere, at(date(2026, 10, 2), 12))
    place = (await _notices(db, NoticeKind.session_moved))[2:]
    assert len(place) == 2
    assert {n.params["place_changed"] for n in place} == {True}
    # Cancelled in the file: its doctors need a new session, and a new one tells them.
    await _import(db, elsewhere.replace(",1,,\n", ",1,,cancelled\n"), at(date(2026, 10, 5), 9))
    await _import(
        db,
        elsewhere + "halland-tema,t2,halland,2027-01-20 09:00,2027-01-20 16:00,Varberg,,,,\n",
        at(date(2026, 10, 5), 10),
    )
    t2 = await _session_id(db, "t2")
    told = [
        n for n in await _notices(db, NoticeKind.session_new) if n.params["session_ids"] == [t2]
    ]
    assert sorted(n.person_id for n in told) == [ids["anna"], ids["bo"]]
