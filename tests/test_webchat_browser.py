"""Microsoft's Web Chat in headless Chromium against `btassist serve --demo`, as a newcomer uses it.

Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the tests
skip, unless BTASSIST_REQUIRE_BROWSER=1 (set by `.ci/run`) makes a missing browser a failure.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from btassist.common.language import Language
from btassist.i18n.catalogue import t
from tests.support.browser import (
    ChatWindow,
    Served,
    chromium,
    course_title,
    missing_browser,
    serve_demo,
)

REQUIRE_BROWSER = os.environ.get("BTASSIST_REQUIRE_BROWSER") == "1"
SV = Language.sv


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The README's first command: `btassist serve --demo`, on a free port."""
    with serve_demo(tmp_path_factory.mktemp("serve-demo")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if (missing := missing_browser()) is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"BTASSIST_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with chromium() as driver:
        yield driver


def test_serve_demo_says_where_to_chat_and_as_whom_first(server: Served) -> None:
    printed = server.output.read_text()
    before_running = printed[: printed.index("Running on")]
    assert f"{server.url}/chat" in before_running
    assert re.search(r"BT-läkare\s+Amir Haddad\s+Region Halland\s+amir\.haddad@", before_running)
    assert re.search(r"koordinator\s+Sara Lindqvist\s+Region Halland", before_running)


def test_a_doctor_enrols_in_a_course_by_clicking(server: Served, browser: Any) -> None:
    title = course_title("halland-forsakringsmedicin")
    lukas = ChatWindow(browser, server, "lukas.novak@halland.example.org", new_window=False)
    chat = lukas.focus()
    chat.sees("Lukas", t("menu.courses", SV))  # greeted with the menu
    chat.says("kurser")
    chat.clicks(title)
    chat.clicks(t("session.enrol", SV, when="").strip())
    chat.sees(t("enrol.enrolled_title", SV, title=title))


def test_a_coordinators_answer_arrives_in_the_doctors_open_chat(
    server: Served, browser: Any
) -> None:
    question = "kan jag jobba deltid under BT?"
    answer = "Ja, 75 % går bra – BT förlängs i motsvarande grad."
    sara = ChatWindow(browser, server, "sara.lindqvist@halland.example.org", new_window=True)
    sara.focus().sees("Sara")  # greeted: the bot can reach her from now on
    amir = ChatWindow(browser, server, "amir.haddad@halland.example.org", new_window=True)

    doctor = amir.focus()
    doctor.sees("Amir")
    doctor.says(question)
    doctor.clicks(t("faq.ask_person", SV))
    doctor.sees(t("faq.forwarded", SV, names="Sara Lindqvist"))

    coordinator = sara.focus()
    coordinator.sees(t("faq.notice.question_title", SV), question)
    coordinator.clicks(t("faq.reply_button", SV))
    prompt = t("faq.reply_prompt", SV, name="Amir Haddad", question=question)
    coordinator.sees(prompt.split('"')[0])  # Web Chat's Markdown curls the straight quotes
    coordinator.says(answer)
    coordinator.sees(t("faq.reply_sent", SV, name="Amir Haddad"))

    amir.focus().sees(t("faq.notice.answer_title", SV), answer)
