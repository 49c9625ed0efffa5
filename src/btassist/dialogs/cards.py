"""Small builders for Adaptive Cards (schema 1.5, as Teams renders them) as plain dicts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from btassist.dialogs.actions import Action

Card = dict[str, Any]
Element = dict[str, Any]

CARD_VERSION = "1.5"


MAX_ACTIONS = 6
"""Teams renders at most this many buttons in one row (its host config's `maxActions`) and drops
the rest without a word."""


def card(body: Iterable[Element], actions: Iterable[Element] = ()) -> Card:
    """An Adaptive Card with `body` elements and `actions` buttons.

    More buttons than Teams shows in one row go into rows of their own (ActionSets at the end of
    the body), so none is dropped.
    """
    elements = list(body)
    buttons = list(actions)
    built: Card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": elements,
    }
    if len(buttons) > MAX_ACTIONS:
        elements += [
            {"type": "ActionSet", "actions": buttons[start : start + MAX_ACTIONS]}
            for start in range(0, len(buttons), MAX_ACTIONS)
        ]
    elif buttons:
        built["actions"] = buttons
    return built


def heading(text: str) -> Element:
    """A bold title line."""
    return {"type": "TextBlock", "text": text, "weight": "Bolder", "size": "Medium", "wrap": True}


def paragraph(text: str, *, subtle: bool = False) -> Element:
    """A wrapped block of text."""
    block: Element = {"type": "TextBlock", "text": text, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    return block


def bullet_list(lines: Iterable[str]) -> Element:
    """Lines as one Markdown list (Teams renders `- ` lists in TextBlocks)."""
    return paragraph("\n".join(f"- {line}" for line in lines))


def submit(title: str, action: Action) -> Element:
    """A button that sends `action` back to the bot as a new message (Action.Submit).

    For navigation: the answer arrives as a new message and the card clicked stays as it was.
    """
    return {"type": "Action.Submit", "title": title, "data": action.data()}


def execute(title: str, action: Action) -> Element:
    """A button whose answer replaces the card it is on (Action.Execute, Universal Actions).

    For acting on the card's subject (enrol, withdraw, save attendance): the bot answers in the
    invoke response itself, so the old card with its now stale buttons is gone at once.
    """
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": action.verb.value,
        "data": action.data(),
    }


def open_url(title: str, url: str) -> Element:
    """A button opening a web page."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}
