"""The FAQ in the chat, through the real HTTP path: answers with sources, contacts from the roster,
"not sure" with a person to ask, coordinators' replies, reports, and reloading the files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from btassist.app import DATABASE, FAQ, RUNTIME
from btassist.faq.kb import PACKAGED_KB
from btassist.faq.models import FaqEvent, FaqEventKind, ForwardedQuestion, QuestionStatus
from btassist.localchat.client import BotReply, ChatClient, ChatUser
from tests.support.bot import AMIR, ELENA, FATIMA, SARA, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector

UNSURE = "Jag är inte säker på svaret"


async def test_english_question_gets_the_english_answer_with_source_and_scope(
    chat: ChatClient,
) -> None:
    reply = await chat.say(ELENA, "How many objectives does BT have?")
    assert "BT has 18 objectives" in reply.text
    assert "Applies nationally" in reply.text
    assert "Source: [Sveriges läkarförbund" in reply.text
    assert "Did this help?" in reply.text
    assert [b.title for b in reply.buttons] == ["👍 Yes", "👎 No"]


async def test_a_swedish_speaker_asking_in_english_is_answered_in_english(
    chat: ChatClient,
) -> None:
    reply = await chat.say(AMIR, "what is a Mini-CEX?")
    assert "Mini-CEX is a structured observation" in reply.text


async def test_swedish_answer_from_the_askers_region(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "hur ser placeringarna ut i halmstad?")
    assert "3 månader akut sjukvård, 3 månader psykiatri" in reply.text
    assert "Gäller Region Halland" in reply.text
    assert "Senast granskad 2026-11-23" in reply.text
    assert "Hjälpte det?" in reply.text


async def test_typos_and_missing_diacritics_still_find_the_answer(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "hur lång ar forsakringsmedicin kursen")
    assert "Försäkringsmedicin AT/BT är en obligatorisk kurs på 2 dagar" in reply.text


async def test_studierektor_is_the_one_of_the_askers_region(chat: ChatClient) -> None:
    fatima = await chat.say(FATIMA, "vem är min studierektor?")
    assert "Ingrid Forsberg" in fatima.text
    assert "Per Ekström" not in fatima.text
    amir = await chat.say(AMIR, "vem är min studierektor?")
    assert "studierektor: Per Ekström (per.ekstrom@halland.example.org)" in amir.text
    assert "Gäller Region Halland" in amir.text  # the region's roles are listed, not national
    assert "Ingrid Forsberg" not in amir.text
    assert "atbt-ambassadorer@regionhalland.se" in amir.text  # the region's role contacts


async def test_supervisor_question_names_the_doctors_own_supervisors(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "vem är min handledare?")
    assert "huvudhandledare: Karin Holm" in reply.text
    assert "handledare: Maria Sjöberg" in reply.text  # the current placement's
    assert "Per Ekström" not in reply.text


async def test_uncertain_facts_say_so_and_name_the_askers_studierektor(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "måste min handledare vara specialist?")
    assert "⚠" in reply.text
    assert "Stäm av med Per Ekström (per.ekstrom@halland.example.org)" in reply.text


async def test_another_regions_answer_only_when_that_region_is_named(chat: ChatClient) -> None:
    named = await chat.say(AMIR, "ingår jour under BT i Kronoberg?")
    assert "primärjourslinjen" in named.text
    assert "Gäller Region Kronoberg" in named.text
    own = await chat.say(AMIR, "ingår jour under BT?")
    assert "primärjourslinjen" not in own.text
    assert UNSURE in own.text


async def test_out_of_scope_is_declined_with_a_person_to_ask(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "vad serveras till lunch?")
    assert "jag svarar bara på frågor om BT" in reply.text
    assert "Sara Lindqvist (sara.lindqvist@halland.example.org)" in reply.text
    assert [b.title for b in reply.buttons] == ["Fråga en person"]


async def test_patient_questions_are_declined_and_never_stored(
    bot: RunningBot, chat: ChatClient
) -> None:
    reply = await chat.say(AMIR, "min patient har feber, vilken dos paracetamol ska jag ge?")
    assert "Jag ger inga medicinska råd om patienter" in reply.text
    async with bot.app[DATABASE].session() as session:
        events = (await session.exec(select(FaqEvent))).all()
    assert [(e.kind, e.entry_id, e.question) for e in events] == [
        (FaqEventKind.out_of_scope, "patient-care", None)
    ]


async def test_not_sure_offers_the_two_closest_topics(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "kan jag jobba deltid under BT?")
    assert UNSURE in reply.text
    titles = [b.title for b in reply.buttons]
    assert len(titles) == 3
    assert titles[-1] == "Fråga en person"
    topic = await chat.click(AMIR, reply, titles[0])
    assert "Hjälpte det?" in topic.text


async def _say_hello(chat: ChatClient, *users: ChatUser) -> None:
    """People talk to the bot once, so it has a conversation to reach them in later."""
    for user in users:
        await chat.say(user, "hjälp")


def _new_cards(connector: FakeConnector, conversation: str, before: int) -> BotReply:
    sent = connector.sent_to(conversation)[before:]
    return BotReply(200, sent)


async def test_ask_a_person_and_the_coordinators_reply_reaches_the_doctor(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await _say_hello(chat, SARA)
    unsure = await chat.say(AMIR, "kan jag jobba deltid under BT?")
    assert UNSURE in unsure.text
    sara_before = len(connector.sent_to(SARA.conversation_id))
    forwarded = await chat.click(AMIR, unsure, "Fråga en person")
    assert "Jag har skickat din fråga till Sara Lindqvist" in forwarded.text
    await bot.app[RUNTIME].worker.deliver_due()

    notice = _new_cards(connector, SARA.conversation_id, sara_before)
    assert "Fråga från en BT-läkare" in notice.text
    assert "Amir Haddad (amir.haddad@halland.example.org), Region Halland, frågar:" in notice.text
    assert "kan jag jobba deltid under BT?" in notice.text
    prompt = await chat.click(SARA, notice, "Svara")
    assert "Skriv ditt svar till Amir Haddad" in prompt.text

    amir_before = len(connector.sent_to(AMIR.conversation_id))
    done = await chat.say(SARA, "Ja, 75 % går bra – BT förlängs i motsvarande grad.")
    assert "Ditt svar skickas till Amir Haddad" in done.text
    await bot.app[RUNTIME].worker.deliver_due()

    answer = _new_cards(connector, AMIR.conversation_id, amir_before)
    assert "Svar på din fråga" in answer.text
    assert "Du frågade: “kan jag jobba deltid under BT?”" in answer.text
    assert "Ja, 75 % går bra – BT förlängs i motsvarande grad." in answer.text
    assert "– Sara Lindqvist" in answer.text

    # Her next message is an ordinary message again, and the question is closed.
    after = await chat.say(SARA, "hjälp")
    assert "Vad vill du göra?" in after.text
    again = await chat.click(SARA, notice, "Svara")
    assert "Frågan är redan besvarad av Sara Lindqvist" in again.text


async def test_clicking_ask_a_person_twice_sends_the_question_once(
    bot: RunningBot, chat: ChatClient
) -> None:
    unsure = await chat.say(AMIR, "kan jag jobba deltid under BT?")
    await chat.click(AMIR, unsure, "Fråga en person")
    second = await chat.click(AMIR, unsure, "Fråga en person")
    assert "väntar redan på svar från Sara Lindqvist" in second.text
    async with bot.app[DATABASE].session() as session:
        assert len((await session.exec(select(ForwardedQuestion))).all()) == 1


async def test_a_coordinator_can_cancel_a_reply(bot: RunningBot, chat: ChatClient) -> None:
    unsure = await chat.say(AMIR, "kan jag jobba deltid under BT?")
    await chat.click(AMIR, unsure, "Fråga en person")
    reports = await chat.say(SARA, "rapporter")
    await chat.click(SARA, reports, "Svara Amir Haddad")
    cancelled = await chat.say(SARA, "avbryt")
    assert "inget svar skickades" in cancelled.text
    async with bot.app[DATABASE].session() as session:
        [question] = (await session.exec(select(ForwardedQuestion))).all()
    assert question.status is QuestionStatus.open


async def test_a_forwarded_question_survives_a_restart(
    db_url: str, connector: FakeConnector
) -> None:
    settings = local_settings(db_url, outbox_interval=0, faq_reload_interval=0)
    async with running_bot(settings, connector) as first:
        await first.chat.say(SARA, "hjälp")
        unsure = await first.chat.say(AMIR, "kan jag jobba deltid under BT?")
        sara_before = len(connector.sent_to(SARA.conversation_id))
        await first.chat.click(AMIR, unsure, "Fråga en person")
        await first.app[RUNTIME].worker.deliver_due()
        notice = _new_cards(connector, SARA.conversation_id, sara_before)
        await first.chat.click(SARA, notice, "Svara")
    async with running_bot(settings, connector) as second:
        amir_before = len(connector.sent_to(AMIR.conversation_id))
        done = await second.chat.say(SARA, "Nej, BT görs på heltid i Halland.")
        assert "Ditt svar skickas till Amir Haddad" in done.text
        await second.app[RUNTIME].worker.deliver_due()
        answer = _new_cards(connector, AMIR.conversation_id, amir_before)
        assert "Nej, BT görs på heltid i Halland." in answer.text


async def test_reports_show_unanswered_and_down_voted_questions_without_names(
    bot: RunningBot, chat: ChatClient
) -> None:
    await chat.say(AMIR, "kan jag jobba deltid under BT?")
    await chat.say(ELENA, "kan jag jobba deltid under BT?")
    answer = await chat.say(AMIR, "vad är ett handledningskontrakt?")
    await chat.click(AMIR, answer, "👎 Nej")
    reply = await chat.say(SARA, "rapporter")
    assert "Rapporter – Region Halland" in reply.text
    assert "“kan jag jobba deltid under BT?” (2)" in reply.text
    assert "Vem ansvarar för att planera handledningen i Halland?: 👎 1, 👍 0" in reply.text
    async with bot.app[DATABASE].session() as session:
        events = (await session.exec(select(FaqEvent))).all()
    assert {e.kind for e in events} == {FaqEventKind.unanswered, FaqEventKind.unhelpful}
    assert not hasattr(FaqEvent, "person_id")


async def test_ask_invites_a_question_and_still_lists_the_contacts(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "ställ en fråga")
    assert "Skriv din fråga om BT med egna ord" in reply.text
    assert "koordinator: Sara Lindqvist" in reply.text


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """An editable copy of the shipped knowledge base (what BTASSIST_FAQ_DIR points at)."""
    directory = tmp_path / "kb"
    shutil.copytree(PACKAGED_KB, directory)
    return directory


def _edit(path: Path, *replacements: tuple[str, str]) -> None:
    """A coordinator edits a file."""
    text = path.read_text("utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, "utf-8")


async def test_a_broken_file_on_reload_leaves_the_old_knowledge_base_serving(
    db_url: str, connector: FakeConnector, kb_copy: Path
) -> None:
    settings = local_settings(db_url, faq_dir=str(kb_copy), faq_reload_interval=0)
    national = kb_copy / "national.yaml"
    async with running_bot(settings, connector) as running:
        store = running.app[FAQ]
        before = await running.chat.say(AMIR, "hur många delmål finns det?")
        assert "18 delmål" in before.text

        _edit(national, ("  - id: delmal-count\n", "  - id delmal-count\n"))
        outcome = store.reload()
        assert not outcome.reloaded
        assert outcome.error is not None
        assert str(outcome.error.problems[0]).startswith("national.yaml:")
        still = await running.chat.say(AMIR, "hur många delmål finns det?")
        assert "18 delmål" in still.text

        _edit(
            national,
            ("  - id delmal-count\n", "  - id: delmal-count\n"),
            ("BT har 18 delmål (kompetenskrav).", "BT har arton delmål (kompetenskrav)."),
        )
        assert store.reload_if_changed() is not None
        fresh = await running.chat.say(AMIR, "hur många delmål finns det?")
        assert "BT har arton delmål" in fresh.text
