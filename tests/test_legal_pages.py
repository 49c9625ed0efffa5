"""The pages the Teams manifest links to: /privacy and /terms, true to the tables and the sweep."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from sqlmodel import select

from btassist.calendar.models import FeedToken
from btassist.common.language import Language
from btassist.conversations.models import ConversationRef
from btassist.db.engine import Database
from btassist.db.tables import metadata
from btassist.faq.models import FaqEvent, FaqEventKind, ForwardedQuestion
from btassist.legal.pages import DESCRIBED_TABLES, NO_PERSONAL_DATA, PRIVACY_ITEMS
from btassist.legal.retention import RULES, sweep
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.privacy.models import ExportLink
from btassist.roster.models import Person
from btassist.teamsapp.package import build_package
from tests.support.bot import RunningBot, local_settings, running_bot
from tests.support.connector import FakeConnector

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def page(url: str, path: str, **headers: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url + path, headers=headers) as response:
        return response.status, response.content_type, await response.text()


async def test_privacy_is_swedish_first_and_english_on_request(bot: RunningBot) -> None:
    status, kind, swedish = await page(bot.url, "/privacy")
    _, _, by_query = await page(bot.url, "/privacy?lang=en")
    _, _, by_browser = await page(bot.url, "/privacy", **{"Accept-Language": "en-GB,en;q=0.9"})

    assert (status, kind) == (200, "text/html")
    assert "<h1>Personuppgifter i BT-assistenten</h1>" in swedish
    assert "Regionen som har installerat BT-assistenten i Teams driver" in swedish
    assert "Fråga din BT-koordinator." in swedish
    assert by_query == by_browser
    assert "<h1>Personal data in the BT assistant</h1>" in by_query
    for rule in RULES:  # every period the sweep enforces is stated
        assert f"{rule.days} dagar" in swedish
        assert f"{rule.days} days" in by_query


async def test_terms_and_the_organisation_and_contact_from_settings(
    tmp_path: Path, connector: FakeConnector
) -> None:
    settings = local_settings(
        f"sqlite:///{tmp_path / 'bt.db'}",
        organisation="Region Halland",
        privacy_contact="dataskydd@<regionhalland.se>",
    )
    async with running_bot(settings, connector, demo=False) as bot:
        status, _, terms = await page(bot.url, "/terms")
        _, _, privacy = await page(bot.url, "/privacy?lang=en")

    assert status == 200
    assert "<h1>Användarvillkor för BT-assistenten</h1>" in terms
    assert "Region Halland driver den." in terms
    assert "HSLF-FS 2021:8" in terms
    assert "Region Halland runs the BT assistant" in privacy
    assert "Ask dataskydd@&lt;regionhalland.se&gt;." in privacy  # settings are escaped


async def test_the_manifest_links_answer(bot: RunningBot) -> None:
    package = zipfile.ZipFile(
        io.BytesIO(
            build_package(
                app_id="11111111-2222-4333-8444-555555555555", public_url="https://bt.example.org"
            )
        )
    )
    developer = json.loads(package.read("manifest.json"))["developer"]

    for link in (developer["privacyUrl"], developer["termsOfUseUrl"]):
        status, _, _ = await page(bot.url, urlsplit(link).path)
        assert status == 200, link


def test_every_table_with_personal_data_is_described_on_the_page() -> None:
    assert set(metadata.tables) == set(DESCRIBED_TABLES) | (NO_PERSONAL_DATA - {"alembic_version"})
    assert set(DESCRIBED_TABLES.values()) <= set(PRIVACY_ITEMS)


async def test_the_sweep_deletes_what_the_page_says_and_nothing_younger(db: Database) -> None:
    async with db.session() as session:
        person = Person(email="a@x.se", name="A", region_code="halland")
        session.add(person)
        await session.flush()
        assert person.id is not None
        pid = person.id
        for age, suffix in ((400, "old"), (10, "new")):
            at = NOW - timedelta(days=age)
            session.add(
                OutboxMessage(
                    person_id=pid,
                    kind="t",
                    dedupe_key=suffix,
                    status=OutboxStatus.sent,
                    created_at=at,
                    available_at=at,
                )
            )
            session.add(FeedToken(person_id=pid, selector=suffix, verifier_hash="h", revoked_at=at))
            session.add(
                ConversationRef(
                    person_id=pid,
                    channel_id="msteams",
                    conversation_id=suffix,
                    reference="{}",
                    active=False,
                    updated_at=at,
                )
            )
            session.add(
                ForwardedQuestion(
                    asker_id=pid,
                    region_code="halland",
                    language=Language.sv,
                    text="?",
                    created_at=at,
                )
            )
            session.add(FaqEvent(kind=FaqEventKind.unanswered, language=Language.sv, created_at=at))
            session.add(ExportLink(person_id=pid, token_hash=suffix, created_at=at, expires_at=at))
        long_ago = NOW - timedelta(days=400)  # but still in use: kept
        session.add_all(
            [
                OutboxMessage(person_id=pid, kind="t", dedupe_key="waiting", created_at=long_ago),
                FeedToken(person_id=pid, selector="live", verifier_hash="h", created_at=long_ago),
                ConversationRef(
                    person_id=pid,
                    channel_id="msteams",
                    conversation_id="live",
                    reference="{}",
                    updated_at=long_ago,
                ),
            ]
        )

    deleted = await sweep(db, now=NOW)

    assert deleted == {rule.key: 1 for rule in RULES}
    async with db.session(write_lock=False) as session:
        outbox = (await session.exec(select(OutboxMessage.dedupe_key))).all()
        tokens = (await session.exec(select(FeedToken.selector))).all()
        chats = (await session.exec(select(ConversationRef.conversation_id))).all()
        questions = (await session.exec(select(ForwardedQuestion.id))).all()
        events = (await session.exec(select(FaqEvent.id))).all()
        links = (await session.exec(select(ExportLink.token_hash))).all()
    assert sorted(outbox) == ["new", "waiting"]  # a message still waiting is never dropped
    assert sorted(tokens) == ["live", "new"]
    assert sorted(chats) == ["live", "new"]
    assert len(questions) == len(events) == 1
    assert links == ["new"]
