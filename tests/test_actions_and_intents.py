"""Typed actions (button data), the intent table, menus and the sv/en message catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from btassist.common.language import Language, language_for
from btassist.common.text import fold
from btassist.dialogs import actions as a
from btassist.dialogs.intents import INTENTS, match_intent, understand
from btassist.dialogs.menu import ENTRIES, menu_buttons
from btassist.dialogs.router import HANDLERS
from btassist.i18n.catalogue import catalogue, one_language_only, t
from btassist.outbox.notices import NoticeKind, parse_notice, registered
from btassist.roster.identity import Actor
from btassist.roster.models import Role


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Hjälp", a.Help),
        ("hjalp", a.Help),
        ("HELP!", a.Help),
        ("kurser", a.Courses),
        ("kruser", a.Courses),
        ("Courses", a.Courses),
        ("mina kurser", a.MyCourses),
        ("Visa mina kurser tack", a.MyCourses),
        ("my courses", a.MyCourses),
        ("kalendr", a.Calendar),
        ("Mini-CEX", a.Assessments),
        ("bedomningar", a.Assessments),
        ("in English", a.English),
        ("english", a.English),
        ("på svenska", a.Swedish),
        ("pa svenska", a.Swedish),
        ("mina bt-lakare", a.MyTrainees),
        ("Skicka meddelande", a.Broadcast),
        ("Ny kalenderlänk", a.NewCalendarLink),
        ("ny kalenderlank tack", a.NewCalendarLink),
        ("new calendar link", a.NewCalendarLink),
        ("kalenderlänk", a.Calendar),
    ],
)
def test_typed_text_finds_its_action(text: str, action: type[a.Action]) -> None:
    assert type(match_intent(text)) is action


@pytest.mark.parametrize(
    "text", ["", "bt", "vad är BT?", "lunch", "kurser i Lund 2027", "ny länk", "new links"]
)
def test_other_text_matches_nothing(text: str) -> None:
    """Near-misses of "ny kalenderlänk" must not even reach its confirmation."""
    assert match_intent(text) is None


def test_every_keyword_finds_its_own_action() -> None:
    for spec in INTENTS:
        for keyword in spec.keywords:
            found = match_intent(keyword)
            assert type(found) is type(spec.action()), keyword


def test_commands_carry_their_argument() -> None:
    assert understand("deltagare försäkringsmedicin") == a.Participants(query="försäkringsmedicin")
    assert understand("kurs stas") == a.ShowCourse(query="stas")


def test_role_restricted_actions() -> None:
    doctor = frozenset({Role.doctor})
    assert not a.MyTrainees().allowed(doctor)
    assert a.MyTrainees().allowed(frozenset({Role.supervisor}))
    assert a.Reports().allowed(frozenset({Role.studierektor}))
    assert a.Courses().allowed(doctor)
    assert not a.Enrol(session_id=1).allowed(frozenset({Role.coordinator}))


@pytest.mark.parametrize(
    "data",
    [
        {"verb": "enrol", "session_id": "abc"},  # a string where an id belongs
        {"verb": "enrol", "session_id": 10**30},  # too large for any integer column
        {"verb": "enrol", "session_id": 2**31},  # one past PostgreSQL's integer
        {"verb": "enrol", "session_id": -3},
        {"verb": "enrol"},  # a missing field
        {"verb": "faq_reply", "question_id": 10**30},
        {"verb": "faq_topic", "entry": "x" * 500},
        {"verb": "faq_topic", "entry": "'; drop table"},
        {"verb": "attendance", "session_id": 1, "present_abc": "true"},
        {"verb": "sign_up", "session_id": 1},  # a verb from an older release
        {"session_id": 1},
        {"verb": None},
        {"verb": "confirm", "nonce": "zz"},
    ],
)
def test_tampered_button_data_parses_to_nothing(data: dict[str, Any]) -> None:
    assert a.parse_action(data) is None


def test_button_data_round_trips() -> None:
    for action in (
        a.Enrol(session_id=7, confirmed=True),
        a.SaveAttendance(session_id=3, present=[4, 5]),
        a.FaqVote(entry="bt-what", helpful=False, q="vad är bt"),
        a.Confirm(nonce="0123456789ab"),
    ):
        assert a.parse_action(action.data()) == action


def test_attendance_toggles_become_ids() -> None:
    parsed = a.parse_action(
        {"verb": "attendance", "session_id": 9, "present_3": "true", "present_4": "false"}
    )
    assert parsed == a.SaveAttendance(session_id=9, present=[3])


def test_every_action_has_a_flow() -> None:
    every = set(a.Action.__subclasses__())
    assert every - set(HANDLERS) == {a.Confirm, a.Cancel}  # the router's own


def test_every_notice_kind_has_a_model_and_a_renderer() -> None:
    from btassist.dialogs.notices import RENDERERS

    assert set(registered()) == set(NoticeKind) == set(RENDERERS)
    assert parse_notice("waitlist_promoted", {"session_id": 5}) is not None
    assert parse_notice("waitlist_promoted", {"session_id": "x"}) is None
    assert parse_notice("no_such_kind", {}) is None


def test_every_message_exists_in_both_languages() -> None:
    assert catalogue()
    assert one_language_only() == {}


def _actor(*roles: Role, language: Language = Language.sv) -> Actor:
    return Actor(1, "Test Person", "t@example.org", "halland", frozenset(roles), language)


def test_menus_follow_roles_and_every_entry_has_a_label() -> None:
    for _, label, _ in ENTRIES:
        assert t(label, Language.sv)
        assert t(label, Language.en)
    doctor = {b["title"] for b in menu_buttons(_actor(Role.doctor))}
    supervisor = {b["title"] for b in menu_buttons(_actor(Role.supervisor))}
    coordinator = {b["title"] for b in menu_buttons(_actor(Role.coordinator))}
    studierektor = {b["title"] for b in menu_buttons(_actor(Role.studierektor))}
    assert {"Kurser", "Mina kurser", "Bedömningar"} <= doctor
    assert "Mina BT-läkare" in supervisor
    assert "Mina kurser" not in supervisor
    assert {"Deltagare och närvaro", "Frågor att besvara", "Skicka meddelande"} <= coordinator
    assert "Mina kurser" not in coordinator
    assert "Bedömningar" not in coordinator
    assert studierektor == coordinator
    both = [b["title"] for b in menu_buttons(_actor(Role.doctor, Role.supervisor))]
    assert len(both) == len(set(both))  # each entry once


def test_names_fold_whatever_their_diacritics() -> None:
    assert fold("Lukas Novák") == "lukas novak"
    assert fold("Försäkringsmedicin") == "forsakringsmedicin"
    assert fold("Çelik Müller-Øberg") == "celik muller-oberg"


@pytest.mark.parametrize(
    ("preferred", "locale", "expected"),
    [
        (None, "sv-SE", Language.sv),
        (None, "sv-FI", Language.sv),
        (None, "en-US", Language.en),
        (None, "de-DE", Language.en),
        (None, None, Language.sv),
        (Language.en, "sv-SE", Language.en),
        (Language.sv, "en-US", Language.sv),
    ],
)
def test_language_choice(
    preferred: Language | None, locale: str | None, expected: Language
) -> None:
    assert language_for(preferred, locale) is expected
