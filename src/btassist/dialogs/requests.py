"""One-sentence requests in the chat: typed text read by dialogs/understanding.py, and the flows
of the actions only a sentence asks for ("anmäl mig till X i mars", "när är nästa X?",
"avanmäl mig", "tack!").

`read_request` is the router's one entry point for typed text that continues no conversation:
it returns the action to dispatch, the replies itself (which course? / the closest courses /
not understood), or None for the FAQ. Enrolling from a sentence leads to a card to confirm (the
usual "Anmäl" then runs, clash check and all); withdrawing from a sentence is confirmed through
dialogs/confirm.py. Nothing changes from typed text alone.
"""

from __future__ import annotations

from datetime import timedelta

from btassist.common.language import Language
from btassist.courses.models import CourseKind, CourseSession, Recurrence
from btassist.courses.overview import (
    CourseState,
    CourseView,
    SessionView,
    active_courses,
    doctor_courses,
)
from btassist.courses.overview import region_courses as load_region_courses
from btassist.dialogs import actions as a
from btassist.dialogs import understanding as u
from btassist.dialogs.cards import Card, Element, card, execute, heading, paragraph, submit
from btassist.dialogs.confirm import ask_to_confirm
from btassist.dialogs.courses import HOLDING, course_card, session_facts, title
from btassist.dialogs.formatting import span
from btassist.dialogs.intents import Want
from btassist.dialogs.menu import not_understood
from btassist.dialogs.turn import FlowContext, Reply
from btassist.dialogs.when import Window
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor

_ONE_DAY = timedelta(days=1)
_NEEDS_COURSES = frozenset(
    {Want.enrol, Want.withdraw, Want.sessions, Want.participants, Want.show_course}
)


async def read_request(ctx: FlowContext, actor: Actor, text: str) -> a.Action | list[Reply] | None:
    """What typed text asks for: an action, replies of its own, or None (a question for the FAQ)."""
    kb = ctx.faq.current if ctx.faq is not None else None
    found = u.read(
        text,
        roles=actor.roles,
        language=actor.language,
        today=ctx.today(),
        knows=kb.knows if kb is not None else _knows_nothing,
        spelled=kb.spells if kb is not None else None,
    )
    if isinstance(found, u.Request):
        courses = (
            await load_region_courses(ctx.database, actor.region)
            if found.want in _NEEDS_COURSES
            else []
        )
        resolved = u.resolve(found, roles=actor.roles, courses=courses)
        if resolved is None and found.course_words:
            # perhaps a course only other regions offer: "no such course here", not a question
            catalogue = await active_courses(ctx.database)
            resolved = u.resolve(found, roles=actor.roles, courses=courses, elsewhere=catalogue)
        return _replies(actor, resolved, text)
    return _replies(actor, found, text)


def _knows_nothing(word: str) -> bool:
    return False


def _replies(
    actor: Actor, found: u.Interpretation | None, text: str
) -> a.Action | list[Reply] | None:
    lang = actor.language
    if found is None or isinstance(found, u.Act):
        return found.action if found else None
    if isinstance(found, u.Meaningless):
        return not_understood(actor, text)
    if isinstance(found, u.Choose):
        body = [paragraph(t("understanding.which", lang))]
        buttons = [submit(title(course, lang), action) for course, action in found.actions]
    else:
        body = [paragraph(t("course.unknown", lang, text=found.words[:80]))]
        if found.closest:
            body.append(paragraph(t("understanding.closest", lang)))
        buttons = [submit(title(course, lang), action) for course, action in found.closest]
    buttons.append(submit(t("course.back", lang), a.Courses()))
    return [Reply(card=card(body, buttons))]


# --- the flows of sentence-only actions -------------------------------------------------------


async def thanks(ctx: FlowContext, actor: Actor, action: a.Thanks) -> list[Reply]:
    """ "Tack!": a friendly word back."""
    return [Reply(text=t("understanding.welcome", actor.language))]


async def _requested(
    ctx: FlowContext, actor: Actor, action: a.EnrolIn | a.Sessions
) -> tuple[CourseView, Window | None] | list[Reply]:
    """The course a request names as this person sees it, and its time; or "no such course"."""
    views = await doctor_courses(
        ctx.database, doctor_id=actor.person_id, region=actor.region, now=ctx.now()
    )
    view = next((view for view in views if view.course.id == action.course_id), None)
    if view is None:
        return [Reply(text=t("understanding.course_gone", actor.language))]
    return view, _window(action)


def _window(action: a.EnrolIn | a.Sessions | a.WithdrawFrom) -> Window | None:
    if action.start is None or action.end is None:
        return None
    return Window(action.start, action.end)


def _in_window(session: CourseSession, window: Window | None, ctx: FlowContext) -> bool:
    """Whether a session (or a week of a weekly series) falls in the window."""
    if window is None:
        return True
    first = session.starts_at.astimezone(ctx.zone).date()
    last = first
    if session.recurrence is Recurrence.weekly and session.repeat_until:
        last = session.repeat_until
    return first <= window.end and last >= window.start


def _when(window: Window, lang: Language) -> str:
    """ "i mars 2027", "den 2027-01-14", "2027-01-18 – 2027-01-24"."""
    if window.start == window.end:
        return t("understanding.on_day", lang, day=window.start.isoformat())
    if window.start.day == 1 and (window.end + _ONE_DAY).day == 1:
        month = t(f"understanding.month.{window.start.month}", lang)
        return t("understanding.in_month", lang, month=month, year=window.start.year)
    return t(
        "understanding.between", lang, start=window.start.isoformat(), end=window.end.isoformat()
    )


def _only(view: CourseView, sessions: list[SessionView]) -> CourseView:
    return CourseView(view.course, view.mandatory, view.state, sessions)


def _with_intro(built: Card, text: str) -> Card:
    built["body"].insert(1, paragraph(text))
    return built


async def enrol_in(ctx: FlowContext, actor: Actor, action: a.EnrolIn) -> list[Reply]:
    """ "Anmäl mig till X (i mars)": the one session to confirm, else the sessions to pick from."""
    lang = actor.language
    requested = await _requested(ctx, actor, action)
    if isinstance(requested, list):
        return requested
    view, window = requested
    name = title(view.course, lang)
    held = [s for s in view.sessions if s.my_status in HOLDING]
    if view.state is CourseState.done or held or view.course.kind is CourseKind.webbkurs:
        intro = ""
        if held:
            when = span(held[0].session, ctx.zone, lang)
            intro = t("understanding.already_enrolled", lang, title=name, when=when)
        built = course_card(view, ctx, actor)
        return [Reply(card=_with_intro(built, intro) if intro else built)]
    fitting = [s for s in view.sessions if _in_window(s.session, window, ctx)]
    if not fitting:
        key = "understanding.none_then" if view.sessions and window else ""
        built = course_card(view, ctx, actor)
        if key and window:
            built = _with_intro(built, t(key, lang, title=name, when=_when(window, lang)))
        return [Reply(card=built)]
    if len(fitting) > 1:
        intro = t("understanding.pick_session", lang, count=len(fitting))
        return [Reply(card=_with_intro(course_card(_only(view, fitting), ctx, actor), intro))]
    return [Reply(card=_confirm_enrol_card(ctx, actor, view, fitting[0]))]


def _confirm_enrol_card(
    ctx: FlowContext, actor: Actor, view: CourseView, chosen: SessionView
) -> Card:
    """ "Anmäla dig till X?" with the session's facts; "Ja" is the usual "Anmäl"."""
    lang = actor.language
    target = chosen.session
    assert target.id is not None
    assert view.course.id is not None
    facts = session_facts(ctx, target, lang)
    if chosen.seats_left is not None:
        seats = (
            t("understanding.seats", lang, seats=chosen.seats_left)
            if chosen.seats_left
            else t("understanding.full", lang, waiting=chosen.waitlisted)
        )
        facts.append({"title": t("understanding.seats_title", lang), "value": seats})
    full = chosen.seats_left == 0
    yes = t("understanding.queue_yes" if full else "understanding.enrol_yes", lang)
    body: list[Element] = [
        heading(t("understanding.confirm_enrol", lang, title=title(view.course, lang))),
        {"type": "FactSet", "facts": facts},
    ]
    buttons = [
        execute(yes, a.Enrol(session_id=target.id)),
        execute(t("understanding.other_sessions", lang), a.ShowCourse(course_id=view.course.id)),
    ]
    return card(body, buttons)


async def sessions_of(ctx: FlowContext, actor: Actor, action: a.Sessions) -> list[Reply]:
    """ "När är nästa X (i mars)?": the course's card with those sessions, the next one said."""
    lang = actor.language
    requested = await _requested(ctx, actor, action)
    if isinstance(requested, list):
        return requested
    view, window = requested
    name = title(view.course, lang)
    fitting = [s for s in view.sessions if _in_window(s.session, window, ctx)]
    if view.course.kind is CourseKind.webbkurs or not view.sessions:
        return [Reply(card=course_card(view, ctx, actor))]
    if not fitting and window is not None:
        intro = t("understanding.none_then", lang, title=name, when=_when(window, lang))
        return [Reply(card=_with_intro(course_card(view, ctx, actor), intro))]
    when = span(fitting[0].session, ctx.zone, lang)
    intro = t("understanding.next_session", lang, title=name, when=when)
    return [Reply(card=_with_intro(course_card(_only(view, fitting), ctx, actor), intro))]


async def withdraw_from(ctx: FlowContext, actor: Actor, action: a.WithdrawFrom) -> list[Reply]:
    """ "Avanmäl mig (från X)": one seat → confirm first; several → choose; none → say so."""
    lang = actor.language
    views = await doctor_courses(
        ctx.database, doctor_id=actor.person_id, region=actor.region, now=ctx.now()
    )
    window = _window(action)
    held = [
        (view, s)
        for view in views
        if action.course_id is None or view.course.id == action.course_id
        for s in view.sessions
        if s.my_status in HOLDING and _in_window(s.session, window, ctx)
    ]
    if not held:
        course = next((v.course for v in views if v.course.id == action.course_id), None)
        text = (
            t("understanding.not_enrolled_in", lang, title=title(course, lang))
            if course
            else t("withdraw.none", lang)
        )
        button = submit(t("menu.my_courses", lang), a.MyCourses())
        return [Reply(card=card([paragraph(text)], [button]))]
    if len(held) == 1:
        view, chosen = held[0]
        assert chosen.session.id is not None
        body: list[Element] = [
            heading(t("understanding.confirm_withdraw", lang, title=title(view.course, lang))),
            {"type": "FactSet", "facts": session_facts(ctx, chosen.session, lang)},
        ]
        yes = t("understanding.withdraw_yes", lang)
        withdrawal = a.Withdraw(session_id=chosen.session.id)
        return [await ask_to_confirm(ctx, actor, withdrawal, body=body, yes=yes)]
    body = [paragraph(t("understanding.which_withdraw", lang))]
    buttons = []
    for view, chosen in held:
        assert chosen.session.id is not None
        label = t(
            "withdraw.button",
            lang,
            title=title(view.course, lang),
            when=span(chosen.session, ctx.zone, lang),
        )
        buttons.append(execute(label, a.Withdraw(session_id=chosen.session.id)))
    return [Reply(card=card(body, buttons))]
