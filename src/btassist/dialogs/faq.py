"""The FAQ in the chat: answers from the reviewed knowledge base, or an honest "not sure" and a
person to ask. The bot never composes an answer: it shows what an entry says, with its source.
"""

from __future__ import annotations

import logging
from typing import Any

from btassist.common.language import Language
from btassist.common.regions import region_name
from btassist.conversations.state import Waiting
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, bullet_list, card, heading, paragraph, submit
from btassist.dialogs.overview import contact_lines, my_contacts_of
from btassist.dialogs.turn import FlowContext, Reply
from btassist.dialogs.understanding import reads_as_question
from btassist.faq import usecases
from btassist.faq.index import Hit, SearchResult
from btassist.faq.kb import Action as KbAction
from btassist.faq.kb import ContactRole, Coverage, Entry, RegionContacts, Source
from btassist.faq.models import FaqEventKind
from btassist.faq.service import MAX_QUESTION
from btassist.faq.store import KnowledgeBase
from btassist.i18n.catalogue import catalogue, t
from btassist.roster.identity import Actor
from btassist.roster.models import Role

log = logging.getLogger(__name__)

MAX_BUTTON_TITLE = 60
CHATTER_WORDS = 2

_CAPACITIES: dict[ContactRole, frozenset[str]] = {
    ContactRole.studierektor: frozenset({Role.studierektor.value}),
    ContactRole.coordinator: frozenset({Role.coordinator.value}),
    ContactRole.main_supervisor: frozenset({"main_supervisor"}),
    ContactRole.supervisor: frozenset({Role.supervisor.value, "main_supervisor"}),
    ContactRole.all: frozenset(
        {Role.studierektor.value, Role.coordinator.value, Role.supervisor.value, "main_supervisor"}
    ),
}


def _language(result: SearchResult, actor: Actor) -> Language:
    """Answer in the language the question is written in, else the person's language."""
    return Language(result.language) if result.language else actor.language


def _short(text: str, limit: int = MAX_BUTTON_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _source_name(source: Source) -> str:
    name = f"[{source.name}]({source.url})" if source.url else source.name
    return f"{name} ({source.seed})" if source.seed and not source.url else name


def _source_line(source: Source, language: Language) -> str:
    return t("faq.source", language, source=_source_name(source))


def _vote_buttons(entry: Entry, language: Language, question: str) -> list[Element]:
    return [
        submit(t("faq.vote_up", language), a.FaqVote(entry=entry.id, helpful=True)),
        submit(
            t("faq.vote_down", language),
            a.FaqVote(entry=entry.id, helpful=False, q=question[:MAX_QUESTION]),
        ),
    ]


def _scope_line(entry: Entry, language: Language, scope_code: str | None) -> str:
    """What the answer covers: the whole country, an overview of the regions, one region's
    example, or the entry's (or the card's) region."""
    if scope_code is not None:
        return t("faq.scope_region", language, region=region_name(scope_code, language))
    match entry.applies:
        case Coverage.national:
            return t("faq.scope_national", language)
        case Coverage.overview:
            return t("faq_kb.applies.overview", language)
        case Coverage.example:
            return t("faq_kb.applies.example", language)
    return t("faq.scope_region", language, region=region_name(entry.scope, language))


def _footer(
    entry: Entry,
    language: Language,
    source: Source,
    scope_code: str | None = None,
    also: tuple[Source, ...] = (),
) -> list[Element]:
    """Scope, sources and review date; `scope_code` overrides the entry's scope when the card
    shows a region's own facts (its role contacts)."""
    lines = [_scope_line(entry, language, scope_code), _source_line(source, language)]
    if also:
        names = ", ".join(_source_name(other) for other in also)
        lines.append(t("faq_kb.also_sources", language, sources=names))
    lines.append(t("faq.reviewed", language, date=entry.reviewed.isoformat()))
    return [paragraph("\n\n".join(lines), subtle=True), paragraph(t("faq.helpful", language))]


async def _studierektor(ctx: FlowContext, actor: Actor, language: Language) -> str:
    """Who to check an uncertain answer with: the actor's studierektor by name when known."""
    found = [c for c in await my_contacts_of(ctx, actor) if c.capacity == Role.studierektor.value]
    if found:
        return ", ".join(f"{c.name} ({c.email})" for c in found)
    return t("faq.your_studierektor", language)


async def answer_card(
    ctx: FlowContext,
    actor: Actor,
    entry: Entry,
    language: Language,
    question: str,
    *,
    interpretation: str | None = None,
) -> Reply:
    """An entry's answer as written, with its scope, sources, review date, the caution once, the
    feature it leads on to, and a vote; a probable answer first says which question it answers."""
    body = _interpretation(interpretation, language)
    body += [heading(entry.title(language)), paragraph(entry.answer[language])]
    if entry.caution:
        who = await _studierektor(ctx, actor, language)
        note = entry.caution_note(language)
        caution = (
            t("faq_kb.caution", language, note=note, who=who)
            if note
            else t("faq.caution", language, who=who)
        )
        body.append(paragraph(caution))
    body += _footer(entry, language, entry.source, also=entry.also)
    buttons = _lead_on(entry, actor, language) + _vote_buttons(entry, language, question)
    return Reply(card=card(body, buttons + _not_this(interpretation, language, question)))


def _interpretation(interpretation: str | None, language: Language) -> list[Element]:
    if interpretation is None:
        return []
    return [paragraph(t("faq_kb.probable", language, interpretation=interpretation), subtle=True)]


def _not_this(interpretation: str | None, language: Language, question: str) -> list[Element]:
    """ "Inte vad jag frågade" under a probable answer: the next topics and a person."""
    if interpretation is None or not question:
        return []
    return [submit(t("faq_kb.not_what_i_asked", language), a.FaqOther(q=question[:MAX_QUESTION]))]


_LEADS: dict[KbAction, a.Action] = {
    KbAction.courses: a.Courses(),
    KbAction.my_courses: a.MyCourses(),
    KbAction.calendar: a.Calendar(),
    KbAction.assessments: a.Assessments(),
    KbAction.contacts: a.Ask(),
    KbAction.trainees: a.MyTrainees(),
}
"""The flow each entry `action` leads on to."""


def _lead_on(entry: Entry, actor: Actor, language: Language) -> list[Element]:
    """The entry's `action` as a button, when this person may use that flow."""
    lead = _LEADS.get(entry.action) if entry.action else None
    if lead is None or entry.action is None or not lead.allowed(actor.roles):
        return []
    return [submit(t(f"faq_kb.action.{entry.action.value}", language), lead)]


async def contacts_card(
    ctx: FlowContext,
    actor: Actor,
    kb: KnowledgeBase,
    entry: Entry,
    language: Language,
    question: str,
    *,
    interpretation: str | None = None,
) -> Reply:
    """A "who is my …" entry, answered from the actor's roster contacts and the region's roles."""
    assert entry.contact is not None
    wanted = _CAPACITIES[entry.contact]
    contacts = [c for c in await my_contacts_of(ctx, actor) if c.capacity in wanted]
    body = _interpretation(interpretation, language)
    body += [heading(entry.title(language)), paragraph(entry.answer[language])]
    if contacts:
        lines = contact_lines(contacts, language)
        body.append(bullet_list(lines))
    else:
        body.append(paragraph(t("faq.contacts_missing", language)))
    roles: RegionContacts | None = kb.contacts.get(actor.region)
    source, scope = entry.source, None
    if roles is not None:
        body.append(
            paragraph(t("faq.region_roles", language, region=region_name(actor.region, language)))
        )
        body.append(bullet_list(_role_line(role, language) for role in roles.roles))
        source, scope = roles.source, actor.region
    body += _footer(entry, language, source, scope, also=roles.also if roles else ())
    buttons = _vote_buttons(entry, language, question)
    return Reply(card=card(body, buttons + _not_this(interpretation, language, question)))


def _role_line(role: Any, language: Language) -> str:
    text = str(role.sv if language is Language.sv else role.en)
    return f"{text}: {role.email}" if role.email else text


async def entry_reply(
    ctx: FlowContext,
    actor: Actor,
    kb: KnowledgeBase,
    entry: Entry,
    language: Language,
    question: str,
    *,
    interpretation: str | None = None,
) -> Reply:
    """The card for an entry: roster contacts for contact entries, else the written answer."""
    if entry.contact is not None:
        return await contacts_card(
            ctx, actor, kb, entry, language, question, interpretation=interpretation
        )
    return await answer_card(ctx, actor, entry, language, question, interpretation=interpretation)


# --- typed questions ------------------------------------------------------------------------


async def answer_question(ctx: FlowContext, actor: Actor, text: str) -> list[Reply] | None:
    """Typed text no request matched: the FAQ's answer (a probable one says which question it
    answers), or "not sure" with the closest topics and the people of the region asked about.

    None when no entry shares a word with it and it is no declined topic, or for chatter that
    is no question at all ("blä", "ok"): the caller says "not understood" with the menu, and
    nobody is asked to answer it.
    """
    if ctx.faq is None:
        return None
    question = text.strip()
    kb = ctx.faq.current
    result = kb.search(question, region=actor.region)
    if beyond_the_faq(result) or (result.proposed is None and _is_chatter(question)):
        return None
    language = _language(result, actor)
    hit = result.proposed
    if hit is not None:
        log.info("faq answered entry=%s level=%s", hit.entry.id, result.level.value)
        interpretation = result.interpretation(language)
        reply = await entry_reply(
            ctx, actor, kb, hit.entry, language, question, interpretation=interpretation
        )
        return [reply]
    region = result.region or actor.region
    if result.declined is not None:
        # Never stored: a declined question may describe a patient.
        await usecases.note(
            ctx.database,
            kind=FaqEventKind.out_of_scope,
            language=language,
            entry_id=result.declined,
            region=region,
        )
    else:
        await usecases.note(
            ctx.database,
            kind=FaqEventKind.unanswered,
            language=language,
            question=question,
            region=region,
        )
    log.info("faq not sure declined=%s", result.declined)
    intro = (
        _declined_text(result.declined, language)
        if result.declined
        else t("faq.not_sure", language)
    )
    closest = () if result.declined else result.closest(2)
    return [await _topics_and_people(ctx, actor, kb, region, question, language, intro, closest)]


async def _topics_and_people(
    ctx: FlowContext,
    actor: Actor,
    kb: KnowledgeBase,
    region: str,
    question: str,
    language: Language,
    intro: str,
    topics: tuple[Hit, ...],
) -> Reply:
    """Topics to pick from, and the people of `region` who can answer, with "Fråga en person"."""
    recipients = await usecases.recipients(ctx.database, region)
    body: list[Element] = [paragraph(intro)]
    actions: list[Element] = []
    if topics:
        body.append(paragraph(t("faq.closest", language)))
        actions += [
            submit(
                _short(hit.entry.title(language)),
                a.FaqTopic(entry=hit.entry.id, q=question[:MAX_QUESTION]),
            )
            for hit in topics
        ]
    body.append(_person_hint(kb, actor, region, recipients, language))
    if recipients:
        actions.append(_ask_person_button(question, language, region, actor))
    return Reply(card=card(body, actions))


def beyond_the_faq(result: SearchResult) -> bool:
    """No entry shares a word with the text, it is no declined topic and it does not read as a
    question: not something the FAQ (or a person it forwards to) is for, so "not understood"
    and the menu. A real question no entry covers ("finns det ett gym i Gävle?") still gets the
    people of the region it is about."""
    return not result.hits and result.declined is None and not reads_as_question(result.question)


def _is_chatter(text: str) -> bool:
    """A word or two without a question mark that the FAQ is not sure of: not a question."""
    return "?" not in text and len(text.split()) <= CHATTER_WORDS


def _declined_text(topic: str, language: Language) -> str:
    key = f"faq.declined.{topic}"
    return t(key, language) if key in catalogue() else t("faq.declined", language)


def _ask_person_button(
    question: str, language: Language, region: str | None = None, actor: Actor | None = None
) -> Element:
    """ "Fråga en person": to the coordinators of the region asked about (the asker's own by
    default)."""
    other = region if actor is not None and region != actor.region else None
    return submit(
        t("faq.ask_person", language), a.FaqForward(q=question[:MAX_QUESTION], region=other)
    )


def _person_hint(
    kb: KnowledgeBase,
    actor: Actor,
    region: str,
    recipients: list[usecases.Recipient],
    language: Language,
) -> Element:
    """Name the humans who can answer: the region's coordinators, else its role contacts."""
    if recipients:
        names = ", ".join(f"{r.name} ({r.email})" for r in recipients)
        return paragraph(t("faq.person_hint", language, names=names))
    roles = kb.contacts.get(region)
    if roles is None:
        return paragraph(t("faq.person_unknown", language))
    lines = "\n".join(f"- {_role_line(role, language)}" for role in roles.roles)
    intro = (
        t("faq.person_roles", language)
        if region == actor.region
        else t("faq_chat.person_roles_of", language, region=region_name(region, language))
    )
    return paragraph(intro + "\n" + lines)


# --- buttons --------------------------------------------------------------------------------


async def show_topic(ctx: FlowContext, actor: Actor, action: a.FaqTopic) -> list[Reply]:
    """A suggested topic was clicked: show that entry."""
    if ctx.faq is None:
        return []
    kb = ctx.faq.current
    entry = kb.entries.get(action.entry)
    if entry is None:
        return [Reply(text=t("faq.topic_gone", actor.language))]
    return [await entry_reply(ctx, actor, kb, entry, actor.language, action.q)]


async def other_topics(ctx: FlowContext, actor: Actor, action: a.FaqOther) -> list[Reply]:
    """ "Inte vad jag frågade": the next topics for the question, and a person to ask."""
    if ctx.faq is None:
        return []
    kb = ctx.faq.current
    result = kb.search(action.q, region=actor.region)
    language = _language(result, actor)
    intro = t("faq_kb.other_topics", language)
    region = result.region or actor.region
    topics = result.alternatives(2)
    return [await _topics_and_people(ctx, actor, kb, region, action.q, language, intro, topics)]


async def vote(ctx: FlowContext, actor: Actor, action: a.FaqVote) -> list[Reply]:
    """👍 or 👎 on an answer: counted without the voter's identity."""
    lang = actor.language
    await usecases.note(
        ctx.database,
        kind=FaqEventKind.helpful if action.helpful else FaqEventKind.unhelpful,
        language=lang,
        entry_id=action.entry,
        question=None if action.helpful else (action.q or None),
        region=actor.region,
    )
    if action.helpful:
        return [Reply(text=t("faq.thanks", lang))]
    recipients = await usecases.recipients(ctx.database, actor.region)
    buttons = [_ask_person_button(action.q, lang)] if recipients and action.q else []
    return [Reply(card=card([paragraph(t("faq.sorry", lang))], buttons))]


async def forward(ctx: FlowContext, actor: Actor, action: a.FaqForward) -> list[Reply]:
    """ "Ask a person": store the question and queue it for the region's coordinators."""
    lang = actor.language
    text = action.q.strip()
    if not text:
        return [Reply(text=t("faq.forward_empty", lang))]
    forwarded = await usecases.forward(
        ctx.database, actor=actor, text=text, region=action.region or actor.region
    )
    if forwarded is None:
        return [Reply(text=t("faq.person_unknown", lang))]
    names = ", ".join(r.name for r in forwarded.recipients)
    key = "faq.forwarded" if forwarded.created else "faq.already_forwarded"
    log.info("faq question %s forwarded to %d", forwarded.question_id, len(forwarded.recipients))
    return [Reply(text=t(key, lang, names=names))]


async def start_reply(ctx: FlowContext, actor: Actor, action: a.FaqReply) -> list[Reply]:
    """A coordinator clicked "Svara" on a forwarded question: their next message is the answer."""
    lang = actor.language
    started = await usecases.start_reply(
        ctx.database, actor=actor, question_id=action.question_id, now=ctx.now()
    )
    if isinstance(started, usecases.QuestionGone):
        return [Reply(text=t("faq.reply_not_found", lang))]
    if isinstance(started, usecases.AlreadyAnswered):
        return [Reply(text=t("faq.already_answered", lang, name=started.answered_by or "?"))]
    view = started.view
    return [
        Reply(text=t("faq.reply_prompt", lang, name=view.asker_name, question=view.question.text))
    ]


async def continue_reply(
    ctx: FlowContext, actor: Actor, waiting: Waiting, text: str
) -> list[Reply]:
    """The waiting step of "Svara": the coordinator's typed message is the answer."""
    lang = actor.language
    question_id = waiting.payload.get("question_id")
    if not isinstance(question_id, int) or not text.strip():
        return [Reply(text=t("faq.reply_gone", lang))]
    sent = await usecases.send_answer(
        ctx.database, actor=actor, question_id=question_id, text=text, now=ctx.now()
    )
    if isinstance(sent, usecases.QuestionGone):
        return [Reply(text=t("faq.reply_gone", lang))]
    if isinstance(sent, usecases.AlreadyAnswered):
        return [Reply(text=t("faq.already_answered", lang, name=sent.answered_by or "?"))]
    log.info("faq question %s answered", question_id)
    return [Reply(text=t("faq.reply_sent", lang, name=sent.view.asker_name))]


def question_card(view: usecases.QuestionView, language: Language) -> Reply:
    """To a coordinator: a doctor's question, with "Svara"."""
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
    assert view.question.id is not None
    button = submit(t("faq.reply_button", language), a.FaqReply(question_id=view.question.id))
    return Reply(card=card(body, [button]))


def answered_card(view: usecases.QuestionView) -> Reply:
    """To the doctor: the coordinator's answer, in the language they asked in."""
    language = view.question.language
    body = [
        heading(t("faq.notice.answer_title", language)),
        paragraph(t("faq.notice.your_question", language, question=view.question.text)),
        paragraph(view.question.answer or ""),
        paragraph(t("faq.notice.answered_by", language, name=view.answered_by or ""), subtle=True),
    ]
    return Reply(card=card(body))


# --- coordinators' report -------------------------------------------------------------------


async def reports(ctx: FlowContext, actor: Actor, action: a.Reports) -> list[Reply]:
    """ "Frågor att besvara": open questions to answer, and what the FAQ could not answer."""
    lang = actor.language
    report = await usecases.report(ctx.database, region=actor.region, limit=5)
    titles = ctx.faq.current.entries if ctx.faq else {}
    body: list[Element] = [
        heading(t("reports.title", lang, region=region_name(actor.region, lang)))
    ]
    actions: list[Element] = []
    if report.open_questions:
        body.append(paragraph(t("reports.open", lang, count=len(report.open_questions))))
        lines = [f"{v.asker_name}: “{_short(v.question.text, 120)}”" for v in report.open_questions]
        body.append(bullet_list(lines))
        actions += [
            submit(
                _short(t("reports.reply_to", lang, name=v.asker_name)),
                a.FaqReply(question_id=v.question.id),
            )
            for v in report.open_questions
            if v.question.id is not None
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
