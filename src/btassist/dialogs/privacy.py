"""A person's data: "mina uppgifter" sends a one-time download link, "radera mina uppgifter"
erases it after a confirmation, except the course attendance the region must keep.

The export is a JSON file behind a link rather than a card: it holds every table's rows (a card
is limited to about 28 KB and is no file one can keep), and a bot cannot attach a file in a
1:1 chat without asking for access to the person's OneDrive.
"""

from __future__ import annotations

from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, card, heading, open_url, paragraph
from btassist.dialogs.confirm import ask_to_confirm
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.privacy.erase import erase_person, kept_on_erasure
from btassist.privacy.http import export_url
from btassist.privacy.links import LINK_LIFETIME, issue_export_link
from btassist.roster.identity import Actor


async def my_data(ctx: FlowContext, actor: Actor, action: a.MyData) -> list[Reply]:
    """A one-time link to a JSON file of everything stored about the person."""
    lang = actor.language
    token = await issue_export_link(ctx.database, person_id=actor.person_id, now=ctx.now())
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    body = [
        heading(t("privacy.export.title", lang)),
        paragraph(t("privacy.export.body", lang, minutes=minutes)),
        paragraph(t("privacy.export.erase_hint", lang), subtle=True),
    ]
    download = open_url(t("privacy.export.download", lang), export_url(ctx.public_url, token))
    return [Reply(card=card(body, [download]))]


def _kept_text(kept: dict[str, int], actor: Actor) -> str:
    """What an erasure keeps, in words: attendance and completed courses, or nothing."""
    lang = actor.language
    if not kept:
        return t("privacy.erase.nothing_kept", lang)
    return t(
        "privacy.erase.kept",
        lang,
        courses=kept.get("course_completion", 0),
        sessions=kept.get("enrolment", 0),
    )


async def erase_my_data(ctx: FlowContext, actor: Actor, action: a.EraseMyData) -> list[Reply]:
    """Ask first; then erase, and say what was kept and why."""
    lang = actor.language
    if not action.confirmed:
        kept = await kept_on_erasure(ctx.database, person_id=actor.person_id)
        body: list[Element] = [
            heading(t("privacy.erase.title", lang)),
            paragraph(t("privacy.erase.what", lang)),
            paragraph(_kept_text(kept, actor)),
        ]
        yes = t("privacy.erase.yes", lang)
        return [await ask_to_confirm(ctx, actor, action, body=body, yes=yes)]
    erased = await erase_person(ctx.database, person_id=actor.person_id, now=ctx.now())
    if erased is None:
        return [Reply(text=t("privacy.erase.nothing", lang), replace=True)]
    done = t("privacy.erase.done", lang)
    return [Reply(text=f"{done} {_kept_text(erased.kept, actor)}", replace=True)]
