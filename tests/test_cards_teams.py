"""Cards Teams will render: the check every card the bot sends goes through at the session's end.

The check is Microsoft's Adaptive Cards library with the Teams host config (tools/teamscheck);
these tests show that it refuses what Teams would not render and lets the bot's cards through.
"""

from __future__ import annotations

from typing import Any

import pytest

from btassist.dialogs import actions as a
from btassist.dialogs.cards import card, execute, heading, paragraph, submit
from btassist.localchat.client import Button, ChatClient
from tests.support.bot import AMIR, KARIN
from tests.support.cards import SENT_CARDS, SentCards
from tests.support.teamscheck import card_problems

JsonDict = dict[str, Any]

GOOD = card(
    [
        heading("Försäkringsmedicin"),
        paragraph("Ons 16 dec 09:00–16:00", subtle=True),
        {"type": "FactSet", "facts": [{"title": "Platser", "value": "20"}]},
        {"type": "Input.Toggle", "id": "attended-1", "title": "Närvarande", "label": "Amir"},
    ],
    [submit("Meny", a.Help()), execute("Anmäl", a.Enrol(session_id=1))],
)
SAMPLES: dict[str, JsonDict] = {
    "good": GOOD,
    "version 1.6": {**GOOD, "version": "1.6"},
    "unknown element": card([{"type": "Carousel", "pages": []}, paragraph("x")]),
    "unknown property": card([{**paragraph("x"), "colour": "red"}]),
    "unknown fact property": card(
        [{"type": "FactSet", "facts": [{"title": "a", "value": "b", "url": "https://x.se"}]}]
    ),
    "newer than 1.5": card(
        [{"type": "Input.Text", "id": "q", "label": "Fråga", "labelPosition": "inline"}]
    ),
    "seven buttons": {  # built by hand: the bot's own `card()` never puts seven in a row
        **card([paragraph("x")]),
        "actions": [submit(str(n), a.Help()) for n in range(7)],
    },
    "eleven buttons as the bot builds them": card(
        [paragraph("x")], [submit(str(n), a.Help()) for n in range(11)]
    ),
}


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    """One run of the check over every sample."""
    return card_problems(SAMPLES)


def test_a_card_built_like_the_bots_passes(problems: dict[str, list[str]]) -> None:
    assert "good" not in problems


def test_version_1_6_is_refused(problems: dict[str, list[str]]) -> None:
    assert problems["version 1.6"] == [
        '"version" 1.6 is newer than 1.5, the newest version Teams renders'
    ]


def test_an_unknown_element_is_refused(problems: dict[str, list[str]]) -> None:
    assert any('Unknown element type "Carousel"' in p for p in problems["unknown element"])


@pytest.mark.parametrize(
    ("sample", "where"),
    [
        ("unknown property", '$.body[0]: TextBlock has no property "colour"'),
        ("unknown fact property", '$.body[0].facts[0]: Fact has no property "url"'),
    ],
)
def test_a_property_teams_ignores_is_refused(
    problems: dict[str, list[str]], sample: str, where: str
) -> None:
    assert [p for p in problems[sample] if p.startswith(where)]


def test_a_property_newer_than_1_5_is_refused(problems: dict[str, list[str]]) -> None:
    assert any("UnsupportedProperty" in p for p in problems["newer than 1.5"])


def test_more_buttons_than_the_teams_host_config_allows_are_refused(
    problems: dict[str, list[str]],
) -> None:
    assert problems["seven buttons"] == ["TooManyActions: Maximum number of actions exceeded (6)."]
    assert "eleven buttons as the bot builds them" not in problems  # rows of six and five


async def test_the_bots_cards_pass_and_invoke_answers_are_collected(chat: ChatClient) -> None:
    sent = [
        await chat.say(AMIR, "hjälp"),
        await chat.say(AMIR, "kurser"),
        await chat.say(AMIR, "mina kurser"),
        await chat.say(KARIN, "hjälp"),
        await chat.press(AMIR, Button("Kalender", "Action.Execute", {}, verb="calendar")),
    ]
    cards = SentCards()
    for reply in sent:
        for sent_card in reply.cards:
            cards.add(sent_card)

    assert len(cards) >= 4
    assert cards.report() == ""
    assert sent[-1].invoke_cards[0] in SENT_CARDS  # the session check sees invoke answers too
