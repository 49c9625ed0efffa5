"""The conversation shell through the real HTTP path: greeting, language, menu, intents."""

from __future__ import annotations

import asyncio
import json

from btassist.localchat.client import BOT_ID, ChatClient
from tests.support.bot import AMIR, ELENA, KARIN, SARA


async def test_install_greets_in_swedish_for_sv_se(chat: ChatClient) -> None:
    reply = await chat.install(AMIR)
    assert reply.status in (200, 201)
    assert "Hej Amir! Jag är BT-assistenten." in reply.text
    assert [b.title for b in reply.buttons][:5] == [
        "Kurser",
        "Mina kurser",
        "Kalender",
        "Bedömningar",
        "Ställ en fråga",
    ]


async def test_menu_differs_by_role(chat: ChatClient) -> None:
    doctor = await chat.say(AMIR, "hjälp")
    supervisor = await chat.say(KARIN, "hjalp")
    coordinator = await chat.say(SARA, "meny")
    assert "Mina BT-läkare" not in [b.title for b in doctor.buttons]
    assert "Mina BT-läkare" in [b.title for b in supervisor.buttons]
    assert {"Deltagare och närvaro", "Frågor att besvara", "Skicka meddelande"} <= {
        b.title for b in coordinator.buttons
    }
    assert "Mina kurser" not in [b.title for b in coordinator.buttons]
    assert "Skicka meddelande" not in [b.title for b in supervisor.buttons]


async def test_install_greets_once_though_teams_announces_it_twice(chat: ChatClient) -> None:
    """Teams sends conversationUpdate (bot added) and installationUpdate for one install."""
    added = await chat.post(
        chat.activity(AMIR, type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    )
    installed = await chat.post(chat.activity(AMIR, type="installationUpdate", action="add"))
    greetings = [r for r in (added, installed) if "Hej Amir!" in r.text]
    assert len(greetings) == 1
    # Uninstalled and installed again: welcomed again, once.
    await chat.post(chat.activity(AMIR, type="installationUpdate", action="remove"))
    again = await chat.post(chat.activity(AMIR, type="installationUpdate", action="add"))
    repeat = await chat.post(
        chat.activity(AMIR, type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    )
    assert "Hej Amir!" in again.text
    assert "Hej Amir!" not in repeat.text


async def test_install_events_arriving_together_greet_once(chat: ChatClient) -> None:
    events = [
        chat.activity(ELENA, type="conversationUpdate", membersAdded=[{"id": BOT_ID}]),
        chat.activity(ELENA, type="installationUpdate", action="add"),
    ]
    await asyncio.gather(*(chat.post(event) for event in events))
    sent = chat.connector.sent_to(ELENA.conversation_id)
    assert sum("Hi Elena!" in json.dumps(activity) for activity in sent) == 1


async def test_a_coordinator_is_welcomed_as_one(chat: ChatClient) -> None:
    reply = await chat.install(SARA)
    assert "driva BT i regionen" in reply.text
    assert "Mina kurser" not in [b.title for b in reply.buttons]


async def test_install_greets_in_english_for_en_us(chat: ChatClient) -> None:
    reply = await chat.install(ELENA)
    assert "Hi Elena! I'm the BT assistant." in reply.text
