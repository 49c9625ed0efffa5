"""Running the real web app on loopback against a local Bot Connector, for transcript tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from btassist.app import DATABASE, app_factory
from btassist.demo import demo_roster
from btassist.localchat.client import ChatClient, ChatUser
from btassist.localchat.loopback import serving
from btassist.roster.importer import import_roster
from btassist.settings import Settings
from tests.support.cards import record_invoke_cards
from tests.support.connector import FakeConnector
from tests.support.logscan import record_typed_texts

# The demo roster's people as Teams users (see src/btassist/demo/roster/people.csv).
AMIR = ChatUser(
    "Amir Haddad", "amir.haddad@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000111"
)
ELENA = ChatUser(
    "Elena Petrova",
    "elena.petrova@halland.example.org",
    "6d1c0f6e-0000-4000-8000-000000000112",
    locale="en-US",
)
LUKAS = ChatUser(
    "Lukas Novák", "lukas.novak@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000113"
)
KARIN = ChatUser(
    "Karin Holm", "karin.holm@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000103"
)
SARA = ChatUser(
    "Sara Lindqvist", "sara.lindqvist@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000102"
)
PER = ChatUser(
    "Per Ekström", "per.ekstrom@halland.example.org", "6d1c0f6e-0000-4000-8000-000000000101"
)
FATIMA = ChatUser(
    "Fatima Rahimi", "fatima.rahimi@gavleborg.example.org", "6d1c0f6e-0000-4000-8000-000000000211"
)
STRANGER = ChatUser(
    "Okänd Person", "okand.person@halland.example.org", "99999999-0000-4000-8000-000000000999"
)


@dataclass
class RunningBot:
    """The app on a loopback port, and a Teams-shaped client pointed at it."""

    url: str
    app: web.Application
    chat: ChatClient


@asynccontextmanager
async def running_bot(
    settings: Settings,
    connector: FakeConnector,
    *,
    demo: bool = True,
    roster_only: bool = False,
    credentials_factory: Any = None,
    clock: Callable[[], datetime] | None = None,
    token: Any = None,
) -> AsyncIterator[RunningBot]:
    """Start `app_factory(settings)` on 127.0.0.1:<free port>; stop it on exit.

    Cards in invoke responses are collected for the session's card check (tests/support/cards.py).

    `roster_only` loads the demo people and placements but not the demo course sessions, for
    tests that create exactly the sessions they rely on.
    """
    demo = demo and not roster_only
    app = app_factory(settings, demo=demo, credentials_factory=credentials_factory, clock=clock)
    app.middlewares.append(record_invoke_cards)
    app.middlewares.append(record_typed_texts)  # for the session's log check
    async with serving(app) as url, aiohttp.ClientSession() as http:
        if roster_only:
            for roster in demo_roster():
                assert (await import_roster(app[DATABASE], roster)).ok
        chat = ChatClient(bot_url=url, connector=connector, http=http, token=token)
        yield RunningBot(url=url, app=app, chat=chat)


def local_settings(db_url: str, **overrides: Any) -> Settings:
    """Settings for a local-mode bot on `db_url`, ignoring the developer's environment."""
    # No periodic look for notices queued behind the app's back: tests that write outbox rows
    # directly count them undisturbed, and the app's own notices still go out at once. No
    # reminder timer either (its sweep at start would depend on the hour the tests run): tests
    # of reminders run the app's sweep themselves (`app[SWEEP]`) or turn it on.
    values: dict[str, Any] = {
        "database_url": db_url,
        "APP_ID": "",
        "outbox_interval": 0,
        "reminder_sweeps": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
