"""`btassist chat`: the bot in a terminal, through a pseudo-terminal, and its card rendering."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pexpect
import pytest
from rich.console import Console

from btassist.app import DATABASE, RUNTIME
from btassist.common.language import Language
from btassist.dialogs.cards import bullet_list, card, heading, paragraph
from btassist.dialogs.turn import Reply
from btassist.localchat.client import BotReply, Button, ChatClient
from btassist.localchat.render import render_card, render_reply
from btassist.localchat.repl import ChatOptions, Conversation
from btassist.roster.identity import find_person
from btassist.roster.queries import list_people
from tests.support.bot import AMIR, RunningBot
from tests.support.connector import FakeConnector
from tests.support.processes import free_port


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """What these tests check does not depend on the database: they run on SQLite only."""
    return sqlite_url


REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 30  # seconds for any one expected output: starting the app migrates a fresh database
CARD = "application/vnd.microsoft.card.adaptive"


# --- through a pseudo-terminal, as a person would use it -----------------------------------


@contextmanager
def btassist_chat(tmp_path: Path, *args: str) -> Iterator[pexpect.spawn]:
    """`python -m btassist chat …` in a fresh directory with its own SQLite file; always closed."""
    env = {
        **os.environ,
        "BTASSIST_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}",
        "TERM": "dumb",  # plain text: no colour codes between the words the test waits for
        "PYTHONPATH": str(REPO / "src"),
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "btassist", "chat", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(40, 120),
    )
    try:
        yield child
    finally:
        child.close(force=True)


def exit_status(child: pexpect.spawn) -> int | None:
    """Wait for the process to end and return its exit code (None if killed by a signal)."""
    child.expect(pexpect.EOF)
    child.close()
    status: int | None = child.exitstatus
    return status


def test_doctor_picks_identity_and_language_and_clicks_by_number(tmp_path: Path) -> None:
    with btassist_chat(tmp_path) as chat:
        chat.expect(r"\[\s*(\d+)\] Amir Haddad – BT-läkare")
        amir = chat.match.group(1)
        chat.expect("e-mail: ")
        chat.sendline(amir)
        chat.expect(r"\(sv/en\) \[sv\]: ")
        chat.sendline("sv")
        chat.expect("Hej Amir! Jag är BT-assistenten.")
        chat.expect("du › ")

        chat.sendline("hjälp")
        chat.expect("Vad vill du göra?")
        chat.expect(r"\[\d+\] Kurser")
        chat.expect(r"\[(\d+)\] Kalender")
        calendar = chat.match.group(1)
        chat.expect("du › ")

        chat.sendline(calendar)
        chat.expect("→ Kalender")
        chat.expect("Din BT ")
        chat.expect("• Psykiatri: Psykiatriska kliniken Varberg")
        chat.expect("du › ")

        chat.sendline("quit")
        chat.expect("Hej då!")
        assert exit_status(chat) == 0


def test_ctrl_d_leaves_cleanly(tmp_path: Path) -> None:
    with btassist_chat(tmp_path, "--as", "amir.haddad@halland.example.org", "--lang", "sv") as chat:
        chat.expect("du › ")
        chat.sendeof()
        chat.expect("Hej då!")
        assert exit_status(chat) == 0


def test_ctrl_c_leaves_cleanly(tmp_path: Path) -> None:
    with btassist_chat(tmp_path) as chat:
        chat.expect("e-mail: ")
        chat.sendintr()
        assert exit_status(chat) == 0
        assert "Traceback" not in (chat.before or "")


def test_as_and_lang_skip_the_questions(tmp_path: Path) -> None:
    with btassist_chat(tmp_path, "--as", "lukas.novak@halland.example.org", "--lang", "en") as chat:
        chat.expect("Hi Lukas! I'm the BT assistant.")
        chat.expect(r"\[\d+\] Courses")
        chat.expect("you › ")
        chat.sendline("exit")
        chat.expect("Bye!")
        assert exit_status(chat) == 0


# --- the session in-process, against the real bot (quicker; reaches the error paths) --------


def scripted(*lines: str) -> Callable[[str], Awaitable[str | None]]:
    """A `read_line` that types `lines` and then Ctrl-D."""
    queue = list(lines)

    async def read_line(prompt: str) -> str | None:
        return queue.pop(0) if queue else None

    return read_line


def recording_console() -> Console:
    return Console(record=True, width=120, color_system=None, highlight=False)


async def test_transcript_in_process(bot: RunningBot) -> None:
    async with bot.app[DATABASE].session() as session:
        people = await list_people(session)
    console = recording_console()
    # By e-mail at the picker, Enter for the default language, a click, a bad number, chatter.
    typed = scripted("amir.haddad@halland.example.org", "", "3", "99", "blä", "avsluta")
    conversation = Conversation(chat=bot.chat, console=console, read_line=typed)

    assert await conversation.run(people, ChatOptions(), tenant="local-tenant") == 0

    transcript = console.export_text()
    assert "Hej Amir! Jag är BT-assistenten." in transcript
    assert "→ Kalender" in transcript
    assert "Din BT " in transcript
    assert "Det finns ingen knapp 99." in transcript
    assert 'Jag förstod inte riktigt "blä"' in transcript
    assert transcript.rstrip().endswith("Hej då!")


async def test_a_stored_language_is_explained_when_it_wins(bot: RunningBot) -> None:
    console = recording_console()
    conversation = Conversation(chat=bot.chat, console=console, read_line=scripted())
    async with bot.app[DATABASE].session() as session:
        people = await list_people(session)
    options = ChatOptions(as_email="elena.petrova@halland.example.org", language=Language.sv)

    await conversation.run(people, options, tenant="local-tenant")

    transcript = console.export_text()
    assert "Elena har valt engelska" in transcript
    assert "Hi Elena!" in transcript


async def test_what_the_bot_sends_between_turns_is_shown_as_it_arrives(bot: RunningBot) -> None:
    async with bot.app[DATABASE].session() as session:
        people = await list_people(session)
        amir = await find_person(session, email=AMIR.email)
    assert amir is not None
    assert amir.person.id is not None
    console = recording_console()
    typed: asyncio.Queue[str | None] = asyncio.Queue()
    waiting = asyncio.Event()

    async def read_line(prompt: str) -> str | None:
        waiting.set()
        return await typed.get()

    conversation = Conversation(chat=bot.chat, console=console, read_line=read_line)
    options = ChatOptions(as_email=AMIR.email, language=Language.sv)
    chatting = asyncio.create_task(conversation.run(people, options, tenant="local-tenant"))
    await asyncio.wait_for(waiting.wait(), 10)  # greeted, and at the prompt

    notice = Reply(card=card([heading("Påminnelse: StAS i morgon")], [submit("Öppna", "menu")]))
    assert (await bot.app[RUNTIME].sender.send_to_person(amir.person.id, notice)).delivered
    await asyncio.wait_for(conversation.news_shown.wait(), 5)
    typed.put_nowait("1")  # the notice's button is what a number clicks now
    typed.put_nowait(None)
    assert await chatting == 0

    transcript = console.export_text()
    assert transcript.count("Påminnelse: StAS i morgon") == 1
    assert "→ Öppna" in transcript
    assert transcript.index("Påminnelse") < transcript.index("→ Öppna")


async def test_clicking_an_execute_button_shows_the_card_the_invoke_returns(
    bot: RunningBot,
) -> None:
    console = recording_console()
    conversation = Conversation(chat=bot.chat, console=console, read_line=scripted())
    button = Button(title="Kalender", type="Action.Execute", data={}, verb="calendar")

    reply = await conversation.press(AMIR, button)
    await conversation.show(reply)

    assert reply.status == 200
    assert "Din BT " in console.export_text()


async def test_bot_errors_are_shown_not_raised(connector: FakeConnector) -> None:
    console = recording_console()
    async with aiohttp.ClientSession() as http:
        nobody = ChatClient(
            bot_url=f"http://127.0.0.1:{free_port()}", connector=connector, http=http
        )
        conversation = Conversation(chat=nobody, console=console, read_line=scripted())
        await conversation.show(await conversation.send(nobody.say(AMIR, "hjälp")))
        await conversation.show(BotReply(status=500, activities=[], body={"error": "boom"}))

    transcript = console.export_text()
    assert "Kunde inte nå boten" in transcript
    assert "Boten svarade HTTP 500: {'error': 'boom'}" in transcript


# --- rendering cards as text ----------------------------------------------------------------


def message(text: str | None = None, *cards: dict[str, Any]) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": CARD, "content": c} for c in cards],
    }
    if text is not None:
        activity["text"] = text
    return activity


def submit(title: str, verb: str, **data: Any) -> dict[str, Any]:
    """A raw Action.Submit: the renderer shows whatever data a card carries."""
    return {"type": "Action.Submit", "title": title, "data": {"verb": verb, **data}}


def test_buttons_are_numbered_across_the_whole_reply() -> None:
    first = card([heading("Vad vill du göra?")], [submit("Kurser", "courses")])
    second = card(
        [paragraph("Välj en kurs")],
        [submit("Anmäl", "enrol", session=7), submit("Tillbaka", "help")],
    )
    reply = BotReply(201, [message("Hej!", first), message(None, second)])

    rendered = render_reply(reply)

    assert rendered.text.plain == (
        "Hej!\nVad vill du göra?\n  [1] Kurser\n\nVälj en kurs\n  [2] Anmäl\n  [3] Tillbaka"
    )
    assert [b.title for b in rendered.buttons] == ["Kurser", "Anmäl", "Tillbaka"]
    assert rendered.button(2) == Button("Anmäl", "Action.Submit", {"verb": "enrol", "session": 7})
    assert rendered.button(0) is None
    assert rendered.button(4) is None


def test_markdown_lists_and_bold_become_bullets_and_bold_text() -> None:
    rendered = render_card(card([bullet_list(["**Psykiatri** ← nu", "Akut sjukvård"])]))

    assert rendered.text.plain == "  • Psykiatri ← nu\n  • Akut sjukvård"
    bold = [rendered.text.plain[s.start : s.end] for s in rendered.text.spans if s.style == "bold"]
    assert bold == ["Psykiatri"]


def test_numbered_lists_and_links() -> None:
    text = "1. Läs [HSLF-FS 2021:8](https://example.org/hslf)\n2. Fråga din handledare"

    rendered = render_card(card([paragraph(text)]))

    assert rendered.text.plain == (
        "  1. Läs HSLF-FS 2021:8 (https://example.org/hslf)\n  2. Fråga din handledare"
    )


def test_heading_and_subtle_text_keep_their_look() -> None:
    rendered = render_card(card([heading("Din BT"), paragraph("Kommer snart.", subtle=True)]))

    styles = {rendered.text.plain[s.start : s.end]: str(s.style) for s in rendered.text.spans}
    assert styles == {"Din BT": "bold", "Kommer snart.": "dim"}


def test_fact_sets_line_up_their_values() -> None:
    facts = {
        "type": "FactSet",
        "facts": [
            {"title": "Kurs", "value": "Försäkringsmedicin"},
            {"title": "Datum", "value": "3 mars"},
        ],
    }

    rendered = render_card(card([facts]))

    assert rendered.text.plain == "Kurs:  Försäkringsmedicin\nDatum: 3 mars"


def test_containers_and_columns() -> None:
    body = [
        {
            "type": "Container",
            "items": [
                {"type": "TextBlock", "text": "Mini-CEX"},
                {
                    "type": "ColumnSet",
                    "columns": [
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "Akut"}]},
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "2/4"}]},
                    ],
                },
                {
                    "type": "ColumnSet",
                    "columns": [
                        {
                            "type": "Column",
                            "items": [
                                {"type": "TextBlock", "text": "Psykiatri"},
                                {"type": "TextBlock", "text": "Primärvård"},
                            ],
                        },
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "1/4"}]},
                    ],
                },
                {"type": "TextBlock", "text": "hidden", "isVisible": False},
            ],
        }
    ]

    rendered = render_card(card(body))

    assert rendered.text.plain == "Mini-CEX\nAkut   2/4\nPsykiatri\nPrimärvård\n1/4"


def test_execute_and_action_set_buttons_are_clickable_links_are_not() -> None:
    body = [
        {"type": "TextBlock", "text": "Bedömning"},
        {
            "type": "ActionSet",
            "actions": [
                {"type": "Action.Execute", "title": "Signera", "verb": "sign", "data": {"id": 4}}
            ],
        },
    ]
    actions = [
        {"type": "Action.OpenUrl", "title": "Socialstyrelsen", "url": "https://example.org/bt"},
        {"type": "Action.Submit", "title": "Klar", "data": {"verb": "done"}},
    ]

    rendered = render_card(card(body, actions))

    assert rendered.text.plain == (
        "Bedömning\n  [1] Signera\n  ↗ Socialstyrelsen  https://example.org/bt\n  [2] Klar"
    )
    assert rendered.buttons == [
        Button("Signera", "Action.Execute", {"id": 4}, verb="sign"),
        Button("Klar", "Action.Submit", {"verb": "done"}),
    ]


def test_an_invoke_answer_card_is_rendered_after_the_messages() -> None:
    answered = card([paragraph("Signerad")], [submit("Ångra", "undo")])
    reply = BotReply(
        200, [message("Tack!")], body={"statusCode": 200, "type": CARD, "value": answered}
    )

    rendered = render_reply(reply)

    assert rendered.text.plain == "Tack!\n\nSignerad\n  [1] Ångra"


def test_other_attachments_and_typing_show_only_what_they_are() -> None:
    typing = {"type": "typing"}
    hero = {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.hero", "content": {}}],
    }

    rendered = render_reply(BotReply(201, [typing, hero]))

    assert rendered.text.plain == "[application/vnd.microsoft.card.hero]"
    assert rendered.buttons == []
