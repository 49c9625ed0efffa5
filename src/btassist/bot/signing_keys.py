"""The channel's token-signing keys, fetched with a time limit and never on the event loop.

botbuilder 4.17 fetches them while it validates a request, with a blocking `requests.get` and
no timeout (on the first request, then once a day): a hung endpoint stalls every conversation
of the process. A `KeySource` fetches the OpenID metadata and its JWKS with aiohttp under one
time limit, serves its cached keys while a refresh runs in the background or fails, and makes
a request wait only when there are no keys yet or a token names a key it has not seen (a
rotation), looking again at most once per `retry_after`.

The seam is `JwtTokenExtractor.metadataCache`, the SDK's public, process-wide table of key
sources by metadata URL: `JwtTokenExtractor.get_open_id_metadata` hands out what is there, and
the SDK only awaits `source.get(key_id)` and reads `public_key` and `endorsements` from the
answer. Validating the token (signature, issuer, audience, lifetime, endorsements, service
URL) stays the SDK's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    JwtTokenExtractor,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import InvalidKeyError
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

FETCH_TIMEOUT = 10.0  # seconds for the metadata and the keys together
MAX_AGE = 24 * 3600.0  # refresh daily, as botbuilder does
RETRY_AFTER = 300.0  # at most one fetch per five minutes for unknown keys or after a failure

Clock = Callable[[], float]


class SigningKeyUnavailable(PermissionError):
    """No key to check this token with: unknown key id, or no keys could be fetched."""


@dataclass(frozen=True)
class SigningKey:
    """One public key as botbuilder's token validation reads it."""

    public_key: RSAPublicKey
    endorsements: tuple[str, ...]


def parse_keys(document: Any) -> dict[str, SigningKey]:
    """The usable RSA keys of a JWKS document by key id; ValueError when it has none."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the JWKS document has no list of keys")
    keys = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(entry)
        except (InvalidKeyError, ValueError, TypeError):
            continue
        if not isinstance(public_key, RSAPublicKey):
            continue
        endorsements = entry.get("endorsements")
        keys[entry["kid"]] = SigningKey(
            public_key=public_key,
            endorsements=tuple(e for e in endorsements or () if isinstance(e, str)),
        )
    if not keys:
        raise ValueError("the JWKS document has no usable RSA key")
    return keys


class KeySource:
    """The keys published under one OpenID metadata URL, cached and refreshed politely."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float = FETCH_TIMEOUT,
        max_age: float = MAX_AGE,
        retry_after: float = RETRY_AFTER,
        clock: Clock = time.monotonic,
    ) -> None:
        self.metadata_url = metadata_url
        self.timeout, self.max_age, self.retry_after = timeout, max_age, retry_after
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None  # the last successful fetch
        self._tried_at: float | None = None  # the last fetch started
        self._fetching: asyncio.Task[bool] | None = None

    async def get(self, key_id: str | None) -> SigningKey:
        """The key a token names (botbuilder's interface); waits only when it must."""
        if not self._keys:
            await self._fetch_now()
        elif self._stale() and self._may_try():
            self._fetch_in_background()
        key = self._keys.get(key_id or "")
        if key is None and (self._under_way() or self._may_try()):
            await self._fetch_now()  # a rotation: the fetch under way, or a new one, may bring it
            key = self._keys.get(key_id or "")
        if key is None:
            raise SigningKeyUnavailable("no signing key with the token's key id")
        return key

    async def settled(self) -> None:
        """Wait for a fetch under way, if any (tests, and shutting down cleanly)."""
        if self._fetching is not None:
            await asyncio.wait([self._fetching])

    async def close(self) -> None:
        """Stop a fetch under way."""
        fetching = self._fetching
        if fetching is not None and not fetching.done():
            fetching.cancel()
            await asyncio.wait([fetching])

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.max_age

    def _may_try(self) -> bool:
        return self._tried_at is None or self._clock() - self._tried_at >= self.retry_after

    def _under_way(self) -> bool:
        return self._fetching is not None and not self._fetching.done()

    def _fetch_in_background(self) -> asyncio.Task[bool]:
        """One fetch at a time: a request that needs keys joins the one under way."""
        fetching = self._fetching
        if fetching is None or fetching.done():
            self._tried_at = self._clock()
            fetching = self._fetching = asyncio.create_task(self._refresh())
        return fetching

    async def _fetch_now(self) -> None:
        # Shielded: a request that gives up (its client left) leaves the fetch to the others.
        fetched = await asyncio.shield(self._fetch_in_background())
        if not fetched and not self._keys:
            raise SigningKeyUnavailable("the channel's signing keys could not be fetched")

    async def _refresh(self) -> bool:
        try:
            keys = await self._download()
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning(
                "fetching signing keys from %s failed (%s); %d cached keys stay in use",
                urlsplit(self.metadata_url).netloc,
                type(error).__name__,
                len(self._keys),
            )
            return False
        self._keys, self._fetched_at = keys, self._clock()
        log.info("fetched %d signing keys from %s", len(keys), urlsplit(self.metadata_url).netloc)
        return True

    async def _download(self) -> dict[str, SigningKey]:
        async with (
            asyncio.timeout(self.timeout),
            aiohttp.ClientSession(trust_env=True, raise_for_status=True) as http,
        ):
            async with http.get(self.metadata_url) as response:
                metadata = await response.json(content_type=None)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str):
                raise ValueError("the OpenID metadata has no jwks_uri")
            async with http.get(jwks_uri) as response:
                return parse_keys(await response.json(content_type=None))


def botbuilder_metadata_urls() -> tuple[str, ...]:
    """Where botbuilder (public cloud) looks for keys: channel tokens, then emulator and skill
    tokens, which anyone can send and so could make it fetch too."""
    channel = (
        ChannelValidation.open_id_metadata_endpoint
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    return channel, AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL


class SigningKeys:
    """A `KeySource` for each metadata URL, put where botbuilder looks them up."""

    def __init__(self, urls: Iterable[str] | None = None, **options: Any) -> None:
        urls = botbuilder_metadata_urls() if urls is None else urls
        self.sources = {url: KeySource(url, **options) for url in urls}

    def install(self) -> SigningKeys:
        """Make botbuilder take its keys from these sources (process-wide, as its cache is)."""
        for url, source in self.sources.items():
            JwtTokenExtractor.metadataCache[url] = source
        return self

    async def close(self) -> None:
        """Stop fetches under way and take the sources out of botbuilder's table again."""
        for url, source in self.sources.items():
            if JwtTokenExtractor.metadataCache.get(url) is source:
                del JwtTokenExtractor.metadataCache[url]
            await source.close()
