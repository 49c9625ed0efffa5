"""Calendar flows: my BT and placements with the feed to subscribe to, and a new feed link.

A doctor's link is shown once, when it is made (only a hash of it is stored); asking again
says where to find it and offers a new one. Others get the public feed of their region.
"""

from __future__ import annotations

from datetime import datetime

from btassist.calendar.http import (
    google_subscribe_url,
    personal_feed_url,
    region_feed_url,
    webcal_url,
)
from btassist.calendar.tokens import active_token, issue_token_once, rotate_token
from btassist.common.language import Language
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph, submit
from btassist.dialogs.courses import open_url
from btassist.dialogs.intents import Intent
from btassist.dialogs.overview import placements_section
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t
from btassist.roster.models import Region, Role


async def show_calendar(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "kalender": BT period and placements, then how to get it all into a calendar app."""
    if Role.doctor not in asker.roles:
        return [await _region_feed_card(ctx, asker)]
    lang = asker.language
    body = await placements_section(ctx, asker) or [paragraph(t("calendar.no_programme", lang))]
    now = ctx.now()
    async with ctx.database.session() as session:
        token = await issue_token_once(session, person_id=asker.person_id, now=now)
        existing = None if token else await active_token(session, person_id=asker.person_id)
    if token is not None:
        url = personal_feed_url(ctx.public_url, token)
        body += [heading(t("calendar.subscribe_title", lang))]
        body += [paragraph(t("calendar.first_link", lang)), *_subscribe(url, lang)]
        return [Reply(card=card(body, _actions(url, lang)))]
    created = existing.created_at if existing is not None else now
    body += [
        heading(t("calendar.subscribe_title", lang)),
        paragraph(t("calendar.link_exists", lang, date=_local_day(ctx, created))),
    ]
    return [Reply(card=card(body, [_new_link_button(lang)]))]


async def new_calendar_link(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "ny kalenderlänk": a new personal link; the old one stops working at once."""
    if Role.doctor not in asker.roles:
        return [await _region_feed_card(ctx, asker)]
    lang = asker.language
    async with ctx.database.session() as session:
        token = await rotate_token(session, person_id=asker.person_id, now=ctx.now())
    url = personal_feed_url(ctx.public_url, token)
    body = [
        heading(t("calendar.subscribe_title", lang)),
        paragraph(t("calendar.rotated", lang)),
        *_subscribe(url, lang),
    ]
    return [Reply(card=card(body, _actions(url, lang)), replace=message.verb is not None)]


async def _region_feed_card(ctx: FlowContext, asker: Asker) -> Reply:
    lang = asker.language
    async with ctx.database.session(write_lock=False) as session:
        region = await session.get(Region, asker.region)
    name = asker.region if region is None else _region_name(region, lang)
    url = region_feed_url(ctx.public_url, asker.region, lang)
    body = [
        heading(t("calendar.region_title", lang, region=name)),
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


def _actions(url: str, lang: Language) -> list[Element]:
    google = open_url(t("calendar.google_button", lang), google_subscribe_url(url))
    return [google, _new_link_button(lang)]


def _new_link_button(lang: Language) -> Element:
    return submit(t("calendar.new_link_button", lang), Intent.calendar_link.value)


def _region_name(region: Region, lang: Language) -> str:
    return region.name_sv if lang is Language.sv else region.name_en


def _local_day(ctx: FlowContext, moment: datetime) -> str:
    return moment.astimezone(ctx.zone).date().isoformat()
