"""A loopback OpenID issuer for Bot Framework tokens, so the SDK's real JWT validation runs.

The metadata and keys are served from threads, so a test can make the metadata endpoint fail or
hang (until `serve()`, at most `HANG_LIMIT` seconds) without touching the event loop under test,
and rotate the signing key.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import jwt
from botframework.connector.auth import (
    AppCredentials,
    ChannelValidation,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "outbound-test-token"


def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


HANG_LIMIT = 10.0  # seconds a hanging endpoint holds a request at most


class Asked(NamedTuple):
    """One request the issuer answered."""

    path: str
    user_agent: str

    @property
    def metadata(self) -> bool:
        """A request for the OpenID metadata (the first of a fetch)."""
        return self.path.endswith("/.well-known/openid-configuration")


class Mode(StrEnum):
    """How the metadata endpoint answers."""

    serve = "serve"
    fail = "fail"  # HTTP 503
    hang = "hang"  # no answer until `release()`


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256", "endorsements": ["msteams"]})
    return jwk


class OpenIdIssuer:
    """Serves `/.well-known/openid-configuration` and `/keys` for its signing key."""

    def __init__(self, key: rsa.RSAPrivateKey, kid: str = "test-key-1") -> None:
        self.key, self.kid = key, kid
        self.keys = {"keys": [_jwk(key, kid)]}
        self.mode = Mode.serve
        self.requests: list[Asked] = []  # in order
        self._released = threading.Event()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                issuer.requests.append(Asked(self.path, self.headers.get("User-Agent", "")))
                if self.path.endswith("/.well-known/openid-configuration"):
                    if issuer.mode is Mode.hang:
                        issuer._released.wait(HANG_LIMIT)
                    if issuer.mode is not Mode.serve:
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body: dict[str, Any] = {
                        "issuer": BOT_FRAMEWORK_ISSUER,
                        "jwks_uri": f"{issuer.base_url}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = issuer.keys
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def rotate(self, key: rsa.RSAPrivateKey, kid: str) -> None:
        """Sign with a new key from now on, publishing it next to the old one."""
        self.key, self.kid = key, kid
        self.keys = {"keys": [*self.keys["keys"], _jwk(key, kid)]}

    def hang(self) -> None:
        """Hold metadata requests until `serve()` or `close()` (then they get 503)."""
        self._released.clear()
        self.mode = Mode.hang

    def fail(self) -> None:
        """Answer metadata requests with 503."""
        self.mode = Mode.fail

    def serve(self) -> None:
        """Answer normally again, and let requests held by `hang()` go."""
        self.mode = Mode.serve
        self._released.set()

    @property
    def metadata_url(self) -> str:
        """Where the SDK should look for the signing keys."""
        return f"{self.base_url}/.well-known/openid-configuration"

    def token(
        self,
        *,
        app_id: str,
        service_url: str,
        lifetime: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
        **claims: Any,
    ) -> str:
        """A channel token as the Bot Connector would send it (signed by `key` if given)."""
        now = int(time.time())
        payload = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + lifetime,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        """Stop serving."""
        self._released.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def channel_metadata_at(url: str) -> Iterator[None]:
    """Point the SDK's (process-global) channel OpenID metadata URL at `url` for a test."""
    previous = ChannelValidation.open_id_metadata_endpoint
    ChannelValidation.open_id_metadata_endpoint = url
    JwtTokenExtractor.metadataCache.clear()
    try:
        yield
    finally:
        ChannelValidation.open_id_metadata_endpoint = previous
        JwtTokenExtractor.metadataCache.clear()


class _StaticToken(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, oauth_scope: str | None) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)

    def get_access_token(self, force_refresh: bool = False) -> str:
        return OUTBOUND_TOKEN


class StaticCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Outbound credentials without Entra ID: the bot sends `Bearer outbound-test-token`."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("unknown app id")
        return _StaticToken(app_id, oauth_scope)
