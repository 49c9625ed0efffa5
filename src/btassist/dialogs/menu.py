"""The welcome and help menu: one card whose buttons depend on the person's roles."""

from __future__ import annotations

from btassist.common.language import Language
from btassist.dialogs.cards import Card, card, heading, paragraph, submit
from btassist.dialogs.intents import Intent, allowed
from btassist.dialogs.turn import Asker, Reply
from btassist.i18n.catalogue import t

MENU_ORDER = (
    Intent.courses,
    Intent.my_courses,
    Intent.calendar,
    Intent.assessments,
    Intent.ask,
    Intent.my_trainees,
    Intent.broadcast,
    Intent.reports,
)


def menu_buttons(asker: Asker) -> list[dict[str, object]]:
    """The buttons this person may use, then the language switch."""
    buttons = [
        submit(t(f"menu.{intent.value}", asker.language), intent.value)
        for intent in MENU_ORDER
        if allowed(intent, asker.roles)
    ]
    other = Intent.english if asker.language is Language.sv else Intent.swedish
    buttons.append(submit(t("menu.language", asker.language), other.value))
    return buttons


def menu_card(asker: Asker, *, welcome: bool = False, local_mode: bool = False) -> Card:
    """The menu, optionally with the welcome text shown on install."""
    lang = asker.language
    body = [heading(t("menu.title", lang))]
    if welcome:
        first_name = asker.name.split(" ")[0]
        body = [
            heading(t("welcome.title", lang, name=first_name)),
            paragraph(t("welcome.body", lang)),
        ]
        if local_mode:
            body.append(paragraph(t("welcome.body_local", lang), subtle=True))
    return card(body, menu_buttons(asker))


def menu_reply(asker: Asker, *, welcome: bool = False, local_mode: bool = False) -> Reply:
    """The menu as a reply."""
    return Reply(card=menu_card(asker, welcome=welcome, local_mode=local_mode))
