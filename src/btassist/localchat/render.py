"""Bot replies as terminal text for `btassist chat`: messages, Adaptive Cards, numbered buttons.

Plain functions from a `BotReply` to a rich `Text`, so they can be tested without a terminal.
Buttons the bot can receive (Action.Submit, Action.Execute) are numbered [1], [2], … across
the whole reply, in the order they appear; links (Action.OpenUrl) are shown with their address
and not numbered, because a click on them never reaches the bot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.style import Style
from rich.text import Text

from btassist.localchat.client import BotReply, Button, card_buttons
from btassist.localchat.connector import JsonDict

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CLICKABLE = frozenset({"Action.Submit", "Action.Execute"})
COLUMN_GAP = "   "
COLOURS = {"attention": "red", "good": "green", "warning": "yellow", "accent": "cyan"}

# The Markdown subset Teams renders in TextBlocks and messages that the bot uses.
_INLINE = re.compile(r"\*\*(?P<bold>.+?)\*\*|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)")
_BULLET = re.compile(r"^\s*[-*+]\s+")
_NUMBERED = re.compile(r"^\s*(?P<number>\d+)[.)]\s+")


@dataclass(frozen=True)
class RenderedReply:
    """A reply as terminal text, and the buttons its numbers stand for."""

    text: Text
    buttons: list[Button] = field(default_factory=list)

    def button(self, number: int) -> Button | None:
        """The button shown as [number], if there is one."""
        return self.buttons[number - 1] if 1 <= number <= len(self.buttons) else None


def render_reply(reply: BotReply) -> RenderedReply:
    """Every message and card of a reply, in order, with its buttons numbered from 1."""
    renderer = _Renderer()
    for activity in [*reply.updated, *reply.activities]:  # a card changed in place comes first
        renderer.activity(activity)
    for card in reply.invoke_cards:
        renderer.separate()
        renderer.card(card)
    return renderer.result()


def render_card(card: JsonDict) -> RenderedReply:
    """One Adaptive Card on its own, buttons numbered from 1."""
    renderer = _Renderer()
    renderer.card(card)
    return renderer.result()


def markdown_text(source: str, style: str | Style = "") -> Text:
    """Teams' simple Markdown (`- ` and `1. ` lists, **bold**, [links](url)) as styled text."""
    text = Text(style=style)
    for index, line in enumerate(source.splitlines()):
        if index:
            text.append("\n")
        if bullet := _BULLET.match(line):
            text.append("  • ")
            line = line[bullet.end() :]
        elif numbered := _NUMBERED.match(line):
            text.append(f"  {numbered['number']}. ")
            line = line[numbered.end() :]
        _append_inline(text, line)
    return text


def _append_inline(text: Text, line: str) -> None:
    position = 0
    for match in _INLINE.finditer(line):
        text.append(line[position : match.start()])
        if match["bold"] is not None:
            text.append(match["bold"], style="bold")
        else:
            label, url = match["label"], match["url"]
            text.append(label, style=Style(underline=True, link=url))
            if label != url:
                text.append(f" ({url})", style="dim")
        position = match.end()
    text.append(line[position:])


def _text_block_style(element: JsonDict) -> str:
    parts = []
    weight = str(element.get("weight", "")).lower()
    size = str(element.get("size", "")).lower()
    if weight == "bolder" or size in {"large", "extralarge"}:
        parts.append("bold")
    if element.get("isSubtle"):
        parts.append("dim")
    colour = COLOURS.get(str(element.get("color", "")).lower())
    if colour:
        parts.append(colour)
    return " ".join(parts)


class _Renderer:
    """Walks activities and cards, collecting lines of text and numbering buttons as it goes."""

    def __init__(self) -> None:
        self.lines: list[Text] = []
        self.buttons: list[Button] = []

    def result(self) -> RenderedReply:
        return RenderedReply(Text("\n").join(self.lines), self.buttons)

    def separate(self) -> None:
        """A blank line between messages."""
        if self.lines:
            self.lines.append(Text())

    def activity(self, activity: JsonDict) -> None:
        if activity.get("type", "message") != "message":
            return  # typing indicators and the like show nothing
        self.separate()
        if activity.get("text"):
            self.lines.append(markdown_text(str(activity["text"])))
        for attachment in activity.get("attachments") or []:
            content = attachment.get("content")
            if attachment.get("contentType") == CARD_CONTENT_TYPE and isinstance(content, dict):
                self.card(content)
            else:
                self.lines.append(Text(f"[{attachment.get('contentType', '?')}]", style="dim"))

    def card(self, card: JsonDict) -> None:
        self.lines += self.elements(card.get("body") or [])
        self.lines += self.actions(card.get("actions") or [])

    def elements(self, elements: Iterable[Any]) -> list[Text]:
        lines: list[Text] = []
        for element in elements:
            if isinstance(element, dict) and element.get("isVisible", True) is not False:
                lines += self.element(element)
        return lines

    def element(self, element: JsonDict) -> list[Text]:
        kind = str(element.get("type", ""))
        if kind == "TextBlock":
            text = str(element.get("text") or "")
            return [markdown_text(text, _text_block_style(element))] if text else []
        if kind == "RichTextBlock":
            return [self.rich_text(element.get("inlines") or [])]
        if kind == "FactSet":
            return self.facts(element.get("facts") or [])
        if kind == "Container":
            return self.elements(element.get("items") or [])
        if kind == "ColumnSet":
            columns = element.get("columns") or []
            return self.side_by_side([self.elements(c.get("items") or []) for c in columns])
        if kind == "Table":
            lines = []
            for row in element.get("rows") or []:
                cells = [self.elements(cell.get("items") or []) for cell in row.get("cells") or []]
                lines += self.side_by_side(cells)
            return lines
        if kind == "ActionSet":
            return self.actions(element.get("actions") or [])
        if kind == "Image":
            alt = element.get("altText")
            return [Text(f"▣ {alt}", style="dim")] if alt else []
        if kind.startswith("Input."):
            label = element.get("label") or element.get("placeholder") or element.get("id")
            return [Text(f"▭ {label or ''}", style="dim")]
        other = element.get("text")  # an element type this renderer does not know
        return [Text(str(other))] if other else []

    def rich_text(self, inlines: Iterable[Any]) -> Text:
        text = Text()
        for inline in inlines:
            if isinstance(inline, str):
                text.append(inline)
            elif isinstance(inline, dict):
                style = _text_block_style(inline)
                if inline.get("italic"):
                    style += " italic"
                text.append(str(inline.get("text", "")), style=style.strip())
        return text

    def facts(self, facts: list[Any]) -> list[Text]:
        pairs = [
            (str(fact.get("title", "")), str(fact.get("value", "")))
            for fact in facts
            if isinstance(fact, dict)
        ]
        width = max((len(title) for title, _ in pairs), default=0)
        lines = []
        for title, value in pairs:
            line = Text(f"{title}:".ljust(width + 2), style="bold")
            line.append_text(markdown_text(value))
            lines.append(line)
        return lines

    def side_by_side(self, columns: list[list[Text]]) -> list[Text]:
        """Short columns on one line; anything taller one column after the other."""
        filled = [column for column in columns if column]
        if all(len(column) == 1 and "\n" not in column[0].plain for column in filled):
            return [Text(COLUMN_GAP).join(column[0] for column in filled)] if filled else []
        return [line for column in filled for line in column]

    def actions(self, actions: Iterable[Any]) -> list[Text]:
        lines: list[Text] = []
        for action in actions:
            if not isinstance(action, dict):
                continue
            kind = str(action.get("type", ""))
            title = str(action.get("title", ""))
            if kind in CLICKABLE:
                [button] = card_buttons({"actions": [action]})
                self.buttons.append(button)
                line = Text("  ")
                line.append(f"[{len(self.buttons)}]", style="bold cyan")
                line.append(f" {title}")
                lines.append(line)
            elif kind == "Action.OpenUrl":
                url = str(action.get("url", ""))
                line = Text("  ↗ ")
                line.append(title or url, style=Style(underline=True, link=url or None))
                if title and url:
                    line.append(f"  {url}", style="dim")
                lines.append(line)
            elif kind == "Action.ShowCard":
                lines.append(Text(f"  ▸ {title}"))
                shown = action.get("card")
                if isinstance(shown, dict):
                    lines += self.elements(shown.get("body") or [])
                    lines += self.actions(shown.get("actions") or [])
            else:
                lines.append(Text(f"  · {title}", style="dim"))
        return lines
