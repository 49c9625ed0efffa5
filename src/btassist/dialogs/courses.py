"""Course flows for doctors: the catalogue with my status, a course's sessions, enrol, withdraw."""

from __future__ import annotations

from btassist.common.language import Language
from btassist.courses.enrolment import (
    ClashFound,
    Refusal,
    Refused,
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
    doctor_courses,
    match_courses,
    progress,
    region_courses,
)
from btassist.dialogs import actions as a
from btassist.dialogs.cards import (
    Card,
    Element,
    bullet_list,
    card,
    execute,
    heading,
    open_url,
    paragraph,
    submit,
)
from btassist.dialogs.formatting import day, moment, span
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import Role

MAX_COURSE_BUTTONS = 12
HOLDING = (EnrolmentStatus.enrolled, EnrolmentStatus.waitlisted)


def title(course: Course, language: Language) -> str:
    """The course title in the reader's language."""
    return course.title_sv if language is Language.sv else course.title_en


def session_calendar_url(ctx: FlowContext, session_id: int | None) -> str:
    """The "Lägg till i kalender" link of one session."""
    return ctx.url(f"/calendar/session/{session_id}.ics")


async def _views(ctx: FlowContext, actor: Actor) -> list[CourseView]:
    return await doctor_courses(
        ctx.database, doctor_id=actor.person_id, region=actor.region, now=ctx.now()
    )


def _back(lang: Language) -> Element:
    return submit(t("course.back", lang), a.Courses())


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
    if view.state is CourseState.done:
        extra = ""
    return t("courses.line", lang, title=name, state=t(f"state.{view.state}", lang), extra=extra)


def _progress_line(views: list[CourseView], lang: Language) -> str:
    done = progress(views)
    if done.remaining == 0:
        return t("courses.all_done", lang, total=done.total)
    return t("courses.progress", lang, remaining=done.remaining, total=done.total)


async def list_courses(ctx: FlowContext, actor: Actor, action: a.Courses) -> list[Reply]:
    """ "kurser": mandatory courses first with my status, a progress line, one button per course."""
    lang = actor.language
    views = await _views(ctx, actor)
    if not views:
        return [Reply(text=t("courses.none", lang))]
    body: list[Element] = [heading(t("courses.title", lang))]
    if Role.doctor in actor.roles:
        body.append(paragraph(f"**{_progress_line(views, lang)}**"))
    for mandatory, heading_key in (
        (True, "courses.mandatory_heading"),
        (False, "courses.optional_heading"),
    ):
        lines = [_summary_line(v, ctx, lang) for v in views if v.mandatory is mandatory]
        if lines:
            body += [paragraph(f"**{t(heading_key, lang)}**"), bullet_list(lines)]
    body.append(paragraph(t("courses.hint", lang), subtle=True))
    buttons = [
        submit(title(v.course, lang), a.ShowCourse(course_id=v.course.id))
        for v in views[:MAX_COURSE_BUTTONS]
    ]
    return [Reply(card=card(body, buttons))]


async def courses_left(ctx: FlowContext, actor: Actor, action: a.CoursesLeft) -> list[Reply]:
    """ "Vilka kurser har jag kvar?": the mandatory courses not yet done, one button each."""
    lang = actor.language
    views = await _views(ctx, actor)
    left = [v for v in views if v.mandatory and v.state is not CourseState.done]
    if not views:
        return [Reply(text=t("courses.none", lang))]
    body: list[Element] = [heading(t("understanding.courses_left_title", lang))]
    body.append(paragraph(f"**{_progress_line(views, lang)}**"))
    if left:
        body.append(bullet_list(_summary_line(v, ctx, lang) for v in left))
    buttons = [
        submit(title(v.course, lang), a.ShowCourse(course_id=v.course.id))
        for v in left[:MAX_COURSE_BUTTONS]
    ]
    buttons.append(_back(lang))
    return [Reply(card=card(body, buttons))]


async def show_course(
    ctx: FlowContext, actor: Actor, action: a.ShowCourse, *, clicked: bool = False
) -> list[Reply]:
    """A course's description and upcoming sessions, each with its own "Anmäl" button."""
    views = await _views(ctx, actor)
    view = next((v for v in views if v.course.id == action.course_id), None)
    if view is None and action.query:
        matches = match_courses(action.query, [v.course for v in views])
        if len(matches) == 1:
            view = next(v for v in views if v.course.id == matches[0].id)
    if view is None:
        return await _unknown_course(ctx, actor, action.query)
    return [Reply(card=course_card(view, ctx, actor), replace=clicked)]


async def _unknown_course(ctx: FlowContext, actor: Actor, query: str) -> list[Reply]:
    lang = actor.language
    matches = match_courses(query, await region_courses(ctx.database, actor.region))
    body = [paragraph(t("course.unknown", lang, text=query[:80]))]
    body.append(paragraph(t("course.did_you_mean" if matches else "course.see_all", lang)))
    buttons = [submit(title(c, lang), a.ShowCourse(course_id=c.id)) for c in matches]
    buttons.append(_back(lang))
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
    if view.my_status in HOLDING:
        text += t("session.mine", lang, state=t(f"state.{view.my_status}", lang))
    return text


def course_card(view: CourseView, ctx: FlowContext, actor: Actor) -> Card:
    """One course: what it is, whether it is mandatory, its sessions and what I can do."""
    lang = actor.language
    course = view.course
    description = course.description_sv if lang is Language.sv else course.description_en
    body: list[Element] = [
        heading(t("course.sessions_title", lang, title=title(course, lang))),
        paragraph(
            f"{t(f'kind.{course.kind}', lang)} · "
            + t("course.mandatory" if view.mandatory else "course.optional", lang)
        ),
    ]
    if description:
        body.append(paragraph(description))
    actions: list[Element] = []
    if view.state is CourseState.done:
        body.append(paragraph(t("course.done", lang, date="✓")))
    elif course.kind is CourseKind.webbkurs:
        if course.link:
            actions.append(open_url(t("course.open_link", lang), course.link))
        if Role.doctor in actor.roles:
            actions.append(
                execute(t("course.report_done", lang), a.ReportDone(course_id=course.id))
            )
    elif not view.sessions:
        body.append(paragraph(t("course.no_sessions", lang)))
    else:
        body.append(bullet_list(_session_line(v, ctx, lang) for v in view.sessions))
        for v in view.sessions:
            when = span(v.session, ctx.zone, lang)
            if v.my_status in HOLDING:
                label = t("withdraw.button", lang, title=title(course, lang), when=when)
                actions.append(execute(label, a.Withdraw(session_id=v.session.id)))
            elif Role.doctor in actor.roles:
                key = "session.enrol" if v.seats_left != 0 else "session.queue"
                actions.append(execute(t(key, lang, when=when), a.Enrol(session_id=v.session.id)))
    actions.append(_back(lang))
    return card(body, actions)


async def enrol_in_session(ctx: FlowContext, actor: Actor, action: a.Enrol) -> list[Reply]:
    """ "Anmäl": show clashes first (unless confirmed), then take a seat or a waitlist place."""
    outcome = await enrol(
        ctx.database,
        doctor_id=actor.person_id,
        session_id=action.session_id,
        now=ctx.now(),
        zone=ctx.zone,
        check_clashes=not action.confirmed,
    )
    if isinstance(outcome, ClashFound):
        return [Reply(card=_clash_card(ctx, actor, outcome))]
    if isinstance(outcome, Refused):
        return [Reply(text=_refusal_text(ctx, actor, outcome))]
    return [Reply(card=_confirmation_card(ctx, actor, outcome), replace=True)]


def _clash_card(ctx: FlowContext, actor: Actor, clash: ClashFound) -> Card:
    lang = actor.language
    lines = [
        t(
            "enrol.clash",
            lang,
            title=title(clash.course, lang),
            when=span(clash.session, ctx.zone, lang),
            other=title(other_course, lang),
            other_when=span(other, ctx.zone, lang),
        )
        for other_course, other in clash.clashing
    ]
    return card(
        [heading(t("enrol.clash_title", lang)), bullet_list(lines)],
        [
            execute(t("enrol.anyway", lang), a.Enrol(session_id=clash.session.id, confirmed=True)),
            execute(t("enrol.cancel", lang), a.ShowCourse(course_id=clash.course.id)),
        ],
    )


def _refusal_text(ctx: FlowContext, actor: Actor, refused: Refused) -> str:
    lang = actor.language
    if refused.reason is Refusal.deadline_passed and refused.session:
        deadline = enrolment_closes(refused.session, ctx.zone)
        return t("refusal.deadline_passed", lang, deadline=moment(deadline, ctx.zone, lang))
    if refused.reason is Refusal.already_in_course and refused.course and refused.other_session:
        return t(
            "refusal.already_in_course",
            lang,
            title=title(refused.course, lang),
            when=span(refused.other_session, ctx.zone, lang),
        )
    return t(f"refusal.{refused.reason}", lang)


def _confirmation_card(ctx: FlowContext, actor: Actor, seat: Seat) -> Card:
    lang = actor.language
    course, target = seat.course, seat.session
    name = title(course, lang)
    if seat.status is EnrolmentStatus.enrolled:
        body = [heading(t("enrol.enrolled_title", lang, title=name))]
    else:
        body = [
            heading(t("enrol.waitlisted_title", lang, title=name, position=seat.waitlist_position)),
            paragraph(t("enrol.waitlisted_body", lang)),
        ]
    body.append({"type": "FactSet", "facts": session_facts(ctx, target, lang)})
    actions = [open_url(t("enrol.add_to_calendar", lang), session_calendar_url(ctx, target.id))]
    if target.meeting_url:
        actions.append(open_url(t("enrol.join_meeting", lang), target.meeting_url))
    actions.append(execute(t("enrol.withdraw", lang), a.Withdraw(session_id=target.id)))
    return card(body, actions)


def session_facts(ctx: FlowContext, target: CourseSession, lang: Language) -> list[dict[str, str]]:
    """When, where and the meeting link of a session, as a FactSet's facts."""
    facts = [{"title": t("fact.when", lang), "value": span(target, ctx.zone, lang)}]
    if target.location:
        facts.append({"title": t("fact.where", lang), "value": target.location})
    if target.meeting_url:
        facts.append({"title": t("fact.link", lang), "value": target.meeting_url})
    return facts


async def withdraw_from_session(ctx: FlowContext, actor: Actor, action: a.Withdraw) -> list[Reply]:
    """ "Avanmäl": give up the seat; the first in line is promoted and notified."""
    lang = actor.language
    result = await withdraw(
        ctx.database, doctor_id=actor.person_id, session_id=action.session_id, now=ctx.now()
    )
    if result is None:
        return [Reply(text=t("withdraw.none", lang))]
    text = t(
        "withdraw.done",
        lang,
        title=title(result.course, lang),
        when=span(result.session, ctx.zone, lang),
    )
    return [Reply(card=card([paragraph(text)], [_back(lang)]), replace=True)]


async def my_courses(ctx: FlowContext, actor: Actor, action: a.MyCourses) -> list[Reply]:
    """ "Mina kurser": what I'm enrolled or queued in, what needs a new session, what is done."""
    lang = actor.language
    views = await _views(ctx, actor)
    lines, actions = [], []
    for view in views:
        name = title(view.course, lang)
        for s in view.sessions:
            if s.my_status in HOLDING:
                when = span(s.session, ctx.zone, lang)
                state = t(f"state.{s.my_status}", lang)
                lines.append(t("my_courses.line", lang, title=name, when=when, state=state))
                label = t("withdraw.button", lang, title=name, when=when)
                actions.append(execute(label, a.Withdraw(session_id=s.session.id)))
        if view.state is CourseState.needs_new_session:
            lines.append(f"{name}: **{t('state.needs_new_session', lang)}**")
            label = t("new_session.button", lang, title=name)
            actions.append(submit(label, a.ShowCourse(course_id=view.course.id)))
    done = [title(v.course, lang) for v in views if v.state is CourseState.done]
    if not lines and not done:
        return [Reply(text=t("my_courses.none", lang))]
    body: list[Element] = [heading(t("my_courses.title", lang))]
    if Role.doctor in actor.roles:
        body.append(paragraph(_progress_line(views, lang)))
    if lines:
        body.append(bullet_list(lines))
    if done:
        body += [paragraph(f"**{t('my_courses.done_heading', lang)}**"), bullet_list(done)]
    return [Reply(card=card(body, actions))]


async def report_done(ctx: FlowContext, actor: Actor, action: a.ReportDone) -> list[Reply]:
    """A doctor reports finishing a web course today."""
    lang = actor.language
    offered = {v.course.id for v in await _views(ctx, actor)}
    today = ctx.today()
    course = None
    if action.course_id in offered:
        course = await report_web_course(
            ctx.database,
            doctor_id=actor.person_id,
            course_id=action.course_id,
            on=today,
            now=ctx.now(),
        )
    if course is None:
        return await _unknown_course(ctx, actor, "")
    text = t("course.reported", lang, title=title(course, lang), date=day(today, lang))
    return [Reply(card=card([paragraph(text)], [_back(lang)]), replace=True)]
