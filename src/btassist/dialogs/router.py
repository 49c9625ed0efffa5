"""From a message or a card click to the flow that answers it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from btassist.dialogs.intents import Intent, allowed, match_intent
from btassist.dialogs.menu import menu_card, menu_reply
from btassist.dialogs.overview import contacts_for, my_contacts, my_placements, my_trainees
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import set_language
from btassist.roster.models import Language, Role

log = logging.getLogger(__name__)

Flow = Callable[[FlowContext, Asker], Awaitable[list[Reply]]]


async def _help(ctx: FlowContext, asker: Asker) -> list[Reply]:
    return [menu_reply(asker)]


def _switch_to(language: Language) -> Flow:
    async def switch(ctx: FlowContext, asker: Asker) -> list[Reply]:
        async with ctx.database.session() as session:
            await set_language(session, person_id=asker.person_id, language=language)
        now = asker.speaking(language)
        return [Reply(text=t("language.switched", language)), menu_reply(now)]

    return switch


def _not_yet(intent: Intent) -> Flow:
    """An honest answer for menu entries whose feature has not shipped yet, naming who to ask."""

    async def not_yet(ctx: FlowContext, asker: Asker) -> list[Reply]:
        lang = asker.language
        feature = t(f"menu.{intent.value}", lang)
        contacts = [
            c
            for c in await contacts_for(ctx.database, asker, ctx.today())
            if c.capacity in {Role.coordinator.value, Role.studierektor.value}
        ]
        if not contacts:
            return [Reply(text=t("feature.unavailable_no_contacts", lang, feature=feature))]
        names = ", ".join(f"{c.name} ({c.email})" for c in contacts)
        return [Reply(text=t("feature.unavailable", lang, feature=feature, contacts=names))]

    return not_yet


FLOWS: dict[Intent, Flow] = {
    Intent.help: _help,
    Intent.courses: _not_yet(Intent.courses),
    Intent.my_courses: _not_yet(Intent.my_courses),
    Intent.calendar: my_placements,
    Intent.assessments: _not_yet(Intent.assessments),
    Intent.ask: my_contacts,
    Intent.my_trainees: my_trainees,
    Intent.broadcast: _not_yet(Intent.broadcast),
    Intent.reports: _not_yet(Intent.reports),
    Intent.english: _switch_to(Language.en),
    Intent.swedish: _switch_to(Language.sv),
}


def intent_of(message: Message) -> Intent | None:
    """A clicked button's verb, else what the typed text asks for."""
    if message.verb:
        try:
            return Intent(message.verb)
        except ValueError:
            return None
    return match_intent(message.text)


async def respond(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """The replies to one message from a roster person."""
    intent = intent_of(message)
    if intent is None or not allowed(intent, asker.roles):
        return not_understood(asker, message)
    log.info("intent %s", intent.value)
    return await FLOWS[intent](ctx, asker)


def not_understood(asker: Asker, message: Message) -> list[Reply]:
    """A friendly "I did not understand" with the menu."""
    shown = message.text.strip()[:80] or (message.verb or "")
    return [
        Reply(text=t("not_understood", asker.language, text=shown)),
        Reply(card=menu_card(asker)),
    ]
