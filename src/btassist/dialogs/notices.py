"""What queued notices say: each notice kind's renderer, in the recipient's language.

The outbox stores a notice as its kind and parameters (outbox/notices.py); at delivery the
parameters are parsed back into the kind's model and rendered here. A renderer returns no
replies when the notice's subject is gone (a deleted session, an answered question), and the
notice is then dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from btassist.courses.notices import SessionNotice
from btassist.courses.queries import course_and_session
from btassist.dialogs import actions as a
from btassist.dialogs import broadcast, reminders
from btassist.dialogs.cards import card, execute, open_url, paragraph, submit
from btassist.dialogs.courses import session_calendar_url, title
from btassist.dialogs.faq import answered_card, question_card
from btassist.dialogs.formatting import span
from btassist.dialogs.turn import FlowContext, Reply
from btassist.faq import usecases as faq
from btassist.faq.models import QuestionStatus
from btassist.faq.notices import QuestionNotice
from btassist.i18n.catalogue import t
from btassist.outbox.notices import Notice, NoticeKind
from btassist.roster.identity import Actor

Renderer = Callable[[FlowContext, Actor, Any], Awaitable[list[Reply]]]
"""(context, recipient, the notice's parameters) → the replies to send."""


async def waitlist_promoted(ctx: FlowContext, actor: Actor, notice: SessionNotice) -> list[Reply]:
    """A seat freed up: tell the doctor, with a one-click "Avanmäl"."""
    found = await course_and_session(ctx.database, session_id=notice.session_id)
    if found is None:
        return []
    course, target = found
    lang = actor.language
    text = t(
        "notice.waitlist_promoted",
        lang,
        title=title(course, lang),
        when=span(target, ctx.zone, lang),
    )
    actions = [
        open_url(t("enrol.add_to_calendar", lang), session_calendar_url(ctx, target.id)),
        execute(t("enrol.withdraw", lang), a.Withdraw(session_id=notice.session_id)),
    ]
    return [Reply(card=card([paragraph(text)], actions))]


async def session_cancelled(ctx: FlowContext, actor: Actor, notice: SessionNotice) -> list[Reply]:
    """A session was cancelled: tell its doctors and offer the course's other sessions."""
    found = await course_and_session(ctx.database, session_id=notice.session_id)
    if found is None:
        return []
    course, target = found
    lang = actor.language
    text = t(
        "notice.session_cancelled",
        lang,
        title=title(course, lang),
        when=span(target, ctx.zone, lang),
    )
    label = t("new_session.button", lang, title=title(course, lang))
    return [Reply(card=card([paragraph(text)], [submit(label, a.ShowCourse(course_id=course.id))]))]


async def question_forwarded(ctx: FlowContext, actor: Actor, notice: QuestionNotice) -> list[Reply]:
    """To a coordinator: a doctor's question, with "Svara"; nothing once it is answered."""
    view = await faq.question(ctx.database, notice.question_id)
    if view is None or view.question.status is not QuestionStatus.open:
        return []
    return [question_card(view, actor.language)]


async def question_answered(ctx: FlowContext, actor: Actor, notice: QuestionNotice) -> list[Reply]:
    """To the doctor: the coordinator's answer to their question."""
    view = await faq.question(ctx.database, notice.question_id)
    if view is None or view.question.answer is None:
        return []
    return [answered_card(view)]


RENDERERS: dict[NoticeKind, Renderer] = {
    NoticeKind.waitlist_promoted: waitlist_promoted,
    NoticeKind.session_cancelled: session_cancelled,
    NoticeKind.faq_question: question_forwarded,
    NoticeKind.faq_answer: question_answered,
    # Broadcasts
    NoticeKind.broadcast: broadcast.announcement_notice,
    NoticeKind.broadcast_recall: broadcast.recall_notice,
    # Reminders
    NoticeKind.item_due_soon: reminders.item_due("reminder.item_due_soon"),
    NoticeKind.item_due_today: reminders.item_due("reminder.item_due_today"),
    NoticeKind.weekly_digest: reminders.weekly_digest,
    NoticeKind.session_tomorrow: reminders.session_tomorrow,
    NoticeKind.session_moved: reminders.session_moved,
    NoticeKind.session_new: reminders.session_new,
    NoticeKind.bt_start: reminders.bt_start,
    NoticeKind.meeting_proposal: reminders.meeting_proposal,
    NoticeKind.supervisor_overdue: reminders.overdue(a.ItemCard.nudge),
    NoticeKind.studierektor_overdue: reminders.overdue(a.ItemCard.escalation),
}

SAME_FOR_EVERYONE: frozenset[NoticeKind] = frozenset(
    {
        # Broadcasts: one announcement, the same card for every recipient of a language
        NoticeKind.broadcast,
    }
)
"""Kinds whose replies depend only on the parameters and the recipient's language, so the
delivery worker renders them once per language instead of once per recipient."""


async def render_notice(ctx: FlowContext, actor: Actor, notice: Notice) -> list[Reply]:
    """The replies for a notice; empty when its subject no longer exists (or, for a kind this
    release cannot show, nothing: the notice is then dropped as unrenderable)."""
    renderer = RENDERERS.get(notice.kind)
    return [] if renderer is None else await renderer(ctx, actor, notice.params)
