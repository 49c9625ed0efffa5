"""Course flows for doctors: the catalogue with my status, a course's sessions, enrol, withdraw."""

from __future__ import annotations

from typing import Any

from btassist.common.language import Language
from btassist.courses.enrolment import (
    Clash,
    EnrolmentRefused,
    Refusal,
    Seat,
    enrol,
    enrolment_closes,
    report_web_course,
    withdraw,
)
from btassist.courses.models import Course, CourseKind, CourseSession, EnrolmentStatus
from btassist.courses.overview import (
    CourseState,
    CourseView,
    SessionView,
    courses_for_doctor,
    courses_in_region,
    match_courses,
    progress,
)
from btassist.dialogs.cards import Card, bullet_list, card, execute, heading, paragraph, submit
from btassist.dialogs.formatting import day, moment, span
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t
from btassist.roster.models import Role

MAX_COURSE_BUTTONS = 12


def title(course: Course, language: Language) -> str:
    """The course title in the reader's language."""
    return course.title_sv if language is Language.sv else course.title_en


def _int(data: Any, key: str) -> int | None:
    try:
        return int(data.get(key))
    except (TypeError, ValueError):
        return None


def open_url(label: str, url: str) -> dict[str, Any]:
    """A button opening a web page."""
    return {"type": "Action.OpenUrl", "title": label, "url": url}


async def _views(ctx: FlowContext, asker: Asker) -> list[CourseView]:
    async with ctx.database.session(write_lock=False) as session:
        return await courses_for_doctor(
            session, doctor_id=asker.person_id, region=asker.region, now=ctx.now()
        )


def _summary_line(view: CourseView, ctx: FlowContext, lang: Language) -> str:
    name = title(view.course, lang)
    if view.course.kind is CourseKind.webbkurs:
        extra = t("courses.web", lang)
    elif not view.sessions:
        extra = t("courses.no_sessions", lang)
    else:
        first = view.sessions[0]
        when = span(first.session, ctx.zone, lang)
        extra = (
            t("courses.next_session", lang, when=when)
            if first.seats_left is None
            else t("courses.seats_left", lang, when=when, seats=first.seats_left)
        )
    if view.state is not CourseState.missing:
        extra = "" if view.state is CourseState.done else extra
    return t("courses.line", lang, title=name, state=t(f"state.{view.state}", lang), extra=extra)


async def list_courses(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "kurser": mandatory courses first with my status, a progress line, one button per course."""
    lang = asker.language
    views = await _views(ctx, asker)
    if not views:
        return [Reply(text=t("courses.none", lang))]
    body: list[dict[str, Any]] = [heading(t("courses.title", lang))]
    if Role.doctor in asker.roles:
        done = progress(views)
        line = (
            t("courses.all_done", lang, total=done.total)
            if done.remaining == 0
            else t("courses.progress", lang, remaining=done.remaining, total=done.total)
        )
        body.append(paragraph(f"**{line}**"))
    for mandatory, heading_key in (
        (True, "courses.mandatory_heading"),
        (False, "courses.optional_heading"),
    ):
        lines = [_summary_line(v, ctx, lang) for v in views if v.mandatory is mandatory]
        if lines:
            body += [paragraph(f"**{t(heading_key, lang)}**"), bullet_list(lines)]
    body.append(paragraph(t("courses.hint", lang), subtle=True))
    buttons = [
        submit(title(v.course, lang), "course", course_id=v.course.id)
        for v in views[:MAX_COURSE_BUTTONS]
    ]
    return [Reply(card=card(body, buttons))]


async def show_course(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """A course's description and upcoming sessions, each with its own "Anmäl" button."""
    views = await _views(ctx, asker)
    course_id = _int(message.data, "course_id")
    view = next((v for v in views if v.course.id == course_id), None)
    if view is None:
        query = str(message.data.get("query") or "")
        return await _unknown_course(ctx, asker, query)
    return [Reply(card=course_card(view, ctx, asker), replace=message.verb is not None)]


async def _unknown_course(ctx: FlowContext, asker: Asker, query: str) -> list[Reply]:
    lang = asker.language
    async with ctx.database.session(write_lock=False) as session:
        offered = await courses_in_region(session, asker.region)
    matches = match_courses(query, offered)
    if len(matches) == 1 and query:
        return await show_course(ctx, asker, Message(data={"course_id": matches[0].id}))
    body = [paragraph(t("course.unknown", lang, text=query[:80]))]
    if matches:
        body.append(paragraph(t("course.did_you_mean", lang)))
    else:
        body.append(paragraph(t("course.see_all", lang)))
    buttons = [submit(title(c, lang), "course", course_id=c.id) for c in matches]
    buttons.append(submit(t("course.back", lang), "courses"))
    return [Reply(card=card(body, buttons))]


def _session_line(view: SessionView, ctx: FlowContext, lang: Language) -> str:
    s = view.session
    place = s.location or (t("session.online", lang) if s.meeting_url else "")
    if view.seats_left is None:
        seats = ""
    elif view.seats_left > 0:
        seats = t("session.seats", lang, seats=view.seats_left, capacity=s.capacity)
    else:
        seats = t("session.full", lang, waiting=view.waitlisted)
    text = t("session.line", lang, when=span(s, ctx.zone, lang), place=place, seats=seats)
    if s.enrolment_deadline:
        text += t("session.deadline", lang, date=moment(s.enrolment_deadline, ctx.zone, lang))
    if view.my_status in (EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted):
        text += t("session.mine", lang, state=t(f"state.{view.my_status}", lang))
    return text


def course_card(view: CourseView, ctx: FlowContext, asker: Asker) -> Card:
    """One course: what it is, whether it is mandatory, its sessions and what I can do."""
    lang = asker.language
    course = view.course
    description = course.description_sv if lang is Language.sv else course.description_en
    body: list[dict[str, Any]] = [
        heading(t("course.sessions_title", lang, title=title(course, lang))),
        paragraph(
            f"{t(f'kind.{course.kind}', lang)} · "
            + t("course.mandatory" if view.mandatory else "course.optional", lang)
        ),
    ]
    if description:
        body.append(paragraph(description))
    actions: list[dict[str, Any]] = []
    if view.state is CourseState.done:
        body.append(paragraph(t("course.done", lang, date="✓")))
    elif course.kind is CourseKind.webbkurs:
        if course.link:
            actions.append(open_url(t("course.open_link", lang), course.link))
        actions.append(execute(t("course.report_done", lang), "report_done", course_id=course.id))
    elif not view.sessions:
        body.append(paragraph(t("course.no_sessions", lang)))
    else:
        body.append(bullet_list(_session_line(v, ctx, lang) for v in view.sessions))
        for v in view.sessions:
            when = span(v.session, ctx.zone, lang)
            if v.my_status in (EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted):
                actions.append(
                    execute(
                        t("withdraw.button", lang, title=title(course, lang), when=when),
                        "withdraw",
                        session_id=v.session.id,
                    )
                )
            elif Role.doctor in asker.roles:
                key = "session.enrol" if v.seats_left != 0 else "session.queue"
                actions.append(execute(t(key, lang, when=when), "enrol", session_id=v.session.id))
    actions.append(submit(t("course.back", lang), "courses"))
    return card(body, actions)


async def enrol_in_session(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "Anmäl": show clashes first (unless confirmed), then take a seat or a waitlist place."""
    lang = asker.language
    session_id = _int(message.data, "session_id")
    if session_id is None:
        return [Reply(text=t("refusal.unknown_session", lang))]
    try:
        seat = await enrol(
            ctx.database,
            doctor_id=asker.person_id,
            session_id=session_id,
            now=ctx.now(),
            zone=None if message.data.get("confirmed") else ctx.zone,
        )
    except Clash as clash:
        return [Reply(card=_clash_card(ctx, asker, clash.course, clash.session, clash.clashing))]
    except EnrolmentRefused as refused:
        return [Reply(text=await _refusal_text(ctx, asker, refused, session_id))]
    return [Reply(card=_confirmation_card(ctx, asker, seat), replace=True)]


def _clash_card(
    ctx: FlowContext,
    asker: Asker,
    course: Course,
    target: CourseSession,
    clashing: list[tuple[Course, CourseSession]],
) -> Card:
    lang = asker.language
    lines = [
        t(
            "enrol.clash",
            lang,
            title=title(course, lang),
            when=span(target, ctx.zone, lang),
            other=title(other_course, lang),
            other_when=span(other, ctx.zone, lang),
        )
        for other_course, other in clashing
    ]
    return card(
        [heading(t("enrol.clash_title", lang)), bullet_list(lines)],
        [
            execute(t("enrol.anyway", lang), "enrol", session_id=target.id, confirmed=True),
            execute(t("enrol.cancel", lang), "course", course_id=course.id),
        ],
    )


async def _refusal_text(
    ctx: FlowContext, asker: Asker, refused: EnrolmentRefused, session_id: int
) -> str:
    lang = asker.language
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, session_id)
        other = (
            await session.get(CourseSession, refused.other_session_id)
            if refused.other_session_id
            else None
        )
        course = await session.get(Course, target.course_id) if target else None
    if refused.reason is Refusal.deadline_passed and target:
        deadline = enrolment_closes(target)
        return t("refusal.deadline_passed", lang, deadline=moment(deadline, ctx.zone, lang))
    if refused.reason is Refusal.already_in_course and course and other:
        return t(
            "refusal.already_in_course",
            lang,
            title=title(course, lang),
            when=span(other, ctx.zone, lang),
        )
    return t(f"refusal.{refused.reason}", lang)


def _confirmation_card(ctx: FlowContext, asker: Asker, seat: Seat) -> Card:
    lang = asker.language
    course, target, session_id = seat.course, seat.session, seat.session.id
    name = title(course, lang)
    if seat.status is EnrolmentStatus.enrolled:
        body = [heading(t("enrol.enrolled_title", lang, title=name))]
    else:
        body = [
            heading(t("enrol.waitlisted_title", lang, title=name, position=seat.waitlist_position)),
            paragraph(t("enrol.waitlisted_body", lang)),
        ]
    facts = [{"title": t("fact.when", lang), "value": span(target, ctx.zone, lang)}]
    if target.location:
        facts.append({"title": t("fact.where", lang), "value": target.location})
    if target.meeting_url:
        facts.append({"title": t("fact.link", lang), "value": target.meeting_url})
    body.append({"type": "FactSet", "facts": facts})
    actions = [
        open_url(
            t("enrol.add_to_calendar", lang),
            f"{ctx.public_url.rstrip('/')}/calendar/session/{session_id}.ics",
        ),
    ]
    if target.meeting_url:
        actions.append(open_url(t("enrol.join_meeting", lang), target.meeting_url))
    actions.append(execute(t("enrol.withdraw", lang), "withdraw", session_id=session_id))
    return card(body, actions)


async def withdraw_from_session(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "Avanmäl": give up the seat; the first in line is promoted and notified."""
    lang = asker.language
    session_id = _int(message.data, "session_id")
    result = None
    if session_id is not None:
        result = await withdraw(
            ctx.database, doctor_id=asker.person_id, session_id=session_id, now=ctx.now()
        )
    if result is None or session_id is None:
        return [Reply(text=t("withdraw.none", lang))]
    if result.promoted_doctor_id is not None:
        ctx.wake_outbox()
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, session_id)
        course = await session.get(Course, target.course_id) if target else None
    assert target is not None
    assert course is not None
    text = t("withdraw.done", lang, title=title(course, lang), when=span(target, ctx.zone, lang))
    back = [submit(t("course.back", lang), "courses")]
    return [Reply(card=card([paragraph(text)], back), replace=True)]


async def my_courses(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "Mina kurser": what I'm enrolled or queued in, what needs a new session, what is done."""
    lang = asker.language
    views = await _views(ctx, asker)
    lines, actions = [], []
    for view in views:
        name = title(view.course, lang)
        for s in view.sessions:
            if s.my_status in (EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted):
                when = span(s.session, ctx.zone, lang)
                lines.append(
                    t(
                        "my_courses.line",
                        lang,
                        title=name,
                        when=when,
                        state=t(f"state.{s.my_status}", lang),
                    )
                )
                actions.append(
                    execute(
                        t("withdraw.button", lang, title=name, when=when),
                        "withdraw",
                        session_id=s.session.id,
                    )
                )
        if view.state is CourseState.needs_new_session:
            lines.append(f"{name}: **{t('state.needs_new_session', lang)}**")
            actions.append(
                submit(
                    t("new_session.button", lang, title=name), "course", course_id=view.course.id
                )
            )
    done = [title(v.course, lang) for v in views if v.state is CourseState.done]
    if not lines and not done:
        return [Reply(text=t("my_courses.none", lang))]
    body: list[dict[str, Any]] = [heading(t("my_courses.title", lang))]
    if Role.doctor in asker.roles:
        left = progress(views)
        body.append(
            paragraph(
                t("courses.progress", lang, remaining=left.remaining, total=left.total)
                if left.remaining
                else t("courses.all_done", lang, total=left.total)
            )
        )
    if lines:
        body.append(bullet_list(lines))
    if done:
        body += [paragraph(f"**{t('my_courses.done_heading', lang)}**"), bullet_list(done)]
    return [Reply(card=card(body, actions))]


async def report_done(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """A doctor reports finishing a web course today."""
    lang = asker.language
    course_id = _int(message.data, "course_id")
    views = await _views(ctx, asker)
    view = next((v for v in views if v.course.id == course_id), None)
    if view is None or view.course.kind is not CourseKind.webbkurs or course_id is None:
        return await _unknown_course(ctx, asker, "")
    today = ctx.today()
    await report_web_course(
        ctx.database, doctor_id=asker.person_id, course_id=course_id, on=today, now=ctx.now()
    )
    text = t("course.reported", lang, title=title(view.course, lang), date=day(today, lang))
    return [
        Reply(
            card=card([paragraph(text)], [submit(t("course.back", lang), "courses")]), replace=True
        )
    ]
