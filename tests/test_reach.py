"""Reaching everyone on the roster: who the bot cannot message, and installing the Teams app for
them through Microsoft Graph — against a fake Entra ID token endpoint, a fake Graph and the fake
Bot Connector, on SQLite and PostgreSQL.

The demo roster's directory in these tests: everyone is known to Graph except Lena Åberg (who
left the organisation), Maria Sjöberg already has the app (Graph answers 409), Johan Berg's
Entra object id is missing from the roster (looked up by e-mail), Amir Haddad has chatted with
the bot and Lukas Novák removed the app.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select, update
from typer.testing import CliRunner

from btassist.app import DATABASE
from btassist.bot.adapter import BTAdapter
from btassist.bot.delivery import OutboxWorker
from btassist.bot.opener import TeamsChatOpener
from btassist.bot.proactive import ProactiveSender, RetryPolicy
from btassist.cli import app as cli
from btassist.conversations.models import ConversationRef
from btassist.conversations.refs import save_reference
from btassist.courses.notices import SessionNotice
from btassist.db.engine import Database
from btassist.demo import demo_roster
from btassist.dialogs.turn import FlowContext
from btassist.localchat.client import BOT_ID, ChatUser
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import Notice, NoticeKind
from btassist.outbox.unit_of_work import unit_of_work
from btassist.reach.graph import EntraToken, GraphClient, graph_scope
from btassist.reach.install import (
    GRAPH_PERMISSION,
    ProactiveInstaller,
    install_candidates,
)
from btassist.reach.models import AppInstall, InstallOutcome
from btassist.reach.report import Unreachable, reachability
from btassist.roster.importer import import_roster
from btassist.roster.models import Person
from tests.support.bot import AMIR, SARA, RunningBot, local_settings
from tests.support.connector import FakeConnector
from tests.support.courses import add_course, add_session
from tests.support.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TEAMS_APP_ID,
    TENANT,
    FakeEntra,
    FakeGraph,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
GONE = "lena.aberg@halland.example.org"
HAS_APP = "maria.sjoberg@halland.example.org"
NO_OBJECT_ID = "johan.berg@halland.example.org"
CHATTED = "amir.haddad@halland.example.org"
REMOVED = "lukas.novak@halland.example.org"


@dataclass
class Directory:
    """The database, the three fakes and what the installer slept."""

    database: Database
    connector: FakeConnector
    entra: FakeEntra
    graph: FakeGraph
    people: dict[str, Person]
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def installer(self) -> ProactiveInstaller:
        token = EntraToken(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            tenant_id=TENANT,
            login_url=self.entra.url,
            scope=graph_scope(self.graph.base_url),
        )
        return ProactiveInstaller(
            database=self.database,
            graph=GraphClient(
                base_url=self.graph.base_url, token=token, sleep=self.sleep, clock=lambda: 0.0
            ),
            opener=TeamsChatOpener(
                BTAdapter(local_settings(self.database.url)),
                app_id="",
                service_url=self.connector.url,
                sleep=self.sleep,
            ),
            teams_app_id=TEAMS_APP_ID,
            tenant_id=TENANT,
        )

    def id_of(self, email: str) -> int:
        person_id = self.people[email].id
        assert person_id is not None
        return person_id

    def cli_env(self) -> dict[str, str]:
        return {
            "BTASSIST_DATABASE_URL": self.database.url,
            "MicrosoftAppId": CLIENT_ID,
            "MicrosoftAppPassword": CLIENT_SECRET,
            "MicrosoftAppTenantId": TENANT,
            "BTASSIST_PROACTIVE_INSTALL": "true",
            "BTASSIST_TEAMS_APP_ID": TEAMS_APP_ID,
            "BTASSIST_GRAPH_URL": self.graph.base_url,
            "BTASSIST_LOGIN_URL": self.entra.url,
            "BTASSIST_TEAMS_SERVICE_URL": self.connector.url,
        }

    async def references(self) -> dict[int, ConversationRef]:
        async with self.database.session(write_lock=False) as session:
            rows = (await session.exec(select(ConversationRef))).all()
        return {row.person_id: row for row in rows if row.active}

    async def outcomes(self) -> dict[str, InstallOutcome]:
        async with self.database.session(write_lock=False) as session:
            rows = (
                await session.exec(select(Person.email, AppInstall.outcome).join(AppInstall))
            ).all()
        return {email: InstallOutcome(outcome) for email, outcome in rows}


async def roster_directory(
    database: Database, connector: FakeConnector, entra: FakeEntra, graph: FakeGraph
) -> Directory:
    """The demo roster with the directory this module's docstring describes."""
    for roster in demo_roster():  # idempotent: a running demo bot has loaded it already
        assert (await import_roster(database, roster)).ok
    async with database.session() as session:
        await session.exec(
            update(Person).where(col(Person.email) == NO_OBJECT_ID).values(aad_object_id=None)
        )
    async with database.session(write_lock=False) as session:
        people = {p.email: p for p in (await session.exec(select(Person))).all()}
    for email, person in people.items():
        if email != GONE:
            oid = person.aad_object_id or "6d1c0f6e-0000-4000-8000-000000000104"
            graph.users[oid] = email
    graph.installed.add(str(people[HAS_APP].aad_object_id))
    await chatted(database, people[CHATTED], connector, active=True)
    await chatted(database, people[REMOVED], connector, active=False)
    return Directory(database, connector, entra, graph, people)


async def chatted(
    database: Database, person: Person, connector: FakeConnector, *, active: bool
) -> None:
    """A chat as Teams opens it on install; inactive: the person removed the app since."""
    assert person.id is not None
    conversation = f"a:personal-{person.aad_object_id}"
    reference = {
        "bot": {"id": BOT_ID, "name": "BT-assistenten"},
        "user": {"id": f"29:{person.aad_object_id}"},
        "conversation": {"id": conversation, "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": connector.url,
    }
    async with database.session() as session:
        await save_reference(
            session,
            person_id=person.id,
            channel_id="msteams",
            conversation_id=conversation,
            tenant_id=TENANT,
            reference=json.dumps(reference),
        )
        if not active:
            await session.exec(
                update(ConversationRef)
                .where(col(ConversationRef.person_id) == person.id)
                .values(active=False)
            )


@pytest.fixture
async def entra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeEntra]:
    async with FakeEntra(tmp_path) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_file))  # msal's requests trust it
        yield fake


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph() as fake:
        yield fake


@pytest.fixture
async def directory(
    db: Database, connector: FakeConnector, entra: FakeEntra, graph: FakeGraph
) -> Directory:
    return await roster_directory(db, connector, entra, graph)


def everyone_installable(directory: Directory) -> set[str]:
    """Who should end up reachable: all but the one gone and the one who removed the app."""
    return {email for email, p in directory.people.items() if p.active} - {GONE, REMOVED}


async def test_people_without_a_chat_get_the_app_and_a_stored_chat(directory: Directory) -> None:
    installer = directory.installer()
    candidates = await install_candidates(directory.database)
    run = await installer.install(candidates)
    await installer.close()

    assert {c.email for c in candidates} == set(directory.people) - {CHATTED, REMOVED}
    outcomes = await directory.outcomes()
    assert outcomes[HAS_APP] is InstallOutcome.already_installed  # 409 counts as installed
    assert outcomes[GONE] is InstallOutcome.user_gone
    assert outcomes[NO_OBJECT_ID] is InstallOutcome.installed  # found by e-mail in Graph
    assert set(outcomes.values()) == {
        InstallOutcome.installed,
        InstallOutcome.already_installed,
        InstallOutcome.user_gone,
    }
    assert run.refused is None
    assert run.not_tried == 0
    references = await directory.references()
    reached = {email for email in directory.people if directory.id_of(email) in references}
    assert reached == everyone_installable(directory)
    # The chat was opened through the Bot Connector with the Entra object id and the tenant.
    maria = directory.people[HAS_APP]
    [created] = [
        a.body
        for a in directory.connector.attempts
        if a.path.endswith("/v3/conversations")
        and a.body["members"][0]["id"] == maria.aad_object_id
    ]
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    assert created["isGroup"] is False
    assert references[directory.id_of(HAS_APP)].conversation_id.startswith("a:personal-")
    async with directory.database.session(write_lock=False) as session:
        johan = await session.get(Person, directory.id_of(NO_OBJECT_ID))
    assert johan is not None
    assert johan.aad_object_id == "6d1c0f6e-0000-4000-8000-000000000104"
    assert len(directory.entra.token_requests) == 1  # msal keeps the token


async def test_graph_throttling_is_retried_after_retry_after(directory: Directory) -> None:
    directory.graph.fail_next(429, retry_after=7, path_contains="installedApps")
    installer = directory.installer()
    candidates = await install_candidates(directory.database, region="gavleborg")
    run = await installer.install(candidates[:1])
    await installer.close()

    assert [r.status for r in directory.graph.installs()] == [429, 201]
    assert directory.sleeps == [7.0]
    assert [a.outcome for a in run.attempts] == [InstallOutcome.installed]
    assert run.reachable == {candidates[0].person_id}


async def test_a_refusal_stops_the_run_with_a_clear_message(directory: Directory) -> None:
    directory.graph.fail_next(403, count=100, path_contains="installedApps")
    candidates = await install_candidates(directory.database)

    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reach", "install"], env=directory.cli_env()
    )

    assert result.exit_code == 1, result.output
    assert "Microsoft Graph refused to install the app (HTTP 403 Forbidden)" in result.output
    assert GRAPH_PERMISSION in result.output
    assert "admin consent" in result.output
    tried = directory.graph.installs()
    assert 1 <= len(tried) <= 4 < len(candidates)  # only what was already in flight
    assert "not tried" in result.output
    assert set((await directory.outcomes()).values()) == {InstallOutcome.no_consent}
    assert not [a for a in directory.connector.attempts if a.path.endswith("/v3/conversations")]


async def test_dry_run_lists_who_would_get_the_app_and_calls_nothing(
    directory: Directory,
) -> None:
    env = {"BTASSIST_DATABASE_URL": directory.database.url}
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reach", "install", "--dry-run", "--region", "Gävleborg"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "fatima.rahimi@gavleborg.example.org" in result.output
    assert GONE not in result.output  # another region
    assert not directory.graph.requests


async def test_a_mixed_audience_in_the_outbox_reaches_everyone_installable(
    directory: Directory,
) -> None:
    """A broadcast-like send: one notice per person of Halland, most of whom never opened the
    app; the worker installs it for them first and then delivers."""
    database = directory.database
    course = await add_course(database, "test-fm", "Försäkringsmedicin (test)")
    session = await add_session(database, course, key="test-fm-1")
    assert session.id is not None
    halland = [email for email, p in directory.people.items() if p.region_code == "halland"]
    notice = Notice(NoticeKind.waitlist_promoted, SessionNotice(session_id=session.id))
    async with unit_of_work(database) as uow:
        for email in halland:
            await uow.notify(notice, to=directory.id_of(email), key=f"all-{email}")
    installer = directory.installer()
    worker = OutboxWorker(
        context=FlowContext(database=database, zone=STOCKHOLM),
        sender=ProactiveSender(
            BTAdapter(local_settings(database.url)),
            app_id="",
            database=database,
            send_rate=1000,
            policy=RetryPolicy(max_attempts=2),
            jitter=lambda: 0.0,
        ),
        concurrency=4,
        interval=0,
        installer=installer,
    )

    try:
        await _mixed_audience_delivered(directory, worker, halland, notice)
    finally:
        await worker.sender.close()
        await installer.close()


async def _mixed_audience_delivered(
    directory: Directory, worker: OutboxWorker, halland: list[str], notice: Notice
) -> None:
    database = directory.database
    assert await worker.deliver_due() == len(halland)

    async with database.session(write_lock=False) as db_session:
        rows = (
            await db_session.exec(select(Person.email, OutboxMessage.status).join(Person))
        ).all()
    status = {email: OutboxStatus(value) for email, value in rows}
    installable = everyone_installable(directory) & set(halland)
    assert {e for e, s in status.items() if s is OutboxStatus.sent} == installable
    assert status[GONE] is OutboxStatus.no_reference
    assert status[REMOVED] is OutboxStatus.no_reference  # who removed the app is left alone
    references = await directory.references()
    for email in installable:  # each received theirs, in the chat the bot opened or had
        conversation = references[directory.id_of(email)].conversation_id
        assert len(directory.connector.sent_to(conversation)) == 1, email

    # A second notice to the person who left: Graph is not asked again so soon.
    asked = len(directory.graph.requests)
    async with unit_of_work(database) as uow:
        await uow.notify(notice, to=directory.id_of(GONE), key="again")
    assert await worker.deliver_due() == 1
    assert len(directory.graph.requests) == asked


async def test_without_proactive_installation_nothing_is_installed(directory: Directory) -> None:
    database = directory.database
    course = await add_course(database, "test-fm", "Försäkringsmedicin (test)")
    session = await add_session(database, course, key="test-fm-1")
    assert session.id is not None
    async with unit_of_work(database) as uow:
        await uow.notify(
            Notice(NoticeKind.waitlist_promoted, SessionNotice(session_id=session.id)),
            to=directory.id_of(HAS_APP),
            key="one",
        )
    worker = OutboxWorker(
        context=FlowContext(database=database, zone=STOCKHOLM),
        sender=ProactiveSender(
            BTAdapter(local_settings(database.url)), app_id="", database=database, send_rate=1000
        ),
        interval=0,
    )
    assert await worker.deliver_due() == 1
    async with database.session(write_lock=False) as db_session:
        [row] = (await db_session.exec(select(OutboxMessage))).all()
    assert row.status is OutboxStatus.no_reference
    assert not directory.graph.requests


def report(database: Database, *options: str) -> Any:
    result = CliRunner().invoke(
        cli, ["reach", "report", "--json", *options], env={"BTASSIST_DATABASE_URL": database.url}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def reasons(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {row["email"]: row["reason"] for row in rows}


async def test_the_report_before_and_after_installs_and_uninstalls(
    bot: RunningBot, connector: FakeConnector, entra: FakeEntra, graph: FakeGraph
) -> None:
    database = bot.app[DATABASE]
    before = await asyncio.to_thread(report, database)
    assert all(row["reachable"] is False for row in before)
    assert set(reasons(before).values()) == {Unreachable.never_installed.value}
    assert {"email", "reachable", "reason"} <= set(before[0])

    await bot.chat.install(AMIR)  # Teams' own install: the chat is stored as it opens
    directory = await roster_directory(database, connector, entra, graph)
    assert reasons(await asyncio.to_thread(report, database))[AMIR.email] is None

    installer = directory.installer()
    await installer.install(await install_candidates(database, region="halland"))
    await installer.close()
    after = reasons(await asyncio.to_thread(report, database, "--region", "halland"))
    assert after[GONE] == Unreachable.user_gone.value
    assert after[REMOVED] == Unreachable.uninstalled.value
    assert {e for e, reason in after.items() if reason is None} == {
        e for e in everyone_installable(directory) if e.endswith("halland.example.org")
    }

    # Two people remove the app in Teams: one who installed it, one who got it from Graph.
    references = await directory.references()
    for email in (AMIR.email, HAS_APP):
        person = directory.people[email]
        user = ChatUser(person.name, email, str(person.aad_object_id), tenant_id=TENANT)
        conversation = references[directory.id_of(email)].conversation_id
        activity = bot.chat.activity(
            user,
            type="installationUpdate",
            action="remove",
            conversation={"id": conversation, "conversationType": "personal", "tenantId": TENANT},
        )
        assert (await bot.chat.post(activity)).status < 300
    later = reasons(await asyncio.to_thread(report, database, "--region", "halland"))
    assert later[AMIR.email] == later[HAS_APP] == Unreachable.uninstalled.value
    assert {e for e, r in later.items() if r != after[e]} == {AMIR.email, HAS_APP}
    # Nobody who removed the app gets it back from the next run.
    again = await install_candidates(database, region="halland")
    assert {c.email for c in again} == {GONE}  # only the one Graph did not know, to retry


async def test_a_coordinator_asks_who_the_bot_cannot_reach(bot: RunningBot) -> None:
    await bot.chat.install(AMIR)
    reply = await bot.chat.say(SARA, "Vilka når du inte?")

    text = reply.text
    assert "Vilka BT-assistenten inte når" in text
    assert "kan skicka besked och påminnelser till 2 av 9 personer" in text  # Sara and Amir
    assert "Har aldrig öppnat BT-assistenten (7)" in text
    assert "Lukas Novák (lukas.novak@halland.example.org)" in text
    assert "Amir Haddad" not in text
    assert "fatima.rahimi" not in text  # another region

    refused = await bot.chat.say(AMIR, "vilka når du inte?")
    assert "Vilka BT-assistenten inte når" not in refused.text


async def test_reachability_in_one_query_per_list(db: Database) -> None:
    for roster in demo_roster():
        assert (await import_roster(db, roster)).ok
    people = await reachability(db)
    assert len(people) == 16
    assert not any(p.reachable for p in people)
    some = await reachability(db, person_ids=[p.person_id for p in people[:3]])
    assert [p.person_id for p in some] == [p.person_id for p in people[:3]]
