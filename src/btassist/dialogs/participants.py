"""Coordinator flows: who is enrolled and waiting for a course, and recording attendance."""

from __future__ import annotations

from btassist.courses.enrolment import AttendanceRefusal, record_attendance
from btassist.courses.models import EnrolmentStatus, Recurrence
from btassist.courses.overview import match_courses, region_courses
from btassist.courses.queries import course_participants, session_in_region
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, bullet_list, card, execute, heading, paragraph, submit
from btassist.dialogs.courses import title
from btassist.dialogs.formatting import day, span
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor

MAX_COURSE_BUTTONS = 12


async def show_participants(ctx: FlowContext, actor: Actor, action: a.Participants) -> list[Reply]:
    """ "deltagare <kurs>": every upcoming session of the course with enrolled and waitlist;
    without a course, a choice of the region's courses."""
    lang = actor.language
    offered = await region_courses(ctx.database, actor.region)
    chosen = [c for c in offered if c.id == action.course_id] or match_courses(
        action.query, offered
    )
    if len(chosen) != 1:
        if action.query:
            hint = [paragraph(t("course.unknown", lang, text=action.query[:80]))]
            if chosen:
                hint.append(paragraph(t("course.did_you_mean", lang)))
        else:
            hint = [paragraph(t("participants.pick", lang))]
            chosen = sorted(offered, key=lambda c: title(c, lang))[:MAX_COURSE_BUTTONS]
        buttons = [submit(title(c, lang), a.Participants(course_id=c.id)) for c in chosen]
        return [Reply(card=card(hint, buttons))]
    course = chosen[0]
    assert course.id is not None
    sessions = await course_participants(
        ctx.database, course_id=course.id, region=actor.region, now=ctx.now()
    )
    body: list[Element] = [heading(t("participants.title", lang, title=title(course, lang)))]
    actions = []
    if not sessions:
        body.append(paragraph(t("participants.no_sessions", lang)))
    for listed in sessions:
        s = listed.session
        enrolled, waiting = listed.enrolled, listed.waiting
        capacity = f"/{s.capacity}" if s.capacity is not None else ""
        summary = t(
            "participants.session",
            lang,
            when=span(s, ctx.zone, lang),
            enrolled=len(enrolled),
            capacity=capacity,
            waiting=len(waiting),
        )
        body.append(paragraph(f"**{summary}**"))
        if enrolled:
            body += [
                paragraph(t("participants.enrolled", lang)),
                bullet_list(f"{p.name} ({p.email})" for p in enrolled),
            ]
            actions.append(
                submit(
                    t("participants.attendance", lang, when=span(s, ctx.zone, lang)),
                    a.AttendanceForm(session_id=s.id),
                )
            )
        else:
            body.append(paragraph(t("participants.none", lang), subtle=True))
        if waiting:
            body += [
                paragraph(t("participants.waitlist", lang)),
                bullet_list(f"{p.waitlist_position}. {p.name} ({p.email})" for p in waiting),
            ]
    return [Reply(card=card(body, actions))]


async def attendance_form(ctx: FlowContext, actor: Actor, action: a.AttendanceForm) -> list[Reply]:
    """A checklist of the doctors holding a seat in one session of the coordinator's region."""
    lang = actor.language
    found = await session_in_region(ctx.database, session_id=action.session_id, region=actor.region)
    if found is None:
        return [Reply(text=t("refusal.unknown_session", lang))]
    course, listed = found
    target = listed.session
    toggles = [
        {
            "type": "Input.Toggle",
            "id": f"{a.PRESENT}{p.doctor_id}",
            "title": p.name,
            "value": "true",
            "valueOn": "true",
            "valueOff": "false",
        }
        for p in listed.participants
        if p.status in (EnrolmentStatus.enrolled, EnrolmentStatus.attended)
    ]
    heading_text = t(
        "attendance.title", lang, title=title(course, lang), when=span(target, ctx.zone, lang)
    )
    save = execute(t("attendance.save", lang), a.SaveAttendance(session_id=target.id))
    return [Reply(card=card([heading(heading_text), *toggles], [save]), replace=True)]


async def save_attendance(ctx: FlowContext, actor: Actor, action: a.SaveAttendance) -> list[Reply]:
    """Record who attended (from the checklist's toggles); that completes the course."""
    lang = actor.language
    if not action.present:
        return [Reply(text=t("attendance.nobody", lang))]
    found = await session_in_region(ctx.database, session_id=action.session_id, region=actor.region)
    if found is None:
        return [Reply(text=t("refusal.unknown_session", lang))]
    target = found[1].session
    names = {p.doctor_id: p.name for p in found[1].participants}
    start = target.starts_at.astimezone(ctx.zone).date()
    # A weekly series is attended week by week: this week's occasion; anything else its day.
    weekly = target.recurrence is Recurrence.weekly and start <= ctx.today()
    result = await record_attendance(
        ctx.database,
        session_id=action.session_id,
        doctor_ids=action.present,
        on=ctx.today() if weekly else start,
        today=ctx.today(),
        zone=ctx.zone,
        region=actor.region,
    )
    lines = []
    if result.recorded:
        lines.append(t("attendance.saved", lang, count=len(result.recorded)))
    by_reason: dict[AttendanceRefusal, list[str]] = {}
    for doctor_id, reason in result.refused.items():
        by_reason.setdefault(reason, []).append(names.get(doctor_id, f"#{doctor_id}"))
    for reason, who in by_reason.items():
        lines.append(
            t(
                f"attendance.refused.{reason}",
                lang,
                names=", ".join(who),
                date=day(start, lang),
                start=day(start, lang),
            )
        )
    return [Reply(text="\n\n".join(lines), replace=True)]
