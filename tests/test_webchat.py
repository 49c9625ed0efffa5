"""The browser chat's server side, driven as Web Chat drives it: the /chat pages, the local
Direct Line (start, post, poll with a watermark) and everything the bot sends landing in it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from btassist.app import DATABASE, RUNTIME, app_factory, listening_url
from btassist.common.language import Language
from btassist.dialogs.turn import Reply
from btassist.i18n.catalogue import t
from btassist.localchat.client import cards_of
from btassist.localchat.connector import LocalConnector
from btassist.localchat.loopback import serving
from btassist.roster.identity import find_person
from btassist.webchat.directline import CARD_KEY, EXECUTE_KEY, DirectLine, for_webchat
from tests.support.bot import AMIR, SARA, local_settings
from tests.support.databases import fresh_sqlite

CONFIG = re.compile(r'<script id="btassist-chat" type="application/json">(.*?)</script>', re.S)


@dataclass
class WebChat:
    """What Web Chat does over Direct Line, step by step, for one person."""

    base: str
    http: aiohttp.ClientSession
    config: dict[str, Any]
    conversation_id: str = ""
    watermark: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config['token']}"}

    def url(self, path: str) -> str:
        return f"{self.base}{self.config['domain']}{path}"

    async def start(self) -> None:
        async with self.http.post(
            self.url("/conversations"),
            json={"user": {"id": self.config["userID"]}},
            headers=self.headers,
        ) as response:
            assert response.status == 201, await response.text()
            self.conversation_id = (await response.json())["conversationId"]

    async def post(self, **activity: Any) -> str:
        body = {
            "type": "message",
            "from": {"id": self.config["userID"], "name": self.config["username"], "role": "user"},
            "locale": self.config["locale"],
            **activity,
        }
        async with self.http.post(
            self.url(f"/conversations/{self.conversation_id}/activities"),
            json=body,
            headers=self.headers,
        ) as response:
            assert response.status == 200, await response.text()
            activity_id: str = (await response.json())["id"]
            return activity_id

    async def poll(self) -> list[dict[str, Any]]:
        """One poll: what came after the watermark (which moves on)."""
        async with self.http.get(
            self.url(f"/conversations/{self.conversation_id}/activities"),
            params={"watermark": self.watermark},
            headers=self.headers,
        ) as response:
            assert response.status == 200, await response.text()
            answer = await response.json()
        self.watermark = answer["watermark"]
        activities: list[dict[str, Any]] = answer["activities"]
        return activities


@dataclass
class LocalApp:
    url: str
    app: Any
    http: aiohttp.ClientSession

    async def open_chat(self, email: str, lang: str = "sv") -> WebChat:
        async with self.http.get(f"{self.url}/chat", params={"as": email, "lang": lang}) as page:
            assert page.status == 200
            html = await page.text()
        match = CONFIG.search(html)
        assert match, html
        chat = WebChat(self.url, self.http, json.loads(match.group(1)))
        await chat.start()
        return chat


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the channel is the same whichever database the bot uses."""
    return fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
async def local_app(db_url: str) -> AsyncIterator[LocalApp]:
    """`btassist serve --demo` in local mode on a loopback port, and an HTTP client."""
    app = app_factory(local_settings(db_url, outbox_interval=0), demo=True)
    async with serving(app) as url, aiohttp.ClientSession() as http:
        yield LocalApp(url, app, http)


def texts(activities: list[dict[str, Any]]) -> str:
    """Every text and card text block shown, joined."""
    parts = []
    for activity in activities:
        parts.append(activity.get("text") or "")
        parts.append(json.dumps(cards_of(activity), ensure_ascii=False))
    return "\n".join(parts)


def buttons(activity: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button of the activity's cards by title: rows in the body, then card actions."""
    found: dict[str, dict[str, Any]] = {}

    def walk(element: Any) -> None:
        if isinstance(element, list):
            for part in element:
                walk(part)
        elif isinstance(element, dict):
            if element.get("type") == "ActionSet":
                found.update({a["title"]: a for a in element.get("actions", [])})
            for key in ("body", "items", "columns"):
                walk(element.get(key))

    for card in cards_of(activity):
        walk(card)
        found.update({a["title"]: a for a in card.get("actions", [])})
    return found


async def test_opening_the_chat_installs_the_bot_and_shows_its_welcome(
    local_app: LocalApp,
) -> None:
    chat = await local_app.open_chat(AMIR.email)
    shown = await chat.poll()
    assert chat.conversation_id == AMIR.conversation_id
    assert "Hej Amir! Jag är BT-assistenten." in texts(shown)
    assert {a["from"]["role"] for a in shown} == {"bot"}
    assert await chat.poll() == []  # the watermark moved past them

    again = await local_app.open_chat(AMIR.email)  # a second tab: the same chat, its history
    assert [a["id"] for a in await again.poll()] == [a["id"] for a in shown]
    assert await chat.poll() == []  # and no second installation


async def test_a_message_is_echoed_then_answered_in_order(local_app: LocalApp) -> None:
    chat = await local_app.open_chat(AMIR.email)
    await chat.poll()
    posted = await chat.post(text="hjälp", channelData={"clientActivityID": "c-1"})
    echo, *answers = await chat.poll()
    assert (echo["id"], echo["from"]["role"], echo["text"]) == (posted, "user", "hjälp")
    assert echo["channelData"]["clientActivityID"] == "c-1"  # what Web Chat waits for
    assert answers
    assert all(a["replyToId"] == posted for a in answers)
    assert t("menu.title", Language.sv) in texts(answers)
    stamps = [echo["timestamp"], *(a["timestamp"] for a in answers)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


async def test_clicks_reach_the_bot_as_teams_sends_them_and_cards_update_in_place(
    local_app: LocalApp,
) -> None:
    chat = await local_app.open_chat(AMIR.email)
    await chat.poll()
    posted = {await chat.post(text="kurser")}
    [listing] = [a for a in await chat.poll() if a["from"]["role"] == "bot"]
    title = "Försäkringsmedicin AT/BT"  # from the Halland course catalogue
    course = buttons(listing)[title]
    assert course["data"][CARD_KEY] == listing["id"]

    # An Action.Submit: a postBack with the card's id, which the bot gets as replyToId.
    posted.add(await chat.post(value=course["data"], channelData={"postBack": True}))
    [card] = [a for a in await chat.poll() if a["from"]["role"] == "bot"]
    assert (card["id"], card["timestamp"]) == (listing["id"], listing["timestamp"])  # in place
    enrol = next(b for name, b in buttons(card).items() if name.startswith("Anmäl"))
    assert enrol["type"] == "Action.Submit"  # Web Chat runs Submits only
    assert enrol["data"][CARD_KEY] == card["id"]
    assert enrol["data"][EXECUTE_KEY]["verb"]  # ...so the Execute's verb travels in its data

    # An Action.Execute: the bot gets an adaptiveCard/action invoke; its card takes the place.
    posted.add(await chat.post(value=enrol["data"], channelData={"postBack": True}))
    shown = await chat.poll()
    [confirmation] = [a for a in shown if a["from"]["role"] == "bot" and a["id"] == card["id"]]
    assert confirmation["timestamp"] == listing["timestamp"]
    assert t("enrol.enrolled_title", Language.sv, title=title) in texts([confirmation])
    # A reply to the invoke, which Web Chat never sees, would be held back waiting for it.
    assert {a.get("replyToId") for a in shown if a["from"]["role"] == "bot"} <= {None, *posted}


async def test_a_proactive_message_lands_in_the_open_chat(local_app: LocalApp) -> None:
    chat = await local_app.open_chat(AMIR.email)
    await chat.poll()
    async with local_app.app[DATABASE].session() as session:
        amir = await find_person(session, email=AMIR.email)
    assert amir is not None
    assert amir.person.id is not None
    outcome = await local_app.app[RUNTIME].sender.send_to_person(
        amir.person.id, Reply(text="Påminnelse!")
    )
    assert outcome.delivered
    [notice] = await chat.poll()
    assert (notice["text"], notice["from"]["role"]) == ("Påminnelse!", "bot")


async def test_tokens_open_only_their_own_conversation(local_app: LocalApp) -> None:
    amir = await local_app.open_chat(AMIR.email)
    sara = await local_app.open_chat(SARA.email)
    stolen = WebChat(local_app.url, local_app.http, amir.config, SARA.conversation_id)
    with pytest.raises(AssertionError, match="unknown token"):
        await stolen.poll()
    forged = WebChat(local_app.url, local_app.http, {**sara.config, "token": "forged"})
    with pytest.raises(AssertionError, match="201"):
        await forged.start()


async def test_the_picker_lists_the_roster_by_role_and_region(local_app: LocalApp) -> None:
    async with local_app.http.get(f"{local_app.url}/chat") as response:
        page = await response.text()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == [t(f"role.{r}", Language.sv) for r in ("doctor", "supervisor")] + [
        t("role.coordinator", Language.sv),
        t("role.studierektor", Language.sv),
    ]
    assert page.index("Fatima Rahimi") < page.index("Amir Haddad") < page.index("Karin Holm")
    assert 'href="/chat?as=amir.haddad%40halland.example.org&amp;lang=sv"' in page
    async with local_app.http.get(f"{local_app.url}/chat", params={"lang": "en"}) as response:
        assert t("webchat.pick", Language.en) in await response.text()


async def test_the_vendored_web_chat_is_served_with_its_licence(local_app: LocalApp) -> None:
    async with local_app.http.get(f"{local_app.url}/chat/static/webchat.js") as bundle:
        assert bundle.status == 200
        assert len(await bundle.read()) > 1_000_000
    async with local_app.http.get(f"{local_app.url}/chat/static/LICENSE") as licence:
        assert "MIT License" in await licence.text()


async def test_links_use_the_address_actually_serving(local_app: LocalApp) -> None:
    chat = await local_app.open_chat(AMIR.email)
    await chat.poll()
    await chat.post(text="kalender")
    assert f"{local_app.url}/calendar/" in texts(await chat.poll())


async def test_an_explicit_public_url_wins_for_links(db_url: str) -> None:
    settings = local_settings(db_url, public_url="https://bt.example.org")
    async with serving(app_factory(settings, demo=True)) as url, aiohttp.ClientSession() as http:
        chat = await LocalApp(url, None, http).open_chat(AMIR.email)
        await chat.poll()
        await chat.post(text="kalender")
        shown = texts(await chat.poll())
    assert "https://bt.example.org/calendar/" in shown
    assert url not in shown


@pytest.mark.parametrize("path", ["/chat", "/chat/static/webchat.js"])
async def test_nothing_of_the_local_chat_is_served_with_an_app_id(db_url: str, path: str) -> None:
    settings = local_settings(db_url, APP_ID="00000000-0000-0000-0000-000000000001")
    async with serving(app_factory(settings)) as url, aiohttp.ClientSession() as http:
        async with http.get(url + path) as page:
            assert page.status == 404
        for route in ("/v3/directline/conversations", "/v3/conversations/a:x/activities"):
            async with http.post(url + route, json={}) as response:
                assert response.status == 404


def test_listening_urls_name_a_host_a_browser_can_open() -> None:
    assert listening_url("127.0.0.1", 3978) == "http://127.0.0.1:3978"
    assert listening_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert listening_url("::1", 3978) == "http://[::1]:3978"


def test_execute_buttons_anywhere_in_a_card_become_submits_carrying_the_card() -> None:
    execute = {"type": "Action.Execute", "title": "Anmäl", "verb": "enrol", "data": {"id": 7}}
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "ActionSet", "actions": [execute]},
            {"type": "Container", "selectAction": {"type": "Action.Submit", "data": {"a": 1}}},
        ],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Länk", "url": "https://example.org"},
            {"type": "Action.ShowCard", "title": "Mer", "card": {"actions": [execute]}},
            {"type": "Action.Submit", "title": "Text", "data": "hej"},
        ],
    }
    shown = for_webchat(card, "activity-9")
    wanted = {
        "type": "Action.Submit",
        "title": "Anmäl",
        "data": {CARD_KEY: "activity-9", EXECUTE_KEY: {"verb": "enrol", "data": {"id": 7}}},
    }
    assert shown["body"][0]["actions"] == [wanted]
    assert shown["body"][1]["selectAction"]["data"] == {"a": 1, CARD_KEY: "activity-9"}
    assert shown["actions"][0] == card["actions"][0]
    assert shown["actions"][1]["card"]["actions"] == [wanted]
    assert shown["actions"][2] == card["actions"][2]  # a text Submit is typed text: left alone


async def test_a_click_reaches_the_bot_as_teams_sends_it_inputs_included() -> None:
    connector = LocalConnector()
    connector.base_url = "http://127.0.0.1:9"
    line = DirectLine(connector)
    async with aiohttp.ClientSession() as http:
        line.attach(bot_url=connector.base_url, http=http)
        execute = {"verb": "attendance", "data": {"verb": "attendance", "session_id": 4}}
        # Web Chat merges the card's inputs (a toggle here) into the Submit's data.
        clicked = {CARD_KEY: "activity-3", EXECUTE_KEY: execute, "present_12": "true"}
        invoke = line.teams_activity(AMIR, {"type": "message", "value": clicked}, "webchat-7")
        submitted = line.teams_activity(
            AMIR, {"type": "message", "value": {"verb": "courses", CARD_KEY: "activity-3"}}, "w-8"
        )
    assert invoke["type"] == "invoke"
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["value"]["action"] == {
        "type": "Action.Execute",
        "verb": "attendance",
        "data": {"verb": "attendance", "session_id": 4, "present_12": "true"},
    }
    assert (invoke["id"], invoke["replyToId"]) == ("webchat-7", "activity-3")
    assert (submitted["type"], submitted["value"]) == ("message", {"verb": "courses"})
    assert submitted["replyToId"] == "activity-3"
    for sent in (invoke, submitted):
        assert sent["from"]["aadObjectId"] == AMIR.aad_object_id
        assert sent["channelData"] == {"tenant": {"id": AMIR.tenant_id}}
        assert sent["conversation"]["conversationType"] == "personal"
        assert sent["serviceUrl"] == connector.url
