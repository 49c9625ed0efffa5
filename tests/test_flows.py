"""Menu flows through card clicks (Action.Submit and Action.Execute) and typed intents."""

from __future__ import annotations

from btassist.localchat.client import ChatClient
from tests.support.bot import AMIR, ELENA, KARIN


async def test_calendar_click_lists_placements_with_the_current_one_marked(
    chat: ChatClient,
) -> None:
    menu = await chat.say(AMIR, "hjälp")
    reply = await chat.click(AMIR, menu, "Kalender")
    assert "Din BT" in reply.text
    assert "Psykiatri: Psykiatriska kliniken Varberg" in reply.text
    assert "(handledare Maria Sjöberg)" in reply.text
    assert reply.text.count("← nu") == 1


async def test_action_execute_invoke_replaces_the_card(chat: ChatClient) -> None:
    invoke = chat.activity(
        ELENA,
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": "calendar", "data": {}},
            "trigger": "manual",
        },
    )
    reply = await chat.post(invoke)
    assert reply.status == 200
    assert reply.invoke_cards, reply.body
    assert "Your BT" in reply.text


async def test_supervisor_sees_their_bt_doctors(chat: ChatClient) -> None:
    reply = await chat.say(KARIN, "mina bt-läkare")
    assert "Dina BT-läkare" in reply.text
    assert "Amir Haddad – huvudhandledare" in reply.text
    assert "Elena Petrova – huvudhandledare" in reply.text


async def test_ask_lists_the_doctors_contacts_from_the_roster(chat: ChatClient) -> None:
    reply = await chat.say(AMIR, "ställ en fråga")
    assert "huvudhandledare: Karin Holm (karin.holm@halland.example.org)" in reply.text
    assert "studierektor: Per Ekström" in reply.text
    assert "koordinator: Sara Lindqvist" in reply.text
