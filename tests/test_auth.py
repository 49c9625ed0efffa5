"""Bot Framework authentication on /api/messages: real JWT validation, failing closed."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.support.bot import AMIR, RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.openid import (
    OUTBOUND_TOKEN,
    OpenIdIssuer,
    StaticCredentialsFactory,
    channel_metadata_at,
    new_key,
)
from tests.support.snapshots import snapshot


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """What these tests check does not depend on the database: they run on SQLite only."""
    return sqlite_url


APP_ID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="module")
def issuer() -> Iterator[OpenIdIssuer]:
    served = OpenIdIssuer(new_key())
    yield served
    served.close()


@pytest.fixture
async def secured_connector() -> AsyncIterator[FakeConnector]:
    """A connector that only accepts the bot's outbound token."""
    async with FakeConnector(expected_token=OUTBOUND_TOKEN) as fake:
        yield fake


@pytest.fixture
async def secured_bot(
    db_url: str, secured_connector: FakeConnector, issuer: OpenIdIssuer
) -> AsyncIterator[RunningBot]:
    settings = local_settings(db_url, APP_ID=APP_ID, app_password="unused-secret")
    with channel_metadata_at(issuer.metadata_url):
        async with running_bot(
            settings, secured_connector, credentials_factory=StaticCredentialsFactory(APP_ID)
        ) as running:
            yield running


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_signed_by_the_channel_is_accepted_and_replies_are_authenticated(
    secured_bot: RunningBot, issuer: OpenIdIssuer, secured_connector: FakeConnector
) -> None:
    chat = secured_bot.chat
    activity = chat.activity(AMIR, text="hjälp")
    token = issuer.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    reply = await chat.post(activity, headers=_auth(token))
    assert reply.status in (200, 201)
    assert "Vad vill du göra?" in reply.text
    assert all(r.authorization == f"Bearer {OUTBOUND_TOKEN}" for r in secured_connector.sent)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda issuer, url: None, id="no token"),
        pytest.param(lambda issuer, url: "not-a-jwt", id="garbage"),
        pytest.param(
            lambda issuer, url: issuer.token(app_id=APP_ID, service_url=url, key=new_key()),
            id="forged signature",
        ),
        pytest.param(
            lambda issuer, url: issuer.token(app_id=APP_ID, service_url=url, lifetime=-3600),
            id="expired",
        ),
        pytest.param(
            lambda issuer, url: issuer.token(app_id="someone-else", service_url=url),
            id="wrong audience",
        ),
        pytest.param(
            lambda issuer, url: issuer.token(app_id=APP_ID, service_url="https://evil.example/"),
            id="other service url",
        ),
        pytest.param(
            lambda issuer, url: issuer.token(
                app_id=APP_ID, service_url=url, iss="https://evil.example"
            ),
            id="wrong issuer",
        ),
    ],
)
async def test_missing_or_bad_tokens_get_401_and_nothing_is_stored(
    secured_bot: RunningBot,
    issuer: OpenIdIssuer,
    secured_connector: FakeConnector,
    db_url: str,
    forge: Any,
) -> None:
    from btassist.app import DATABASE, RUNTIME

    database = secured_bot.app[DATABASE]
    await secured_bot.app[RUNTIME].worker.deliver_due()  # the demo's notices are settled first
    before = await snapshot(database)
    activity = secured_bot.chat.activity(AMIR, text="hjälp")
    token = forge(issuer, activity["serviceUrl"])
    reply = await secured_bot.chat.post(activity, headers=_auth(token) if token else {})
    assert reply.status == 401
    assert reply.body == {"error": "unauthorized"}
    assert secured_connector.sent == []
    assert await snapshot(database) == before


async def test_unreachable_signing_keys_fail_closed(
    db_url: str, secured_connector: FakeConnector, issuer: OpenIdIssuer
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}/.well-known/openid-configuration"
    settings = local_settings(db_url, APP_ID=APP_ID, app_password="unused-secret")
    with channel_metadata_at(dead_url):
        async with running_bot(
            settings, secured_connector, credentials_factory=StaticCredentialsFactory(APP_ID)
        ) as running:
            activity = running.chat.activity(AMIR, text="hjälp")
            token = issuer.token(app_id=APP_ID, service_url=activity["serviceUrl"])
            reply = await running.chat.post(activity, headers=_auth(token))
    assert reply.status == 401


async def test_local_mode_needs_no_token(bot: RunningBot) -> None:
    reply = await bot.chat.say(AMIR, "hjälp")
    assert reply.status in (200, 201)
    assert "Vad vill du göra?" in reply.text
