"""Announcements as transcripts: a coordinator composes, previews and confirms; recipients get
the card, acknowledge it and ask its author; the author follows, cancels and recalls — against
the real app and the fake Bot Connector, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from btassist.app import DATABASE, RUNTIME
from btassist.broadcast.models import BroadcastRecipient
from btassist.db.types import utcnow
from btassist.localchat.client import BotReply, Button, ChatClient, ChatUser
from btassist.roster.files import parse_roster_text
from btassist.roster.importer import import_roster
from tests.support.bot import AMIR, ELENA, LUKAS, SARA, RunningBot
from tests.support.connector import FakeConnector

HALLAND_DOCTORS = (AMIR, ELENA, LUKAS)
TEXT = "PLUS-dagen flyttas till **fredag 12 december**, kl. 09.00 i Aulan."
VERA = ChatUser(
    "Vera Gustafsson", "vera.gustafsson@vgr.example.org", "6d1c0f6e-0000-4000-8000-000000000301"
)


async def form(chat: ChatClient, user: ChatUser, reply: BotReply, **inputs: str) -> BotReply:
    """Fill in the form's inputs (as Teams merges them into the button's data) and send it."""
    button = reply.button("Förhandsgranska")
    filled = Button(button.title, button.type, {**button.data, **inputs}, button.verb)
    return await chat.press(user, filled, card_activity_id=reply.card_activity_id)


async def compose(chat: ChatClient, text: str = TEXT, **inputs: str) -> BotReply:
    """Sara writes an announcement and previews it (to Halland's BT doctors by default)."""
    started = await chat.say(SARA, "skicka meddelande")
    assert "Skriv meddelandet" in started.text
    options = await chat.say(SARA, text)
    assert "Vem ska få meddelandet?" in options.text
    return await form(chat, SARA, options, **{"regions": "halland", "role": "doctors", **inputs})


async def everyone_talked_to_the_bot(chat: ChatClient) -> None:
    for doctor in HALLAND_DOCTORS:
        await chat.say(doctor, "hjälp")


def announcements(connector: FakeConnector, user: ChatUser) -> list[str]:
    return [
        text
        for activity in connector.sent_to(user.conversation_id)
        for text in [BotReply(201, [activity]).text]
        if "Meddelande från" in text or "Announcement from" in text
    ]


async def test_compose_preview_confirm_and_the_doctors_get_it(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await everyone_talked_to_the_bot(chat)
    preview = await compose(chat)
    assert "Förhandsgranskning" in preview.text
    assert "Till **3** personer: BT-läkare i Region Halland." in preview.text
    assert TEXT in preview.text
    await bot.app[RUNTIME].worker.deliver_due()
    assert all(announcements(connector, doctor) == [] for doctor in HALLAND_DOCTORS)  # not yet

    sent = await chat.click(SARA, preview, "Skicka till 3")
    assert "Utskick #" in sent.text
    assert "Mottagare: 3" in sent.text
    await bot.app[RUNTIME].worker.deliver_due()
    for doctor in HALLAND_DOCTORS:
        [copy] = announcements(connector, doctor)
        assert TEXT in copy
    assert "Announcement from Sara Lindqvist" in announcements(connector, ELENA)[0]  # her language
    refreshed = await chat.click(SARA, sent, "Uppdatera")
    assert "Levererade: 3" in refreshed.text
    assert "Väntar: 0" in refreshed.text


async def test_a_doctor_cannot_broadcast(bot: RunningBot, chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "skicka meddelande")
    assert "Bara koordinatorer och studierektorer kan skicka meddelanden" in reply.text
    crafted = Button("x", "Action.Submit", {"verb": "broadcast_options", "broadcast_id": 1})
    refused = await chat.press(AMIR, crafted)
    assert "förstod inte" in refused.text
    async with bot.app[DATABASE].session() as session:
        assert (await session.exec(select(BroadcastRecipient))).all() == []


async def test_a_vgr_coordinator_cannot_target_halland(bot: RunningBot, chat: ChatClient) -> None:
    people = (
        "email,name,role,region,aad_object_id,language,bt_type,bt_start,bt_end,main_supervisor_email\n"
        f"{VERA.email},{VERA.name},coordinator,vgr,{VERA.aad_object_id},sv,,,,\n"
    )
    assert (await import_roster(bot.app[DATABASE], parse_roster_text(people))).ok
    await chat.say(VERA, "skicka meddelande")
    options = await chat.say(VERA, TEXT)
    assert "Region Halland" not in options.text  # only her own region is offered
    refused = await form(chat, VERA, options, regions="halland", role="doctors")
    assert "Du kan bara skicka till din egen region" in refused.text
    assert "inte till Region Halland" in refused.text


async def test_the_composer_can_be_left_with_avbryt(bot: RunningBot, chat: ChatClient) -> None:
    await chat.say(SARA, "skicka meddelande")
    left = await chat.say(SARA, "avbryt")
    assert "Okej, jag avbröt meddelandet. Inget skickades." in left.text
    menu = await chat.say(SARA, "hjälp")  # the next message is the bot's as usual
    assert "Skicka meddelande" in [button.title for button in menu.buttons]
    await chat.say(SARA, "skicka meddelande")
    options = await chat.say(SARA, TEXT)
    assert "Vem ska få meddelandet?" in options.text
    assert "Okej, jag avbröt meddelandet" in (await chat.say(SARA, "avbryt")).text


async def test_recipients_acknowledge_and_read_receipts_are_counted(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await everyone_talked_to_the_bot(chat)
    preview = await compose(chat, ack="true")
    assert "Mottagarna får knappen" in preview.text
    sent = await chat.click(SARA, preview, "Skicka till 3")
    await bot.app[RUNTIME].worker.deliver_due()
    [copy] = connector.sent_to(AMIR.conversation_id)[-1:]
    card = BotReply(201, [copy])
    acknowledged = await chat.click(AMIR, card, "Uppfattat")
    assert "Du har bekräftat" in acknowledged.text
    assert not acknowledged.buttons  # the button is gone from the card
    again = await chat.press(AMIR, card.button("Uppfattat"))
    assert "Du har bekräftat" in again.text  # a second click changes nothing
    receipt = chat.activity(
        ELENA,
        type="event",
        name="application/vnd.microsoft.readReceipt",
        value={"lastReadMessageId": connector.sent_to(ELENA.conversation_id)[-1]["id"]},
    )
    assert (await chat.post(receipt)).status < 300
    refreshed = await chat.click(SARA, sent, "Uppdatera")
    assert "Uppfattat: 1" in refreshed.text
    assert "Lästa: 2" in refreshed.text  # Amir's acknowledgement counts as read too


async def test_cancel_stops_what_has_not_gone_out(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await everyone_talked_to_the_bot(chat)
    later = (utcnow() + timedelta(days=3)).date().isoformat()
    preview = await compose(chat, send_date=later, send_time="08:30")
    assert "Skickas " in preview.text
    assert later in preview.text
    sent = await chat.click(SARA, preview, "Skicka till 3")
    asked = await chat.click(SARA, sent, "Avbryt utskicket")
    done = await chat.click(SARA, asked, "Ja, avbryt utskicket")
    assert "Utskicket är avbrutet: 3 kopior skickas inte." in done.text
    assert "Avbrutna: 3" in done.text
    await bot.app[RUNTIME].worker.deliver_due()
    assert all(announcements(connector, doctor) == [] for doctor in HALLAND_DOCTORS)


async def test_recall_deletes_the_delivered_copies(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await everyone_talked_to_the_bot(chat)
    sent = await chat.click(SARA, await compose(chat), "Skicka till 3")
    await bot.app[RUNTIME].worker.deliver_due()
    delivered = {connector.sent_to(d.conversation_id)[-1]["id"] for d in HALLAND_DOCTORS}
    asked = await chat.click(SARA, sent, "Återkalla")
    done = await chat.click(SARA, asked, "Ja, återkalla")
    assert "Återkallat: 3 levererade kopior tas bort." in done.text
    await bot.app[RUNTIME].worker.deliver_due()
    assert {record.activity_id for record in connector.deleted} == delivered
    refreshed = await chat.click(SARA, done, "Uppdatera")
    assert "Återkallade: 3" in refreshed.text


async def test_a_reply_to_an_announcement_can_go_to_its_author(
    bot: RunningBot, chat: ChatClient, connector: FakeConnector
) -> None:
    await everyone_talked_to_the_bot(chat)
    await chat.click(SARA, await compose(chat), "Skicka till 3")
    await bot.app[RUNTIME].worker.deliver_due()
    reply = await chat.say(AMIR, "Gäller det även oss på Varberg?")
    assert "Fråga Sara Lindqvist" in [button.title for button in reply.buttons]
    forwarded = await chat.click(AMIR, reply, "Fråga Sara Lindqvist")
    assert "Din fråga är skickad till Sara Lindqvist" in forwarded.text
    before = len(connector.sent_to(SARA.conversation_id))
    await bot.app[RUNTIME].worker.deliver_due()
    [question] = connector.sent_to(SARA.conversation_id)[before:]
    assert "Gäller det även oss på Varberg?" in BotReply(201, [question]).text


@pytest.mark.parametrize("typed", ["ok", "tack!"])
async def test_chatter_after_an_announcement_is_never_met_with_silence(
    bot: RunningBot, chat: ChatClient, typed: str
) -> None:
    await everyone_talked_to_the_bot(chat)
    await chat.click(SARA, await compose(chat), "Skicka till 3")
    await bot.app[RUNTIME].worker.deliver_due()
    reply = await chat.say(LUKAS, typed)
    assert reply.activities
    assert "Fråga Sara Lindqvist" in [button.title for button in reply.buttons]
