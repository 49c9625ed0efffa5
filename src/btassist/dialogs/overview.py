"""Read-only views from the roster: my BT and placements, my trainees, my contacts."""

from __future__ import annotations

from datetime import date

from btassist.common.language import Language
from btassist.db.engine import Database
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph
from btassist.dialogs.turn import Asker, FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.contacts import Contact, contacts_of, placements_of, programme_of, trainees_of
from btassist.roster.models import Person


def _day(value: date) -> str:
    return value.isoformat()


async def placements_section(ctx: FlowContext, asker: Asker) -> list[Element] | None:
    """Card elements for the BT period and placements; None without a BT period."""
    lang, today = asker.language, ctx.today()
    async with ctx.database.session(write_lock=False) as session:
        programme = await programme_of(session, asker.person_id)
        lines = await placements_of(session, asker.person_id)
    if programme is None:
        return None
    items = []
    for line in lines:
        p = line.placement
        supervisor = (
            t("calendar.placement_supervisor", lang, name=line.supervisor_name)
            if line.supervisor_name
            else ""
        )
        text = t(
            "calendar.placement",
            lang,
            kind=t(f"placement.{p.kind}", lang),
            unit=p.unit,
            start=_day(p.start),
            end=_day(p.end),
            supervisor=supervisor,
        )
        if p.start <= today <= p.end:
            text = f"**{text}** {t('calendar.current', lang)}"
        items.append(text)
    title = t("calendar.title", lang, start=_day(programme.start), end=_day(programme.planned_end))
    body = [heading(title)]
    if items:
        body.append(bullet_list(items))
    return body


async def my_trainees(ctx: FlowContext, asker: Asker) -> list[Reply]:
    """The BT doctors a supervisor is huvudhandledare or current handledare for."""
    lang = asker.language
    async with ctx.database.session(write_lock=False) as session:
        trainees = await trainees_of(session, asker.person_id, ctx.today())
    if not trainees:
        return [Reply(text=t("trainees.none", lang))]
    lines = []
    for trainee in trainees:
        relation = t(
            "role.main_supervisor" if trainee.is_main_supervisor else "role.supervisor", lang
        )
        placement = (
            t(
                "trainees.current_placement",
                lang,
                kind=t(f"placement.{trainee.current.kind}", lang),
                unit=trainee.current.unit,
            )
            if trainee.current
            else ""
        )
        lines.append(
            t("trainees.line", lang, name=trainee.name, relation=relation, placement=placement)
        )
    return [Reply(card=card([heading(t("trainees.title", lang)), bullet_list(lines)]))]


async def contacts_for(database: Database, asker: Asker, today: date) -> list[Contact]:
    """The asker's contacts from the roster."""
    async with database.session(write_lock=False) as session:
        person = await session.get(Person, asker.person_id)
        return [] if person is None else await contacts_of(session, person, today)


def contact_lines(contacts: list[Contact], language: Language) -> list[str]:
    """One "role: name (e-mail)" line per contact."""
    return [
        t(
            "contacts.line",
            language,
            role=t(f"role.{c.capacity}", language),
            name=c.name,
            email=c.email,
        )
        for c in contacts
    ]


async def my_contacts(ctx: FlowContext, asker: Asker) -> list[Reply]:
    """Until the FAQ exists: the people to ask, from the roster."""
    lang = asker.language
    contacts = await contacts_for(ctx.database, asker, ctx.today())
    if not contacts:
        return [Reply(text=t("contacts.none", lang))]
    body = [
        heading(t("contacts.title", lang)),
        paragraph(t("ask.intro", lang)),
        bullet_list(contact_lines(contacts, lang)),
    ]
    return [Reply(card=card(body))]
