"""The intent table and the sv/en message catalogue."""

from __future__ import annotations

import pytest

from btassist.common.language import Language, language_for
from btassist.dialogs.intents import INTENTS, Intent, allowed, match_intent
from btassist.dialogs.menu import MENU_ORDER
from btassist.i18n.catalogue import catalogue, one_language_only, t
from btassist.roster.models import Role


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Hjälp", Intent.help),
        ("hjalp", Intent.help),
        ("HELP!", Intent.help),
        ("kurser", Intent.courses),
        ("kruser", Intent.courses),
        ("Courses", Intent.courses),
        ("mina kurser", Intent.my_courses),
        ("Visa mina kurser tack", Intent.my_courses),
        ("my courses", Intent.my_courses),
        ("kalendr", Intent.calendar),
        ("Mini-CEX", Intent.assessments),
        ("bedomningar", Intent.assessments),
        ("in English", Intent.english),
        ("english", Intent.english),
        ("på svenska", Intent.swedish),
        ("pa svenska", Intent.swedish),
        ("mina bt-lakare", Intent.my_trainees),
        ("Skicka meddelande", Intent.broadcast),
    ],
)
def test_typed_text_finds_its_intent(text: str, intent: Intent) -> None:
    assert match_intent(text) is intent


@pytest.mark.parametrize("text", ["", "bt", "vad är BT?", "lunch", "kurser i Lund 2027"])
def test_other_text_matches_nothing(text: str) -> None:
    assert match_intent(text) is None


def test_every_keyword_finds_its_own_intent() -> None:
    for intent, spec in INTENTS.items():
        for keyword in spec.keywords:
            assert match_intent(keyword) is intent, keyword


def test_role_restricted_intents() -> None:
    doctor = frozenset({Role.doctor})
    assert not allowed(Intent.my_trainees, doctor)
    assert allowed(Intent.my_trainees, frozenset({Role.supervisor}))
    assert allowed(Intent.reports, frozenset({Role.studierektor}))
    assert allowed(Intent.courses, doctor)


def test_every_message_exists_in_both_languages() -> None:
    assert catalogue()
    assert one_language_only() == {}


def test_every_menu_intent_has_a_label() -> None:
    for intent in MENU_ORDER:
        assert t(f"menu.{intent.value}", Language.sv)
        assert t(f"menu.{intent.value}", Language.en)


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
