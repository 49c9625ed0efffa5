"""One-sentence requests and the FAQ's three levels, as transcripts through the real endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from btassist.app import DATABASE
from btassist.courses.models import Course, CourseSession, Enrolment, EnrolmentStatus
from btassist.localchat.client import BotReply
from tests.support.bot import AMIR, ELENA, KARIN, SARA, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.courses import add_session

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MONTHS = "januari februari mars april maj juni juli augusti september oktober november december"


@pytest.fixture
async def bot(db_url: str, connector: FakeConnector) -> AsyncIterator[RunningBot]:
    """The bot with the bundled catalogue and demo roster, but only the sessions tests add."""
    async with running_bot(local_settings(db_url), connector, roster_only=True) as running:
        yield running


async def bundled(bot: RunningBot, code: str) -> Course:
    async with bot.app[DATABASE].session(write_lock=False) as db:
        return (await db.exec(select(Course).where(Course.code == code))).one()


def month_ahead(months: int) -> date:
    """The 10th of the month `months` from now (local time)."""
    today = datetime.now(STOCKHOLM).date()
    index = today.month - 1 + months
    return date(today.year + index // 12, index % 12 + 1, 10)


def at_nine(day: date) -> datetime:
    return datetime.combine(day, time(9), STOCKHOLM).astimezone(UTC)


async def sessions_in_two_months(bot: RunningBot, code: str) -> tuple[CourseSession, ...]:
    """Sessions of a course on the 10th two and three months from now."""
    course = await bundled(bot, code)
    return tuple(
        [
            await add_session(
                bot.app[DATABASE], course, key=f"{code}-{n}", starts=at_nine(month_ahead(n))
            )
            for n in (2, 3)
        ]
    )


async def status_of(bot: RunningBot, session: CourseSession) -> EnrolmentStatus | None:
    async with bot.app[DATABASE].session(write_lock=False) as db:
        found = (await db.exec(select(Enrolment).where(Enrolment.session_id == session.id))).first()
    return found.status if found else None


def titles(reply: BotReply) -> list[str]:
    return [button.title for button in reply.buttons]


async def test_enrol_in_a_named_month_goes_straight_to_that_sessions_confirmation(
    bot: RunningBot,
) -> None:
    march, april = await sessions_in_two_months(bot, "halland-forsakringsmedicin")
    month = MONTHS.split()[month_ahead(2).month - 1]
    asked = await bot.chat.say(AMIR, f"anmal mig till forsakringsmedicin i {month}")
    assert "Vill du anmäla dig till Försäkringsmedicin AT/BT?" in asked.text
    assert month_ahead(2).isoformat() in asked.text
    assert month_ahead(3).isoformat() not in asked.text
    assert await status_of(bot, march) is None, "nothing changes before the click"
    enrolled = await bot.chat.click(AMIR, asked, "Ja, anmäl mig")
    assert "Du är anmäld till Försäkringsmedicin AT/BT" in enrolled.text
    assert await status_of(bot, march) is EnrolmentStatus.enrolled
    assert await status_of(bot, april) is None


async def test_english_sign_up_without_a_time_offers_every_session(bot: RunningBot) -> None:
    await sessions_in_two_months(bot, "halland-stas")
    offered = await bot.chat.say(ELENA, "sign me up for StAS please")
    assert "There are 2 sessions then – pick one" in offered.text
    assert len([t for t in titles(offered) if t.startswith("Enrol")]) == 2


async def test_a_month_without_a_session_says_so_and_shows_the_others(bot: RunningBot) -> None:
    await sessions_in_two_months(bot, "halland-stas")
    month = MONTHS.split()[month_ahead(5).month - 1]
    answer = await bot.chat.say(AMIR, f"anmäl mig till stas i {month}")
    assert "har inget tillfälle i" in answer.text
    assert len([t for t in titles(answer) if t.startswith("Anmäl")]) == 2


async def test_several_courses_match_ask_which_then_continue(bot: RunningBot) -> None:
    (first, _) = await sessions_in_two_months(bot, "halland-temadag-vald-i-nara-relationer")
    which = await bot.chat.say(AMIR, "anmäl mig till temadagen")
    assert "Vilken kurs menar du?" in which.text
    assert {"Temadag: Våld i nära relationer", "Temadag: Smärta och palliation"} <= set(
        titles(which)
    )
    chosen = await bot.chat.click(AMIR, which, "Temadag: Våld i nära relationer")
    assert "Det finns 2 tillfällen då" in chosen.text
    enrolled = await bot.chat.click(AMIR, chosen, "Anmäl")
    assert "Du är anmäld till Temadag: Våld i nära relationer" in enrolled.text
    assert await status_of(bot, first) is EnrolmentStatus.enrolled


async def test_no_such_course_offers_the_closest_never_a_person(bot: RunningBot) -> None:
    answer = await bot.chat.say(AMIR, "anmäl mig till kursen i EKG-tolkning")
    assert 'Jag hittar ingen kurs som heter "ekg tolkning"' in answer.text
    assert "De här ligger närmast" in answer.text
    assert "Alla kurser" in titles(answer)
    assert "Fråga en person" not in titles(answer)


async def test_a_course_only_another_region_gives_is_no_course_here(bot: RunningBot) -> None:
    answer = await bot.chat.say(AMIR, "när går PLUS?")  # Västra Götaland's, not Halland's
    assert 'Jag hittar ingen kurs som heter "plus"' in answer.text
    assert "Fråga en person" not in titles(answer)


async def test_withdrawing_from_a_sentence_is_confirmed_first(bot: RunningBot) -> None:
    first, _ = await sessions_in_two_months(bot, "halland-forsakringsmedicin")
    enrolled = await bot.chat.click(
        AMIR, await bot.chat.say(AMIR, "kurs försäkringsmedicin at/bt"), "Anmäl"
    )
    assert "Du är anmäld" in enrolled.text
    asked = await bot.chat.say(AMIR, "avanmal mig fran forsakringsmedicin")
    assert "Vill du avanmäla dig från Försäkringsmedicin AT/BT?" in asked.text
    assert await status_of(bot, first) is EnrolmentStatus.enrolled, "nothing before yes"
    kept = await bot.chat.click(AMIR, asked, "Avbryt")
    assert "Inget ändrades" in kept.text
    assert await status_of(bot, first) is EnrolmentStatus.enrolled
    await bot.chat.say(AMIR, "avanmäl mig")
    done = await bot.chat.say(AMIR, "ja")
    assert "Du är avanmäld från Försäkringsmedicin AT/BT" in done.text
    assert await status_of(bot, first) is EnrolmentStatus.cancelled


async def test_withdrawing_when_holding_nothing_says_so(bot: RunningBot) -> None:
    answer = await bot.chat.say(AMIR, "cancel my place on StAS")
    assert "Du är inte anmäld till något kommande tillfälle av StAS" in answer.text


async def test_a_new_calendar_link_from_a_sentence_is_confirmed_first(bot: RunningBot) -> None:
    asked = await bot.chat.say(AMIR, "min kalenderlänk har spridits, byt den")
    assert "Ja" in " ".join(titles(asked))
    assert "Avbryt" in titles(asked)
    kept = await bot.chat.say(AMIR, "avbryt")
    assert "Inget ändrades" in kept.text


async def test_when_is_the_next_and_what_is_left(bot: RunningBot) -> None:
    first, _ = await sessions_in_two_months(bot, "halland-stas")
    nxt = await bot.chat.say(AMIR, "nar ar nasta stas?")
    assert "Nästa tillfälle: " in nxt.text
    assert first.starts_at.astimezone(STOCKHOLM).date().isoformat() in nxt.text
    left = await bot.chat.say(AMIR, "vilka kurser har jag kvar?")
    assert "Obligatoriska kurser kvar" in left.text
    assert "obligatoriska kurser kvar" in left.text


async def test_thanks_gibberish_and_ok(bot: RunningBot) -> None:
    assert "Varsågod" in (await bot.chat.say(AMIR, "tack så mycket!")).text
    for text in ("asdkjh qwe zzz", "ok", "hmm"):
        answer = await bot.chat.say(AMIR, text)
        assert "Jag förstod inte riktigt" in answer.text, text
        assert "Fråga en person" not in titles(answer), text
        assert "Mina kurser" in titles(answer), "the menu comes along"


async def test_supervisors_get_supervisor_content(bot: RunningBot) -> None:
    answer = await bot.chat.say(KARIN, "vad ska jag som handledare göra?")
    assert "Huvudhandledaren följer BT-läkaren under hela BT" in answer.text
    assert "Mina BT-läkare" in titles(answer)
    assert answer.text.count("⚠") == 1, "the caution once"
    doctor = await bot.chat.say(AMIR, "vem är min handledare?")
    assert "Karin Holm" in doctor.text


async def test_coordinators_and_language_from_sentences(bot: RunningBot) -> None:
    await sessions_in_two_months(bot, "halland-stas")
    listed = await bot.chat.say(SARA, "vilka är anmälda till stas?")
    assert "StAS" in listed.text
    switched = await bot.chat.say(AMIR, "kan du svara på engelska?")
    assert "English" in switched.text or "english" in switched.text


async def test_a_probable_answer_says_how_it_read_the_question(bot: RunningBot) -> None:
    answer = await bot.chat.say(AMIR, "måste jag göra psyk")
    assert "Jag tolkar det som: Är psykiatri obligatoriskt i BT?" in answer.text
    other = await bot.chat.click(AMIR, answer, "Inte vad jag frågade")
    assert "Handlar din fråga om något av det här i stället?" in other.text
    assert "Fråga en person" in titles(other)


async def test_an_overview_is_labelled_as_one(bot: RunningBot) -> None:
    answer = await bot.chat.say(AMIR, "vilka former av bt finns")
    assert "Översikt: det skiljer sig mellan regionerna" in answer.text
    assert "Gäller hela landet" not in answer.text


async def test_a_question_about_another_region_names_that_regions_people(
    bot: RunningBot,
) -> None:
    answer = await bot.chat.say(AMIR, "finns det personalgym i Gävle")
    assert "Mats Dahl" in answer.text  # Gävleborg's coordinator, not Halland's
    assert "Sara Lindqvist" not in answer.text
