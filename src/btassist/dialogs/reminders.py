"""What reminders say when they are delivered, and pausing and resuming them in the chat.

A reminder is rendered at delivery in the recipient's language from what is true then: an item
marked done since the sweep is left out, and a reminder with nothing left to say renders nothing
(the outbox then drops it). Items carry "Markera som genomförd" / "Nytt datum" for whoever may
use them (dialogs/assessments.py), acting on the card in place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from btassist.assessments import usecases as plans
from btassist.assessments.policy import Attendee
from btassist.assessments.service import ItemView
from btassist.common.language import Language
from btassist.courses.models import CourseSession
from btassist.dialogs import actions as a
from btassist.dialogs.assessments import (
    item_buttons,
    item_name,
    items_card,
    kind_name,
    overdue_card,
)
from btassist.dialogs.cards import (
    Element,
    bullet_list,
    card,
    execute,
    open_url,
    paragraph,
    submit,
)
from btassist.dialogs.courses import session_calendar_url, title
from btassist.dialogs.formatting import day, moment, span
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.outbox.notices import NoticeKind
from btassist.reminders import usecases as reminders
from btassist.reminders.kinds import (
    PAUSE_ALL,
    REMINDER_KINDS,
    BTStart,
    ItemDue,
    MeetingProposal,
    Overdue,
    SessionMoved,
    SessionNew,
    SessionTomorrow,
    WeeklyDigest,
)
from btassist.roster.identity import Actor
from btassist.roster.models import Role

BUTTONS_PER_SET = 5  # Teams shows at most 6 buttons in a row of actions

# --- items of the plan --------------------------------------------------------------------------


ROLE_NAMES = {
    Attendee.studierektor: "role.studierektor",
    Attendee.extern_bedomare: "reminder.extern_bedomare",
}
"""Attendees named by their role: they are not (or not one person) in the roster."""


def _with_whom(view: ItemView, ctx: FlowContext, actor: Actor) -> list[str]:
    """Who the recipient does the item with, as the region's policy names the attendees."""
    lang = actor.language
    policy = ctx.region_policies().get(view.doctor_region)
    people: list[str] = []
    for attendee in policy.attendees(view.item.kind) if policy else ():
        person = {
            Attendee.doctor: (view.item.doctor_id, view.doctor_name),
            Attendee.handledare: (view.handledare_id, view.handledare_name),
            Attendee.huvudhandledare: (view.main_supervisor_id, view.main_supervisor_name),
        }.get(attendee)
        if person is None:
            name: str | None = t(ROLE_NAMES[attendee], lang)
        else:
            name = person[1] if person[0] != actor.person_id else None
        if name and name not in people:
            people.append(name)
    return people


def item_due(key: str) -> Callable[[FlowContext, Actor, ItemDue], Awaitable[list[Reply]]]:
    """The renderer of an item due soon (`reminder.item_due_soon`) or today."""

    async def render(ctx: FlowContext, actor: Actor, notice: ItemDue) -> list[Reply]:
        found = await plans.items(ctx.database, [notice.item_id])
        if not found:
            return []
        view, lang = found[0], actor.language
        name = item_name(view, ctx.region_policies(), lang)
        body = [paragraph(t(key, lang, item=name, date=day(view.item.due, lang)))]
        if view.item.doctor_id != actor.person_id:
            body.append(paragraph(t("reminder.item_for", lang, doctor=view.doctor_name)))
        people = _with_whom(view, ctx, actor)
        if people:
            body.append(paragraph(t("reminder.item_with", lang, people=", ".join(people))))
        shown = [notice.item_id]
        buttons = item_buttons(actor, view, on=a.ItemCard.reminder, shown=shown)
        if view.item.doctor_id == actor.person_id:
            buttons.append(submit(t("reminder.my_plan", lang), a.Assessments()))
        return [Reply(card=card(body, buttons))]

    return render


async def bt_start(ctx: FlowContext, actor: Actor, notice: BTStart) -> list[Reply]:
    """BT has started: the IUP (and supervision contract) to set up with the huvudhandledare."""
    views = await plans.items(ctx.database, notice.item_ids)
    if not views:
        return []
    lang, first = actor.language, views[0]
    if notice.as_main_supervisor:
        intro = t("reminder.bt_start.main_supervisor", lang, doctor=first.doctor_name)
    else:
        supervisor = first.main_supervisor_name or t("role.main_supervisor", lang)
        intro = t("reminder.bt_start", lang, supervisor=supervisor)
    return [Reply(card=items_card(ctx, actor, views, intro=[paragraph(intro)]))]


async def meeting_proposal(ctx: FlowContext, actor: Actor, notice: MeetingProposal) -> list[Reply]:
    """An end-of-placement meeting to book with everyone who attends."""
    found = await plans.items(ctx.database, [notice.item_id])
    if not found:
        return []
    view, lang = found[0], actor.language
    others = [p for p in notice.attendee_ids if p != actor.person_id]
    named = await reminders.names(ctx.database, others)
    key = (
        "reminder.meeting_proposal.doctor"
        if view.item.doctor_id == actor.person_id
        else "reminder.meeting_proposal"
    )
    text = t(
        key,
        lang,
        item=kind_name(view, ctx.region_policies(), lang),
        doctor=view.doctor_name,
        unit=view.unit or "",
        end=day(view.placement_end or view.item.due, lang),
        date=day(view.item.due, lang),
        attendees=", ".join(named[p] for p in others if p in named),
    )
    buttons = item_buttons(actor, view, on=a.ItemCard.reminder, shown=[notice.item_id])
    return [Reply(card=card([paragraph(text)], buttons))]


def overdue(on: a.ItemCard) -> Callable[[FlowContext, Actor, Overdue], Awaitable[list[Reply]]]:
    """The renderer of a supervisor's nudge or the studierektor's escalation: one card with
    every item still overdue, each with buttons that act in place."""

    async def render(ctx: FlowContext, actor: Actor, notice: Overdue) -> list[Reply]:
        views = await plans.items(ctx.database, [line.item_id for line in notice.items])
        if not views:
            return []
        views.sort(key=lambda v: (v.item.due, v.doctor_name, v.item.id or 0))
        return [Reply(card=overdue_card(ctx, actor, views, on=on))]

    return render


async def weekly_digest(ctx: FlowContext, actor: Actor, notice: WeeklyDigest) -> list[Reply]:
    """ "Den här veckan": teaching hours, this week's course sessions, what is due."""
    found = await reminders.digest_view(ctx.database, notice)
    if notice.teaching_hours is None and not found.items and not found.sessions:
        return []
    lang, policies = actor.language, ctx.region_policies()
    week = notice.week_start.isocalendar().week
    body: list[Element] = [
        paragraph(t("reminder.weekly_digest", lang, week=week, monday=day(notice.week_start, lang)))
    ]
    buttons: list[Element] = []
    if notice.teaching_hours is not None:
        hours = f"{notice.teaching_hours:g}"
        hours = hours.replace(".", ",") if lang is Language.sv else hours
        body.append(paragraph(t("reminder.weekly_digest.teaching", lang, hours=hours)))
    if found.sessions:
        lines = [
            f"{title(course, lang)} – {moment(starts_at, ctx.zone, lang)}{_place(target, lang)}"
            for course, target, starts_at in found.sessions
        ]
        body += [paragraph(t("reminder.weekly_digest.sessions", lang)), bullet_list(lines)]
        buttons.append(submit(t("menu.my_courses", lang), a.MyCourses()))
    if found.items:
        lines = [
            f"{item_name(view, policies, lang)} – {day(view.item.due, lang)}"
            for view in found.items
        ]
        body += [paragraph(t("reminder.weekly_digest.items", lang)), bullet_list(lines)]
        buttons.append(submit(t("reminder.my_plan", lang), a.Assessments()))
    return [Reply(card=card(body, buttons))]


# --- course sessions ----------------------------------------------------------------------------


def _place(target: CourseSession, lang: Language) -> str:
    place = target.location or (t("session.online", lang) if target.meeting_url else "")
    return t("reminder.place", lang, place=place) if place else ""


def _session_buttons(ctx: FlowContext, target: CourseSession, lang: Language) -> list[Element]:
    buttons = [open_url(t("enrol.add_to_calendar", lang), session_calendar_url(ctx, target.id))]
    if target.meeting_url:
        buttons.append(open_url(t("enrol.join_meeting", lang), target.meeting_url))
    return buttons


async def session_tomorrow(ctx: FlowContext, actor: Actor, notice: SessionTomorrow) -> list[Reply]:
    """The working day before a session: when, where, the link and "Lägg till i kalender"."""
    found = await reminders.scheduled_sessions(ctx.database, [notice.session_id])
    if notice.session_id not in found:
        return []
    course, target = found[notice.session_id]
    lang = actor.language
    text = t(
        "reminder.session_tomorrow",
        lang,
        title=title(course, lang),
        when=_occurrence(notice.starts_at, target, ctx, lang),
        place=_place(target, lang),
    )
    body: list[Element] = [paragraph(text)]
    if target.meeting_url:
        body.append(paragraph(f"{t('fact.link', lang)}: {target.meeting_url}", subtle=True))
    return [Reply(card=card(body, _session_buttons(ctx, target, lang)))]


def _occurrence(
    starts_at: datetime, target: CourseSession, ctx: FlowContext, lang: Language
) -> str:
    """ "tis 2027-01-12 09:00–16:00" for this occurrence of a session (a week of a series)."""
    end = starts_at + (target.ends_at - target.starts_at)
    start_text = moment(starts_at, ctx.zone, lang)
    if starts_at.astimezone(ctx.zone).date() == end.astimezone(ctx.zone).date():
        return f"{start_text}–{end.astimezone(ctx.zone):%H:%M}"
    return f"{start_text} – {moment(end, ctx.zone, lang)}"


async def session_moved(ctx: FlowContext, actor: Actor, notice: SessionMoved) -> list[Reply]:
    """A session the doctor holds or waits for changed time or place (its current version)."""
    found = await reminders.scheduled_sessions(ctx.database, [notice.session_id])
    if notice.session_id not in found:
        return []  # cancelled since: that notice says so
    course, target = found[notice.session_id]
    lang = actor.language
    body = [
        paragraph(
            t(
                "reminder.session_moved",
                lang,
                title=title(course, lang),
                when=span(target, ctx.zone, lang),
                place=_place(target, lang),
                previous=moment(notice.previous_starts_at, ctx.zone, lang),
            )
        )
    ]
    buttons = [] if notice.waitlisted else _session_buttons(ctx, target, lang)
    if notice.waitlisted:
        body.append(paragraph(t("reminder.session_moved.waitlisted", lang)))
    buttons.append(submit(t("reminder.show_course", lang), a.ShowCourse(course_id=course.id)))
    return [Reply(card=card(body, buttons))]


async def session_new(ctx: FlowContext, actor: Actor, notice: SessionNew) -> list[Reply]:
    """New sessions of a course the doctor still needs, with a button to the course."""
    found = await reminders.scheduled_sessions(ctx.database, notice.session_ids)
    sessions = [found[s] for s in notice.session_ids if s in found]
    if not sessions:
        return []
    lang = actor.language
    course = sessions[0][0]
    when = "; ".join(span(target, ctx.zone, lang) for _, target in sessions)
    text = t("reminder.session_new", lang, title=title(course, lang), when=when)
    button = submit(t("reminder.show_course", lang), a.ShowCourse(course_id=course.id))
    return [Reply(card=card([paragraph(text)], [button]))]


# --- pausing and resuming -----------------------------------------------------------------------

OVERDUE_KINDS = (NoticeKind.supervisor_overdue, NoticeKind.studierektor_overdue)
_FOR_ROLE: dict[Role, tuple[NoticeKind, ...]] = {
    Role.doctor: tuple(kind for kind in REMINDER_KINDS if kind not in OVERDUE_KINDS),
    Role.supervisor: (
        NoticeKind.supervisor_overdue,
        NoticeKind.item_due_soon,
        NoticeKind.item_due_today,
        NoticeKind.bt_start,
        NoticeKind.meeting_proposal,
    ),
    Role.studierektor: (NoticeKind.studierektor_overdue, NoticeKind.meeting_proposal),
}


def kinds_for(actor: Actor) -> list[NoticeKind]:
    """The reminders someone with these roles gets, in the order of `REMINDER_KINDS`."""
    mine = {kind for role in actor.roles for kind in _FOR_ROLE.get(role, ())}
    return [kind for kind in REMINDER_KINDS if kind in mine] or list(REMINDER_KINDS)


def _label(kind: str, lang: Language) -> str:
    return t(f"reminder.kind.{kind}", lang)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


CHOICES: dict[str, NoticeKind | None] = {
    PAUSE_ALL: None,
    **{kind.value: kind for kind in REMINDER_KINDS},
}
"""What a pause or resume button names: a kind, or None for every kind."""


async def pause_reminders(ctx: FlowContext, actor: Actor, action: a.PauseReminders) -> list[Reply]:
    """ "Pausa påminnelser": which kind (buttons), then no more of it until resumed."""
    if action.kind is None:
        kinds = kinds_for(actor)
        return [_ask(actor, kinds, "reminder.pause_title", "reminder.pause_all", a.PauseReminders)]
    return await _apply(ctx, actor, action.kind, reminders.pause_reminders, "reminder.paused")


async def resume_reminders(
    ctx: FlowContext, actor: Actor, action: a.ResumeReminders
) -> list[Reply]:
    """ "Återuppta påminnelser": which of the paused kinds (buttons), then that kind again."""
    if action.kind is None:
        held = await reminders.paused(ctx.database, person_id=actor.person_id)
        if not held:
            return [Reply(text=t("reminder.none_paused", actor.language))]
        kinds = (
            kinds_for(actor)
            if PAUSE_ALL in held
            else [kind for kind in REMINDER_KINDS if kind.value in held]
        )
        ask = a.ResumeReminders
        return [_ask(actor, kinds, "reminder.resume_title", "reminder.resume_all", ask)]
    return await _apply(ctx, actor, action.kind, reminders.resume_reminders, "reminder.resumed")


def _ask(
    actor: Actor,
    kinds: list[NoticeKind],
    title: str,
    every: str,
    choose: type[a.PauseReminders] | type[a.ResumeReminders],
) -> Reply:
    """A choice of kinds: one button per kind (in rows Teams shows whole), then "all"."""
    lang = actor.language
    titled = [execute(_capitalised(_label(k.value, lang)), choose(kind=k.value)) for k in kinds]
    rows = [titled[i : i + BUTTONS_PER_SET] for i in range(0, len(titled), BUTTONS_PER_SET)]
    body = [paragraph(f"**{t(title, lang)}**")]
    body += [{"type": "ActionSet", "actions": row} for row in rows]
    return Reply(card=card(body, [execute(t(every, lang), choose(kind=PAUSE_ALL))]))


async def _apply(
    ctx: FlowContext,
    actor: Actor,
    choice: str,
    change: Callable[..., Awaitable[None]],
    done: str,
) -> list[Reply]:
    """Pause or resume the chosen kind (or all) and say so in place of the choice."""
    lang = actor.language
    if choice not in CHOICES:
        return [Reply(text=t("reminder.unknown_kind", lang), replace=True)]
    await change(ctx.database, person_id=actor.person_id, kind=CHOICES[choice], now=ctx.now())
    return [Reply(text=t(done, lang, kind=_label(choice, lang)), replace=True)]
