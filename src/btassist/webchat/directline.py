"""Direct Line 3.0 for Microsoft's Web Chat, on top of the local Bot Connector (local mode only).

Web Chat speaks Direct Line: start a conversation, post activities, poll for activities with a
watermark. This channel posts what Web Chat sends to the bot's /api/messages as the activities
Teams would post (personal chat, tenant, AAD object id, locale), and shows Web Chat everything
the bot sends through the local connector – replies, card updates and proactive messages – in
one ordered list per person.

What Teams does that Web Chat 4.18 does not, reproduced here:

- Action.Execute (Universal Actions): Web Chat runs only Action.Submit, so an Execute button is
  shown as a Submit that carries its verb and data; its click comes back as a postBack, goes to
  the bot as the ``adaptiveCard/action`` invoke Teams sends, and the card the invoke answers
  with replaces the clicked card in place.
- A Submit click reaches the bot with ``replyToId`` set to the card's activity id, so a reply
  the bot sends as an update replaces that card.
- Installing the app: the first time a person opens the chat, the bot gets the
  ``conversationUpdate`` and ``installationUpdate`` Teams sends.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import aiohttp
from aiohttp import web

from btassist.localchat.client import BotReply, ChatClient, ChatUser
from btassist.localchat.connector import Delivery, JsonDict, LocalConnector

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE: Final = "application/vnd.microsoft.card.adaptive"
CARD_KEY: Final = "btassist.card"
"""Added to a Submit button's data: the id of the activity whose card holds the button."""
EXECUTE_KEY: Final = "btassist.execute"
"""A Submit button's data standing for an Action.Execute: its verb and data."""
TOKEN_LIFETIME: Final = 3600
ROUTE_PREFIX: Final = "/v3/directline"


def for_webchat(card: JsonDict, activity_id: str) -> JsonDict:
    """The card as Web Chat can run it: Execute buttons as Submits that carry their verb, and
    every Submit carrying the id of the card's activity (what Teams puts in ``replyToId``)."""

    def action(node: JsonDict) -> JsonDict:
        kind = node.get("type")
        if kind == "Action.Execute":
            rest = {k: v for k, v in node.items() if k not in ("type", "verb", "data")}
            execute = {"verb": node.get("verb"), "data": node.get("data") or {}}
            return {
                **rest,
                "type": "Action.Submit",
                "data": {CARD_KEY: activity_id, EXECUTE_KEY: execute},
            }
        if kind == "Action.Submit" and isinstance(node.get("data") or {}, dict):
            return {**node, "data": {**(node.get("data") or {}), CARD_KEY: activity_id}}
        return _object(walk(node))  # Action.ShowCard's card has buttons of its own

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        changed: JsonDict = {}
        for key, value in node.items():
            if key == "actions" and isinstance(value, list):
                changed[key] = [action(a) if isinstance(a, dict) else a for a in value]
            elif key == "selectAction" and isinstance(value, dict):
                changed[key] = action(value)
            else:
                changed[key] = walk(value)
        return changed

    return _object(walk(card))


def _object(value: object) -> JsonDict:
    return value if isinstance(value, dict) else {}


def _iso(moment: datetime) -> str:
    """A timestamp Web Chat orders by (milliseconds, UTC)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class WebConversation:
    """One person's chat as Web Chat sees it: an ordered list, read from a watermark."""

    conversation_id: str
    transcript: list[JsonDict] = field(default_factory=list)
    synced: int = 0
    """The last connector delivery copied into the transcript."""
    echoed: set[str] = field(default_factory=set)
    """Ids of the person's own activities in the transcript (what a reply may point at)."""
    placed: dict[str, str] = field(default_factory=dict)
    """Activity id → its first timestamp, so an updated card keeps its place."""
    cards: dict[str, JsonDict] = field(default_factory=dict)
    """Activity id → the bot's activity as last sent or updated."""
    installed: bool = False
    turns: asyncio.Lock = field(default_factory=asyncio.Lock)
    """One post at a time, so the person's turns reach the bot in the order they were made."""
    last_stamp: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))

    def stamp(self, moment: datetime) -> str:
        """A timestamp after every earlier one here, so Web Chat keeps arrival order."""
        self.last_stamp = max(moment, self.last_stamp + timedelta(milliseconds=1))
        return _iso(self.last_stamp)


class DirectLine:
    """The Direct Line 3.0 endpoints Web Chat polls, for people the local chat page opens."""

    def __init__(
        self,
        connector: LocalConnector,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.connector = connector
        self._clock = clock
        self._chat: ChatClient | None = None
        self._tokens: dict[str, ChatUser] = {}
        self._conversations: dict[str, WebConversation] = {}
        self._ids = itertools.count(1)

    def attach(self, *, bot_url: str, http: aiohttp.ClientSession) -> None:
        """Where the bot's /api/messages is, and the session to post there with."""
        self._chat = ChatClient(bot_url=bot_url, connector=self.connector, http=http)

    def open(self, user: ChatUser) -> str:
        """A Direct Line token for `user`'s chat (one chat per person, shared by their tabs)."""
        self._conversations.setdefault(user.conversation_id, WebConversation(user.conversation_id))
        token = secrets.token_urlsafe(24)
        self._tokens[token] = user
        return token

    def routes(self) -> list[web.RouteDef]:
        """Start, resume, post, poll and token refresh, under /v3/directline."""
        conversation = ROUTE_PREFIX + "/conversations/{conversationId}"
        return [
            web.post(ROUTE_PREFIX + "/conversations", self._start),
            web.get(conversation, self._resume, allow_head=False),
            web.post(conversation + "/activities", self._post),
            web.get(conversation + "/activities", self._activities, allow_head=False),
            web.post(ROUTE_PREFIX + "/tokens/refresh", self._refresh),
        ]

    # ------------------------------------------------------------------ endpoints

    async def _start(self, request: web.Request) -> web.Response:
        """POST /conversations: the person's chat; the app is installed on first open."""
        user = self._user(request)
        conversation = self._conversations[user.conversation_id]
        async with conversation.turns:
            if not conversation.installed:
                await self._to_bot(self._client.install(user))
                conversation.installed = True
        return self._conversation_answer(request, user, status=201)

    async def _resume(self, request: web.Request) -> web.Response:
        """GET /conversations/{id}: reconnecting to a chat that exists."""
        user = self._user(request, request.match_info["conversationId"])
        return self._conversation_answer(request, user)

    async def _refresh(self, request: web.Request) -> web.Response:
        """POST /tokens/refresh: tokens here live as long as the server; the same one back."""
        user = self._user(request)
        return self._conversation_answer(request, user)

    async def _post(self, request: web.Request) -> web.Response:
        """POST /conversations/{id}/activities: echo it to Web Chat, then send it to the bot."""
        conversation_id = request.match_info["conversationId"]
        user = self._user(request, conversation_id)
        try:
            activity = await request.json()
        except ValueError:
            activity = None
        if not isinstance(activity, dict):
            raise web.HTTPBadRequest(text="the activity must be a JSON object")
        conversation = self._conversations[conversation_id]
        activity_id = f"webchat-{next(self._ids)}"
        async with conversation.turns:
            if activity.get("type") != "message":  # typing indicators and events: not for Teams
                return web.json_response({"id": activity_id})
            self._sync(conversation)
            self._append_echo(conversation, activity, activity_id)
            teams = self.teams_activity(user, activity, activity_id)
            reply = await self._to_bot(self._client.post(teams))
            if teams["type"] == "invoke":
                self._sync(conversation)
                self._replace_card(conversation, teams.get("replyToId"), reply.body)
        return web.json_response({"id": activity_id})

    async def _activities(self, request: web.Request) -> web.Response:
        """GET /conversations/{id}/activities?watermark=N: what came after N, and the new N."""
        conversation_id = request.match_info["conversationId"]
        self._user(request, conversation_id)
        conversation = self._conversations[conversation_id]
        self._sync(conversation)
        try:
            watermark = max(0, int(request.query.get("watermark") or 0))
        except ValueError:
            watermark = 0
        return web.json_response(
            {
                "activities": conversation.transcript[watermark:],
                "watermark": str(len(conversation.transcript)),
            }
        )

    # ------------------------------------------------------------------ plumbing

    @property
    def _client(self) -> ChatClient:
        if self._chat is None:
            raise web.HTTPServiceUnavailable(text="the chat is starting")
        return self._chat

    def _user(self, request: web.Request, conversation_id: str | None = None) -> ChatUser:
        """The person a request's token was issued for; 403 (as Direct Line) for any other."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None or conversation_id not in (None, user.conversation_id):
            raise web.HTTPForbidden(text="unknown token or conversation")
        return user

    def _conversation_answer(
        self, request: web.Request, user: ChatUser, *, status: int = 200
    ) -> web.Response:
        token = request.headers["Authorization"].partition(" ")[2]
        return web.json_response(
            {
                "conversationId": user.conversation_id,
                "token": token,
                "expires_in": TOKEN_LIFETIME,
            },
            status=status,
        )

    async def _to_bot(self, turn: Any) -> BotReply:
        """Await a post to the bot; a bot that cannot be reached is a 502 for Web Chat."""
        try:
            reply: BotReply = await turn
        except aiohttp.ClientError as error:
            log.warning("web chat could not reach the bot: %s", type(error).__name__)
            raise web.HTTPBadGateway(text="the bot could not be reached") from error
        if reply.status >= 400:
            log.warning("the bot answered a web chat turn with HTTP %s", reply.status)
        return reply

    def teams_activity(self, user: ChatUser, activity: JsonDict, activity_id: str) -> JsonDict:
        """What Teams would post for this Web Chat message, typed text or a button click."""
        fields: JsonDict = {"id": activity_id, "textFormat": "plain"}
        if isinstance(activity.get("text"), str) and activity["text"]:
            fields["text"] = activity["text"]
        value = activity.get("value")
        if isinstance(value, dict) and (CARD_KEY in value or EXECUTE_KEY in value):
            data = dict(value)
            card_id = data.pop(CARD_KEY, None)
            execute = data.pop(EXECUTE_KEY, None)
            if isinstance(execute, dict):
                verb = execute.get("verb")
                # Web Chat merges the card's inputs into the Submit's data; Teams merges them
                # into the Execute's data.
                return self._client.execute_activity(
                    user,
                    verb=verb if isinstance(verb, str) else None,
                    data=_object(execute.get("data")) | data,
                    card_activity_id=card_id if isinstance(card_id, str) else None,
                    **fields,
                )
            if isinstance(card_id, str):
                fields["replyToId"] = card_id
            value = data
        if value is not None:
            fields["value"] = value
        return self._client.activity(user, **fields)

    def _append_echo(
        self, conversation: WebConversation, activity: JsonDict, activity_id: str
    ) -> None:
        """The person's own activity, as Direct Line echoes it (Web Chat waits for that)."""
        sender = _object(activity.get("from"))
        echo = {
            **activity,
            "id": activity_id,
            "timestamp": conversation.stamp(self._clock()),
            "conversation": {"id": conversation.conversation_id},
            "from": {**sender, "role": "user"},
        }
        conversation.echoed.add(activity_id)
        conversation.transcript.append(echo)

    def _sync(self, conversation: WebConversation) -> None:
        """Copy what the bot sent through the connector since the last look, in order."""
        for delivery in self.connector.deliveries(
            conversation.conversation_id, after=conversation.synced
        ):
            conversation.synced = delivery.seq
            if delivery.activity_id is None or delivery.operation == "delete":
                continue  # Direct Line has no way to take a message back from Web Chat
            self._append_bot(conversation, delivery)

    def _append_bot(self, conversation: WebConversation, delivery: Delivery) -> None:
        activity_id = delivery.activity_id or ""
        activity = delivery.activity
        if delivery.operation == "update" and activity_id in conversation.cards:
            activity = {**conversation.cards[activity_id], **activity}
        self._show_bot_activity(conversation, activity_id, activity, delivery.timestamp)

    def _replace_card(self, conversation: WebConversation, card_id: Any, invoke_body: Any) -> None:
        """Teams shows the card an Action.Execute invoke answers with in place of the old one."""
        if not isinstance(card_id, str) or card_id not in conversation.cards:
            return
        body = invoke_body if isinstance(invoke_body, dict) else {}
        if body.get("type") != CARD_CONTENT_TYPE or not isinstance(body.get("value"), dict):
            return
        replaced = {
            **conversation.cards[card_id],
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": body["value"]}],
        }
        replaced.pop("text", None)
        self._show_bot_activity(conversation, card_id, replaced, self._clock())

    def _show_bot_activity(
        self,
        conversation: WebConversation,
        activity_id: str,
        activity: JsonDict,
        moment: datetime,
    ) -> None:
        conversation.cards[activity_id] = activity
        sender = _object(activity.get("from"))
        if activity_id not in conversation.placed:
            conversation.placed[activity_id] = conversation.stamp(moment)
        shown: JsonDict = {
            **activity,
            "id": activity_id,
            "timestamp": conversation.placed[activity_id],
            "conversation": {"id": conversation.conversation_id},
            "from": {**sender, "role": "bot"},
        }
        if shown.get("replyToId") not in conversation.echoed:
            shown.pop("replyToId", None)  # Web Chat would hold it back, waiting for an unseen id
        shown["attachments"] = [
            {**a, "content": for_webchat(a["content"], activity_id)}
            if isinstance(a, dict)
            and a.get("contentType") == CARD_CONTENT_TYPE
            and isinstance(a.get("content"), dict)
            else a
            for a in activity.get("attachments") or []
        ]
        conversation.transcript.append(shown)
