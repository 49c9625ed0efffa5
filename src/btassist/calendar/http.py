"""The feed routes: conditional GET/HEAD, ETag and Last-Modified, and bodies cached by version.

Calendar clients poll every few minutes to every few hours, mostly for nothing. So a request
costs one aggregate query (plus the token look-up for personal feeds): if the client already has
this version it gets 304, and otherwise the body built for this version is served from memory.
Only a feed whose data changed is built again, once, however many clients ask at the same time.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.web_log import AccessLogger
from cachetools import LRUCache
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.calendar.events import CalendarHeader, FeedEvent
from btassist.calendar.feeds import (
    CourseFeed,
    Feed,
    FeedScope,
    PersonalFeed,
    RegionFeed,
    SessionFeed,
    read_stamp,
)
from btassist.calendar.tokens import person_for_token
from btassist.common.language import Language, requested_language
from btassist.db.engine import Database
from btassist.desk.links import redact_download_path
from btassist.i18n.catalogue import t
from btassist.observability.metrics import counted_feed

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar; charset=utf-8"
MAX_AGE = 300  # seconds a client may reuse a response without asking; then a 304 is cheap
CACHE_BYTES = 64 * 1024 * 1024
GZIP_SUFFIX = "-gz"
PERSONAL_PATH = re.compile(r"^/calendar/(?!(?:course|region|session)/)[^/]+\.ics$")

try:
    _PACKAGE_VERSION = version("btassist")
except PackageNotFoundError:  # running from a source tree without installing
    _PACKAGE_VERSION = "source"


def render(header: CalendarHeader, events: Iterable[FeedEvent], zone: ZoneInfo) -> bytes:
    """The feed's iCalendar bytes (`ical.render`), icalendar imported with the first feed built."""
    from btassist.calendar import ical

    return ical.render(header, events, zone)


@dataclass(frozen=True)
class CachedFeed:
    """A built feed: its ETag and body, plain and gzipped."""

    etag: str
    body: bytes
    gzipped: bytes

    @property
    def size(self) -> int:
        """Bytes held in memory."""
        return len(self.body) + len(self.gzipped)


class FeedCache:
    """The newest built body of each feed, least recently used dropped beyond `max_bytes`."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: LRUCache[tuple[object, ...], CachedFeed] = LRUCache(
            max_bytes, getsizeof=lambda entry: entry.size
        )
        self._building: dict[tuple[tuple[object, ...], str], asyncio.Future[CachedFeed]] = {}

    def get(self, key: tuple[object, ...], etag: str) -> CachedFeed | None:
        """The body of this version of the feed, if it was built."""
        entry = self._entries.get(key)
        return entry if entry is not None and entry.etag == etag else None

    def put(self, key: tuple[object, ...], entry: CachedFeed) -> None:
        """Keep `entry` as the feed's newest body (none at all if it alone is too big)."""
        self._entries.pop(key, None)
        if entry.size <= self.max_bytes:
            self._entries[key] = entry

    async def get_or_build(
        self, key: tuple[object, ...], etag: str, build: Callable[[], Awaitable[CachedFeed]]
    ) -> CachedFeed:
        """The cached body, or one built now; concurrent requests share one build."""
        cached = self.get(key, etag)
        if cached is not None:
            return cached
        pending = self._building.get((key, etag))
        if pending is not None:
            await asyncio.wait([pending])  # our cancellation leaves the build running
            if not pending.cancelled():
                return pending.result()
            # That build failed: try ourselves, and see the error if it persists.
        future: asyncio.Future[CachedFeed] = asyncio.get_running_loop().create_future()
        self._building[(key, etag)] = future
        try:
            entry = await build()
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._building[(key, etag)]
        future.set_result(entry)
        self.put(key, entry)
        return entry

    def clear(self) -> None:
        """Forget every body (benchmarks measure cold builds with this)."""
        self._entries.clear()


class FeedService:
    """Answers feed requests from the database, the clock and the cache."""

    def __init__(
        self,
        database: Database,
        *,
        zone: ZoneInfo,
        public_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache: FeedCache | None = None,
    ) -> None:
        self.database = database
        self.zone = zone
        self.clock = clock
        self.cache = cache or FeedCache()
        self.uid_domain = urlsplit(public_url).hostname or "btassist"
        # Anything that changes the text for the same data renews every ETag.
        self._salt = f"{_PACKAGE_VERSION}|{zone.key}|{self.uid_domain}"

    async def respond(
        self,
        request: web.Request,
        resolve: Callable[[AsyncSession], Awaitable[Feed | None]],
        *,
        private: bool,
        filename: str | None = None,
    ) -> web.StreamResponse:
        """The feed `resolve` finds, as 200, 304 or the one 404."""
        scope = FeedScope(zone=self.zone, uid_domain=self.uid_domain, now=self.clock())
        async with self.database.session(write_lock=False) as session:
            await _one_snapshot(session)
            feed = await resolve(session)
            stamp = None if feed is None else await read_stamp(session, feed, scope.cutoff)
            if feed is None or stamp is None:
                return not_found()
            etag = _etag(f"{self._salt}|{stamp.version}")
            gzipped = _accepts_gzip(request)
            headers = _cache_headers(
                private=private,
                etag=_etag_variant(etag, GZIP_SUFFIX) if gzipped else etag,
                last_modified=stamp.last_modified,
            )
            if _not_modified(request, etag, stamp.last_modified):
                return web.Response(status=304, headers=headers)

            async def build() -> CachedFeed:
                header, events = await feed.build(session, scope)
                body = render(header, events, self.zone)
                return CachedFeed(
                    etag=etag,
                    body=body,
                    gzipped=gzip.compress(body, compresslevel=6, mtime=0),
                )

            cached = await self.cache.get_or_build(feed.key, etag, build)
        headers["Content-Type"] = CONTENT_TYPE
        headers["X-Content-Type-Options"] = "nosniff"
        if filename:
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        body = cached.body
        if gzipped:
            body = cached.gzipped
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)


async def _one_snapshot(session: AsyncSession) -> None:
    """Read the stamp and the rows from one snapshot, so the ETag describes the body.

    SQLite's deferred transaction already reads one snapshot; PostgreSQL needs REPEATABLE READ.
    """
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _etag(version: str) -> str:
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


def _etag_variant(etag: str, suffix: str) -> str:
    return etag[:-1] + suffix + '"'


def _cache_headers(*, private: bool, etag: str, last_modified: datetime | None) -> dict[str, str]:
    headers = {
        "ETag": etag,
        "Cache-Control": f"{'private' if private else 'public'}, max-age={MAX_AGE}",
        "Vary": "Accept-Encoding" if private else "Accept-Encoding, Accept-Language",
    }
    if last_modified is not None:
        headers["Last-Modified"] = format_datetime(last_modified.astimezone(UTC), usegmt=True)
    return headers


def _not_modified(request: web.Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        wanted = etag.strip('"')
        for candidate in if_none_match.split(","):
            tag = candidate.strip().removeprefix("W/").strip('"').removesuffix(GZIP_SUFFIX)
            if tag == "*" or tag == wanted:
                return True
        return False
    since = request.headers.get("If-Modified-Since")
    if since is None or last_modified is None:
        return False
    try:
        client_has = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if client_has.tzinfo is None:
        client_has = client_has.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= client_has


def _accepts_gzip(request: web.Request) -> bool:
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() == "gzip":
            return params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def not_found() -> web.Response:
    """The one answer for unknown, malformed and revoked links alike."""
    text = "\n".join(t("feed.not_found", language) for language in Language) + "\n"
    return web.Response(
        status=404,
        text=text,
        content_type="text/plain",
        charset="utf-8",
        headers={"Cache-Control": "no-store"},
    )


def _language(request: web.Request) -> Language:
    """?lang=sv|en, else the first language the client accepts, else Swedish."""
    return requested_language(request.query.get("lang"), request.headers.get("Accept-Language"))


# Routes -----------------------------------------------------------------------------------------

FEEDS = web.AppKey("calendar_feeds", FeedService)


async def personal_feed(request: web.Request) -> web.StreamResponse:
    """GET /calendar/{token}.ics: a doctor's own calendar."""
    token = request.match_info["token"]

    async def resolve(session: AsyncSession) -> Feed | None:
        person_id = await person_for_token(session, token=token)
        return None if person_id is None else PersonalFeed(person_id)

    return await request.app[FEEDS].respond(request, resolve, private=True)


async def course_feed(request: web.Request) -> web.StreamResponse:
    """GET /calendar/course/{code}.ics: a course's sessions in every region."""
    feed = CourseFeed(request.match_info["code"], _language(request))
    return await request.app[FEEDS].respond(request, _found(feed), private=False)


async def region_feed(request: web.Request) -> web.StreamResponse:
    """GET /calendar/region/{code}.ics: every session a region runs."""
    feed = RegionFeed(request.match_info["code"], _language(request))
    return await request.app[FEEDS].respond(request, _found(feed), private=False)


async def session_feed(request: web.Request) -> web.StreamResponse:
    """GET /calendar/session/{id}.ics: one session, for "Lägg till i kalender"."""
    raw = request.match_info["session_id"]
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return not_found()
    feed = SessionFeed(int(raw), _language(request))
    return await request.app[FEEDS].respond(
        request, _found(feed), private=False, filename=f"bt-session-{int(raw)}.ics"
    )


def _found(feed: Feed) -> Callable[[AsyncSession], Awaitable[Feed | None]]:
    async def resolve(session: AsyncSession) -> Feed | None:
        return feed

    return resolve


def calendar_routes() -> list[web.RouteDef]:
    """The feed routes (GET, and HEAD with them); the service lives under `FEEDS`.

    Each is counted and timed by feed kind when the app has metrics (`/metrics`).
    """
    return [
        web.get("/calendar/course/{code}.ics", counted_feed("course", course_feed)),
        web.get("/calendar/region/{code}.ics", counted_feed("region", region_feed)),
        web.get("/calendar/session/{session_id}.ics", counted_feed("session", session_feed)),
        web.get("/calendar/{token}.ics", counted_feed("personal", personal_feed)),
    ]


# Links ------------------------------------------------------------------------------------------


def personal_feed_url(public_url: str, token: str) -> str:
    """The https (or local http) address of a doctor's feed."""
    return f"{public_url.rstrip('/')}/calendar/{token}.ics"


def region_feed_url(public_url: str, region: str, language: Language) -> str:
    """The address of a region's public feed, in `language`."""
    return f"{public_url.rstrip('/')}/calendar/region/{quote(region)}.ics?lang={language.value}"


def webcal_url(url: str) -> str:
    """The same address as webcal://, which opens the calendar app's subscribe dialog."""
    return "webcal://" + url.split("://", 1)[1]


def google_subscribe_url(url: str) -> str:
    """Google Calendar's page for adding a calendar by address."""
    return "https://calendar.google.com/calendar/r?cid=" + quote(webcal_url(url), safe="")


def redact_path(path: str) -> str:
    """A request path fit for logs: the secret of a personal feed or download link blanked out."""
    return "/calendar/redacted.ics" if PERSONAL_PATH.match(path) else redact_download_path(path)


class FeedAccessLogger(AccessLogger):
    """aiohttp's access log, without the secrets of personal feed and download links."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log as aiohttp does, the path redacted."""
        path = request.rel_url.path
        if redact_path(path) != path:
            request = request.clone(rel_url=redact_path(path))
        super().log(request, response, time)
