"""A Teams-shaped client for the bot's real /api/messages: used by `btassist chat` and tests.

It posts the activities Teams would post (personal chat, tenant, AAD object id, locale) and
collects what the bot sent back through the local Bot Connector during that turn.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from btassist.common.language import Language
from btassist.localchat.connector import JsonDict, LocalConnector
from btassist.roster.queries import PersonSummary

BOT_ID = "28:btassist-local"
BOT_NAME = "BT-assistenten"
LOCAL_TENANT = "local-tenant"
LOCALES = {Language.sv: "sv-SE", Language.en: "en-US"}
# Pickers list BT doctors first (most people who try the bot), then the staff around them.


@dataclass(frozen=True)
class ChatUser:
    """A Teams user as the bot sees them."""

    name: str
    email: str
    aad_object_id: str
    locale: str = "sv-SE"
    tenant_id: str = "local-tenant"

    @property
    def id(self) -> str:
        """The Teams user id (29:…) of this user."""
        return f"29:{self.aad_object_id}"

    @property
    def conversation_id(self) -> str:
        """The id of this user's personal chat with the bot."""
        return f"a:personal-{self.aad_object_id}"


def chat_user(
    person: PersonSummary | None, email: str, language: Language, *, tenant_id: str = LOCAL_TENANT
) -> ChatUser:
    """The Teams user for a roster person, or for an e-mail the roster does not know."""
    email = person.person.email if person else email.strip()
    name = person.person.name if person else email.split("@")[0]
    # Without a stored object id the bot finds the person by e-mail through the connector,
    # as it does the first time a real Teams user writes; a stable id keeps that to one look-up.
    object_id = (person.person.aad_object_id if person else None) or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"btassist-chat:{email.lower()}")
    )
    return ChatUser(name, email, object_id, locale=LOCALES[language], tenant_id=tenant_id)


@dataclass(frozen=True)
class Button:
    """A card action as a user sees it."""

    title: str
    type: str
    data: JsonDict = field(default_factory=dict)
    verb: str | None = None
    url: str | None = None


@dataclass
class BotReply:
    """Everything the bot answered to one user action."""

    status: int
    activities: list[JsonDict]
    body: Any = None  # the HTTP body: an invoke response, an error
    updated: list[JsonDict] = field(default_factory=list)  # cards the bot changed in place

    @property
    def text(self) -> str:
        """The text of every message and the visible text of every card, joined by newlines."""
        parts: list[str] = []
        for activity in [*self.updated, *self.activities]:
            if activity.get("text"):
                parts.append(str(activity["text"]))
            parts += [card_text(card) for card in cards_of(activity)]
        parts += [card_text(card) for card in self.invoke_cards]
        return "\n".join(part for part in parts if part)

    @property
    def cards(self) -> list[JsonDict]:
        """Every Adaptive Card in the reply (including one returned by an invoke)."""
        found = [
            card for activity in [*self.updated, *self.activities] for card in cards_of(activity)
        ]
        return found + self.invoke_cards

    @property
    def invoke_cards(self) -> list[JsonDict]:
        """The card an Action.Execute invoke answered with, if any."""
        body = self.body if isinstance(self.body, dict) else {}
        if body.get("type") == "application/vnd.microsoft.card.adaptive":
            return [body["value"]]
        return []

    @property
    def card_activity_id(self) -> str | None:
        """The id of the last activity carrying a card (what Teams puts in replyToId)."""
        for activity in reversed([*self.activities, *self.updated]):
            if cards_of(activity) and activity.get("id"):
                return str(activity["id"])
        return None

    @property
    def buttons(self) -> list[Button]:
        """Every button of every card, in order."""
        return [button for card in self.cards for button in card_buttons(card)]

    def button(self, title: str) -> Button:
        """The button with this title (exact, then case-insensitive prefix)."""
        for button in self.buttons:
            if button.title == title:
                return button
        for button in self.buttons:
            if button.title.lower().startswith(title.lower()):
                return button
        titles = ", ".join(repr(b.title) for b in self.buttons) or "none"
        raise LookupError(f"no button {title!r}; the reply has: {titles}")


def cards_of(activity: JsonDict) -> list[JsonDict]:
    """The Adaptive Cards attached to an activity."""
    return [
        attachment["content"]
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: JsonDict) -> str:
    """The visible text of a card's body, in order, one block per line."""
    lines: list[str] = []

    def walk(element: Any) -> None:
        if isinstance(element, list):
            for item in element:
                walk(item)
        elif isinstance(element, dict):
            kind = element.get("type")
            if kind == "TextBlock" and element.get("text"):
                lines.append(str(element["text"]))
            elif kind == "FactSet":
                lines.extend(
                    f"{f.get('title', '')}: {f.get('value', '')}" for f in element.get("facts", [])
                )
            for key in ("body", "items", "columns"):
                walk(element.get(key))

    walk(card.get("body", []))
    return "\n".join(lines)


def card_buttons(card: JsonDict) -> list[Button]:
    """A card's buttons in the order Teams shows them: rows in the body (ActionSets, also
    inside containers), then the card's own actions."""
    buttons = []
    for action in [*_body_actions(card.get("body") or []), *(card.get("actions") or [])]:
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        buttons.append(
            Button(
                title=str(action.get("title", "")),
                type=str(action.get("type", "")),
                data=data,
                verb=action.get("verb"),
                url=action.get("url"),
            )
        )
    return buttons


def _body_actions(elements: list[Any]) -> list[JsonDict]:
    found: list[JsonDict] = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        if element.get("type") == "ActionSet":
            found += [a for a in element.get("actions") or [] if isinstance(a, dict)]
        for nested in ("items", "columns"):
            found += _body_actions(element.get(nested) or [])
    return found


TokenProvider = Callable[[JsonDict], Awaitable[str | None]]


class ChatClient:
    """Talks to the bot as Teams would, through the real HTTP endpoint."""

    def __init__(
        self,
        *,
        bot_url: str,
        connector: LocalConnector,
        http: aiohttp.ClientSession,
        token: TokenProvider | None = None,
    ) -> None:
        self.bot_url = bot_url.rstrip("/")
        self.connector = connector
        self.http = http
        self.token = token
        self._ids = itertools.count(1)

    def activity(self, user: ChatUser, **fields: Any) -> JsonDict:
        """A Teams-shaped activity from `user` in their personal chat."""
        self.connector.add_member(
            None,
            id=user.id,
            name=user.name,
            aad_object_id=user.aad_object_id,
            email=user.email,
            upn=user.email,
            tenant_id=user.tenant_id,
        )
        return {
            "type": "message",
            "id": f"user-activity-{next(self._ids)}",
            "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": user.id, "name": user.name, "aadObjectId": user.aad_object_id},
            "conversation": {
                "id": user.conversation_id,
                "conversationType": "personal",
                "tenantId": user.tenant_id,
            },
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "locale": user.locale,
            "channelData": {"tenant": {"id": user.tenant_id}},
            **fields,
        }

    def execute_activity(
        self,
        user: ChatUser,
        *,
        verb: str | None,
        data: JsonDict,
        card_activity_id: str | None = None,
        **fields: Any,
    ) -> JsonDict:
        """The invoke Teams sends when `user` clicks an Action.Execute button."""
        if card_activity_id:
            fields["replyToId"] = card_activity_id
        return self.activity(
            user,
            **fields,
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "manual",
            },
        )

    async def post(self, activity: JsonDict, *, headers: dict[str, str] | None = None) -> BotReply:
        """POST an activity and return what the bot sent during that turn."""
        conversation_id = activity.get("conversation", {}).get("id", "")
        mark = self.connector.last_seq
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if self.token and "Authorization" not in all_headers:
            token = await self.token(activity)
            if token:
                all_headers["Authorization"] = f"Bearer {token}"
        async with self.http.post(
            f"{self.bot_url}/api/messages", data=json.dumps(activity), headers=all_headers
        ) as response:
            raw = await response.text()
            status = response.status
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        during = self.connector.deliveries(conversation_id, after=mark)
        sent = [d.as_sent() for d in during if d.is_new]
        updated = [d.activity for d in during if d.operation == "update"]
        return BotReply(status, sent, body, updated)

    async def install(self, user: ChatUser) -> BotReply:
        """What Teams sends when a user adds the bot to their personal chat: the bot joins the
        conversation (conversationUpdate), then the app is installed (installationUpdate)."""
        joined = await self.post(
            self.activity(user, type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
        )
        installed = await self.post(self.activity(user, type="installationUpdate", action="add"))
        return BotReply(
            joined.status if joined.status >= 400 else installed.status,
            joined.activities + installed.activities,
            installed.body,
            joined.updated + installed.updated,
        )

    async def say(self, user: ChatUser, text: str) -> BotReply:
        """The user types `text`."""
        return await self.post(self.activity(user, text=text, textFormat="plain"))

    async def click(self, user: ChatUser, reply: BotReply, title: str) -> BotReply:
        """The user clicks the button titled `title` in `reply`."""
        return await self.press(user, reply.button(title), card_activity_id=reply.card_activity_id)

    async def press(
        self, user: ChatUser, button: Button, *, card_activity_id: str | None = None
    ) -> BotReply:
        """The user presses `button` on the card sent as activity `card_activity_id`."""
        if button.type == "Action.Submit":
            fields: dict[str, Any] = {"value": button.data}
            if card_activity_id:
                fields["replyToId"] = card_activity_id
            return await self.post(self.activity(user, **fields))
        if button.type == "Action.Execute":
            return await self.post(
                self.execute_activity(
                    user, verb=button.verb, data=button.data, card_activity_id=card_activity_id
                )
            )
        raise ValueError(
            f"button {button.title!r} is a {button.type}, which the bot does not receive"
        )
