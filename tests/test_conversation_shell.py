"""The conversation shell through the real HTTP path: greeting, language, menu, intents."""

from __future__ import annotations

from btassist.localchat.client import ChatClient
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
    assert {"Skicka meddelande", "Rapporter"} <= {b.title for b in coordinator.buttons}
    assert "Skicka meddelande" not in [b.title for b in supervisor.buttons]


async def test_install_greets_in_english_for_en_us(chat: ChatClient) -> None:
    reply = await chat.install(ELENA)
    assert "Hi Elena! I'm the BT assistant." in reply.text
