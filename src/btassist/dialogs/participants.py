"""Coordinator flows: who is enrolled and waiting for a course, and recording attendance."""

from __future__ import annotations

from typing import Any

from btassist.courses.enrolment import record_attendance
from btassist.courses.models import Course, CourseSession
from btassist.courses.overview import courses_in_region, match_courses
from btassist.courses.queries import (
    participants_by_session,
    session_participants,
    upcoming_sessions,
)
from btassist.dialogs.cards import bullet_list, card, execute, heading, paragraph, submit
from btassist.dialogs.courses import title
from btassist.dialogs.formatting import span
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t

PRESENT = "present_"


async def show_participants(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "deltagare <kurs>": every upcoming session of the course with enrolled and waitlist."""
    lang = asker.language
    query = str(message.data.get("query") or "").strip()
    if not query and not message.data.get("course_id"):
        return [Reply(text=t("participants.usage", lang))]
    async with ctx.database.session(write_lock=False) as session:
        offered = await courses_in_region(session, asker.region)
        wanted_id = message.data.get("course_id")
        chosen = [c for c in offered if c.id == wanted_id] or match_courses(query, offered)
        if len(chosen) != 1:
            hint = [paragraph(t("course.unknown", lang, text=query[:80]))]
            if chosen:
                hint.append(paragraph(t("course.did_you_mean", lang)))
            buttons = [submit(title(c, lang), "participants", course_id=c.id) for c in chosen]
            return [Reply(card=card(hint, buttons))]
        course = chosen[0]
        assert course.id is not None
        sessions = await upcoming_sessions(
            session, course_id=course.id, region=asker.region, now=ctx.now()
        )
        people = await participants_by_session(session, [s.id for s in sessions if s.id])
    body: list[dict[str, Any]] = [heading(t("participants.title", lang, title=title(course, lang)))]
    actions = []
    if not sessions:
        body.append(paragraph(t("participants.no_sessions", lang)))
    for s in sessions:
        assert s.id is not None
        listed = people.get(s.id, [])
        enrolled = [p for p in listed if p.status == "enrolled"]
        waiting = [p for p in listed if p.status == "waitlisted"]
        capacity = f"/{s.capacity}" if s.capacity is not None else ""
        body.append(
            paragraph(
                "**"
                + t(
                    "participants.session",
                    lang,
                    when=span(s, ctx.zone, lang),
                    enrolled=len(enrolled),
                    capacity=capacity,
                    waiting=len(waiting),
                )
                + "**"
            )
        )
        if enrolled:
            body += [
                paragraph(t("participants.enrolled", lang)),
                bullet_list(f"{p.name} ({p.email})" for p in enrolled),
            ]
        else:
            body.append(paragraph(t("participants.none", lang), subtle=True))
        if waiting:
            body += [
                paragraph(t("participants.waitlist", lang)),
                bullet_list(f"{p.waitlist_position}. {p.name} ({p.email})" for p in waiting),
            ]
        if enrolled:
            actions.append(
                submit(
                    t("participants.attendance", lang, when=span(s, ctx.zone, lang)),
                    "attendance_form",
                    session_id=s.id,
                )
            )
    return [Reply(card=card(body, actions))]


async def attendance_form(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """A checklist of the enrolled doctors for one session."""
    lang = asker.language
    session_id = message.data.get("session_id")
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, session_id) if session_id else None
        course = await session.get(Course, target.course_id) if target else None
        if target is None or course is None or target.region_code != asker.region:
            return [Reply(text=t("refusal.unknown_session", lang))]
        listed = await session_participants(session, session_id=target.id or 0)
    toggles = [
        {
            "type": "Input.Toggle",
            "id": f"{PRESENT}{p.doctor_id}",
            "title": p.name,
            "value": "true",
            "valueOn": "true",
            "valueOff": "false",
        }
        for p in listed
        if p.status in ("enrolled", "attended")
    ]
    body = [
        heading(
            t(
                "attendance.title",
                lang,
                title=title(course, lang),
                when=span(target, ctx.zone, lang),
            )
        ),
        *toggles,
    ]
    return [
        Reply(
            card=card(
                body, [execute(t("attendance.save", lang), "attendance", session_id=target.id)]
            ),
            replace=True,
        )
    ]


async def save_attendance(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """Record who attended (from the checklist's toggles); that completes the course."""
    lang = asker.language
    session_id = message.data.get("session_id")
    async with ctx.database.session(write_lock=False) as session:
        target = await session.get(CourseSession, session_id) if session_id else None
    if target is None or target.id is None or target.region_code != asker.region:
        return [Reply(text=t("refusal.unknown_session", lang))]
    present = [
        int(key.removeprefix(PRESENT))
        for key, value in message.data.items()
        if key.startswith(PRESENT)
        and str(value).lower() == "true"
        and key.removeprefix(PRESENT).isdigit()
    ]
    if not present:
        return [Reply(text=t("attendance.nobody", lang))]
    count = await record_attendance(
        ctx.database,
        session_id=target.id,
        doctor_ids=present,
        on=target.starts_at.astimezone(ctx.zone).date(),
        now=ctx.now(),
    )
    return [Reply(text=t("attendance.saved", lang, count=count), replace=True)]
