"""The local Bot Connector: the REST service the bot sends to when no Teams is involved.

Why: the bot reaches Teams through botframework-connector's msrest clients. Pointing an
activity's ``serviceUrl`` at this service exercises the SDK's real URL building, JSON
(de)serialisation and HTTP error handling, and keeps what the bot sent (replies, card updates,
proactive messages) per conversation, in order, for the chats to show.

In local mode the bot's own web app serves these routes (see ``btassist.webchat``), so the
``serviceUrl`` stored in a person's conversation reference stays reachable for proactive
messages. The botbuilder calls involved are all asynchronous (msrest runs ``requests`` in an
executor), so serving them from the bot's own event loop cannot deadlock. State is guarded by a
re-entrant lock all the same: the tests' server runs this class in a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Final, Literal

from aiohttp import web

__all__ = ["Delivery", "JsonDict", "LocalConnector", "Operation"]

Operation = Literal["send", "reply", "create", "update", "delete"]
"""How an activity reached the connector: POST (send), POST to an activity id (reply), the
initial activity of a created conversation (create), PUT (update) or DELETE (delete)."""

JsonDict = dict[str, Any]

DEFAULT_PAGE_SIZE: Final = 200
"""Page size for ``pagedmembers`` when the client sends no ``pageSize``."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An activity the bot sent, updated or deleted, as it arrived."""

    seq: int
    """Arrival order over the whole connector, starting at 1."""
    operation: Operation
    conversation_id: str
    activity_id: str | None
    """Id the connector assigned (send/reply/create) or the targeted id (update/delete)."""
    reply_to_id: str | None
    """The URL's activity id for replies, else the body's ``replyToId`` if any."""
    activity: JsonDict
    """Activity JSON as received (``{}`` for deletes)."""
    timestamp: datetime

    @property
    def text(self) -> str | None:
        """The activity's ``text``, the field most readers look at."""
        value = self.activity.get("text")
        return value if isinstance(value, str) else None

    @property
    def is_new(self) -> bool:
        """A new message in the conversation (not an update or delete of an earlier one)."""
        return self.operation in ("send", "reply", "create")

    def as_sent(self) -> JsonDict:
        """The activity JSON with the id the connector gave it, as a Teams client shows it."""
        return {**self.activity, "id": self.activity_id}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Bot Framework ``ErrorResponse`` body, which msrest deserialises into ``.error``."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def error_code(status: int) -> str:
    """CamelCase reason phrase ("TooManyRequests") as a plausible ErrorResponse code."""
    try:
        return "".join(HTTPStatus(status).phrase.split())
    except ValueError:
        return f"Http{status}"


class LocalConnector:
    """The Bot Connector REST service in memory; put :attr:`url` in activities' ``serviceUrl``.

    Routes (under ``path_prefix``): ``POST v3/conversations``,
    ``POST v3/conversations/{id}/activities``, ``POST|PUT|DELETE
    v3/conversations/{id}/activities/{activityId}``, ``GET v3/conversations/{id}/members``,
    ``GET v3/conversations/{id}/members/{memberId}`` and ``GET v3/conversations/{id}/pagedmembers``.
    """

    def __init__(self, *, path_prefix: str = "") -> None:
        """``path_prefix``: serve under e.g. ``/amer`` like real Teams service URLs do."""
        stripped = path_prefix.strip("/")
        self.prefix = f"/{stripped}" if stripped else ""
        self.base_url: str | None = None
        """Scheme, host and port the routes are reachable at; set by whoever serves them."""
        self._lock = threading.RLock()
        # Waiters from any event loop, woken thread-safely on every change.
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._init_state()

    def _init_state(self) -> None:
        """(Re)create every recording and id counter; caller holds the lock."""
        self._seq = itertools.count(1)
        self._activity_ids = itertools.count(1)
        self._conversation_ids = itertools.count(1)
        self._deliveries: list[Delivery] = []
        self._members: dict[str | None, dict[str, JsonDict]] = {}
        self._personal_conversations: dict[str, str] = {}

    @property
    def url(self) -> str:
        """The service URL with trailing slash, e.g. ``http://127.0.0.1:3978/``."""
        if self.base_url is None:
            raise RuntimeError("the local connector is not being served yet")
        return f"{self.base_url.rstrip('/')}{self.prefix}/"

    def routes(self) -> list[web.RouteDef]:
        """The connector's routes, to add to whichever app serves them."""
        conversations = f"{self.prefix}/v3/conversations"
        conversation = conversations + "/{conversationId}"
        activity = conversation + "/activities/{activityId}"
        return [
            web.post(conversations, self._create_conversation),
            web.post(conversation + "/activities", self._send_to_conversation),
            web.post(activity, self._reply_to_activity),
            web.put(activity, self._update_activity),
            web.delete(activity, self._delete_activity),
            web.get(conversation + "/members", self._get_members, allow_head=False),
            web.get(conversation + "/members/{memberId}", self._get_member, allow_head=False),
            web.get(conversation + "/pagedmembers", self._get_paged_members, allow_head=False),
        ]

    # ------------------------------------------------------------------ reading

    def deliveries(self, conversation_id: str | None = None, *, after: int = 0) -> list[Delivery]:
        """What the bot sent, updated and deleted (one conversation or all), after seq `after`."""
        with self._lock:
            return [
                d
                for d in self._deliveries
                if d.seq > after and conversation_id in (None, d.conversation_id)
            ]

    def sent_to(self, conversation_id: str) -> list[JsonDict]:
        """The new activities of one conversation in arrival order, each with its id."""
        return [d.as_sent() for d in self.deliveries(conversation_id) if d.is_new]

    @property
    def last_seq(self) -> int:
        """The seq of the latest delivery (0 before the first): a mark to read `after`."""
        with self._lock:
            return self._deliveries[-1].seq if self._deliveries else 0

    # The explicit ``timeout`` argument is the point of this helper, hence ASYNC109 is
    # silenced; RUF100 too, because ruff's default rule set does not enable ASYNC109.
    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109, RUF100
        description: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checked after every change; else TimeoutError."""
        if not await self.wait(predicate, timeout):
            raise TimeoutError(self._describe_timeout(description, timeout))

    async def wait(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Whether ``predicate()`` held within ``seconds``; woken by every change, any thread."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            event = asyncio.Event()
            waiter = (loop, event)
            with self._lock:
                if predicate():
                    return True
                self._waiters.append(waiter)
            try:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(event.wait(), remaining)
                except TimeoutError:
                    with self._lock:
                        return predicate()
            finally:
                with self._lock:
                    self._waiters.remove(waiter)

    def _describe_timeout(self, description: str, timeout: float) -> str:
        return f"{description} not met within {timeout}s"

    def notify(self) -> None:
        """Wake every waiter in its own loop (callable from any thread)."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the waiter's loop has closed
                loop.call_soon_threadsafe(event.set)

    # ------------------------------------------------------------------ configuration

    def add_member(
        self,
        conversation_id: str | None,
        *,
        id: str,
        name: str,
        aad_object_id: str,
        email: str,
        upn: str | None = None,
        tenant_id: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        user_role: str = "user",
    ) -> JsonDict:
        """Register a member (``None`` = known in every conversation); returns its JSON.

        Lookups match ``id`` or ``aad_object_id``, as Teams accepts either as memberId.
        ``None`` fields are omitted from the JSON rather than sent as null.
        """
        member: JsonDict = {
            "id": id,
            "name": name,
            "aadObjectId": aad_object_id,
            "email": email,
            "userPrincipalName": upn,
            "tenantId": tenant_id,
            "givenName": given_name,
            "surname": surname,
            "userRole": user_role,
        }
        member = {key: value for key, value in member.items() if value is not None}
        with self._lock:
            self._members.setdefault(conversation_id, {})[id] = member
        return dict(member)

    def reset(self) -> None:
        """Forget deliveries and members; ids restart at 1."""
        with self._lock:
            self._init_state()

    # ------------------------------------------------------------------ recording

    def _deliver(
        self,
        request: web.Request,
        operation: Operation,
        conversation_id: str,
        activity_id: str | None,
        reply_to_id: str | None,
        activity: JsonDict,
    ) -> Delivery:
        """Keep what arrived and wake the waiters."""
        with self._lock:
            delivery = Delivery(
                seq=next(self._seq),
                operation=operation,
                conversation_id=conversation_id,
                activity_id=activity_id,
                reply_to_id=reply_to_id,
                activity=activity,
                timestamp=datetime.now(UTC),
            )
            self._deliveries.append(delivery)
        self._recorded(request, delivery)
        self.notify()
        return delivery

    def _recorded(self, request: web.Request, delivery: Delivery) -> None:
        """Called for every delivery with its request: where tests keep the request details."""

    def _new_activity_id(self) -> str:
        with self._lock:
            return f"activity-{next(self._activity_ids)}"

    # ------------------------------------------------------------------ routes

    @staticmethod
    async def _json_object(request: web.Request) -> JsonDict | None:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def _send_to_conversation(self, request: web.Request) -> web.StreamResponse:
        """POST v3/conversations/{conversationId}/activities -> 201 ResourceResponse."""
        activity = await self._json_object(request)
        if activity is None:
            return error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = self._new_activity_id()
        reply_to = activity.get("replyToId")
        self._deliver(
            request,
            "send",
            request.match_info["conversationId"],
            activity_id,
            reply_to if isinstance(reply_to, str) else None,
            activity,
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _reply_to_activity(self, request: web.Request) -> web.StreamResponse:
        """POST v3/conversations/{conversationId}/activities/{activityId} -> 201."""
        activity = await self._json_object(request)
        if activity is None:
            return error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = self._new_activity_id()
        self._deliver(
            request,
            "reply",
            request.match_info["conversationId"],
            activity_id,
            request.match_info["activityId"],
            activity,
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _update_activity(self, request: web.Request) -> web.StreamResponse:
        """PUT v3/conversations/{conversationId}/activities/{activityId} -> 200."""
        activity = await self._json_object(request)
        if activity is None:
            return error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = request.match_info["activityId"]
        self._deliver(
            request, "update", request.match_info["conversationId"], activity_id, None, activity
        )
        return web.json_response({"id": activity_id})

    async def _delete_activity(self, request: web.Request) -> web.StreamResponse:
        """DELETE v3/conversations/{conversationId}/activities/{activityId} -> 200."""
        conversation_id = request.match_info["conversationId"]
        self._deliver(
            request, "delete", conversation_id, request.match_info["activityId"], None, {}
        )
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request) -> web.StreamResponse:
        """POST v3/conversations -> 201 ConversationResourceResponse.

        Mimics Teams ids: a stable ``a:...`` id per 1:1 member (creating the same 1:1
        twice returns the same conversation), ``<channel>;messageid=<id>`` for a new
        channel thread, ``19:...@thread.v2`` otherwise.
        """
        parameters = await self._json_object(request)
        if parameters is None:
            return error_response(400, "BadArgument", "Parameters must be a JSON object")
        activity = parameters.get("activity")
        activity_id = self._new_activity_id() if isinstance(activity, dict) else None
        conversation_id = self._conversation_id_for(parameters, activity_id)
        if isinstance(activity, dict):
            self._deliver(request, "create", conversation_id, activity_id, None, activity)
        answer: JsonDict = {"id": conversation_id, "serviceUrl": self.url}
        if activity_id is not None:
            answer["activityId"] = activity_id
        return web.json_response(answer, status=201)

    def _conversation_id_for(self, parameters: JsonDict, activity_id: str | None) -> str:
        channel_data = parameters.get("channelData")
        channel = channel_data.get("channel") if isinstance(channel_data, dict) else None
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        members = parameters.get("members")
        with self._lock:
            if isinstance(channel_id, str):
                return f"{channel_id};messageid={activity_id or self._new_activity_id()}"
            if (
                not parameters.get("isGroup")
                and isinstance(members, list)
                and len(members) == 1
                and isinstance(members[0], dict)
            ):
                raw_id = str(members[0].get("id"))
                known = self._find_member(None, raw_id)
                key = known["id"] if known is not None else raw_id
                if key not in self._personal_conversations:
                    number = next(self._conversation_ids)
                    self._personal_conversations[key] = f"a:personal-{number}"
                return self._personal_conversations[key]
            return f"19:group-{next(self._conversation_ids)}@thread.v2"

    def _find_member(self, conversation_id: str | None, member_id: str) -> JsonDict | None:
        """Conversation-scoped members win over global ones; id or AAD object id match."""
        with self._lock:
            scopes = [conversation_id, None] if conversation_id is not None else [None]
            for scope in scopes:
                for member in self._members.get(scope, {}).values():
                    if member_id in (member["id"], member.get("aadObjectId")):
                        return member
        return None

    def _members_of(self, conversation_id: str) -> list[JsonDict]:
        with self._lock:
            scoped = list(self._members.get(conversation_id, {}).values())
            ids = {member["id"] for member in scoped}
            everywhere = [m for m in self._members.get(None, {}).values() if m["id"] not in ids]
        return scoped + everywhere

    async def _get_member(self, request: web.Request) -> web.StreamResponse:
        """GET v3/conversations/{conversationId}/members/{memberId} -> ChannelAccount."""
        conversation_id = request.match_info["conversationId"]
        member_id = request.match_info["memberId"]
        member = self._find_member(conversation_id, member_id)
        if member is None:
            return error_response(
                404,
                "MemberNotFoundInConversation",
                f"The specified member {member_id!r} was not found in conversation "
                f"{conversation_id!r}",
            )
        return web.json_response(member)

    async def _get_members(self, request: web.Request) -> web.StreamResponse:
        """GET v3/conversations/{conversationId}/members -> [ChannelAccount]."""
        return web.json_response(self._members_of(request.match_info["conversationId"]))

    async def _get_paged_members(self, request: web.Request) -> web.StreamResponse:
        """GET v3/conversations/{id}/pagedmembers?pageSize&continuationToken -> page."""
        try:
            page_size = int(request.query.get("pageSize", DEFAULT_PAGE_SIZE))
            offset = int(request.query.get("continuationToken", "0"))
        except ValueError:
            return error_response(400, "BadArgument", "Invalid pageSize or continuationToken")
        if page_size < 1 or offset < 0:
            return error_response(400, "BadArgument", "Invalid pageSize or continuationToken")
        members = self._members_of(request.match_info["conversationId"])
        page: JsonDict = {"members": members[offset : offset + page_size]}
        if offset + page_size < len(members):
            page["continuationToken"] = str(offset + page_size)
        return web.json_response(page)
