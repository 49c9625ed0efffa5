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


async def _about_session(
    ctx: FlowContext, asker: Asker, params: dict[str, Any], key: str
) -> tuple[str, CourseSession, Course] | None:
    """The notice `key` about the session in `params`, or None if the session is gone."""
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, params.get("session_id"))
        course = await session.get(Course, target.course_id) if target else None
    if target is None or course is None:
        return None
    lang = asker.language
    text = t(key, lang, title=title(course, lang), when=span(target, ctx.zone, lang))
    return text, target, course


async def waitlist_promoted(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """A seat freed up: tell the doctor, with a one-click "Avanmäl"."""
    found = await _about_session(ctx, asker, params, "notice.waitlist_promoted")
    if found is None:
        return []
    text, target, _ = found
    lang = asker.language
    calendar = f"{ctx.public_url.rstrip('/')}/calendar/session/{target.id}.ics"
    actions = [
        open_url(t("enrol.add_to_calendar", lang), calendar),
        execute(t("enrol.withdraw", lang), "withdraw", session_id=target.id),
    ]
    return [Reply(card=card([paragraph(text)], actions))]


async def session_cancelled(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """A session was cancelled: tell its doctors and offer the course's other sessions."""
    found = await _about_session(ctx, asker, params, "notice.session_cancelled")
    if found is None:
        return []
    text, _, course = found
    label = t("new_session.button", asker.language, title=title(course, asker.language))
    return [Reply(card=card([paragraph(text)], [submit(label, "course", course_id=course.id)]))]


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
