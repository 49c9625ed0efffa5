"""A fake Entra ID token endpoint and a fake Microsoft Graph on loopback, for proactive installs.

`FakeEntra` serves what msal asks for (the tenant's OpenID metadata and the v2.0 token endpoint
for client credentials) over HTTPS with a throw-away certificate, because msal accepts only https
authorities; point `REQUESTS_CA_BUNDLE` at `ca_file` so msal's `requests` trusts it. `FakeGraph`
serves user look-ups and `POST /users/{id}/teamwork/installedApps` over HTTP, demands the token
Entra handed out, records every request and answers injected failures first.

Both run in the test's event loop: msal calls from a worker thread, so the loop is free to answer.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TENANT = "local-tenant"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
CLIENT_SECRET = "test-secret"
ACCESS_TOKEN = "graph-test-token"
TEAMS_APP_ID = "e5b0c3a1-0000-4000-8000-00000000a99"
CLOSE = {"Connection": "close"}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written to `directory` (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "fake-entra.pem", directory / "fake-entra.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class _Server:
    """An aiohttp app on a free loopback port, optionally over TLS."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._runner: web.AppRunner | None = None
        self.url = ""

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if self._ssl else 'http'}://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class FakeEntra(_Server):
    """The login host: OpenID metadata and the client-credentials token endpoint."""

    def __init__(self, directory: Path, *, secret: str = CLIENT_SECRET) -> None:
        cert_file, key_file = self_signed(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        super().__init__(context)
        self.ca_file = cert_file
        self.secret = secret
        self.token_requests: list[Mapping[str, str]] = []

    def routes(self) -> list[web.RouteDef]:
        # msal's `requests` session lives on in its thread: answers close their connection,
        # so no TLS connection is left half-open when the server stops.
        return [
            web.get("/{tenant}/v2.0/.well-known/openid-configuration", self._metadata),
            web.post("/{tenant}/oauth2/v2.0/token", self._token),
        ]

    async def _metadata(self, request: web.Request) -> web.Response:
        base = f"{self.url}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            },
            headers=CLOSE,
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({key: str(value) for key, value in form.items()})
        if form.get("client_secret") != self.secret or form.get("client_id") != CLIENT_ID:
            return web.json_response(
                {"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"},
                status=401,
                headers=CLOSE,
            )
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": ACCESS_TOKEN},
            headers=CLOSE,
        )


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: int | None
    path_contains: str | None


@dataclass(frozen=True)
class GraphRequest:
    """One request Graph answered."""

    method: str
    path: str
    status: int
    body: Any


@dataclass
class FakeGraph(_Server):
    """Users (object id → UPN) and their installed apps, over HTTP."""

    users: dict[str, str] = field(default_factory=dict)
    """Entra object id → user principal name, for everyone the directory knows."""
    installed: set[str] = field(default_factory=set)
    """Object ids that have the app."""
    requests: list[GraphRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        retry_after: int | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with `status` (and `Retry-After`)."""
        self.faults.append(Fault(status, count, retry_after, path_contains))

    def installs(self) -> list[GraphRequest]:
        """The installation requests, in order, failures included."""
        return [r for r in self.requests if r.path.endswith("/teamwork/installedApps")]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1.0/users/{user}", self._user),
            web.post("/v1.0/users/{user}/teamwork/installedApps", self._install),
        ]

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1.0"

    def _answer(
        self, request: web.Request, body: Any, status: int, payload: dict[str, Any]
    ) -> web.Response:
        self.requests.append(GraphRequest(request.method, request.path, status, body))
        return web.json_response(payload, status=status)

    async def _check(self, request: web.Request, body: Any) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._answer(request, body, 401, _error("InvalidAuthenticationToken"))
        for fault in self.faults:
            if fault.remaining and (fault.path_contains or "") in request.path:
                fault.remaining -= 1
                self.requests.append(GraphRequest(request.method, request.path, fault.status, body))
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                )
                return web.json_response(
                    _error("TooManyRequests" if fault.status == 429 else "Forbidden"),
                    status=fault.status,
                    headers=headers,
                )
        return None

    def _object_id(self, user: str) -> str | None:
        if user in self.users:
            return user
        by_upn = {upn.lower(): oid for oid, upn in self.users.items()}
        return by_upn.get(user.lower())

    async def _user(self, request: web.Request) -> web.Response:
        refused = await self._check(request, None)
        if refused is not None:
            return refused
        object_id = self._object_id(request.match_info["user"])
        if object_id is None:
            return self._answer(request, None, 404, _error("Request_ResourceNotFound"))
        return self._answer(request, None, 200, {"id": object_id})

    async def _install(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._check(request, body)
        if refused is not None:
            return refused
        expected = f"{self.base_url}/appCatalogs/teamsApps/{TEAMS_APP_ID}"
        if body.get("teamsApp@odata.bind") != expected:
            return self._answer(request, body, 400, _error("BadRequest"))
        object_id = self._object_id(request.match_info["user"])
        if object_id is None:
            return self._answer(request, body, 404, _error("NotFound"))
        if object_id in self.installed:
            return self._answer(request, body, 409, _error("Conflict"))
        self.installed.add(object_id)
        return self._answer(request, body, 201, {})


def _error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"fake Graph: {code}"}}
