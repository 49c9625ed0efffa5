"""Calendar flows: my BT and placements with the feed to subscribe to, and a new feed link.

A doctor's link is shown once, when it is made (only a hash of it is stored); asking again
says where to find it and offers a new one, which is confirmed first because the old link stops
working at once. Others get the public feed of their region.
"""

from __future__ import annotations

from btassist.calendar.http import (
    google_subscribe_url,
    personal_feed_url,
    region_feed_url,
    webcal_url,
)
from btassist.calendar.tokens import first_link, new_link
from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, bullet_list, card, heading, open_url, paragraph, submit
from btassist.dialogs.confirm import ask_to_confirm
from btassist.dialogs.overview import placements_section
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import Role


async def show_calendar(ctx: FlowContext, actor: Actor, action: a.Calendar) -> list[Reply]:
    """ "kalender": BT period and placements, then how to get it all into a calendar app."""
    if Role.doctor not in actor.roles:
        return [_region_feed_card(ctx, actor)]
    lang = actor.language
    body = await placements_section(ctx, actor) or [paragraph(t("calendar.no_programme", lang))]
    link = await first_link(ctx.database, person_id=actor.person_id, now=ctx.now())
    body.append(heading(t("calendar.subscribe_title", lang)))
    if link.token is not None:
        url = personal_feed_url(ctx.public_url, link.token)
        body += [paragraph(t("calendar.first_link", lang)), *_subscribe(url, lang)]
        return [Reply(card=card(body, _actions(url, lang)))]
    created = (link.existing_since or ctx.now()).astimezone(ctx.zone).date().isoformat()
    body.append(paragraph(t("calendar.link_exists", lang, date=created)))
    return [Reply(card=card(body, [_new_link_button(lang)]))]


async def new_calendar_link(
    ctx: FlowContext, actor: Actor, action: a.NewCalendarLink
) -> list[Reply]:
    """ "ny kalenderlänk": after confirming, a new personal link; the old one stops at once."""
    if Role.doctor not in actor.roles:
        return [_region_feed_card(ctx, actor)]
    lang = actor.language
    if not action.confirmed:
        body = [heading(t("calendar.confirm_title", lang)), paragraph(t("calendar.confirm", lang))]
        yes = t("calendar.confirm_yes", lang)
        return [await ask_to_confirm(ctx, actor, action, body=body, yes=yes)]
    token = await new_link(ctx.database, person_id=actor.person_id, now=ctx.now())
    url = personal_feed_url(ctx.public_url, token)
    body = [
        heading(t("calendar.subscribe_title", lang)),
        paragraph(t("calendar.rotated", lang)),
        *_subscribe(url, lang),
    ]
    return [Reply(card=card(body, _actions(url, lang, new_link=False)), replace=True)]


def _region_feed_card(ctx: FlowContext, actor: Actor) -> Reply:
    lang = actor.language
    url = region_feed_url(ctx.public_url, actor.region, lang)
    body = [
        heading(t("calendar.region_title", lang, region=region_name(actor.region, lang))),
        paragraph(t("calendar.not_doctor", lang)),
        *_subscribe(url, lang),
    ]
    google = open_url(t("calendar.google_button", lang), google_subscribe_url(url))
    return Reply(card=card(body, [google]))


def _subscribe(url: str, lang: Language) -> list[Element]:
    """The two addresses and the steps for Outlook/Teams, Google and Apple."""
    return [
        paragraph(t("calendar.link_https", lang, url=url)),
        paragraph(t("calendar.link_webcal", lang, url=webcal_url(url))),
        paragraph(f"**{t('calendar.steps_title', lang)}**"),
        bullet_list(
            t(key, lang)
            for key in ("calendar.step_outlook", "calendar.step_google", "calendar.step_apple")
        ),
    ]


def _actions(url: str, lang: Language, *, new_link: bool = True) -> list[Element]:
    google = open_url(t("calendar.google_button", lang), google_subscribe_url(url))
    return [google, _new_link_button(lang)] if new_link else [google]


def _new_link_button(lang: Language) -> Element:
    return submit(t("calendar.new_link_button", lang), a.NewCalendarLink())
