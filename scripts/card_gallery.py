"""The card gallery: every kind of card the bot sends, as Web Chat shows it, in docs/cards/*.png.

Runs `btassist serve --demo` on a free loopback port with a fresh SQLite file, opens the demo
people in headless Debian Chromium (`apt-get install chromium chromium-driver`, and the test
extras for Selenium) and clicks through the bot like a person would: menu, course list, course,
enrolment, waitlist, calendar, FAQ answer and "not sure", a forwarded question and its answer,
a waitlist promotion, participants and attendance. Re-run it whenever a card changes:

    .venv/bin/python scripts/card_gallery.py [--out docs/cards]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support: the browser helpers the browser test uses too

from tests.support.browser import (  # noqa: E402
    ChatView,
    ChatWindow,
    chromium,
    course_title,
    missing_browser,
    serve_demo,
)

from btassist.common.language import Language  # noqa: E402
from btassist.i18n.catalogue import t  # noqa: E402

SV, EN = Language.sv, Language.en
AMIR = "amir.haddad@halland.example.org"
LUKAS = "lukas.novak@halland.example.org"
ELENA = "elena.petrova@halland.example.org"
SARA = "sara.lindqvist@halland.example.org"
INSURANCE = "halland-forsakringsmedicin"
THEME_DAY = "halland-temadag-vald-i-nara-relationer"  # two seats in the demo: easy to fill
QUESTION = "kan jag jobba deltid under BT?"
ANSWER = "Ja, 75 % går bra – BT förlängs i motsvarande grad. Hör av dig om schemat."


class Gallery:
    """Screenshots of single messages, numbered in the order they were taken."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.taken: list[Path] = []

    def take(self, view: ChatView, name: str, showing: str) -> None:
        path = self.out / f"{len(self.taken) + 1:02d}-{name}.png"
        view.message_showing(showing).screenshot(str(path))
        self.taken.append(path)


def enrol(view: ChatView, title: str, courses: str, enrol_button: str) -> None:
    view.says(courses)
    view.clicks(title)
    view.clicks(enrol_button)


def run(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    gallery = Gallery(out)
    insurance, theme_day = course_title(INSURANCE), course_title(THEME_DAY)
    enrol_sv = t("session.enrol", SV, when="").strip()
    with (
        tempfile.TemporaryDirectory() as home,
        serve_demo(Path(home)) as served,
        chromium(height=1400) as driver,
    ):
        sara = ChatWindow(driver, served, SARA, new_window=False)
        sara.focus().sees("Sara")
        # Fill the theme day's two seats, so Amir lands on its waitlist.
        lukas = ChatWindow(driver, served, LUKAS, new_window=True)
        enrol(lukas.focus(), theme_day, "kurser", enrol_sv)
        lukas.focus().sees(t("enrol.enrolled_title", SV, title=theme_day))
        elena = ChatWindow(driver, served, ELENA, lang="en", new_window=True)
        theme_en = course_title(THEME_DAY, "en")
        enrol(elena.focus(), theme_en, "courses", t("session.enrol", EN, when="").strip())
        elena.focus().sees(theme_en, t("enrol.withdraw", EN))  # (Markdown curls the apostrophe)

        amir = ChatWindow(driver, served, AMIR, new_window=True)
        doctor = amir.focus()
        gallery.take(doctor, "menu", t("menu.courses", SV))
        doctor.says("kurser")
        gallery.take(doctor, "course-list", t("courses.title", SV))
        doctor.clicks(insurance)
        gallery.take(doctor, "course", enrol_sv)
        doctor.clicks(enrol_sv)
        gallery.take(doctor, "enrolled", t("enrol.enrolled_title", SV, title=insurance))
        doctor.says("kurser")
        doctor.clicks(theme_day)
        doctor.clicks(t("session.queue", SV, when="").strip())
        waitlisted = t("enrol.waitlisted_title", SV, title=theme_day, position=1)
        gallery.take(doctor, "waitlist", waitlisted)
        doctor.says("kalender")
        gallery.take(doctor, "calendar", t("calendar.title", SV, start="", end="").split()[0])
        doctor.says("hur ser placeringarna ut i halmstad?")
        gallery.take(doctor, "faq-answer", t("faq.helpful", SV))
        doctor.says(QUESTION)
        gallery.take(doctor, "faq-unsure", t("faq.ask_person", SV))
        doctor.clicks(t("faq.ask_person", SV))
        doctor.sees(t("faq.forwarded", SV, names="Sara Lindqvist"))

        coordinator = sara.focus()
        gallery.take(coordinator, "question-notice", t("faq.notice.question_title", SV))
        coordinator.clicks(t("faq.reply_button", SV))
        coordinator.says(ANSWER)
        coordinator.sees(t("faq.reply_sent", SV, name="Amir Haddad"))
        gallery.take(amir.focus(), "answer-notice", t("faq.notice.answer_title", SV))

        # Lukas withdraws from the theme day: Amir moves up from the waitlist and is told.
        withdrawing = lukas.focus()
        withdrawing.says("mina kurser")
        withdrawing.clicks(t("enrol.withdraw", SV))
        promoted = t("notice.waitlist_promoted", SV, title=theme_day, when="").split(" – ")[0]
        gallery.take(amir.focus(), "waitlist-promoted", promoted.split("!")[0])

        coordinator = sara.focus()
        coordinator.says(f"deltagare {insurance}")
        gallery.take(coordinator, "participants", t("participants.enrolled", SV))
        coordinator.clicks(t("participants.attendance", SV, when="").strip())
        gallery.take(coordinator, "attendance", t("attendance.save", SV))
    return gallery.taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "cards")
    arguments = parser.parse_args()
    if (missing := missing_browser()) is not None:
        print(f"cannot render the gallery: {missing}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    taken = run(arguments.out)
    for path in taken:
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    print(f"{len(taken)} cards in {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
