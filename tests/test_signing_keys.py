"""The channel's signing keys: fetched with a time limit off the event loop, cached, refreshed
in the background, kept while a refresh fails, and picked up again after a rotation.

Tokens go through botbuilder's own validation (`ConfigurationBotFrameworkAuthentication`) with
our key sources plugged in, against a loopback OpenID issuer; time is an injected clock, except
the fetch time limit, which is real and short.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
)

from btassist.app import RUNTIME
from btassist.bot.signing_keys import (
    MAX_AGE,
    RETRY_AFTER,
    KeySource,
    SigningKeys,
    SigningKeyUnavailable,
    botbuilder_metadata_urls,
    parse_keys,
)
from btassist.settings import Settings
from tests.support.bot import AMIR, local_settings, running_bot
from tests.support.connector import FakeConnector
from tests.support.databases import fresh_sqlite
from tests.support.openid import (
    OpenIdIssuer,
    StaticCredentialsFactory,
    channel_metadata_at,
    new_key,
)

APP_ID = "11111111-2222-4333-8444-555555555555"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
TIMEOUT = 0.5  # seconds: the real time limit a hanging endpoint costs a request
SERVER_TIMEOUT = 1.0  # the same through the running app, which also answers /healthz meanwhile


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def issuer() -> Iterator[OpenIdIssuer]:
    served = OpenIdIssuer(new_key())
    yield served
    served.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def source(issuer: OpenIdIssuer, clock: Clock) -> AsyncIterator[KeySource]:
    """Our key source for the issuer, where botbuilder looks for the channel's keys."""
    with channel_metadata_at(issuer.metadata_url):
        keys = SigningKeys([issuer.metadata_url], timeout=TIMEOUT, clock=clock).install()
        yield keys.sources[issuer.metadata_url]
        await keys.close()


async def authenticate(issuer: OpenIdIssuer, **token: Any) -> str:
    """botbuilder's verdict on a channel token: the app id it was for, or the exception's name."""
    auth = ConfigurationBotFrameworkAuthentication(
        Settings(_env_file=None, APP_ID=APP_ID),  # type: ignore[call-arg]
        credentials_factory=StaticCredentialsFactory(APP_ID),
    )
    activity = Activity(
        type="message",
        channel_id="msteams",
        service_url=SERVICE_URL,
        from_property=ChannelAccount(id="29:amir"),
        conversation=ConversationAccount(id="a:1"),
    )
    bearer = issuer.token(app_id=APP_ID, service_url=SERVICE_URL, **token)
    try:
        result = await auth.authenticate_request(activity, f"Bearer {bearer}")
    except Exception as error:
        return type(error).__name__
    return str(result.claims_identity.claims["aud"])


def fetches(issuer: OpenIdIssuer) -> int:
    return sum(asked.metadata for asked in issuer.requests)


async def test_botbuilder_takes_its_keys_from_our_sources(issuer: OpenIdIssuer) -> None:
    assert botbuilder_metadata_urls() == (
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    )
    keys = SigningKeys().install()
    try:
        for url, source in keys.sources.items():
            # What botbuilder's ChannelValidation and EmulatorValidation build per request.
            extractor = JwtTokenExtractor(
                ChannelValidation.TO_BOT_FROM_CHANNEL_TOKEN_VALIDATION_PARAMETERS,
                url,
                AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS,
            )
            assert extractor.open_id_metadata is source, (
                "botbuilder no longer looks its key sources up in JwtTokenExtractor.metadataCache:"
                " bot/signing_keys.py needs a new seam"
            )
    finally:
        await keys.close()
    assert not set(keys.sources) & set(JwtTokenExtractor.metadataCache)

    with channel_metadata_at(issuer.metadata_url):
        keys = SigningKeys(timeout=TIMEOUT).install()
        assert await authenticate(issuer) == APP_ID
        await keys.close()
    assert fetches(issuer) == 1
    assert all("aiohttp" in asked.user_agent for asked in issuer.requests), issuer.requests


async def test_keys_are_fetched_once_and_refreshed_daily_in_the_background(
    issuer: OpenIdIssuer, source: KeySource, clock: Clock
) -> None:
    assert await asyncio.gather(*(authenticate(issuer) for _ in range(5))) == [APP_ID] * 5
    assert fetches(issuer) == 1  # five first turns shared one fetch
    clock.advance(MAX_AGE - 1)
    assert await authenticate(issuer) == APP_ID
    assert fetches(issuer) == 1
    clock.advance(1)
    assert await authenticate(issuer) == APP_ID  # served from the cache ...
    await source.settled()
    assert fetches(issuer) == 2  # ... while the refresh ran behind it


async def test_a_failing_refresh_keeps_the_cached_keys_and_forgeries_out(
    issuer: OpenIdIssuer, source: KeySource, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    assert await authenticate(issuer) == APP_ID
    issuer.fail()
    clock.advance(MAX_AGE)
    assert await authenticate(issuer) == APP_ID
    await source.settled()
    assert "fetching signing keys from 127.0.0.1" in caplog.text
    assert "ClientResponseError" in caplog.text
    assert "1 cached keys stay in use" in caplog.text
    assert await authenticate(issuer) == APP_ID
    # Valid keys stay valid; a token signed by anyone else is still refused.
    assert await authenticate(issuer, key=new_key()) == "InvalidSignatureError"
    assert await authenticate(issuer, lifetime=-3600) == "ExpiredSignatureError"
    assert fetches(issuer) == 2  # one failed refresh, not one per turn
    clock.advance(RETRY_AFTER)
    issuer.serve()
    assert await authenticate(issuer) == APP_ID
    await source.settled()
    assert fetches(issuer) == 3


async def test_a_rotated_key_is_picked_up_and_unknown_keys_do_not_cause_a_fetch_storm(
    issuer: OpenIdIssuer, source: KeySource, clock: Clock
) -> None:
    assert await authenticate(issuer) == APP_ID
    old_key, old_kid = issuer.key, issuer.kid
    issuer.rotate(new_key(), "test-key-2")
    # Just after a fetch an unknown key id is refused without asking again ...
    assert await authenticate(issuer) == "SigningKeyUnavailable"
    assert fetches(issuer) == 1
    # ... and later it makes the turn wait for one fetch, which brings the new key.
    clock.advance(RETRY_AFTER)
    assert await authenticate(issuer) == APP_ID
    assert fetches(issuer) == 2
    issuer.key, issuer.kid = old_key, old_kid
    assert await authenticate(issuer) == APP_ID  # both are published
    issuer.kid = "never-published"
    assert await authenticate(issuer) == "SigningKeyUnavailable"


async def test_a_hanging_endpoint_costs_a_first_request_the_time_limit_and_no_more(
    issuer: OpenIdIssuer, source: KeySource, clock: Clock
) -> None:
    issuer.hang()
    began = time.monotonic()
    with pytest.raises(SigningKeyUnavailable):
        await source.get(issuer.kid)
    assert TIMEOUT <= time.monotonic() - began < TIMEOUT + 2
    issuer.serve()
    assert await authenticate(issuer) == APP_ID  # no keys yet: fetched at once
    # With keys cached, a refresh that hangs costs turns nothing.
    issuer.hang()
    clock.advance(MAX_AGE)
    began = time.monotonic()
    assert await authenticate(issuer) == APP_ID
    assert await authenticate(issuer) == APP_ID
    assert time.monotonic() - began < TIMEOUT
    await source.settled()  # the refresh gave up after the time limit


def test_only_usable_rsa_keys_are_taken() -> None:
    issuer = OpenIdIssuer(new_key())
    issuer.close()
    good = issuer.keys["keys"][0]
    keys = parse_keys(
        {
            "keys": [
                good,
                {**good, "kid": None},
                {"kid": "ec", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
                {"kid": "broken", "kty": "RSA", "n": "!!", "e": "AQAB"},
                "nonsense",
            ]
        }
    )
    assert list(keys) == ["test-key-1"]
    assert keys["test-key-1"].endorsements == ("msteams",)
    for nothing in ({}, {"keys": []}, {"keys": [{"kid": "ec", "kty": "EC"}]}, []):
        with pytest.raises(ValueError, match="JWKS document has no"):
            parse_keys(nothing)


async def test_a_hung_key_endpoint_does_not_stall_the_server(
    issuer: OpenIdIssuer, sqlite_template: Path, tmp_path: Path
) -> None:
    """Through the running app: turns waiting for keys get 401 after the time limit, sharing
    one fetch, while everything else is answered meanwhile."""
    settings = local_settings(
        fresh_sqlite(sqlite_template, tmp_path),
        APP_ID=APP_ID,
        app_password="unused-secret",
        signing_keys_timeout=SERVER_TIMEOUT,
    )
    issuer.hang()
    with channel_metadata_at(issuer.metadata_url):
        async with (
            FakeConnector() as connector,
            running_bot(
                settings, connector, credentials_factory=StaticCredentialsFactory(APP_ID)
            ) as running,
            aiohttp.ClientSession() as http,
        ):
            turns = [
                asyncio.create_task(running.chat.post(activity, headers=_bearer(issuer, activity)))
                for activity in (running.chat.activity(AMIR, text=text) for text in ("a", "b"))
            ]
            began = time.monotonic()
            async with http.get(f"{running.url}/healthz") as health:
                assert health.status == 200
            assert time.monotonic() - began < SERVER_TIMEOUT
            assert not any(turn.done() for turn in turns)
            assert [(await turn).status for turn in turns] == [401, 401]
            assert time.monotonic() - began < SERVER_TIMEOUT + 2
            assert fetches(issuer) == 1

            issuer.serve()
            activity = running.chat.activity(AMIR, text="hjälp")
            reply = await running.chat.post(activity, headers=_bearer(issuer, activity))
            assert reply.status in (200, 201)
            await running.app[RUNTIME].adapter.close()


def _bearer(issuer: OpenIdIssuer, activity: dict[str, Any]) -> dict[str, str]:
    token = issuer.token(app_id=APP_ID, service_url=activity["serviceUrl"])
    return {"Authorization": f"Bearer {token}"}
