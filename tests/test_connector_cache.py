"""Bot Connector clients: msrest's own retries are off, so a failed call is one request whose
status the proactive sender sees (it does the retrying, with Retry-After and jitter)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from btassist.bot.connector_cache import without_msrest_retries
from tests.support.connector import FakeConnector

Call = Callable[[ConnectorClient], Awaitable[Any]]


async def send(client: ConnectorClient) -> Any:
    """A POST, which urllib3 would not retry on its own."""
    return await client.conversations.send_to_conversation(
        "a:1", Activity(type="message", text="hej")
    )


async def look_up(client: ConnectorClient) -> Any:
    """A GET, which msrest's default policy retries on 429 and 5xx."""
    return await client.conversations.get_conversation_member("a:1", "29:amir")


def attempts(connector: FakeConnector, path: str) -> int:
    return sum(path in attempt.path for attempt in connector.attempts)


@pytest.mark.parametrize(
    ("call", "path"),
    [pytest.param(send, "/activities", id="POST"), pytest.param(look_up, "/members", id="GET")],
)
@pytest.mark.parametrize("status", [503, 429])
async def test_a_failed_call_is_one_request_with_its_status(
    connector: FakeConnector, call: Call, path: str, status: int
) -> None:
    client = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=connector.url)
    connector.add_member(None, id="29:amir", name="Amir", aad_object_id="a1", email="a@x.se")
    await look_up(client)  # msrest has made its HTTP session before the change
    without_msrest_retries(client)
    connector.fail_next(status, count=4, path_contains=path, retry_after=3)
    before = attempts(connector, path)
    began = time.monotonic()
    with pytest.raises(ErrorResponseException) as raised:
        await call(client)
    message = "msrest retried or hid the status: without_msrest_retries needs another hook"
    assert raised.value.response.status_code == status, message
    assert attempts(connector, path) == before + 1, message
    assert time.monotonic() - began < 5, message  # no backoff, no Retry-After wait
