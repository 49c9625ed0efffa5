"""The welcome and help menu: one card per kind of person, by the roles they hold.

A BT doctor sees their courses, calendar and assessments; a handledare their BT doctors; a
koordinator or studierektor what running the region's BT needs (participants and attendance,
questions waiting for them, announcements). Someone holding several roles gets each role's
entries once, the coordinating ones first.
"""

from __future__ import annotations

from functools import cache

from btassist.common.language import Language
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Card, Element, card, heading, paragraph, submit
from btassist.dialogs.turn import Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import Role

# (role, menu label key, action) in the order they are shown.
ENTRIES: tuple[tuple[Role, str, a.Action], ...] = (
    (Role.coordinator, "menu.participants", a.Participants()),
    (Role.coordinator, "menu.questions", a.Reports()),
    (Role.coordinator, "menu.broadcast", a.Broadcast()),
    (Role.coordinator, "menu.catalogue", a.Courses()),
    (Role.doctor, "menu.courses", a.Courses()),
    (Role.doctor, "menu.my_courses", a.MyCourses()),
    (Role.doctor, "menu.calendar", a.Calendar()),
    (Role.doctor, "menu.assessments", a.Assessments()),
    (Role.supervisor, "menu.my_trainees", a.MyTrainees()),
    (Role.supervisor, "menu.calendar", a.Calendar()),
    (Role.doctor, "menu.ask", a.Ask()),
    (Role.supervisor, "menu.ask", a.Ask()),
    # Reach (issue 16)
    (Role.coordinator, "menu.unreachable", a.WhoIsUnreachable()),
    # the coordinator's desk (issue 15)
    (Role.coordinator, "menu.overview", a.Overview()),
)


def _holds(actor: Actor, role: Role) -> bool:
    if role is Role.coordinator:
        return actor.coordinates  # a studierektor runs BT as a koordinator does
    return role in actor.roles


def menu_buttons(actor: Actor) -> list[Element]:
    """The buttons this person's roles call for (each once), then the language switch."""
    seen: set[str] = set()
    buttons = []
    for role, label, action in ENTRIES:
        if _holds(actor, role) and label not in seen and action.allowed(actor.roles):
            seen.add(label)
            buttons.append(submit(t(label, actor.language), action))
    other = a.English() if actor.language is Language.sv else a.Swedish()
    buttons.append(submit(t("menu.language", actor.language), other))
    return buttons


def _welcome_key(actor: Actor) -> str:
    if actor.coordinates:
        return "welcome.body_coordinator"
    if Role.doctor in actor.roles:
        return "welcome.body"
    return "welcome.body_supervisor"


def menu_card(actor: Actor, *, welcome: bool = False, local_mode: bool = False) -> Card:
    """The menu, optionally with the welcome text shown on install."""
    if not welcome:
        return _plain_menu(actor.roles, actor.language)
    lang = actor.language
    body = [heading(t("menu.title", lang))]
    if welcome:
        first_name = actor.name.split(" ")[0]
        body = [
            heading(t("welcome.title", lang, name=first_name)),
            paragraph(t(_welcome_key(actor), lang)),
        ]
        if local_mode:
            body.append(paragraph(t("welcome.body_local", lang), subtle=True))
    return card(body, menu_buttons(actor))


@cache
def _plain_menu(roles: frozenset[Role], language: Language) -> Card:
    """The menu without a welcome depends on roles and language only: built once for each.
    (Cards are never changed after they are built; the transport copies what it sends.)"""
    someone = Actor(0, "", "", "", roles, language)
    return card([heading(t("menu.title", language))], menu_buttons(someone))


def menu_reply(actor: Actor, *, welcome: bool = False, local_mode: bool = False) -> Reply:
    """The menu as a reply."""
    return Reply(card=menu_card(actor, welcome=welcome, local_mode=local_mode))


def not_understood(actor: Actor, text: str) -> list[Reply]:
    """A friendly "I did not understand" with the menu."""
    return [
        Reply(text=t("not_understood", actor.language, text=text[:80])),
        Reply(card=menu_card(actor)),
    ]
