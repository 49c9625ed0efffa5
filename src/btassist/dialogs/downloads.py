"""Excel files out of Teams: the roster, sessions, participants, plans and the cohort overview.

Each file is made for the coordinator who asked, of their own region, and handed over as a
one-time link (desk/links.py). The roster and the sessions come in the format their import
reads, so a file edited in Excel can be sent straight back to the bot.
"""

from __future__ import annotations

from collections.abc import Sequence

from btassist.assessments.exports import export_plans
from btassist.common.regions import region_name
from btassist.common.tabular import ExportedFile, FileFormat
from btassist.courses.exports import export_participants, export_sessions
from btassist.courses.models import Course
from btassist.courses.overview import match_courses, region_courses
from btassist.courses.queries import session_in_region
from btassist.desk.links import LINK_LIFETIME, download_url, offer_download
from btassist.desk.overview import CohortFilter, cohort_overview
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, card, heading, open_url, paragraph, submit
from btassist.dialogs.courses import title
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.exports import export_people, export_placements
from btassist.roster.identity import Actor

XLSX = FileFormat.xlsx


async def desk_files(ctx: FlowContext, actor: Actor, action: a.DeskFiles) -> list[Reply]:
    """What can be sent to the bot, and the files it hands out."""
    lang = actor.language
    body = [
        heading(t("desk.files_title", lang)),
        paragraph(t("desk.files_import", lang)),
        paragraph(t("desk.files_export", lang)),
    ]
    buttons = [
        submit(t("desk.export_roster", lang), a.ExportRoster()),
        submit(t("desk.export_sessions", lang), a.ExportSessions()),
        submit(t("desk.export_participants", lang), a.ExportParticipants()),
        submit(t("desk.export_plans", lang), a.ExportPlans()),
        submit(t("desk.overview", lang), a.Overview()),
    ]
    return [Reply(card=card(body, buttons))]


async def export_roster(ctx: FlowContext, actor: Actor, action: a.ExportRoster) -> list[Reply]:
    """ "exportera roster": the region's people and placements files, as `roster import` reads."""
    people = await export_people(ctx.database, file_format=XLSX, region=actor.region)
    placements = await export_placements(ctx.database, file_format=XLSX, region=actor.region)
    return [await offer_files(ctx, actor, [people, placements], send_back=True)]


async def export_region_sessions(
    ctx: FlowContext, actor: Actor, action: a.ExportSessions
) -> list[Reply]:
    """ "exportera kurstillfällen": the region's current sessions, as `courses import` reads."""
    sessions = await export_sessions(
        ctx.database, zone=ctx.zone, file_format=XLSX, region=actor.region, current_at=ctx.now()
    )
    return [await offer_files(ctx, actor, [sessions], send_back=True)]


async def export_region_plans(ctx: FlowContext, actor: Actor, action: a.ExportPlans) -> list[Reply]:
    """ "exportera bedömningar": every item of the region's doctors' plans."""
    plans = await export_plans(
        ctx.database,
        file_format=XLSX,
        today=ctx.today(),
        region=actor.region,
        language=actor.language,
    )
    return [await offer_files(ctx, actor, [plans])]


async def export_course_participants(
    ctx: FlowContext, actor: Actor, action: a.ExportParticipants
) -> list[Reply]:
    """ "exportera deltagare <kurs>": who holds a seat and who waits, for a session of the
    region or for every session of a course there; without a course, a choice of them."""
    lang = actor.language
    if action.session_id is not None:
        found = await session_in_region(
            ctx.database, session_id=action.session_id, region=actor.region
        )
        if found is None:
            return [Reply(text=t("refusal.unknown_session", lang))]
        exported = await export_participants(
            ctx.database, zone=ctx.zone, file_format=XLSX, session_id=action.session_id
        )
    else:
        offered = await region_courses(ctx.database, actor.region)
        chosen = [c for c in offered if c.id == action.course_id] or match_courses(
            action.query, offered
        )
        if len(chosen) != 1:
            return [_pick_course(actor, action, offered, chosen)]
        exported = await export_participants(
            ctx.database,
            zone=ctx.zone,
            file_format=XLSX,
            course_code=chosen[0].code,
            region=actor.region,
        )
    if exported is None:
        return [Reply(text=t("refusal.unknown_session", lang))]
    return [await offer_files(ctx, actor, [exported])]


def _pick_course(
    actor: Actor, action: a.ExportParticipants, offered: list[Course], close: list[Course]
) -> Reply:
    """A drop-down of the courses a typed name may mean (else all the region's: any number fits
    one card) and one button; the choice arrives as the button's `course_id`."""
    lang = actor.language
    body: list[Element] = []
    if action.query:
        body.append(paragraph(t("course.unknown", lang, text=action.query[:80])))
        if close:
            body.append(paragraph(t("course.did_you_mean", lang)))
    courses = sorted(close or offered, key=lambda course: title(course, lang))
    if not courses:
        return Reply(text=t("desk.no_courses", lang))
    body.append(
        {
            "type": "Input.ChoiceSet",
            "id": "course_id",
            "label": t("desk.pick_course", lang),
            "style": "compact",
            "isRequired": True,
            "errorMessage": t("desk.pick_course", lang),
            "value": str(courses[0].id),
            "choices": [{"title": title(c, lang), "value": str(c.id)} for c in courses],
        }
    )
    button = submit(t("desk.export_participants", lang), a.ExportParticipants())
    return Reply(card=card(body, [button]))


async def export_cohort_overview(
    ctx: FlowContext, actor: Actor, action: a.ExportOverview
) -> list[Reply]:
    """The overview as a workbook: every doctor passing the filter, not one page."""
    overview = await cohort_overview(
        ctx.database,
        region=actor.region,
        today=ctx.today(),
        only=CohortFilter(action.cohort, action.placement),
    )
    exported = overview.sheet().as_file(XLSX, stem=f"overview-{actor.region}")
    return [await offer_files(ctx, actor, [exported])]


async def offer_files(
    ctx: FlowContext, actor: Actor, files: Sequence[ExportedFile], *, send_back: bool = False
) -> Reply:
    """A card with one download button per file; each link works once, for an hour."""
    lang = actor.language
    region = region_name(actor.region, lang)
    body: list[Element] = [heading(t("desk.files_ready", lang, region=region))]
    buttons = []
    for exported in files:
        token = await offer_download(
            ctx.database, person_id=actor.person_id, file=exported, now=ctx.now()
        )
        body.append(paragraph(t("desk.file_line", lang, name=exported.name, rows=exported.rows)))
        buttons.append(
            open_url(
                t("desk.download", lang, name=exported.name), download_url(ctx.public_url, token)
            )
        )
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    body.append(paragraph(t("desk.link_once", lang, minutes=minutes), subtle=True))
    if send_back:
        body.append(paragraph(t("desk.send_back", lang)))
    return Reply(card=card(body, buttons))
