"""A local stand-in for the Bot Connector service, on loopback, for `btassist chat` and tests.

Why: the bot reaches Teams through botframework-connector's msrest clients. Pointing an
activity's ``serviceUrl`` at this server exercises the SDK's real URL building, JSON
(de)serialisation, auth headers and HTTP error handling instead of mocking the client away.

Why a background thread: the server runs its own event loop in a daemon thread. The async
``ConnectorClient`` would be fine either way (msrest runs ``requests`` in an executor), but
the SDK's *synchronous* ``TeamsConnectorClient`` (``TeamsInfo.get_team_details`` and
friends) blocks the calling event loop while it waits, and would deadlock against a server
sharing that loop. All shared state is guarded by one re-entrant lock.

Usage::

    async with FakeConnector(expected_token="test-token") as connector:
        activity.service_url = connector.url
        ...  # drive the bot
        [reply] = await connector.wait_for(activity.conversation.id)
        assert reply["text"] == "Hej!"
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Literal, Self

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "FakeConnector",
    "Operation",
    "RecordedActivity",
    "RecordedAttempt",
    "RecordedConversation",
]

Operation = Literal["send", "reply", "create", "update", "delete"]
"""How an activity reached the fake: POST (send), POST to an activity id (reply), the
initial activity of a created conversation (create), PUT (update) or DELETE (delete)."""

JsonDict = dict[str, Any]

DEFAULT_PAGE_SIZE: Final = 200
"""Page size for ``pagedmembers`` when the client sends no ``pageSize``."""

_SHUTDOWN_TIMEOUT: Final = 5.0
_INVALID_JSON: Final = object()


@dataclass(frozen=True, slots=True)
class RecordedAttempt:
    """One HTTP request exactly as the fake answered it, failures included.

    Why: lets tests assert retries, auth headers and injected faults, which never show
    up in :attr:`FakeConnector.sent`.
    """

    seq: int
    method: str
    path: str
    query: Mapping[str, str]
    headers: CIMultiDictProxy[str]
    body: Any
    status: int
    injected: bool
    """True when the status came from :meth:`FakeConnector.fail_next`."""
    delay: float
    """Seconds the response was held back by :meth:`FakeConnector.delay_next`."""
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class RecordedActivity:
    """An activity the bot successfully sent, updated or deleted.

    Why: tests assert on the JSON the SDK actually put on the wire, plus the request
    details (path, headers) that prove how it got there.
    """

    seq: int
    """Same number as the matching :class:`RecordedAttempt`."""
    operation: Operation
    method: str
    path: str
    headers: CIMultiDictProxy[str]
    conversation_id: str
    activity_id: str | None
    """Id the fake assigned (send/reply/create) or the targeted id (update/delete)."""
    reply_to_id: str | None
    """The URL's activity id for replies, else the body's ``replyToId`` if any."""
    activity: JsonDict
    """Activity JSON as received (``{}`` for deletes)."""
    timestamp: datetime

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header the bot sent, if any."""
        return self.headers.get("Authorization")

    @property
    def text(self) -> str | None:
        """The activity's ``text``, the field most assertions look at."""
        value = self.activity.get("text")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class RecordedConversation:
    """A ``POST /v3/conversations`` the fake accepted (proactive 1:1 or channel post)."""

    seq: int
    conversation_id: str
    activity_id: str | None
    parameters: JsonDict
    """The ConversationParameters JSON as received."""
    headers: CIMultiDictProxy[str]
    timestamp: datetime


@dataclass(slots=True)
class _Fault:
    """A queued failure; mutable because ``remaining`` counts down."""

    status: int
    remaining: int
    retry_after: int | None
    path_contains: str | None
    code: str
    message: str

    def matches(self, path: str) -> bool:
        return self.path_contains is None or self.path_contains in path


@dataclass(slots=True)
class _Delay:
    """A queued response delay; mutable because ``remaining`` counts down."""

    seconds: float
    remaining: int
    path_contains: str | None

    def matches(self, path: str) -> bool:
        return self.path_contains is None or self.path_contains in path


def _now() -> datetime:
    return datetime.now(UTC)


def _error_code(status: int) -> str:
    """CamelCase reason phrase ("TooManyRequests") as a plausible ErrorResponse code."""
    try:
        return "".join(HTTPStatus(status).phrase.split())
    except ValueError:
        return f"Http{status}"


def _error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Bot Framework ``ErrorResponse`` body, which msrest deserialises into ``.error``."""
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def _copy_headers(request: web.BaseRequest) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(request.headers))


class FakeConnector:
    """Fake Bot Connector REST service; put :attr:`url` in activities' ``serviceUrl``.

    Routes (relative to :attr:`url`): ``POST v3/conversations``,
    ``POST v3/conversations/{id}/activities``, ``POST|PUT|DELETE
    v3/conversations/{id}/activities/{activityId}``, ``GET v3/conversations/{id}/members``,
    ``GET v3/conversations/{id}/members/{memberId}`` and
    ``GET v3/conversations/{id}/pagedmembers``. Anything else gets a 404 ErrorResponse
    and shows up in :attr:`attempts`.
    """

    def __init__(
        self,
        *,
        expected_token: str | None = None,
        path_prefix: str = "",
        host: str = "127.0.0.1",
    ) -> None:
        """``expected_token``: demand ``Authorization: Bearer <token>`` (else 401).

        ``path_prefix``: serve under e.g. ``/amer`` like real Teams service URLs do.
        """
        self._expected_token = expected_token
        stripped = path_prefix.strip("/")
        self._prefix = f"/{stripped}" if stripped else ""
        self._host = host
        self._lock = threading.RLock()
        # Server plumbing (owned by the background thread while running).
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed: concurrent.futures.Future[None] | None = None
        self._serving: concurrent.futures.Future[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None
        # Waiters from any event loop, woken thread-safely on every recorded request.
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        # (seq, parsed body) per in-flight request, keyed by id(request). Not request
        # storage: str keys warn on aiohttp 3.13+ and web.RequestKey is missing before it.
        self._inflight: dict[int, tuple[int, Any]] = {}
        self._init_state()

    def _init_state(self) -> None:
        """(Re)create every recording, queue and id counter; caller holds the lock."""
        self._seq = itertools.count(1)
        self._activity_ids = itertools.count(1)
        self._conversation_ids = itertools.count(1)
        self._sent: list[RecordedActivity] = []
        self._updated: list[RecordedActivity] = []
        self._deleted: list[RecordedActivity] = []
        self._created: list[RecordedConversation] = []
        self._attempts: list[RecordedAttempt] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._members: dict[str | None, dict[str, JsonDict]] = {}
        self._personal_conversations: dict[str, str] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind ``host:0`` and serve from a background thread; returns once accepting."""
        if self._thread is not None:
            raise RuntimeError("FakeConnector is already running")
        loop = asyncio.new_event_loop()
        closed: concurrent.futures.Future[None] = concurrent.futures.Future()
        ready: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._loop, self._closed = loop, closed
        self._thread = threading.Thread(
            target=self._run_loop, args=(loop, closed), name="FakeConnector", daemon=True
        )
        self._thread.start()
        # run_coroutine_threadsafe captures any server failure in a future for us.
        self._serving = asyncio.run_coroutine_threadsafe(self._serve(ready), loop)
        started, serving = asyncio.wrap_future(ready), asyncio.wrap_future(self._serving)
        either: set[asyncio.Future[Any]] = {started, serving}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            self._port = started.result()
            return
        started.cancel()
        await self._teardown()
        serving.result()  # re-raise the startup error (bind failure, ...)

    async def stop(self) -> None:
        """Close the listener and join the thread; recordings stay readable afterwards."""
        if self._loop is None or self._serving is None:
            return
        self._port = None
        serving = self._serving
        try:
            self._loop.call_soon_threadsafe(self._request_stop)
            await asyncio.wrap_future(serving)  # raises if the server failed
        finally:
            await self._teardown()

    async def _teardown(self) -> None:
        """Stop the server loop, wait for the thread to close it, forget the plumbing."""
        thread, loop, closed = self._thread, self._loop, self._closed
        if thread is None or loop is None or closed is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.wrap_future(closed)
        thread.join()
        self._thread = self._loop = self._closed = self._serving = None
        self._stopping = None
        self._port = None

    def _request_stop(self) -> None:
        """Runs in the server loop: end ``_serve`` and any pending delays."""
        if self._stopping is not None:
            self._stopping.set()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL with trailing slash, e.g. ``http://127.0.0.1:54321/``."""
        if self._port is None:
            raise RuntimeError("FakeConnector is not running; await start() first")
        return f"http://{self._host}:{self._port}{self._prefix}/"

    @property
    def port(self) -> int:
        """The ephemeral port the server bound."""
        if self._port is None:
            raise RuntimeError("FakeConnector is not running; await start() first")
        return self._port

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop, closed: concurrent.futures.Future[None]) -> None:
        """Thread body: run the server loop until stop(), then close it."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            closed.set_result(None)

    async def _serve(self, ready: concurrent.futures.Future[int]) -> None:
        """Runs in the server loop for the server's whole life."""
        self._stopping = asyncio.Event()
        runner = web.AppRunner(
            self._build_app(), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, 0)
            await site.start()
            ready.set_result(int(runner.addresses[0][1]))
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        conversations = f"{self._prefix}/v3/conversations"
        conversation = conversations + "/{conversationId}"
        activity = conversation + "/activities/{activityId}"
        router = app.router
        router.add_post(conversations, self._create_conversation)
        router.add_post(conversation + "/activities", self._send_to_conversation)
        router.add_post(activity, self._reply_to_activity)
        router.add_put(activity, self._update_activity)
        router.add_delete(activity, self._delete_activity)
        router.add_get(conversation + "/members", self._get_members, allow_head=False)
        router.add_get(conversation + "/members/{memberId}", self._get_member, allow_head=False)
        router.add_get(conversation + "/pagedmembers", self._get_paged_members, allow_head=False)
        router.add_route("*", "/{tail:.*}", self._unknown_route)
        return app

    # ------------------------------------------------------------------ recordings

    @property
    def sent(self) -> list[RecordedActivity]:
        """New activities (send, reply, create) in arrival order; a snapshot copy."""
        with self._lock:
            return list(self._sent)

    @property
    def updated(self) -> list[RecordedActivity]:
        """Successful PUTs (activity updates) in arrival order."""
        with self._lock:
            return list(self._updated)

    @property
    def deleted(self) -> list[RecordedActivity]:
        """Successful DELETEs of activities in arrival order."""
        with self._lock:
            return list(self._deleted)

    @property
    def created_conversations(self) -> list[RecordedConversation]:
        """Successful ``POST /v3/conversations`` calls in arrival order."""
        with self._lock:
            return list(self._created)

    @property
    def attempts(self) -> list[RecordedAttempt]:
        """Every request with the status it got (failed, injected, unknown routes too)."""
        with self._lock:
            return list(self._attempts)

    @property
    def pending_faults(self) -> int:
        """Injected failures not yet consumed; assert 0 to prove the bot hit them all."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def sent_to(self, conversation_id: str) -> list[JsonDict]:
        """Activity JSON of :attr:`sent` for one conversation, in arrival order, each with the
        id the connector gave it (as Teams shows it, and puts in a card click's replyToId)."""
        with self._lock:
            return [
                {**r.activity, "id": r.activity_id}
                for r in self._sent
                if r.conversation_id == conversation_id
            ]

    # The explicit ``timeout`` argument is the point of these helpers, hence ASYNC109 is
    # silenced; RUF100 too, because ruff's default rule set does not enable ASYNC109.
    async def wait_for(
        self,
        conversation_id: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109, RUF100
    ) -> list[JsonDict]:
        """Wait until ``count`` activities were sent to the conversation; return them all.

        Why: the bot answers from background tasks, so tests need an event-driven wait.
        Returns as soon as the fake has recorded them, which can be just before the bot
        has processed the HTTP response. Raises ``TimeoutError`` describing what arrived.
        """
        if await self._wait(lambda: len(self.sent_to(conversation_id)) >= count, timeout):
            return self.sent_to(conversation_id)
        raise TimeoutError(self._describe_shortfall(conversation_id, count, timeout))

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109, RUF100
        description: str = "condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checked after every request the fake serves.

        Why: covers what :meth:`wait_for` does not (updates, deletes, attempts, retries).
        """
        if not await self._wait(predicate, timeout):
            with self._lock:
                attempts = "\n".join(self._format_attempt(a) for a in self._attempts)
            raise TimeoutError(
                f"FakeConnector.wait_until: {description} not met within {timeout}s. "
                f"Requests so far:\n{attempts or '  (none)'}"
            )

    async def _wait(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Event-driven wait; the server thread sets our event after each request."""
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

    def _notify(self) -> None:
        """Wake every waiter in its own loop; called from the server thread."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # the waiter's loop has closed
                loop.call_soon_threadsafe(event.set)

    def _describe_shortfall(self, conversation_id: str, count: int, timeout: float) -> str:
        with self._lock:
            mine = [r for r in self._sent if r.conversation_id == conversation_id]
            others: dict[str, int] = {}
            for record in self._sent:
                if record.conversation_id != conversation_id:
                    others[record.conversation_id] = others.get(record.conversation_id, 0) + 1
            failed = [a for a in self._attempts if a.status >= 400]
        lines = [
            f"FakeConnector.wait_for: expected at least {count} activities for conversation "
            f"{conversation_id!r} within {timeout}s, but {len(mine)} arrived"
            + (":" if mine else ".")
        ]
        lines += [
            f"  #{r.seq} {r.operation} id={r.activity_id} type={r.activity.get('type')!r} "
            f"text={r.activity.get('text')!r}"
            for r in mine
        ]
        if others:
            lines.append(
                "Other conversations: " + ", ".join(f"{conv!r} ({n})" for conv, n in others.items())
            )
        if failed:
            lines.append("Requests answered with an error:")
            lines += [self._format_attempt(a) for a in failed]
        return "\n".join(lines)

    @staticmethod
    def _format_attempt(attempt: RecordedAttempt) -> str:
        flag = " (injected)" if attempt.injected else ""
        return f"  #{attempt.seq} {attempt.method} {attempt.path} -> {attempt.status}{flag}"

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

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: int | None = None,
        path_contains: str | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and an ErrorResponse.

        Faults queue FIFO: each request consumes the oldest fault whose ``path_contains``
        (a substring of the decoded path) matches. Failed requests are not delivered,
        only listed in :attr:`attempts`. ``retry_after`` (whole seconds, as the header
        grammar and urllib3 require) adds a ``Retry-After`` header.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs an error status (400-599), got {status}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {retry_after}")
        fault = _Fault(
            status=status,
            remaining=count,
            retry_after=retry_after,
            path_contains=path_contains,
            code=code or _error_code(status),
            message=message or f"Injected failure {status} from FakeConnector.fail_next",
        )
        with self._lock:
            self._faults.append(fault)

    def delay_next(
        self, seconds: float, *, count: int = 1, path_contains: str | None = None
    ) -> None:
        """Hold back the next ``count`` matching responses by ``seconds`` (FIFO).

        Why: client-timeout tests. The request is still processed after the delay, so a
        send the client gave up on is recorded as delivered, as with the real service.
        """
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        with self._lock:
            self._delays.append(_Delay(seconds, count, path_contains))

    def reset(self) -> None:
        """Forget recordings, members, faults and delays; ids restart at 1."""
        with self._lock:
            self._init_state()

    # ------------------------------------------------------------------ request pipeline

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Common path for every request: delay, auth, faults, route, then record."""
        raw = await request.read()
        body: Any
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = _INVALID_JSON
        with self._lock:
            self._inflight[id(request)] = (next(self._seq), body)
        try:
            return await self._handle(request, handler, body)
        finally:
            with self._lock:
                del self._inflight[id(request)]

    async def _handle(
        self, request: web.Request, handler: Handler, body: Any
    ) -> web.StreamResponse:
        delay = self._take_delay(request.path)
        if delay:
            await self._pause(delay)
        injected = False
        response: web.StreamResponse
        if body is _INVALID_JSON:
            response = _error_response(400, "BadSyntax", "Request body is not valid JSON")
        elif not self._authorised(request):
            response = _error_response(
                401, "Unauthorized", "Authorization has been denied for this request."
            )
        elif (fault := self._take_fault(request.path)) is not None:
            injected = True
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            response = _error_response(fault.status, fault.code, fault.message, headers)
        else:
            try:
                response = await handler(request)
            except Exception:
                # Record the 500 aiohttp is about to send, so a bug in the fake is visible.
                self._record_attempt(request, body, 500, injected=False, delay=delay)
                raise
        self._record_attempt(request, body, response.status, injected=injected, delay=delay)
        return response

    def _record_attempt(
        self, request: web.Request, body: Any, status: int, *, injected: bool, delay: float
    ) -> None:
        attempt = RecordedAttempt(
            seq=self._seq_of(request),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=_copy_headers(request),
            body=None if body is _INVALID_JSON else body,
            status=status,
            injected=injected,
            delay=delay,
            timestamp=_now(),
        )
        with self._lock:
            self._attempts.append(attempt)
        self._notify()

    def _authorised(self, request: web.Request) -> bool:
        if self._expected_token is None:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token == self._expected_token

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        del self._faults[index]
                    return fault
        return None

    def _take_delay(self, path: str) -> float:
        with self._lock:
            for index, delay in enumerate(self._delays):
                if delay.matches(path):
                    delay.remaining -= 1
                    if delay.remaining == 0:
                        del self._delays[index]
                    return delay.seconds
        return 0.0

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake early when stop() is called so shutdown never hangs."""
        stopping = self._stopping
        assert stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)

    def _record(
        self,
        target: list[RecordedActivity],
        request: web.Request,
        operation: Operation,
        conversation_id: str,
        activity_id: str | None,
        reply_to_id: str | None,
        activity: JsonDict,
    ) -> None:
        record = RecordedActivity(
            seq=self._seq_of(request),
            operation=operation,
            method=request.method,
            path=request.path,
            headers=_copy_headers(request),
            conversation_id=conversation_id,
            activity_id=activity_id,
            reply_to_id=reply_to_id,
            activity=activity,
            timestamp=_now(),
        )
        with self._lock:
            target.append(record)

    def _new_activity_id(self) -> str:
        with self._lock:
            return f"activity-{next(self._activity_ids)}"

    def _seq_of(self, request: web.Request) -> int:
        with self._lock:
            return self._inflight[id(request)][0]

    def _json_object(self, request: web.Request) -> JsonDict | None:
        with self._lock:
            body = self._inflight[id(request)][1]
        return body if isinstance(body, dict) else None

    # ------------------------------------------------------------------ routes

    async def _send_to_conversation(self, request: web.Request) -> web.StreamResponse:
        """POST v3/conversations/{conversationId}/activities -> 201 ResourceResponse."""
        activity = self._json_object(request)
        if activity is None:
            return _error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = self._new_activity_id()
        reply_to = activity.get("replyToId")
        self._record(
            self._sent,
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
        activity = self._json_object(request)
        if activity is None:
            return _error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = self._new_activity_id()
        self._record(
            self._sent,
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
        activity = self._json_object(request)
        if activity is None:
            return _error_response(400, "BadArgument", "Activity must be a JSON object")
        activity_id = request.match_info["activityId"]
        self._record(
            self._updated,
            request,
            "update",
            request.match_info["conversationId"],
            activity_id,
            None,
            activity,
        )
        return web.json_response({"id": activity_id})

    async def _delete_activity(self, request: web.Request) -> web.StreamResponse:
        """DELETE v3/conversations/{conversationId}/activities/{activityId} -> 200."""
        self._record(
            self._deleted,
            request,
            "delete",
            request.match_info["conversationId"],
            request.match_info["activityId"],
            None,
            {},
        )
        return web.Response(status=200)

    async def _create_conversation(self, request: web.Request) -> web.StreamResponse:
        """POST v3/conversations -> 201 ConversationResourceResponse.

        Mimics Teams ids: a stable ``a:...`` id per 1:1 member (creating the same 1:1
        twice returns the same conversation), ``<channel>;messageid=<id>`` for a new
        channel thread, ``19:...@thread.v2`` otherwise.
        """
        parameters = self._json_object(request)
        if parameters is None:
            return _error_response(400, "BadArgument", "Parameters must be a JSON object")
        activity = parameters.get("activity")
        activity_id = self._new_activity_id() if isinstance(activity, dict) else None
        conversation_id = self._conversation_id_for(parameters, activity_id)
        with self._lock:
            self._created.append(
                RecordedConversation(
                    seq=self._seq_of(request),
                    conversation_id=conversation_id,
                    activity_id=activity_id,
                    parameters=parameters,
                    headers=_copy_headers(request),
                    timestamp=_now(),
                )
            )
        if isinstance(activity, dict):
            self._record(
                self._sent, request, "create", conversation_id, activity_id, None, activity
            )
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
            return _error_response(
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
            return _error_response(400, "BadArgument", "Invalid pageSize or continuationToken")
        if page_size < 1 or offset < 0:
            return _error_response(400, "BadArgument", "Invalid pageSize or continuationToken")
        members = self._members_of(request.match_info["conversationId"])
        page: JsonDict = {"members": members[offset : offset + page_size]}
        if offset + page_size < len(members):
            page["continuationToken"] = str(offset + page_size)
        return web.json_response(page)

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        """Anything unimplemented: a loud 404 so a test sees which call the bot made."""
        return _error_response(
            404, "NotFound", f"FakeConnector has no route for {request.method} {request.path}"
        )
