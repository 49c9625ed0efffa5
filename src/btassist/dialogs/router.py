"""From a message or a card click to the flow that answers it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from btassist.common.language import Language
from btassist.dialogs import calendar, courses, faq, participants
from btassist.dialogs.intents import Intent, allowed, match_command, match_intent
from btassist.dialogs.menu import menu_card, menu_reply
from btassist.dialogs.overview import contacts_for, my_contacts, my_trainees
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import set_language
from btassist.roster.models import Role

log = logging.getLogger(__name__)

Flow = Callable[[FlowContext, Asker, Message], Awaitable[list[Reply]]]
SimpleFlow = Callable[[FlowContext, Asker], Awaitable[list[Reply]]]


def _ignoring_message(flow: SimpleFlow) -> Flow:
    async def run(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
        return await flow(ctx, asker)

    return run


async def _help(ctx: FlowContext, asker: Asker) -> list[Reply]:
    return [menu_reply(asker)]


def _switch_to(language: Language) -> SimpleFlow:
    async def switch(ctx: FlowContext, asker: Asker) -> list[Reply]:
        async with ctx.database.session() as session:
            await set_language(session, person_id=asker.person_id, language=language)
        now = asker.speaking(language)
        return [Reply(text=t("language.switched", language)), menu_reply(now)]

    return switch


def _not_yet(intent: Intent) -> SimpleFlow:
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
    Intent.help: _ignoring_message(_help),
    Intent.courses: courses.list_courses,
    Intent.my_courses: courses.my_courses,
    Intent.course: courses.show_course,
    Intent.enrol: courses.enrol_in_session,
    Intent.withdraw: courses.withdraw_from_session,
    Intent.report_done: courses.report_done,
    Intent.participants: participants.show_participants,
    Intent.attendance_form: participants.attendance_form,
    Intent.attendance: participants.save_attendance,
    Intent.calendar: calendar.show_calendar,
    Intent.calendar_link: calendar.new_calendar_link,
    Intent.assessments: _ignoring_message(_not_yet(Intent.assessments)),
    Intent.ask: _ignoring_message(my_contacts),
    Intent.my_trainees: _ignoring_message(my_trainees),
    Intent.broadcast: _ignoring_message(_not_yet(Intent.broadcast)),
    Intent.reports: faq.reports,
    Intent.faq_topic: faq.show_topic,
    Intent.faq_vote: faq.vote,
    Intent.faq_forward: faq.forward,
    Intent.faq_reply: faq.start_reply,
    Intent.english: _ignoring_message(_switch_to(Language.en)),
    Intent.swedish: _ignoring_message(_switch_to(Language.sv)),
}


def route(message: Message) -> tuple[Intent, Message] | None:
    """The intent a message asks for: a clicked button's verb, a command, or typed words."""
    if message.verb:
        try:
            return Intent(message.verb), message
        except ValueError:
            return None
    intent = match_intent(message.text)
    if intent is not None:
        return intent, message
    command = match_command(message.text)
    if command is not None:
        intent, argument = command
        return intent, Message(text=message.text, data={"query": argument})
    return None


async def respond(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """The replies to one message from a roster person."""
    replying = await faq.continue_reply(ctx, asker, message)
    if replying is not None:  # a coordinator's answer to a forwarded question
        return replying
    routed = route(message)
    if routed is None and not message.verb and message.text.strip():
        answered = await faq.answer_question(ctx, asker, message)
        if answered is not None:
            return answered
    if routed is None or not allowed(routed[0], asker.roles):
        return not_understood(asker, message)
    intent, message = routed
    log.info("intent %s", intent.value)
    return await FLOWS[intent](ctx, asker, message)


def not_understood(asker: Asker, message: Message) -> list[Reply]:
    """A friendly "I did not understand" with the menu."""
    shown = message.text.strip()[:80] or (message.verb or "")
    return [
        Reply(text=t("not_understood", asker.language, text=shown)),
        Reply(card=menu_card(asker)),
    ]
