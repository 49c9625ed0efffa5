"""Courses in the chat, as transcripts through the real HTTP path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from btassist.app import DATABASE, RUNTIME
from btassist.courses.enrolment import enrol
from btassist.courses.models import (
    Course,
    CourseKind,
    CourseRegion,
    CourseSession,
    Enrolment,
    EnrolmentStatus,
)
from btassist.localchat.client import ChatClient
from tests.support.bot import (
    AMIR,
    ELENA,
    FATIMA,
    LUKAS,
    SARA,
    RunningBot,
    local_settings,
    running_bot,
)
from tests.support.connector import FakeConnector
from tests.support.courses import add_course, add_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
async def bot(db_url: str, connector: FakeConnector) -> AsyncIterator[RunningBot]:
    """The bot with the bundled catalogue and demo roster, but only the sessions tests add."""
    async with running_bot(local_settings(db_url), connector, roster_only=True) as running:
        yield running


@pytest.fixture
def chat(bot: RunningBot) -> ChatClient:
    return bot.chat


async def bundled(bot: RunningBot, code: str) -> Course:
    """A course from the bundled catalogue."""
    async with bot.app[DATABASE].session(write_lock=False) as db:
        return (await db.exec(select(Course).where(Course.code == code))).one()


async def mandatory_in_halland(bot: RunningBot) -> int:
    async with bot.app[DATABASE].session(write_lock=False) as db:
        return (
            await db.exec(
                select(func.count())
                .select_from(CourseRegion)
                .where(CourseRegion.region_code == "halland", CourseRegion.mandatory)
            )
        ).one()


async def _forsakringsmedicin(
    bot: RunningBot, *, capacity: int | None = 20, starts: datetime | None = None
) -> tuple[Course, CourseSession]:
    course = await bundled(bot, "halland-forsakringsmedicin")
    session = await add_session(
        bot.app[DATABASE], course, key="fm-1", capacity=capacity, starts=starts
    )
    return course, session


async def test_a_halland_doctor_enrols_sees_it_in_my_courses_and_withdraws(
    bot: RunningBot,
) -> None:
    chat = bot.chat
    await _forsakringsmedicin(bot)
    total = await mandatory_in_halland(bot)
    listing = await chat.say(AMIR, "kurser")
    assert f"{total} av {total} obligatoriska kurser kvar" in listing.text
    assert "Försäkringsmedicin AT/BT – **saknas**" in listing.text

    course = await chat.click(AMIR, listing, "Försäkringsmedicin AT/BT")
    assert "20 av 20 platser kvar" in course.text
    enrolled = await chat.click(AMIR, course, "Anmäl")
    assert "Du är anmäld till Försäkringsmedicin AT/BT" in enrolled.text
    assert "Hallands sjukhus Halmstad, sal 3" in enrolled.text
    calendar = enrolled.button("Lägg till i kalender")
    assert calendar.url
    assert calendar.url.endswith(".ics")
    assert enrolled.invoke_cards, "the course card is replaced in place, no stale Anmäl button"
    assert not enrolled.activities

    mine = await chat.say(AMIR, "mina kurser")
    assert "Försäkringsmedicin AT/BT:" in mine.text
    assert "**anmäld**" in mine.text
    withdrawn = await chat.click(AMIR, mine, "Avanmäl")
    assert "Du är avanmäld från Försäkringsmedicin AT/BT" in withdrawn.text
    again = await chat.say(AMIR, "mina kurser")
    assert "Du är inte anmäld till något just nu" in again.text


async def test_english_doctor_gets_english_cards(bot: RunningBot) -> None:
    course_row, _ = await _forsakringsmedicin(bot)
    total = await mandatory_in_halland(bot)
    listing = await bot.chat.say(ELENA, "courses")
    assert f"{total} of {total} mandatory courses left" in listing.text
    course = await bot.chat.click(ELENA, listing, course_row.title_en)
    enrolled = await bot.chat.click(ELENA, course, "Enrol")
    assert f"You're enrolled in {course_row.title_en}" in enrolled.text


async def test_a_full_session_waitlists_and_a_withdrawal_promotes_and_notifies(
    bot: RunningBot, connector: FakeConnector
) -> None:
    chat = bot.chat
    _, session = await _forsakringsmedicin(bot, capacity=1)
    first = await chat.click(AMIR, await chat.say(AMIR, "kurs försäkringsmedicin at/bt"), "Anmäl")
    assert "Du är anmäld" in first.text
    await chat.say(LUKAS, "hjälp")  # Lukas has talked to the bot, so he can be reached
    course = await chat.say(LUKAS, "kurs forsakringsmedicin at/bt")
    assert "fullt, 0 i kö" in course.text
    queued = await chat.click(LUKAS, course, "Köa")
    assert "du står på väntelistan till Försäkringsmedicin AT/BT (plats 1)" in queued.text

    withdrawn = await chat.click(AMIR, await chat.say(AMIR, "mina kurser"), "Avanmäl")
    assert "Du är avanmäld" in withdrawn.text
    await bot.app[RUNTIME].worker.deliver_due()  # the withdrawal woke it; this waits for it
    notices = connector.sent_to(LUKAS.conversation_id)
    assert "Goda nyheter! Du har fått en plats på Försäkringsmedicin AT/BT" in str(notices[-1])
    async with bot.app[DATABASE].session() as db:
        statuses = {
            e.doctor_id: e.status
            for e in (await db.exec(select(Enrolment).where(Enrolment.session_id == session.id)))
        }
    assert sorted(statuses.values()) == [EnrolmentStatus.cancelled, EnrolmentStatus.enrolled]


async def test_a_passed_deadline_is_refused_politely(bot: RunningBot) -> None:
    course = await bundled(bot, "halland-stas")
    await add_session(
        bot.app[DATABASE], course, key="stas-late", deadline=datetime.now(UTC) - timedelta(days=1)
    )
    course_card = await bot.chat.say(AMIR, "kurs stas")
    refused = await bot.chat.click(AMIR, course_card, "Anmäl")
    assert "Sista anmälningsdag för det tillfället har tyvärr passerat" in refused.text
    assert "Felkod" not in refused.text


async def test_a_doctor_cannot_enrol_in_another_regions_session(bot: RunningBot) -> None:
    database = bot.app[DATABASE]
    course = await add_course(
        database, "test-gavleborg-intro", "Introduktion Gävleborg", regions={"gavleborg": True}
    )
    other = await add_session(database, course, key="gb-1", region="gavleborg")
    listing = await bot.chat.say(AMIR, "kurser")
    assert "Introduktion Gävleborg" not in listing.text
    forged = await bot.chat.post(
        bot.chat.activity(AMIR, value={"verb": "enrol", "session_id": other.id})
    )
    assert "hör till en annan region" in forged.text
    gavle = await bot.chat.say(FATIMA, "kurser")
    assert "Introduktion Gävleborg" in gavle.text


async def test_an_unknown_course_gets_a_helpful_answer(bot: RunningBot) -> None:
    await _forsakringsmedicin(bot)
    typo = await bot.chat.say(AMIR, "kurs forsakringsmedcin at/bt")
    assert "Kurs i försäkringsmedicin för AT- och BT-läkare" in typo.text
    unknown = await bot.chat.say(AMIR, "kurs kvantfysik")
    assert 'Jag hittar ingen kurs som heter "kvantfysik"' in unknown.text
    assert "Alla kurser" in [b.title for b in unknown.buttons]
    stale = await bot.chat.post(
        bot.chat.activity(AMIR, value={"verb": "enrol", "session_id": 999999})
    )
    assert "Jag hittar inte det tillfället" in stale.text


async def test_clashes_are_shown_before_confirming(bot: RunningBot) -> None:
    database = bot.app[DATABASE]
    when = (datetime.now(UTC) + timedelta(days=10)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    stas = await bundled(bot, "halland-stas")
    smarta = await bundled(bot, "halland-temadag-smarta-och-palliation")
    await add_session(database, stas, key="stas-1", starts=when)
    await add_session(database, smarta, key="smarta-1", starts=when + timedelta(hours=2))
    await bot.chat.click(AMIR, await bot.chat.say(AMIR, "kurs stas"), "Anmäl")
    clash = await bot.chat.click(AMIR, await bot.chat.say(AMIR, "kurs smärta"), "Anmäl")
    assert f"krockar med {stas.title_sv}" in clash.text
    anyway = await bot.chat.click(AMIR, clash, "Anmäl ändå")
    assert "Du är anmäld till Temadag: Smärta och palliation" in anyway.text


async def test_web_course_is_completed_by_the_doctors_report(
    chat: ChatClient, bot: RunningBot
) -> None:
    smart = await bundled(bot, "halland-webb-antibiotika-smart")
    assert smart.kind is CourseKind.webbkurs
    total = await mandatory_in_halland(bot)
    course = await chat.say(AMIR, "kurs antibiotika smart")
    if smart.link:
        assert course.button("Öppna webbkursen").url == smart.link
    done = await chat.click(AMIR, course, "Jag har gjort kursen")
    assert f"{smart.title_sv} är markerad som klar" in done.text
    listing = await chat.say(AMIR, "kurser")
    assert f"{total - 1} av {total} obligatoriska kurser kvar" in listing.text


async def test_coordinator_sees_participants_and_records_attendance(bot: RunningBot) -> None:
    began = datetime.now(UTC) - timedelta(hours=1)  # under way: attendance can be recorded
    _, session = await _forsakringsmedicin(bot, capacity=1, starts=began)
    database = bot.app[DATABASE]
    await bot.chat.say(AMIR, "hjälp")
    async with database.session() as db:
        from btassist.roster.models import Person

        people = {p.email: p.id for p in (await db.exec(select(Person))).all()}
    now = began - timedelta(days=2)
    for email in (AMIR.email, LUKAS.email, ELENA.email):
        person_id = people[email]
        assert person_id is not None
        assert session.id is not None
        await enrol(database, zone=STOCKHOLM, doctor_id=person_id, session_id=session.id, now=now)
    doctor_try = await bot.chat.say(AMIR, "deltagare försäkringsmedicin at/bt")
    assert "Jag förstod inte riktigt" in doctor_try.text
    listing = await bot.chat.say(SARA, "deltagare försäkringsmedicin at/bt")
    assert "Deltagare: Försäkringsmedicin AT/BT" in listing.text
    assert "Amir Haddad (amir.haddad@halland.example.org)" in listing.text
    assert "1. Lukas Novák" in listing.text
    assert "2. Elena Petrova" in listing.text
    form = await bot.chat.click(SARA, listing, "Registrera närvaro")
    saved = await bot.chat.post(
        bot.chat.activity(
            SARA,
            value={
                "verb": "attendance",
                "session_id": session.id,
                f"present_{people[AMIR.email]}": "true",
            },
        )
    )
    assert form.cards
    assert "Närvaro sparad för 1 deltagare" in saved.text
    done = await bot.chat.say(AMIR, "kurser")
    assert "Försäkringsmedicin AT/BT – **klar**" in done.text
    # Lukas waits for a seat: he cannot be marked as having attended (no overbooking).
    refused = await bot.chat.post(
        bot.chat.activity(
            SARA,
            value={
                "verb": "attendance",
                "session_id": session.id,
                f"present_{people[LUKAS.email]}": "true",
            },
        )
    )
    assert "Lukas Novák: har ingen plats på tillfället" in refused.text
    assert "Närvaro sparad" not in refused.text


async def test_attendance_is_refused_for_a_withdrawn_doctor_and_a_future_session(
    bot: RunningBot,
) -> None:
    from btassist.courses.enrolment import AttendanceRefusal, record_attendance, withdraw

    database = bot.app[DATABASE]
    began = datetime.now(UTC) - timedelta(hours=1)
    _, running = await _forsakringsmedicin(bot, capacity=2, starts=began)
    later = await add_session(
        database, await bundled(bot, "halland-stas"), key="stas-later", capacity=1
    )
    async with database.session(write_lock=False) as db:
        from btassist.roster.models import Person

        people = {p.email: p.id for p in (await db.exec(select(Person))).all()}
    amir, lukas = people[AMIR.email], people[LUKAS.email]
    assert amir is not None
    assert lukas is not None
    assert running.id is not None
    assert later.id is not None
    earlier = began - timedelta(days=3)
    for doctor in (amir, lukas):
        await enrol(database, zone=STOCKHOLM, doctor_id=doctor, session_id=running.id, now=earlier)
    await enrol(database, zone=STOCKHOLM, doctor_id=amir, session_id=later.id, now=earlier)
    await withdraw(database, doctor_id=lukas, session_id=running.id, now=earlier)
    zone = STOCKHOLM
    today = datetime.now(zone).date()
    result = await record_attendance(
        database, session_id=running.id, doctor_ids=[amir, lukas], on=today, today=today, zone=zone
    )
    assert result.recorded == [amir]
    assert result.refused == {lukas: AttendanceRefusal.not_seated}
    future = await record_attendance(
        database,
        session_id=later.id,
        doctor_ids=[amir],
        on=later.starts_at.astimezone(zone).date(),
        today=today,
        zone=zone,
    )
    assert future.recorded == []
    assert future.refused == {amir: AttendanceRefusal.future_date}
    async with database.session(write_lock=False) as db:
        seated = (
            await db.exec(
                select(func.count())
                .select_from(Enrolment)
                .where(
                    Enrolment.session_id == later.id,
                    col(Enrolment.status).in_([EnrolmentStatus.enrolled, EnrolmentStatus.attended]),
                )
            )
        ).one()
    assert seated == 1  # never more than the session's one seat
