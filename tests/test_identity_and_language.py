"""Who is talking and in which language, through the real HTTP path."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlmodel import select

from btassist.app import DATABASE
from btassist.common.language import Language
from btassist.conversations.models import ConversationRef
from btassist.localchat.client import ChatClient, ChatUser
from btassist.roster.models import Person
from tests.support.bot import AMIR, LUKAS, STRANGER, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector


async def test_a_stranger_is_told_politely_who_to_ask_and_sees_nothing_else(
    bot: RunningBot,
) -> None:
    reply = await bot.chat.say(STRANGER, "hjälp")
    assert "Jag hittar dig inte" in reply.text
    assert "Sara Lindqvist (sara.lindqvist@halland.example.org)" in reply.text
    assert reply.buttons == []
    async with bot.app[DATABASE].session() as session:
        assert (await session.exec(select(ConversationRef))).all() == []


async def test_a_stranger_from_an_unknown_organisation_gets_english_by_locale(
    bot: RunningBot,
) -> None:
    visitor = ChatUser("Visitor", "visitor@elsewhere.example.com", "aad-visitor", locale="en-GB")
    reply = await bot.chat.say(visitor, "help")
    assert "I can't find you" in reply.text
    assert "coordinator or director of studies" in reply.text


async def test_a_roster_person_is_found_by_email_and_the_object_id_remembered(
    bot: RunningBot, connector: FakeConnector
) -> None:
    async with bot.app[DATABASE].session() as session:
        session.add(
            Person(email="nina.ny@halland.example.org", name="Nina Ny", region_code="halland")
        )
    nina = ChatUser("Nina Ny", "Nina.Ny@halland.example.org", "aad-nina-learned")
    first = await bot.chat.say(nina, "hjälp")
    assert "Vad vill du göra?" in first.text
    async with bot.app[DATABASE].session() as session:
        stored = (
            await session.exec(select(Person).where(Person.email == "nina.ny@halland.example.org"))
        ).one()
    assert stored.aad_object_id == "aad-nina-learned"
    connector.reset()  # Teams no longer answers member look-ups: the object id is enough now
    again = await bot.chat.post(
        bot.chat.activity(nina, text="hjälp") | {"serviceUrl": connector.url}
    )
    assert again.status in (200, 201)
    assert [a for a in connector.attempts if "/members/" in a.path] == []


async def test_language_switch_is_remembered_across_a_restart(
    db_url: str, connector: FakeConnector
) -> None:
    settings = local_settings(db_url)
    async with running_bot(settings, connector) as first:
        switched = await first.chat.say(AMIR, "in English")
        assert "I'll write in English from now on." in switched.text
        assert "What would you like to do?" in switched.text
    async with running_bot(settings, connector) as second:
        reply = await second.chat.say(AMIR, "hjälp")  # sv-SE locale, but he chose English
        assert "What would you like to do?" in reply.text
        back = await second.chat.say(AMIR, "pa svenska")
        assert "Nu skriver jag på svenska." in back.text
        async with second.app[DATABASE].session() as session:
            amir = (await session.exec(select(Person).where(Person.email == AMIR.email))).one()
        assert amir.language == Language.sv


async def test_without_a_stored_preference_the_teams_locale_decides(bot: RunningBot) -> None:
    english = ChatUser(LUKAS.name, LUKAS.email, LUKAS.aad_object_id, locale="en-GB")
    assert "What would you like to do?" in (await bot.chat.say(english, "help")).text
    swedish = ChatUser(LUKAS.name, LUKAS.email, LUKAS.aad_object_id, locale="sv-FI")
    assert "Vad vill du göra?" in (await bot.chat.say(swedish, "help")).text


async def test_the_conversation_reference_is_stored_and_deactivated_on_uninstall(
    bot: RunningBot,
) -> None:
    await bot.chat.install(AMIR)
    async with bot.app[DATABASE].session() as session:
        ref = (await session.exec(select(ConversationRef))).one()
    assert (ref.conversation_id, ref.tenant_id, ref.active) == (
        AMIR.conversation_id,
        AMIR.tenant_id,
        True,
    )
    assert '"serviceUrl"' in ref.reference or '"service_url"' in ref.reference
    await bot.chat.post(bot.chat.activity(AMIR, type="installationUpdate", action="remove"))
    async with bot.app[DATABASE].session() as session:
        assert (await session.exec(select(ConversationRef))).one().active is False
    greeted_again = await bot.chat.install(AMIR)
    assert "Hej Amir!" in greeted_again.text


async def test_unknown_text_gets_a_friendly_answer_and_the_menu(chat: ChatClient) -> None:
    # Chatter gets the menu; a question the FAQ cannot answer is declined (tests/test_faq_chat.py).
    reply = await chat.say(AMIR, "blä blä")
    assert 'Jag förstod inte riktigt "blä blä"' in reply.text
    assert "Kurser" in [b.title for b in reply.buttons]


async def test_coordinator_intents_are_hidden_from_doctors(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "rapporter")
    assert "Jag förstod inte riktigt" in reply.text
    assert "Rapporter" not in [b.title for b in reply.buttons]


async def test_a_persons_first_turns_arriving_together_store_one_reference(
    bot: RunningBot,
) -> None:
    """Eight first turns at once (a double-click, several tabs) must not collide on the
    reference row: every turn is answered and one reference is stored."""
    replies = await asyncio.gather(*(bot.chat.say(LUKAS, "hjälp") for _ in range(8)))
    assert {reply.status for reply in replies} <= {200, 201}
    sent = bot.chat.connector.sent_to(LUKAS.conversation_id)
    assert (
        sum("Vad vill du göra?" in json.dumps(activity, ensure_ascii=False) for activity in sent)
        == 8
    )
    assert all("Felkod" not in json.dumps(activity) for activity in sent)
    async with bot.app[DATABASE].session(write_lock=False) as session:
        refs = (await session.exec(select(ConversationRef))).all()
    assert [(ref.conversation_id, ref.active) for ref in refs] == [(LUKAS.conversation_id, True)]


async def test_a_stranger_costs_one_member_look_up_in_a_few_minutes(
    bot: RunningBot, connector: FakeConnector
) -> None:
    for _ in range(3):
        reply = await bot.chat.say(STRANGER, "hjälp")
        assert "Sara Lindqvist (sara.lindqvist@halland.example.org)" in reply.text
    lookups = [a for a in connector.attempts if "/members/" in a.path]
    assert len(lookups) == 1


@pytest.mark.parametrize(
    "data",
    [
        {"verb": "enrol", "session_id": "abc"},
        {"verb": "enrol", "session_id": 10**30},
        {"verb": "withdraw"},
        {"verb": "faq_reply", "question_id": 2**40},
        {"verb": "attendance_form", "session_id": "1; drop table person"},
        {"verb": "sign_up_for_course", "course": 3},  # a card from an older release
    ],
)
async def test_tampered_button_data_is_out_of_date_not_an_error(
    bot: RunningBot, data: dict[str, object]
) -> None:
    """On SQLite and PostgreSQL alike: a polite "out of date" with the menu, never a 500 or an
    apology, whether the button was an Action.Submit or an Action.Execute."""
    submitted = await bot.chat.post(bot.chat.activity(AMIR, value=data))
    assert submitted.status in (200, 201)
    assert "Den här knappen är inaktuell" in submitted.text
    assert "Vad vill du göra?" in submitted.text
    assert "Felkod" not in submitted.text
    invoked = await bot.chat.post(
        bot.chat.activity(
            AMIR,
            type="invoke",
            name="adaptiveCard/action",
            value={"action": {"type": "Action.Execute", "verb": data.get("verb"), "data": data}},
        )
    )
    assert invoked.status == 200
    assert "Den här knappen är inaktuell" in invoked.text
    assert "Felkod" not in invoked.text
