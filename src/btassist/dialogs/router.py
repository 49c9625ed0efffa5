"""From a message or a card click to the action it asks for, and to the flow that answers it.

One path for everything a person sends: a click is parsed into its typed action (bad data is
"this button is out of date", never an exception); typed text first continues whatever the bot
waits for (conversation state), else is read as a request (dialogs/requests.py: the intent
table, then one-sentence requests), else goes to the FAQ.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from btassist.common.language import Language
from btassist.conversations import usecases as conversations
from btassist.conversations.state import Waiting
from btassist.dialogs import actions as a
from btassist.dialogs import (
    assessments,
    broadcast,
    calendar,
    cohort,
    confirm,
    courses,
    downloads,
    faq,
    overview,
    participants,
    privacy,
    reach,
    reminders,
    requests,
    uploads,
)
from btassist.dialogs.intents import CANCEL_WORDS, YES_WORDS, says
from btassist.dialogs.menu import menu_card, menu_reply, not_understood
from btassist.dialogs.turn import FlowContext, Message, Reply
from btassist.faq.usecases import REPLY_FLOW
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor, switch_language

log = logging.getLogger(__name__)

Handler = Callable[[FlowContext, Actor, Any], Awaitable[list[Reply]]]
Step = Callable[[FlowContext, Actor, Waiting, str], Awaitable[list[Reply]]]


async def _help(ctx: FlowContext, actor: Actor, action: a.Help) -> list[Reply]:
    return [menu_reply(actor)]


async def _english(ctx: FlowContext, actor: Actor, action: a.English) -> list[Reply]:
    return await _switch(ctx, actor, Language.en)


async def _swedish(ctx: FlowContext, actor: Actor, action: a.Swedish) -> list[Reply]:
    return await _switch(ctx, actor, Language.sv)


async def _switch(ctx: FlowContext, actor: Actor, language: Language) -> list[Reply]:
    await switch_language(ctx.database, person_id=actor.person_id, language=language)
    now = actor.speaking(language)
    return [Reply(text=t("language.switched", language)), menu_reply(now)]


HANDLERS: dict[type[a.Action], Handler] = {
    a.Help: _help,
    a.Courses: courses.list_courses,
    a.MyCourses: courses.my_courses,
    a.ShowCourse: courses.show_course,
    a.Enrol: courses.enrol_in_session,
    a.Withdraw: courses.withdraw_from_session,
    a.ReportDone: courses.report_done,
    a.Participants: participants.show_participants,
    a.AttendanceForm: participants.attendance_form,
    a.SaveAttendance: participants.save_attendance,
    a.Calendar: calendar.show_calendar,
    a.NewCalendarLink: calendar.new_calendar_link,
    a.Assessments: assessments.show_plan,
    a.Ask: overview.my_contacts,
    a.MyTrainees: assessments.show_trainees,
    a.Broadcast: broadcast.start,
    a.Reports: faq.reports,
    a.FaqTopic: faq.show_topic,
    a.FaqVote: faq.vote,
    a.FaqForward: faq.forward,
    a.FaqReply: faq.start_reply,
    a.English: _english,
    a.Swedish: _swedish,
    # Broadcasts
    a.BroadcastOptions: broadcast.preview,
    a.BroadcastEdit: broadcast.edit,
    a.BroadcastSend: broadcast.send,
    a.BroadcastReport: broadcast.report,
    a.BroadcastCancel: broadcast.cancel,
    a.BroadcastRecall: broadcast.recall,
    a.BroadcastAck: broadcast.acknowledge,
    a.BroadcastAskAuthor: broadcast.ask_author,
    # Assessments and reminders
    a.ItemDone: assessments.mark_item_done,
    a.NewItemDate: assessments.new_item_date,
    a.ShowItems: assessments.show_items,
    a.PauseReminders: reminders.pause_reminders,
    a.ResumeReminders: reminders.resume_reminders,
    # Reach and privacy (issues 16 and 13)
    a.WhoIsUnreachable: reach.who_is_unreachable,
    a.MyData: privacy.my_data,
    a.EraseMyData: privacy.erase_my_data,
    # the coordinator's desk: Excel in and out, the cohort overview (issue 15)
    a.ImportUpload: uploads.import_file,
    a.DeskFiles: downloads.desk_files,
    a.ExportRoster: downloads.export_roster,
    a.ExportSessions: downloads.export_region_sessions,
    a.ExportParticipants: downloads.export_course_participants,
    a.ExportPlans: downloads.export_region_plans,
    a.Overview: cohort.cohort_overview,
    a.ExportOverview: downloads.export_cohort_overview,
    # one-sentence requests (dialogs/understanding.py)
    a.EnrolIn: requests.enrol_in,
    a.Sessions: requests.sessions_of,
    a.WithdrawFrom: requests.withdraw_from,
    a.CoursesLeft: courses.courses_left,
    a.Thanks: requests.thanks,
    a.FaqOther: faq.other_topics,
}

# The flows whose steps wait for typed text (conversation state), by flow name, and what
# leaving each with "avbryt" says.
STEPS: dict[str, Step] = {
    REPLY_FLOW: faq.continue_reply,
    # Broadcasts
    broadcast.FLOW: broadcast.continue_composer,
}
CANCELLED: dict[str, str] = {
    REPLY_FLOW: "faq.reply_cancelled",
    # Broadcasts
    broadcast.FLOW: "broadcast.cancelled",
}


async def respond(
    ctx: FlowContext, actor: Actor, message: Message, waiting: Waiting | None = None
) -> list[Reply]:
    """The replies to one message or click from a roster person."""
    if message.clicked:
        action = a.parse_action(message.data)
        if action is None:
            log.info("out-of-date button")
            return out_of_date(actor)
        cancels = isinstance(action, a.Cancel)  # "Avbryt" leaves the wait itself, and says so
        if waiting is not None and action.flow != waiting.flow and not cancels:
            await conversations.stop(ctx.database, actor=actor)  # they moved on
            waiting = None
        return await dispatch(ctx, actor, action, waiting, clicked=True)
    text = message.text.strip()
    if waiting is not None:
        return await _continue(ctx, actor, waiting, text)
    if says(text, CANCEL_WORDS):
        return [Reply(text=t("cancel.nothing", actor.language)), menu_reply(actor)]
    read = await requests.read_request(ctx, actor, text)
    if isinstance(read, a.Thanks):  # "tack!" to an announcement: its author is a click away
        thanked = await dispatch(ctx, actor, read, waiting)
        return [*thanked, *await broadcast.author_hint(ctx, actor, text)]
    if isinstance(read, a.Action):
        return await dispatch(ctx, actor, read, waiting)
    # Broadcasts: a message right after an announcement gets its author as someone to ask.
    about = await broadcast.after_announcement(ctx, actor, text)
    if about is not None:
        return about
    if read is not None:
        return read  # which course? / the closest courses / not understood
    answered = await faq.answer_question(ctx, actor, text) if text else None
    return answered if answered is not None else not_understood(actor, text)


async def _continue(ctx: FlowContext, actor: Actor, waiting: Waiting, text: str) -> list[Reply]:
    """Typed text while the bot waits for something: "avbryt" leaves, else the step takes it."""
    lang = actor.language
    if waiting.flow == confirm.FLOW:
        if says(text, YES_WORDS):
            return await dispatch(ctx, actor, a.Confirm(nonce=waiting.payload["nonce"]), waiting)
        if not says(text, CANCEL_WORDS | frozenset({"nej", "no"})):
            # Not an answer to the question: leave it and take the message as it is.
            await conversations.stop(ctx.database, actor=actor)
            return await respond(ctx, actor, Message(text=text), None)
    if says(text, CANCEL_WORDS) or waiting.flow == confirm.FLOW:
        await conversations.stop(ctx.database, actor=actor)
        return [Reply(text=t(CANCELLED.get(waiting.flow, "cancel.done"), lang))]
    step = STEPS.get(waiting.flow)
    if step is None:  # a flow this release no longer has
        await conversations.stop(ctx.database, actor=actor)
        return await respond(ctx, actor, Message(text=text), None)
    return await step(ctx, actor, waiting, text)


async def dispatch(
    ctx: FlowContext,
    actor: Actor,
    action: a.Action,
    waiting: Waiting | None,
    *,
    clicked: bool = False,
) -> list[Reply]:
    """Run the flow for `action` if this person may ask for it."""
    if not action.allowed(actor.roles):
        return not_understood(actor, "")
    log.info("action %s", action.verb.value)
    if isinstance(action, a.Confirm):
        confirmed = confirm.confirmed_action(waiting, action.nonce)
        if confirmed is None:
            return [Reply(text=t("confirm.expired", actor.language), replace=clicked)]
        await conversations.stop(ctx.database, actor=actor, flow=confirm.FLOW)
        return await dispatch(ctx, actor, confirmed, None, clicked=clicked)
    if isinstance(action, a.Cancel):
        stopped = waiting is not None and await conversations.stop(ctx.database, actor=actor)
        key = "cancel.done" if stopped else "cancel.nothing"
        return [Reply(text=t(key, actor.language), replace=clicked)]
    if isinstance(action, a.ShowCourse):
        return await courses.show_course(ctx, actor, action, clicked=clicked)
    return await HANDLERS[type(action)](ctx, actor, action)


def out_of_date(actor: Actor) -> list[Reply]:
    """A button whose data this release cannot read: say so and show the menu."""
    return [Reply(text=t("out_of_date", actor.language)), Reply(card=menu_card(actor))]
