"""The FAQ in the chat: answers from the reviewed knowledge base, or an honest "not sure" and a
person to ask. The bot never composes an answer: it shows what an entry says, with its source.
"""

from __future__ import annotations

import logging
from typing import Any

from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.common.text import fold
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph, submit
from btassist.dialogs.intents import Intent
from btassist.dialogs.overview import contact_lines, contacts_for
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.faq import service
from btassist.faq.index import SearchResult
from btassist.faq.kb import NATIONAL, ContactRole, Entry, RegionContacts, Source
from btassist.faq.models import FaqEventKind, QuestionStatus
from btassist.faq.store import KnowledgeBase
from btassist.i18n.catalogue import catalogue, t
from btassist.outbox.queue import enqueue
from btassist.roster.models import Role

log = logging.getLogger(__name__)

COORDINATING = frozenset({Role.coordinator, Role.studierektor})
CANCEL_WORDS = frozenset({"avbryt", "cancel", "angra", "stopp", "stop"})
MAX_BUTTON_TITLE = 60
CHATTER_WORDS = 2
QUESTION_NOTICE = "faq_question"
ANSWER_NOTICE = "faq_answer"

_CAPACITIES: dict[ContactRole, frozenset[str]] = {
    ContactRole.studierektor: frozenset({Role.studierektor.value}),
    ContactRole.coordinator: frozenset({Role.coordinator.value}),
    ContactRole.main_supervisor: frozenset({"main_supervisor"}),
    ContactRole.supervisor: frozenset({Role.supervisor.value, "main_supervisor"}),
    ContactRole.all: frozenset(
        {Role.studierektor.value, Role.coordinator.value, Role.supervisor.value, "main_supervisor"}
    ),
}


def _language(result: SearchResult, asker: Asker) -> Language:
    """Answer in the language the question is written in, else the person's language."""
    return Language(result.language) if result.language else asker.language


def _short(text: str, limit: int = MAX_BUTTON_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _source_line(source: Source, language: Language) -> str:
    name = f"[{source.name}]({source.url})" if source.url else source.name
    if source.seed and not source.url:
        name = f"{name} ({source.seed})"
    return t("faq.source", language, source=name)


def _vote_buttons(entry: Entry, language: Language, question: str) -> list[Element]:
    return [
        submit(t("faq.vote_up", language), Intent.faq_vote.value, entry=entry.id, helpful=True),
        submit(
            t("faq.vote_down", language),
            Intent.faq_vote.value,
            entry=entry.id,
            helpful=False,
            q=question[: service.MAX_QUESTION],
        ),
    ]


def _footer(
    entry: Entry, language: Language, source: Source, scope_code: str | None = None
) -> list[Element]:
    """Scope, source and review date; `scope_code` overrides the entry's scope when the card
    shows a region's own facts (its role contacts)."""
    code = scope_code or entry.scope
    scope = (
        t("faq.scope_national", language)
        if code == NATIONAL
        else t("faq.scope_region", language, region=region_name(code, language))
    )
    return [
        paragraph(
            "\n\n".join(
                [
                    scope,
                    _source_line(source, language),
                    t("faq.reviewed", language, date=entry.reviewed.isoformat()),
                ]
            ),
            subtle=True,
        ),
        paragraph(t("faq.helpful", language)),
    ]


async def _studierektor(ctx: FlowContext, asker: Asker, language: Language) -> str:
    """Who to check an uncertain answer with: the asker's studierektor by name when known."""
    found = [
        c
        for c in await contacts_for(ctx.database, asker, ctx.today())
        if c.capacity == Role.studierektor.value
    ]
    if found:
        return ", ".join(f"{c.name} ({c.email})" for c in found)
    return t("faq.your_studierektor", language)


async def answer_card(
    ctx: FlowContext, asker: Asker, entry: Entry, language: Language, question: str
) -> Reply:
    """An entry's answer as written, with its scope, source, review date and a vote."""
    body = [heading(entry.title(language)), paragraph(entry.answer[language])]
    if entry.caution:
        who = await _studierektor(ctx, asker, language)
        body.append(paragraph(t("faq.caution", language, who=who)))
    body += _footer(entry, language, entry.source)
    return Reply(card=card(body, _vote_buttons(entry, language, question)))


async def contacts_card(
    ctx: FlowContext,
    asker: Asker,
    kb: KnowledgeBase,
    entry: Entry,
    language: Language,
    question: str,
) -> Reply:
    """A "who is my …" entry, answered from the asker's roster contacts and the region's roles."""
    assert entry.contact is not None
    wanted = _CAPACITIES[entry.contact]
    contacts = [
        c for c in await contacts_for(ctx.database, asker, ctx.today()) if c.capacity in wanted
    ]
    body = [heading(entry.title(language)), paragraph(entry.answer[language])]
    if contacts:
        lines = contact_lines(contacts, language)
        body.append(bullet_list(lines))
    else:
        body.append(paragraph(t("faq.contacts_missing", language)))
    roles: RegionContacts | None = kb.contacts.get(asker.region)
    source, scope = entry.source, None
    if roles is not None:
        body.append(
            paragraph(t("faq.region_roles", language, region=region_name(asker.region, language)))
        )
        body.append(bullet_list(_role_line(role, language) for role in roles.roles))
        source, scope = roles.source, asker.region
    body += _footer(entry, language, source, scope)
    return Reply(card=card(body, _vote_buttons(entry, language, question)))


def _role_line(role: Any, language: Language) -> str:
    text = str(role.sv if language is Language.sv else role.en)
    return f"{text}: {role.email}" if role.email else text


async def entry_reply(
    ctx: FlowContext,
    asker: Asker,
    kb: KnowledgeBase,
    entry: Entry,
    language: Language,
    question: str,
) -> Reply:
    """The card for an entry: roster contacts for contact entries, else the written answer."""
    if entry.contact is not None:
        return await contacts_card(ctx, asker, kb, entry, language, question)
    return await answer_card(ctx, asker, entry, language, question)


# --- typed questions ------------------------------------------------------------------------


async def answer_question(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply] | None:
    """Typed text no intent matched: the FAQ's answer, or "not sure" with a person to ask.

    None for chatter that is no question at all ("blä", "ok"): the caller shows the menu.
    """
    if ctx.faq is None:
        return None
    question = message.text.strip()
    kb = ctx.faq.current
    result = kb.search(question, region=asker.region)
    if not result.hits and not result.declined and _is_chatter(question):
        return None
    language = _language(result, asker)
    hit = result.answer
    if hit is not None:
        log.info("faq answered entry=%s score=%.2f", hit.entry.id, hit.score)
        return [await entry_reply(ctx, asker, kb, hit.entry, language, question)]
    async with ctx.database.session() as session:
        if result.declined is not None:
            # Never stored: a declined question may describe a patient.
            await service.record_event(
                session,
                kind=FaqEventKind.out_of_scope,
                language=language,
                entry_id=result.declined,
                region=asker.region,
            )
        else:
            await service.record_event(
                session,
                kind=FaqEventKind.unanswered,
                language=language,
                question=question,
                region=asker.region,
            )
        recipients = await service.recipients_for(session, asker.region)
    log.info("faq not sure declined=%s", result.declined)
    intro = (
        _declined_text(result.declined, language)
        if result.declined
        else t("faq.not_sure", language)
    )
    body: list[Element] = [paragraph(intro)]
    actions: list[Element] = []
    closest = () if result.declined else result.closest(2)
    if closest:
        body.append(paragraph(t("faq.closest", language)))
        actions += [
            submit(
                _short(hit.entry.title(language)),
                Intent.faq_topic.value,
                entry=hit.entry.id,
                q=question[: service.MAX_QUESTION],
            )
            for hit in closest
        ]
    body.append(_person_hint(kb, asker, recipients, language))
    if recipients:
        actions.append(_ask_person_button(question, language))
    return [Reply(card=card(body, actions))]


def _is_chatter(text: str) -> bool:
    """A word or two without a question mark, matching nothing: not a question."""
    return "?" not in text and len(text.split()) <= CHATTER_WORDS


def _declined_text(topic: str, language: Language) -> str:
    key = f"faq.declined.{topic}"
    return t(key, language) if key in catalogue() else t("faq.declined", language)


def _ask_person_button(question: str, language: Language) -> Element:
    return submit(
        t("faq.ask_person", language), Intent.faq_forward.value, q=question[: service.MAX_QUESTION]
    )


def _person_hint(
    kb: KnowledgeBase, asker: Asker, recipients: list[service.Recipient], language: Language
) -> Element:
    """Name the human who can answer: the region's coordinators, else its role contacts."""
    if recipients:
        names = ", ".join(f"{r.name} ({r.email})" for r in recipients)
        return paragraph(t("faq.person_hint", language, names=names))
    roles = kb.contacts.get(asker.region)
    if roles is None:
        return paragraph(t("faq.person_unknown", language))
    lines = "\n".join(f"- {_role_line(role, language)}" for role in roles.roles)
    return paragraph(t("faq.person_roles", language) + "\n" + lines)


# --- buttons --------------------------------------------------------------------------------


async def show_topic(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """A suggested topic was clicked: show that entry."""
    if ctx.faq is None:
        return []
    kb = ctx.faq.current
    entry = kb.entries.get(str(message.data.get("entry", "")))
    if entry is None:
        return [Reply(text=t("faq.topic_gone", asker.language))]
    question = str(message.data.get("q", ""))
    return [await entry_reply(ctx, asker, kb, entry, asker.language, question)]


async def vote(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """👍 or 👎 on an answer: counted without the voter's identity."""
    entry_id = str(message.data.get("entry", ""))[:80]
    helpful = message.data.get("helpful") is True
    question = str(message.data.get("q", "")) or None
    lang = asker.language
    async with ctx.database.session() as session:
        await service.record_event(
            session,
            kind=FaqEventKind.helpful if helpful else FaqEventKind.unhelpful,
            language=lang,
            entry_id=entry_id or None,
            question=None if helpful else question,
            region=asker.region,
        )
        recipients = [] if helpful else await service.recipients_for(session, asker.region)
    if helpful:
        return [Reply(text=t("faq.thanks", lang))]
    actions = [_ask_person_button(question, lang)] if recipients and question else []
    return [Reply(card=card([paragraph(t("faq.sorry", lang))], actions))]


async def forward(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "Ask a person": store the question and queue it for the region's coordinators."""
    lang = asker.language
    text = str(message.data.get("q", "")).strip()
    if not text:
        return [Reply(text=t("faq.forward_empty", lang))]
    async with ctx.database.session() as session:
        recipients = await service.recipients_for(session, asker.region)
        if not recipients:
            return [Reply(text=t("faq.person_unknown", lang))]
        question, created = await service.forward_question(
            session, asker_id=asker.person_id, region=asker.region, language=lang, text=text
        )
        if created:
            for recipient in recipients:
                await enqueue(
                    session,
                    person_id=recipient.person_id,
                    template=QUESTION_NOTICE,
                    params={"question_id": question.id},
                    dedupe_key=f"{QUESTION_NOTICE}:{question.id}:{recipient.person_id}",
                )
    ctx.wake_outbox()
    names = ", ".join(r.name for r in recipients)
    key = "faq.forwarded" if created else "faq.already_forwarded"
    log.info("faq question %s forwarded to %d", question.id, len(recipients))
    return [Reply(text=t(key, lang, names=names))]


async def start_reply(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """A coordinator clicked "Reply" on a forwarded question: their next message is the answer."""
    lang = asker.language
    try:
        question_id = int(message.data.get("question_id", 0))
    except (TypeError, ValueError):
        question_id = 0
    async with ctx.database.session() as session:
        view = await service.question_view(session, question_id)
        if view is None or view.question.region_code != asker.region:
            return [Reply(text=t("faq.reply_not_found", lang))]
        if view.question.status is not QuestionStatus.open:
            return [Reply(text=t("faq.already_answered", lang, name=view.answered_by or "?"))]
        await service.start_reply(session, coordinator_id=asker.person_id, question_id=question_id)
    return [
        Reply(text=t("faq.reply_prompt", lang, name=view.asker_name, question=view.question.text))
    ]


async def continue_reply(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply] | None:
    """A coordinator's typed message while a reply is pending is the answer; None otherwise."""
    if message.verb or not (asker.roles & COORDINATING) or not message.text.strip():
        return None
    lang = asker.language
    async with ctx.database.session() as session:
        pending = await service.pending_reply(session, asker.person_id)
        if pending is None:
            return None
        if fold(message.text) in CANCEL_WORDS:
            await service.cancel_reply(session, asker.person_id)
            return [Reply(text=t("faq.reply_cancelled", lang))]
        question = await service.answer_question(
            session, coordinator_id=asker.person_id, answer=message.text, now=ctx.now()
        )
        if question is None or question.id is None:
            return [Reply(text=t("faq.reply_gone", lang))]
        await enqueue(
            session,
            person_id=question.asker_id,
            template=ANSWER_NOTICE,
            params={"question_id": question.id},
            dedupe_key=f"{ANSWER_NOTICE}:{question.id}",
        )
        view = await service.question_view(session, question.id)
    ctx.wake_outbox()
    log.info("faq question %s answered", question.id)
    return [Reply(text=t("faq.reply_sent", lang, name=view.asker_name if view else ""))]


# --- notices (sent through the outbox) ------------------------------------------------------


async def question_notice(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """To a coordinator: a doctor's question, with "Reply"; nothing once it is answered."""
    async with ctx.database.session(write_lock=False) as session:
        view = await service.question_view(session, int(params.get("question_id", 0)))
    if view is None or view.question.status is not QuestionStatus.open:
        return []
    return [_question_card(view, asker.language)]


def _question_card(view: service.QuestionView, language: Language) -> Reply:
    body = [
        heading(t("faq.notice.question_title", language)),
        paragraph(
            t(
                "faq.notice.question_from",
                language,
                name=view.asker_name,
                email=view.asker_email,
                region=region_name(view.question.region_code, language),
            )
        ),
        paragraph(f"> {view.question.text}"),
    ]
    button = submit(
        t("faq.reply_button", language), Intent.faq_reply.value, question_id=view.question.id
    )
    return Reply(card=card(body, [button]))


async def answer_notice(ctx: FlowContext, asker: Asker, params: dict[str, Any]) -> list[Reply]:
    """To the doctor: the coordinator's answer to their question, in the language they asked in."""
    async with ctx.database.session(write_lock=False) as session:
        view = await service.question_view(session, int(params.get("question_id", 0)))
    if view is None or view.question.answer is None:
        return []
    language = view.question.language
    body = [
        heading(t("faq.notice.answer_title", language)),
        paragraph(t("faq.notice.your_question", language, question=view.question.text)),
        paragraph(view.question.answer),
        paragraph(t("faq.notice.answered_by", language, name=view.answered_by or ""), subtle=True),
    ]
    return [Reply(card=card(body))]


# --- coordinators' report -------------------------------------------------------------------


async def reports(ctx: FlowContext, asker: Asker, message: Message) -> list[Reply]:
    """ "Rapporter": open questions to answer, and what the FAQ could not answer in the region."""
    lang = asker.language
    async with ctx.database.session(write_lock=False) as session:
        report = await service.faq_report(session, region=asker.region, limit=5)
    titles = ctx.faq.current.entries if ctx.faq else {}
    body: list[Element] = [
        heading(t("reports.title", lang, region=region_name(asker.region, lang)))
    ]
    actions: list[Element] = []
    if report.open_questions:
        body.append(paragraph(t("reports.open", lang, count=len(report.open_questions))))
        lines = [f"{v.asker_name}: “{_short(v.question.text, 120)}”" for v in report.open_questions]
        body.append(bullet_list(lines))
        actions += [
            submit(
                _short(t("reports.reply_to", lang, name=v.asker_name)),
                Intent.faq_reply.value,
                question_id=v.question.id,
            )
            for v in report.open_questions
        ]
    if report.unanswered:
        body.append(paragraph(t("reports.unanswered", lang)))
        body.append(
            bullet_list(f"“{_short(c.example, 120)}” ({c.count})" for c in report.unanswered)
        )
    if report.unhelpful:
        body.append(paragraph(t("reports.unhelpful", lang)))
        lines = []
        for counted in report.unhelpful:
            entry = titles.get(counted.key)
            name = entry.title(lang) if entry else counted.key
            lines.append(
                t(
                    "reports.votes",
                    lang,
                    title=name,
                    down=counted.count,
                    up=report.helpful.get(counted.key, 0),
                )
            )
        body.append(bullet_list(lines))
    if report.declined:
        body.append(paragraph(t("reports.declined", lang)))
        body.append(bullet_list(f"{c.key} ({c.count})" for c in report.declined))
    if len(body) == 1:
        body.append(paragraph(t("reports.empty", lang)))
    return [Reply(card=card(body, actions))]
