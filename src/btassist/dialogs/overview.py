"""Read-only views from the roster: my BT and placements, my contacts."""

from __future__ import annotations

from datetime import date

from btassist.common.language import Language
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.contacts import Contact, bt_overview, contacts_for
from btassist.roster.identity import Actor


def _day(value: date) -> str:
    return value.isoformat()


async def placements_section(ctx: FlowContext, actor: Actor) -> list[Element] | None:
    """Card elements for the BT period and placements; None without a BT period."""
    lang, today = actor.language, ctx.today()
    overview = await bt_overview(ctx.database, actor.person_id)
    if overview is None:
        return None
    items = []
    for line in overview.placements:
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
    programme = overview.programme
    title = t("calendar.title", lang, start=_day(programme.start), end=_day(programme.planned_end))
    body = [heading(title)]
    if items:
        body.append(bullet_list(items))
    return body


async def my_contacts_of(ctx: FlowContext, actor: Actor) -> list[Contact]:
    """The person's contacts from the roster, as of today."""
    return await contacts_for(ctx.database, actor.person_id, ctx.today())


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


async def my_contacts(ctx: FlowContext, actor: Actor, action: object) -> list[Reply]:
    """ "Ställ en fråga": how to ask the FAQ, and the people to ask, from the roster."""
    lang = actor.language
    contacts = await my_contacts_of(ctx, actor)
    if not contacts:
        return [Reply(text=t("contacts.none", lang))]
    body = [
        heading(t("contacts.title", lang)),
        paragraph(t("ask.intro", lang)),
        bullet_list(contact_lines(contacts, lang)),
    ]
    return [Reply(card=card(body))]
