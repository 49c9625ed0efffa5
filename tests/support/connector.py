"""The local Bot Connector as a server of its own on loopback, with what only tests need.

`FakeConnector` serves `btassist.localchat.connector.LocalConnector`'s routes from a background
thread and adds request recordings (headers, statuses), injected failures and delays, a
demanded bearer token and event-driven waits with readable timeouts.

Why a background thread: the server runs its own event loop in a daemon thread, so a test
that blocks its own loop (or the SDK's synchronous ``TeamsConnectorClient``) can never
deadlock against it. All shared state is guarded by the connector's re-entrant lock.

Usage::

    async with FakeConnector(expected_token="test-token") as connector:
        activity["serviceUrl"] = connector.url
        ...  # drive the bot
        [reply] = await connector.wait_for(activity["conversation"]["id"])
        assert reply["text"] == "Hej!"
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDict, CIMultiDictProxy

from btassist.localchat.connector import (
    Delivery,
    JsonDict,
    LocalConnector,
    Operation,
    error_code,
    error_response,
)

__all__ = ["FakeConnector", "RecordedActivity", "RecordedAttempt"]

_SHUTDOWN_TIMEOUT: Final = 5.0


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
class RecordedActivity(Delivery):
    """A delivery with the request details (method, path, headers) that prove how it got there."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header the bot sent, if any."""
        return self.headers.get("Authorization")


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


def _copy_headers(request: web.BaseRequest) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(request.headers))


class FakeConnector(LocalConnector):
    """The local connector on its own loopback port, recording every request.

    Anything outside the connector's routes gets a 404 ErrorResponse and shows up in
    :attr:`attempts`.
    """

    def __init__(
        self,
        *,
        expected_token: str | None = None,
        path_prefix: str = "",
        host: str = "127.0.0.1",
    ) -> None:
        """``expected_token``: demand ``Authorization: Bearer <token>`` (else 401)."""
        self._expected_token = expected_token
        self._host = host
        # Server plumbing (owned by the background thread while running).
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed: concurrent.futures.Future[None] | None = None
        self._serving: concurrent.futures.Future[None] | None = None
        self._stopping: asyncio.Event | None = None
        self._port: int | None = None
        super().__init__(path_prefix=path_prefix)

    def reset(self) -> None:
        """Forget recordings (after handing their cards to the session's Teams check)."""
        self._hand_over_cards()
        super().reset()

    def _hand_over_cards(self) -> None:
        from tests.support.cards import SENT_CARDS

        for record in [*self.sent, *self.updated]:
            SENT_CARDS.add_activity(record.activity)

    def _init_state(self) -> None:
        super()._init_state()
        self._attempt_seq = itertools.count(1)
        self._records: list[RecordedActivity] = []
        self._attempts: list[RecordedAttempt] = []
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []

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
            self.base_url = f"http://{self._host}:{self._port}"
            return
        started.cancel()
        await self._teardown()
        serving.result()  # re-raise the startup error (bind failure, ...)

    async def stop(self) -> None:
        """Close the listener and join the thread; recordings stay readable afterwards, and
        their cards go to the session's Teams check."""
        self._hand_over_cards()
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
        self.base_url = None

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
        app = web.Application(middlewares=[self._middleware])
        app.router.add_routes(self.routes())
        app.router.add_route("*", "/{tail:.*}", self._unknown_route)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, 0)
            await site.start()
            ready.set_result(int(runner.addresses[0][1]))
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    # ------------------------------------------------------------------ recordings

    def _records_of(self, *operations: Operation) -> list[RecordedActivity]:
        with self._lock:
            return [r for r in self._records if r.operation in operations]

    @property
    def sent(self) -> list[RecordedActivity]:
        """New activities (send, reply, create) in arrival order; a snapshot copy."""
        return self._records_of("send", "reply", "create")

    @property
    def updated(self) -> list[RecordedActivity]:
        """Successful PUTs (activity updates) in arrival order."""
        return self._records_of("update")

    @property
    def deleted(self) -> list[RecordedActivity]:
        """Successful DELETEs of activities in arrival order."""
        return self._records_of("delete")

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

    def _recorded(self, request: web.Request, delivery: Delivery) -> None:
        record = RecordedActivity(
            *(getattr(delivery, f.name) for f in fields(Delivery)),
            method=request.method,
            path=request.path,
            headers=_copy_headers(request),
        )
        with self._lock:
            self._records.append(record)

    # The explicit ``timeout`` argument is the point of this helper, hence ASYNC109 is
    # silenced; RUF100 too, because ruff's default rule set does not enable ASYNC109.
    async def wait_for(
        self,
        conversation_id: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109, RUF100
    ) -> list[JsonDict]:
        """Wait until ``count`` activities were sent to the conversation; return them all.

        Why: the bot answers from background tasks, so tests need an event-driven wait.
        Raises ``TimeoutError`` describing what arrived.
        """
        if await self.wait(lambda: len(self.sent_to(conversation_id)) >= count, timeout):
            return self.sent_to(conversation_id)
        raise TimeoutError(self._describe_shortfall(conversation_id, count, timeout))

    def _describe_timeout(self, description: str, timeout: float) -> str:
        with self._lock:
            attempts = "\n".join(self._format_attempt(a) for a in self._attempts)
        return (
            f"FakeConnector.wait_until: {description} not met within {timeout}s. "
            f"Requests so far:\n{attempts or '  (none)'}"
        )

    def _describe_shortfall(self, conversation_id: str, count: int, timeout: float) -> str:
        sent = self.sent
        mine = [r for r in sent if r.conversation_id == conversation_id]
        others: dict[str, int] = {}
        for record in sent:
            if record.conversation_id != conversation_id:
                others[record.conversation_id] = others.get(record.conversation_id, 0) + 1
        failed = [a for a in self.attempts if a.status >= 400]
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

    # ------------------------------------------------------------------ fault injection

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
            code=code or error_code(status),
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

    # ------------------------------------------------------------------ request pipeline

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Common path for every request: delay, auth, faults, route, then record."""
        raw = await request.read()  # aiohttp keeps it: the route reads it again
        body: Any
        invalid = False
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body, invalid = None, True
        delay = self._take_delay(request.path)
        if delay:
            await self._pause(delay)
        injected = False
        response: web.StreamResponse
        if invalid:
            response = error_response(400, "BadSyntax", "Request body is not valid JSON")
        elif not self._authorised(request):
            response = error_response(
                401, "Unauthorized", "Authorization has been denied for this request."
            )
        elif (fault := self._take_fault(request.path)) is not None:
            injected = True
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            response = error_response(fault.status, fault.code, fault.message, headers)
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
        with self._lock:
            attempt = RecordedAttempt(
                seq=next(self._attempt_seq),
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=_copy_headers(request),
                body=body,
                status=status,
                injected=injected,
                delay=delay,
                timestamp=datetime.now(UTC),
            )
            self._attempts.append(attempt)
        self.notify()

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

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        """Anything unimplemented: a loud 404 so a test sees which call the bot made."""
        return error_response(
            404, "NotFound", f"FakeConnector has no route for {request.method} {request.path}"
        )
