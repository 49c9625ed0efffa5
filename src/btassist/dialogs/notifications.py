"""What queued notices say: rendered in the recipient's language when they are sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from btassist.courses.models import Course, CourseSession
from btassist.dialogs import faq
from btassist.dialogs.cards import card, execute, paragraph, submit
from btassist.dialogs.courses import open_url, title
from btassist.dialogs.formatting import span
from btassist.dialogs.turn import Asker, FlowContext, Reply
from btassist.i18n.catalogue import t

Notice = Callable[[FlowContext, Asker, dict[str, Any]], Awaitable[list[Reply]]]


async def _session_and_course(
    ctx: FlowContext, params: dict[str, Any]
) -> tuple[CourseSession, Course] | None:
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, params.get("session_id"))
        course = await session.get(Course, target.course_id) if target else None
    return (target, course) if target and course else None


async def waitlist_promoted(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """A seat freed up: tell the doctor, with a one-click "Avanmäl"."""
    found = await _session_and_course(ctx, params)
    if found is None:
        return []
    target, course = found
    lang = asker.language
    text = t(
        "notice.waitlist_promoted",
        lang,
        title=title(course, lang),
        when=span(target, ctx.zone, lang),
    )
    actions = [
        open_url(
            t("enrol.add_to_calendar", lang),
            f"{ctx.public_url.rstrip('/')}/calendar/session/{target.id}.ics",
        ),
        execute(t("enrol.withdraw", lang), "withdraw", session_id=target.id),
    ]
    return [Reply(card=card([paragraph(text)], actions))]


async def session_cancelled(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """A session was cancelled: tell its doctors and offer the course's other sessions."""
    found = await _session_and_course(ctx, params)
    if found is None:
        return []
    target, course = found
    lang = asker.language
    text = t(
        "notice.session_cancelled",
        lang,
        title=title(course, lang),
        when=span(target, ctx.zone, lang),
    )
    button = submit(
        t("new_session.button", lang, title=title(course, lang)), "course", course_id=course.id
    )
    return [Reply(card=card([paragraph(text)], [button]))]


NOTICES: dict[str, Notice] = {
    "waitlist_promoted": waitlist_promoted,
    "session_cancelled": session_cancelled,
    faq.QUESTION_NOTICE: faq.question_notice,
    faq.ANSWER_NOTICE: faq.answer_notice,
}


async def render_notice(
    ctx: FlowContext, asker: Asker, template: str, params: dict[str, Any]
) -> list[Reply]:
    """The replies for a queued notice; empty when its subject no longer exists."""
    notice = NOTICES.get(template)
    return [] if notice is None else await notice(ctx, asker, params)
