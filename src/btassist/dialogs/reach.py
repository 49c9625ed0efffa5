"""The coordinator's "vilka når du inte?": who in the region the bot cannot message, and why."""

from __future__ import annotations

from btassist.common.regions import region_name
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.reach.report import Reach, Unreachable, reachability
from btassist.roster.identity import Actor

MAX_LISTED = 20
"""People listed per reason; the CLI's `btassist reach report` lists everyone."""


async def who_is_unreachable(
    ctx: FlowContext, actor: Actor, action: a.WhoIsUnreachable
) -> list[Reply]:
    """How many of the region's people the bot can reach, and who it cannot, by reason."""
    lang = actor.language
    people = await reachability(ctx.database, region=actor.region)
    reachable = sum(person.reachable for person in people)
    body: list[Element] = [
        heading(t("reach.title", lang, region=region_name(actor.region, lang))),
        paragraph(t("reach.summary", lang, reachable=reachable, total=len(people))),
    ]
    by_reason: dict[Unreachable, list[Reach]] = {}
    for person in people:
        if person.reason is not None:
            by_reason.setdefault(person.reason, []).append(person)
    for reason in Unreachable:
        listed = by_reason.get(reason, [])
        if not listed:
            continue
        body.append(paragraph(f"**{t(f'reach.reason.{reason.value}', lang, count=len(listed))}**"))
        lines = [f"{person.name} ({person.email})" for person in listed[:MAX_LISTED]]
        if len(listed) > MAX_LISTED:
            lines.append(t("reach.more", lang, count=len(listed) - MAX_LISTED))
        body.append(bullet_list(lines))
    if by_reason:
        body.append(paragraph(t("reach.what_to_do", lang), subtle=True))
    return [Reply(card=card(body))]
