"""Installing the Teams app for people the bot cannot reach yet, and opening their 1:1 chat.

A Teams bot can message only people who have its app. For someone who never opened it, the bot
installs it through Microsoft Graph (`POST /users/{id}/teamwork/installedApps`, application
permission `TeamsAppInstallation.ReadWriteForUser.All`), then opens the personal chat through the
Bot Connector and stores its reference, so a reminder or broadcast goes out at once. 409 means
the app was there already: as good as installed. A 403 means the permission has no admin
consent: nothing can succeed, so a run stops and automatic installs pause for a while. Someone
who removed the app is not given it back. Every outcome is recorded per person (`app_install`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from sqlalchemy import exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.conversations.models import ConversationRef
from btassist.conversations.refs import save_reference
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.db.upsert import dialect_insert
from btassist.reach.graph import GraphAnswer, GraphClient, TokenRefused
from btassist.reach.models import AppInstall, InstallOutcome
from btassist.roster.identity import remember_object_id
from btassist.roster.models import Person
from btassist.settings import Settings

log = logging.getLogger(__name__)

GRAPH_PERMISSION = "TeamsAppInstallation.ReadWriteForUser.All"
LOOKUP_PERMISSION = "User.ReadBasic.All"
SUCCEEDED = frozenset({InstallOutcome.installed, InstallOutcome.already_installed})
RETRY_AFTER = timedelta(hours=6)
"""Before a reminder or broadcast, someone whose installation failed is tried again only after
this long (an explicit `btassist reach install` tries at once)."""
REFUSAL_PAUSE = timedelta(hours=1)
"""After Graph refused the app itself, automatic installs wait this long before trying again."""


class InstallRefused(Exception):
    """Graph or Entra ID refused the app itself: no installation can succeed until an
    administrator acts. The message says what to do."""

    def __init__(self, detail: str, *, token: bool = False) -> None:
        self.detail = detail
        if token:
            advice = (
                "check MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId "
                "(BTASSIST_LOGIN_URL for a sovereign cloud)"
            )
        else:
            advice = (
                f"grant the bot's app registration the application permission {GRAPH_PERMISSION} "
                "with admin consent, or install the app with a Teams app setup policy "
                "(docs/deploy.md, section 11)"
            )
        super().__init__(f"Microsoft Graph refused to install the app ({detail}): {advice}")


class ChatNotOpened(Exception):
    """The Bot Connector did not open the chat; the message is a status and code only."""


@dataclass(frozen=True)
class OpenedChat:
    """A person's new 1:1 chat with the bot: where proactive messages go from now on."""

    channel_id: str
    conversation_id: str
    tenant_id: str
    reference: str
    """The JSON conversation reference, as a turn in that chat would store it."""


class ChatOpener(Protocol):
    """Opens a person's 1:1 chat with the bot (the Bot Connector's create conversation)."""

    async def open_personal(self, *, aad_object_id: str, tenant_id: str) -> OpenedChat:
        """The chat with the user of this Entra object id; raises `ChatNotOpened`."""
        ...


@dataclass(frozen=True)
class Candidate:
    """Someone to install the app for."""

    person_id: int
    email: str
    aad_object_id: str | None


@dataclass(frozen=True)
class Attempt:
    """How installing for one person went."""

    person_id: int
    outcome: InstallOutcome
    detail: str | None
    reachable: bool
    """A chat reference was stored: proactive messages reach them now."""


@dataclass
class InstallRun:
    """What one run did."""

    attempts: list[Attempt] = field(default_factory=list)
    refused: str | None = None
    """Why the run stopped early (Graph refused the app), with what to do."""
    not_tried: int = 0

    def counts(self) -> Counter[InstallOutcome]:
        """Attempts by outcome."""
        return Counter(attempt.outcome for attempt in self.attempts)

    @property
    def reachable(self) -> set[int]:
        """The people this run made reachable."""
        return {attempt.person_id for attempt in self.attempts if attempt.reachable}


async def install_candidates(
    database: Database,
    *,
    region: str | None = None,
    person_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    patience: timedelta | None = None,
) -> list[Candidate]:
    """Active people without any chat with the bot, by e-mail; someone who removed the app is
    left alone. With `patience`, not those whose last try failed less than that ago."""
    had_chat = exists().where(col(ConversationRef.person_id) == col(Person.id))
    query = (
        select(Person.id, Person.email, Person.aad_object_id)
        .outerjoin(AppInstall, col(AppInstall.person_id) == col(Person.id))
        .where(col(Person.active).is_(True), ~had_chat)
        .order_by(col(Person.email))
    )
    if region is not None:
        query = query.where(col(Person.region_code) == region)
    if person_ids is not None:
        query = query.where(col(Person.id).in_(list(person_ids)))
    if patience is not None:
        since = (now or utcnow()) - patience
        query = query.where(
            col(AppInstall.person_id).is_(None) | (col(AppInstall.attempted_at) < since)
        )
    async with database.session(write_lock=False) as session:
        rows = (await session.exec(query)).all()
    return [
        Candidate(person_id, email, object_id) for person_id, email, object_id in rows if person_id
    ]


def install_tenant(settings: Settings) -> str | None:
    """The tenant whose people get the app: the app registration's, else the only allowed one."""
    if settings.APP_TENANTID:
        return settings.APP_TENANTID
    return next(iter(settings.allowed_tenants)) if len(settings.allowed_tenants) == 1 else None


def installation_problems(settings: Settings) -> list[str]:
    """What the settings lack for proactive installation (empty: ready)."""
    problems = []
    if not settings.proactive_install:
        problems.append("BTASSIST_PROACTIVE_INSTALL is not true")
    if not settings.teams_app_id:
        problems.append("BTASSIST_TEAMS_APP_ID (the app's id in your app catalogue) is not set")
    if not settings.APP_ID or not settings.APP_PASSWORD:
        problems.append("MicrosoftAppId and MicrosoftAppPassword are needed for the Graph token")
    if install_tenant(settings) is None:
        problems.append("MicrosoftAppTenantId (or a single BTASSIST_ALLOWED_TENANTS) is not set")
    return problems


class ProactiveInstaller:
    """Installs the app for candidates through Graph and opens their chats; records outcomes.

    Build one per process: it remembers a refusal (and pauses automatic installs), and makes
    concurrent requests for one person share a single installation.
    """

    def __init__(
        self,
        *,
        database: Database,
        graph: GraphClient,
        opener: ChatOpener,
        teams_app_id: str,
        tenant_id: str,
        concurrency: int = 4,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.graph = graph
        self.opener = opener
        self.teams_app_id = teams_app_id
        self.tenant_id = tenant_id
        self.concurrency = concurrency
        self.now = clock
        self._running: dict[int, asyncio.Task[Attempt]] = {}
        self._refusal: str | None = None
        self._refused_until: datetime | None = None

    async def close(self) -> None:
        """Close Graph's connections."""
        await self.graph.close()

    def _refused(self) -> str | None:
        if self._refused_until is not None and self.now() < self._refused_until:
            return self._refusal
        return None

    async def install(self, candidates: Sequence[Candidate]) -> InstallRun:
        """Install for every candidate, `concurrency` at a time; a refusal stops the rest."""
        run = InstallRun()
        slots = asyncio.Semaphore(self.concurrency)

        async def one(candidate: Candidate) -> None:
            async with slots:
                if self._refused() is not None:
                    run.not_tried += 1
                    return
                run.attempts.append(await self._shared(candidate))

        await asyncio.gather(*(one(candidate) for candidate in candidates))
        run.refused = self._refused()
        return run

    async def _shared(self, candidate: Candidate) -> Attempt:
        """One installation per person at a time; a second caller waits for the first's."""
        task = self._running.get(candidate.person_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._install(candidate))
            self._running[candidate.person_id] = task
            task.add_done_callback(lambda _: self._running.pop(candidate.person_id, None))
        return await asyncio.shield(task)

    async def _install(self, candidate: Candidate) -> Attempt:
        learned = None
        try:
            outcome, detail, object_id = await self._graph_install(candidate)
            learned = object_id if object_id != candidate.aad_object_id else None
        except InstallRefused as refused:
            self._refusal, self._refused_until = str(refused), self.now() + REFUSAL_PAUSE
            log.error("proactive installation refused by Graph: %s", refused.detail)
            outcome, detail, object_id = InstallOutcome.no_consent, refused.detail, None
        opened = None
        if outcome in SUCCEEDED and object_id is not None:
            try:
                opened = await self.opener.open_personal(
                    aad_object_id=object_id, tenant_id=self.tenant_id
                )
            except ChatNotOpened as error:
                detail = f"chat not opened: {error}"
        await self._record(candidate, outcome, detail, learned=learned, opened=opened)
        log.info(
            "proactive install person=%s outcome=%s detail=%s reachable=%s",
            candidate.person_id,
            outcome.value,
            detail,
            opened is not None,
        )
        return Attempt(candidate.person_id, outcome, detail, reachable=opened is not None)

    async def _graph_install(
        self, candidate: Candidate
    ) -> tuple[InstallOutcome, str | None, str | None]:
        """(outcome, detail, the person's Entra object id) of installing through Graph."""
        object_id = candidate.aad_object_id
        try:
            if object_id is None:
                found = await self.graph.request(
                    "GET", f"/users/{quote(candidate.email, safe='@')}?$select=id"
                )
                if found.status == 404:
                    return InstallOutcome.user_gone, found.detail, None
                if found.status in (401, 403):
                    detail = (
                        f"{found.detail}: no Entra object id; a look-up needs {LOOKUP_PERMISSION}"
                    )
                    return InstallOutcome.no_object_id, detail, None
                if found.status != 200 or not found.body.get("id"):
                    return InstallOutcome.failed, found.detail, None
                object_id = str(found.body["id"])
            catalogue_app = f"{self.graph.base_url}/appCatalogs/teamsApps/{self.teams_app_id}"
            answer = await self.graph.request(
                "POST",
                f"/users/{quote(object_id, safe='')}/teamwork/installedApps",
                json={"teamsApp@odata.bind": catalogue_app},
            )
        except TokenRefused as error:
            raise InstallRefused(str(error), token=True) from error
        return _outcome(answer), None if 200 <= answer.status < 300 else answer.detail, object_id

    async def _record(
        self,
        candidate: Candidate,
        outcome: InstallOutcome,
        detail: str | None,
        *,
        learned: str | None,
        opened: OpenedChat | None,
    ) -> None:
        now = self.now()
        async with self.database.session() as session:
            if learned is not None and not await _object_id_taken(session, learned):
                await remember_object_id(
                    session, person_id=candidate.person_id, aad_object_id=learned
                )
            if opened is not None:
                await save_reference(
                    session,
                    person_id=candidate.person_id,
                    channel_id=opened.channel_id,
                    conversation_id=opened.conversation_id,
                    tenant_id=opened.tenant_id,
                    reference=opened.reference,
                )
            await _record_outcome(
                session, person_id=candidate.person_id, outcome=outcome, detail=detail, now=now
            )


def _outcome(answer: GraphAnswer) -> InstallOutcome:
    """What Graph's answer to an installation means; raises on a refusal of the app itself."""
    if 200 <= answer.status < 300:
        return InstallOutcome.installed
    if answer.status == 409:
        return InstallOutcome.already_installed
    if answer.status == 404:
        return InstallOutcome.user_gone
    if answer.status in (401, 403):
        raise InstallRefused(answer.detail)
    return InstallOutcome.failed


async def _object_id_taken(session: AsyncSession, object_id: str) -> bool:
    taken = await session.exec(
        select(func.count()).select_from(Person).where(Person.aad_object_id == object_id)
    )
    return bool(taken.one())


async def _record_outcome(
    session: AsyncSession,
    *,
    person_id: int,
    outcome: InstallOutcome,
    detail: str | None,
    now: datetime,
) -> None:
    """Store the latest outcome in one statement (two processes may try one person at once)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = dialect_insert(dialect)
    installed_at = now if outcome in SUCCEEDED else None
    statement = insert(AppInstall).values(
        person_id=person_id,
        outcome=outcome,
        detail=detail[:200] if detail else None,
        attempts=1,
        attempted_at=now,
        installed_at=installed_at,
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["person_id"],
            set_={
                "outcome": statement.excluded.outcome,
                "detail": statement.excluded.detail,
                "attempts": AppInstall.attempts + 1,
                "attempted_at": statement.excluded.attempted_at,
                "installed_at": func.coalesce(
                    AppInstall.installed_at, statement.excluded.installed_at
                ),
            },
        )
    )


async def ensure_reachable(
    database: Database, person_ids: Iterable[int], *, installer: ProactiveInstaller | None
) -> set[int]:
    """Before sending to `person_ids`: install the app for those who never had it (when
    proactive installation is on, i.e. `installer` is not None); who of them it made reachable.

    Someone whose installation failed recently is not tried again before `RETRY_AFTER`, and
    after a refusal nobody is for `REFUSAL_PAUSE`, so a sweep never hammers Graph.
    """
    if installer is None:
        return set()
    candidates = await install_candidates(
        database, person_ids=person_ids, now=installer.now(), patience=RETRY_AFTER
    )
    if not candidates:
        return set()
    return (await installer.install(candidates)).reachable
