"""Announcements in the chat: the composer (text, audience and options, preview, confirm), the
report card the author refreshes in place, and what recipients see and do ("Uppfattat", a
question to the author)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time

from btassist.broadcast import usecases
from btassist.broadcast.audience import Audience, AudienceRole, Enrolled
from btassist.broadcast.models import Broadcast, BroadcastStatus
from btassist.broadcast.notices import BroadcastNotice
from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.conversations import usecases as conversations
from btassist.conversations.state import Waiting
from btassist.dialogs import actions as a
from btassist.dialogs import faq
from btassist.dialogs.cards import Card, Element, card, execute, heading, paragraph, submit
from btassist.dialogs.confirm import ask_to_confirm
from btassist.dialogs.formatting import moment
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor
from btassist.roster.models import PlacementKind

log = logging.getLogger(__name__)

FLOW = a.COMPOSER
TEXT_STEP = "text"
OPTIONS_STEP = "options"
COMPOSE_FOR = 60  # minutes the composer waits for the next step
FAILURES_SHOWN = 5
DEFAULT_SEND_TIME = time(8, 0)
ANY = a.ANY


# --- what recipients see ------------------------------------------------------------------------


def announcement_body(broadcast: Broadcast, language: Language) -> list[Element]:
    """The announcement as it reads in the chat: who it is from, and the text (Markdown)."""
    return [
        paragraph(t("broadcast.card.from", language, author=broadcast.author_label), subtle=True),
        paragraph(broadcast.text),
    ]


def announcement_card(
    broadcast: Broadcast, language: Language, *, acknowledged: bool = False
) -> Card:
    """A recipient's copy, with "Uppfattat" when the author asked for it."""
    assert broadcast.id is not None
    body = announcement_body(broadcast, language)
    actions: list[Element] = []
    if broadcast.ack and acknowledged:
        body.append(paragraph(t("broadcast.card.acknowledged", language)))
    elif broadcast.ack:
        actions.append(
            execute(t("broadcast.card.ack", language), a.BroadcastAck(broadcast_id=broadcast.id))
        )
    body.append(paragraph(t("broadcast.card.reply_hint", language), subtle=True))
    return card(body, actions)


async def announcement_notice(
    ctx: FlowContext, actor: Actor, notice: BroadcastNotice
) -> list[Reply]:
    """The notice renderer: the same card for every recipient of a language; nothing once the
    announcement was cancelled or recalled."""
    broadcast = await usecases.announcement(ctx.database, notice.broadcast_id)
    if broadcast is None or broadcast.status is not BroadcastStatus.queued:
        return []
    return [Reply(card=announcement_card(broadcast, actor.language))]


async def recall_notice(ctx: FlowContext, actor: Actor, notice: BroadcastNotice) -> list[Reply]:
    """A recall says nothing: the delivery worker deletes the recipient's copy instead."""
    return []


async def acknowledge(ctx: FlowContext, actor: Actor, action: a.BroadcastAck) -> list[Reply]:
    """ "Uppfattat": recorded once; the card loses its button and says so."""
    done = await usecases.acknowledge(
        ctx.database, actor=actor, broadcast_id=action.broadcast_id, now=ctx.now()
    )
    if isinstance(done, usecases.NotFound):
        return [Reply(text=t("broadcast.gone", actor.language), replace=True)]
    shown = announcement_card(done.broadcast, actor.language, acknowledged=True)
    return [Reply(card=shown, replace=True)]


async def after_announcement(ctx: FlowContext, actor: Actor, text: str) -> list[Reply] | None:
    """Typed text soon after an announcement: the FAQ's answer if it has one, and always a way
    to ask the author; None when no announcement came lately (the usual path answers)."""
    if not text:
        return None
    answered = await usecases.latest_for(ctx.database, person_id=actor.person_id, now=ctx.now())
    if answered is None:
        return None
    confident = ctx.faq is not None and ctx.faq.current.search(text, region=actor.region).answer
    if confident:
        replies = await faq.answer_question(ctx, actor, text) or []
        return [*replies, _ask_author(actor, answered, text, "broadcast.reply.also")]
    key = (
        "broadcast.reply.forward" if answered.author_id is not None else "broadcast.reply.no_author"
    )
    return [_ask_author(actor, answered, text, key)]


async def author_hint(ctx: FlowContext, actor: Actor, text: str) -> list[Reply]:
    """After a "tack!" that follows an announcement: the way to write to its author."""
    answered = await usecases.latest_for(ctx.database, person_id=actor.person_id, now=ctx.now())
    if answered is None or answered.author_id is None:
        return []
    return [_ask_author(actor, answered, text, "broadcast.reply.also")]


def _ask_author(actor: Actor, answered: usecases.Answered, text: str, key: str) -> Reply:
    lang = actor.language
    ask = (
        [
            submit(
                t("broadcast.reply.ask", lang, name=answered.author_label),
                a.BroadcastAskAuthor(broadcast_id=answered.broadcast_id, q=text[:500]),
            )
        ]
        if answered.author_id is not None
        else []
    )
    return Reply(card=card([paragraph(t(key, lang, name=answered.author_label))], ask))


async def ask_author(ctx: FlowContext, actor: Actor, action: a.BroadcastAskAuthor) -> list[Reply]:
    """Send a recipient's question to the announcement's author."""
    name = await usecases.reply_to_author(
        ctx.database, actor=actor, broadcast_id=action.broadcast_id, text=action.q
    )
    key = "broadcast.reply.sent" if name else "broadcast.reply.no_author"
    return [Reply(text=t(key, actor.language, name=name or ""))]


# --- the composer -------------------------------------------------------------------------------


async def start(ctx: FlowContext, actor: Actor, action: a.Broadcast) -> list[Reply]:
    """ "Skicka meddelande": coordinators write the text next; anyone else is told who can."""
    if usecases.author_of(actor) is None:
        return [Reply(text=t("broadcast.not_allowed", actor.language))]
    await _wait(ctx, actor, TEXT_STEP, {})
    return [Reply(text=t("broadcast.write", actor.language))]


async def continue_composer(
    ctx: FlowContext, actor: Actor, waiting: Waiting, text: str
) -> list[Reply]:
    """The author's typed text: the announcement (first step) or a new version of it."""
    author = usecases.author_of(actor)
    lang = actor.language
    if author is None or not text.strip():
        return [Reply(text=t("broadcast.write", lang))]
    broadcast_id = waiting.payload.get("broadcast_id")
    if isinstance(broadcast_id, int):
        changed = await usecases.rewrite(
            ctx.database, author=author, broadcast_id=broadcast_id, text=text
        )
        if not isinstance(changed, usecases.Draft):
            await conversations.stop(ctx.database, actor=actor, flow=FLOW)
            return [Reply(text=t("broadcast.gone", lang))]
        note = t("broadcast.text_changed", lang)
    else:
        draft = await usecases.compose(ctx.database, author=author, text=text, now=ctx.now())
        broadcast_id = draft.broadcast_id
        note = None
    await _wait(ctx, actor, OPTIONS_STEP, {"broadcast_id": broadcast_id})
    form = await options_card(ctx, actor, author, broadcast_id)
    return [Reply(text=note), Reply(card=form)] if note else [Reply(card=form)]


async def edit(ctx: FlowContext, actor: Actor, action: a.BroadcastEdit) -> list[Reply]:
    """Back to the form from the preview."""
    author = usecases.author_of(actor)
    if author is None:
        return [Reply(text=t("broadcast.not_allowed", actor.language))]
    await _wait(ctx, actor, OPTIONS_STEP, {"broadcast_id": action.broadcast_id})
    return [Reply(card=await options_card(ctx, actor, author, action.broadcast_id))]


async def options_card(
    ctx: FlowContext, actor: Actor, author: usecases.Author, broadcast_id: int
) -> Card:
    """Whom to send to and how: regions, role, cohort, placement, course or session, options."""
    lang = actor.language
    regions = sorted(author.regions)
    found = await usecases.targets(ctx.database, regions=author.regions, now=ctx.now())
    courses = [
        _choice(_target_title(target, ctx, lang), f"course:{target.course_code}")
        for target in found
        if target.session_id is None
    ]
    sessions = [
        _choice(_target_title(target, ctx, lang), f"session:{target.session_id}")
        for target in found
        if target.session_id is not None
    ]
    body: list[Element] = [
        heading(t("broadcast.options.title", lang)),
        _choices(
            "regions",
            t("broadcast.options.regions", lang),
            [_choice(region_name(code, lang), code) for code in regions],
            value=",".join(regions),
            multi=True,
        ),
        _choices(
            "role",
            t("broadcast.options.role", lang),
            [_choice(t(f"broadcast.role.{role.value}", lang), role.value) for role in AudienceRole],
            value=AudienceRole.doctors.value,
        ),
        _date("cohort_from", t("broadcast.options.cohort_from", lang)),
        _date("cohort_to", t("broadcast.options.cohort_to", lang)),
        _choices(
            "placement",
            t("broadcast.options.placement", lang),
            [_choice(t("broadcast.options.any", lang), ANY)]
            + [_choice(t(f"placement.{kind.value}", lang), kind.value) for kind in PlacementKind],
            value=ANY,
        ),
        _choices(
            "target",
            t("broadcast.options.target", lang),
            [_choice(t("broadcast.options.any", lang), ANY), *courses, *sessions],
            value=ANY,
        ),
        _choices(
            "enrolled",
            t("broadcast.options.enrolled", lang),
            [_choice(t(f"broadcast.enrolled.{kind.value}", lang), kind.value) for kind in Enrolled],
            value=Enrolled.participants.value,
        ),
        {
            "type": "Input.Toggle",
            "id": "ack",
            "title": t("broadcast.options.ack", lang),
            "value": "false",
            "valueOn": "true",
            "valueOff": "false",
        },
        _date("send_date", t("broadcast.options.send_date", lang)),
        {"type": "Input.Time", "id": "send_time", "label": t("broadcast.options.send_time", lang)},
        paragraph(t("broadcast.options.hint", lang), subtle=True),
    ]
    preview = submit(
        t("broadcast.options.preview", lang), a.BroadcastOptions(broadcast_id=broadcast_id)
    )
    return card(body, [preview, execute(t("confirm.no", lang), a.Cancel())])


async def preview(ctx: FlowContext, actor: Actor, action: a.BroadcastOptions) -> list[Reply]:
    """The form was sent: the exact count and the announcement as it will look; nothing goes
    until the author confirms."""
    lang = actor.language
    author = usecases.author_of(actor)
    if author is None:
        return [Reply(text=t("broadcast.not_allowed", lang))]
    course, session_id = _target(action.target)
    try:
        audience = Audience(
            regions=tuple(code for code in action.regions.split(",") if code) or (actor.region,),
            role=AudienceRole(action.role),
            cohort_from=action.cohort_from,
            cohort_to=action.cohort_to,
            placement=PlacementKind(action.placement) if action.placement else None,
            course=course,
            session_id=session_id,
            enrolled=Enrolled(action.enrolled),
        )
    except ValueError:
        return [Reply(text=t("out_of_date", lang))]
    send_at = None
    if action.send_date is not None:
        local = datetime.combine(action.send_date, action.send_time or DEFAULT_SEND_TIME)
        send_at = local.replace(tzinfo=ctx.zone).astimezone(UTC)
    shown = await usecases.preview(
        ctx.database,
        author=author,
        broadcast_id=action.broadcast_id,
        audience=audience,
        ack=action.ack,
        send_at=send_at,
        now=ctx.now(),
        zone=ctx.zone,
    )
    if isinstance(shown, usecases.OutsideRegion):
        names = ", ".join(region_name(code, lang) for code in shown.regions) or ", ".join(
            shown.emails
        )
        own = ", ".join(region_name(code, lang) for code in sorted(author.regions))
        return [Reply(text=t("broadcast.outside_region", lang, regions=names, own=own))]
    if isinstance(shown, usecases.InThePast):
        return [Reply(text=t("broadcast.in_the_past", lang))]
    if not isinstance(shown, usecases.Preview):
        return [Reply(text=t("broadcast.gone", lang))]
    if shown.count == 0:
        return [
            Reply(text=t("broadcast.nobody", lang)),
            Reply(card=await options_card(ctx, actor, author, action.broadcast_id)),
        ]
    body = _preview_body(ctx, shown, lang)
    send = a.BroadcastSend(broadcast_id=action.broadcast_id)
    reply = await ask_to_confirm(
        ctx, actor, send, body=body, yes=t("broadcast.send_to", lang, count=shown.count)
    )
    assert reply.card is not None
    reply.card["actions"].insert(
        1, submit(t("broadcast.edit", lang), a.BroadcastEdit(broadcast_id=action.broadcast_id))
    )
    return [reply]


def _preview_body(ctx: FlowContext, shown: usecases.Preview, lang: Language) -> list[Element]:
    broadcast = shown.broadcast
    when = (
        t("broadcast.preview.at", lang, when=moment(broadcast.send_at, ctx.zone, lang))
        if broadcast.send_at
        else t("broadcast.preview.now", lang)
    )
    body: list[Element] = [
        heading(t("broadcast.preview.title", lang)),
        paragraph(
            t(
                "broadcast.preview.to",
                lang,
                count=shown.count,
                audience=describe(shown.audience, lang),
            )
        ),
        paragraph(when),
    ]
    if broadcast.ack:
        body.append(paragraph(t("broadcast.preview.ack", lang)))
    body.append(paragraph(t("broadcast.preview.looks", lang), subtle=True))
    body.append(
        {"type": "Container", "style": "emphasis", "items": announcement_body(broadcast, lang)}
    )
    return body


async def send(ctx: FlowContext, actor: Actor, action: a.BroadcastSend) -> list[Reply]:
    """The author confirmed: queue it and show the report card."""
    lang = actor.language
    author = usecases.author_of(actor)
    if author is None:
        return [Reply(text=t("broadcast.not_allowed", lang))]
    if not action.confirmed:  # only "Ja" on the preview sends
        return [Reply(text=t("broadcast.gone", lang))]
    queued = await usecases.send(
        ctx.database, author=author, broadcast_id=action.broadcast_id, now=ctx.now(), zone=ctx.zone
    )
    await conversations.stop(ctx.database, actor=actor, flow=FLOW)
    if isinstance(queued, usecases.InThePast):
        return [Reply(text=t("broadcast.in_the_past", lang), replace=True)]
    if not isinstance(queued, usecases.QueuedUp):
        return [Reply(text=t("broadcast.gone", lang), replace=True)]
    log.info("broadcast %s queued for %d", action.broadcast_id, queued.count)
    return await _report(ctx, actor, author, action.broadcast_id)


# --- the author's report ------------------------------------------------------------------------


async def report(ctx: FlowContext, actor: Actor, action: a.BroadcastReport) -> list[Reply]:
    """The report card, fresh (the button replaces the card it is on)."""
    author = usecases.author_of(actor)
    if author is None:
        return [Reply(text=t("broadcast.not_allowed", actor.language))]
    return await _report(ctx, actor, author, action.broadcast_id)


async def _report(
    ctx: FlowContext, actor: Actor, author: usecases.Author, broadcast_id: int
) -> list[Reply]:
    lang = actor.language
    found = await usecases.report(ctx.database, author=author, broadcast_id=broadcast_id)
    if isinstance(found, usecases.NotFound):
        return [Reply(text=t("broadcast.gone", lang), replace=True)]
    broadcast, counts = found.broadcast, found.counts
    body: list[Element] = [
        heading(t("broadcast.report.title", lang, id=broadcast_id)),
        paragraph(_excerpt(broadcast.text), subtle=True),
        paragraph(t(f"broadcast.status.{broadcast.status.value}", lang)),
        {
            "type": "FactSet",
            "facts": [
                {"title": t(f"broadcast.count.{name}", lang), "value": str(getattr(counts, name))}
                for name in (
                    "total",
                    "delivered",
                    "pending",
                    "failed",
                    "unreachable",
                    "cancelled",
                    "recalled",
                    "acknowledged",
                    "read",
                )
                if getattr(counts, name) or name in {"total", "delivered", "pending"}
            ],
        },
    ]
    if broadcast.send_at and broadcast.status is BroadcastStatus.queued:
        when = moment(broadcast.send_at, ctx.zone, lang)
        body.append(paragraph(t("broadcast.preview.at", lang, when=when)))
    if counts.failed or counts.unreachable:
        failed = await usecases.failures(ctx.database, author=author, broadcast_id=broadcast_id)
        if isinstance(failed, list):
            lines = [
                f"- {item.name}: {t(f'broadcast.reason.{item.status.value}', lang)}"
                for item in failed[:FAILURES_SHOWN]
            ]
            body.append(paragraph("\n".join(lines)))
        body.append(paragraph(t("broadcast.report.export", lang, id=broadcast_id), subtle=True))
    buttons = [
        execute(t("broadcast.report.refresh", lang), a.BroadcastReport(broadcast_id=broadcast_id))
    ]
    if broadcast.status is BroadcastStatus.queued:
        buttons.append(
            execute(
                t("broadcast.report.cancel", lang), a.BroadcastCancel(broadcast_id=broadcast_id)
            )
        )
    if broadcast.status in (BroadcastStatus.queued, BroadcastStatus.cancelled):
        buttons.append(
            execute(
                t("broadcast.report.recall", lang), a.BroadcastRecall(broadcast_id=broadcast_id)
            )
        )
    return [Reply(card=card(body, buttons), replace=True)]


async def cancel(ctx: FlowContext, actor: Actor, action: a.BroadcastCancel) -> list[Reply]:
    """Stop what has not gone out yet (confirmed first)."""
    return await _stop(ctx, actor, action, recall=False)


async def recall(ctx: FlowContext, actor: Actor, action: a.BroadcastRecall) -> list[Reply]:
    """Cancel and delete the delivered copies (confirmed first)."""
    return await _stop(ctx, actor, action, recall=True)


async def _stop(
    ctx: FlowContext, actor: Actor, action: a.BroadcastCancel | a.BroadcastRecall, *, recall: bool
) -> list[Reply]:
    """Cancel or recall: ask first, then stop and show the refreshed report."""
    lang = actor.language
    key = "broadcast.recall" if recall else "broadcast.cancel"
    author = usecases.author_of(actor)
    if author is None:
        return [Reply(text=t("broadcast.not_allowed", lang))]
    if not action.confirmed:
        body = [paragraph(t(f"{key}.ask", lang, id=action.broadcast_id))]
        return [await ask_to_confirm(ctx, actor, action, body=body, yes=t(f"{key}.yes", lang))]
    stop = usecases.recall if recall else usecases.cancel
    stopped = await stop(
        ctx.database, author=author, broadcast_id=action.broadcast_id, now=ctx.now()
    )
    if not isinstance(stopped, usecases.Stopped):
        return [Reply(text=t("broadcast.not_stoppable", lang), replace=True)]
    count = stopped.deleting if recall else stopped.dropped
    done = Reply(text=t(f"{key}.done", lang, count=count))
    return [*(await _report(ctx, actor, author, action.broadcast_id)), done]


# --- helpers ------------------------------------------------------------------------------------


def describe(audience: Audience, lang: Language) -> str:
    """The audience in words: "BT-läkare i Region Halland, BT-start 2026-01-01–2026-06-30"."""
    regions = ", ".join(region_name(code, lang) for code in audience.regions)
    parts = [t(f"broadcast.audience.{audience.role.value}", lang, regions=regions)]
    if audience.cohort_from or audience.cohort_to:
        start = audience.cohort_from.isoformat() if audience.cohort_from else "…"
        end = audience.cohort_to.isoformat() if audience.cohort_to else "…"
        parts.append(t("broadcast.audience.cohort", lang, start=start, end=end))
    if audience.placement is not None:
        parts.append(
            t(
                "broadcast.audience.placement",
                lang,
                kind=t(f"placement.{audience.placement.value}", lang),
            )
        )
    if audience.course or audience.session_id:
        what = audience.course or f"#{audience.session_id}"
        parts.append(t(f"broadcast.audience.{audience.enrolled.value}", lang, course=what))
    if audience.emails:
        parts.append(t("broadcast.audience.emails", lang, count=len(audience.emails)))
    return "; ".join(parts)


async def _wait(ctx: FlowContext, actor: Actor, step: str, payload: dict[str, int]) -> None:
    from datetime import timedelta

    now = ctx.now()
    await conversations.wait(
        ctx.database,
        actor=actor,
        flow=FLOW,
        step=step,
        payload=dict(payload),
        until=now + timedelta(minutes=COMPOSE_FOR),
        now=now,
    )


def _target(value: str) -> tuple[str | None, int | None]:
    kind, _, key = value.partition(":")
    if kind == "course" and key:
        return key, None
    if kind == "session" and key.isdigit():
        return None, int(key)
    return None, None


def _target_title(target: usecases.Target, ctx: FlowContext, lang: Language) -> str:
    title = target.title_sv if lang is Language.sv else target.title_en
    if target.starts_at is None:
        return title
    return f"{title} – {moment(target.starts_at, ctx.zone, lang)}"


def _choice(title: str, value: str) -> dict[str, str]:
    return {"title": title, "value": value}


def _choices(
    input_id: str, label: str, choices: list[dict[str, str]], *, value: str, multi: bool = False
) -> Element:
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "choices": choices,
        "value": value,
        "style": "compact",
    }
    if multi:
        element["isMultiSelect"] = True
    return element


def _date(input_id: str, label: str) -> Element:
    return {"type": "Input.Date", "id": input_id, "label": label}


def _excerpt(text: str, limit: int = 120) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"
