"""FAQ bookkeeping in the database: forwarded questions, coordinators' replies, the report log.

The report log never stores who asked. A forwarded question does store the asker (the answer must
reach them) and is kept in the database so it survives a restart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.common.language import Language
from btassist.common.text import fold
from btassist.faq.models import FaqEvent, FaqEventKind, ForwardedQuestion, QuestionStatus
from btassist.roster.models import Person, PersonRole, Role

MAX_QUESTION = 500
REPORT_WINDOW = 5000
"""Only the newest events are summarised: enough for a report, bounded for the database."""


@dataclass(frozen=True)
class Recipient:
    """Someone a forwarded question goes to."""

    person_id: int
    name: str
    email: str
    language: Language


async def record_event(
    session: AsyncSession,
    *,
    kind: FaqEventKind,
    language: Language,
    question: str | None = None,
    entry_id: str | None = None,
    region: str | None = None,
) -> None:
    """Log an unanswered question or a vote, without the asker's identity."""
    session.add(
        FaqEvent(
            kind=kind,
            language=language,
            question=question[:MAX_QUESTION] if question else None,
            entry_id=entry_id,
            region_code=region,
        )
    )


async def recipients_for(session: AsyncSession, region: str) -> list[Recipient]:
    """The region's active coordinators, or its studierektorer when it has no coordinator."""
    rows = (
        await session.exec(
            select(PersonRole.role, Person)
            .join(Person)
            .where(
                Person.region_code == region,
                col(Person.active).is_(True),
                col(PersonRole.role).in_([Role.coordinator, Role.studierektor]),
            )
            .order_by(Person.name)
        )
    ).all()
    for wanted in (Role.coordinator, Role.studierektor):
        found = [
            Recipient(p.id, p.name, p.email, p.language or Language.sv)
            for role, p in rows
            if role == wanted and p.id is not None
        ]
        if found:
            return found
    return []


async def forward_question(
    session: AsyncSession, *, asker_id: int, region: str, language: Language, text: str
) -> tuple[ForwardedQuestion, bool]:
    """Store a question for the region's coordinators; (question, False) if the same one from the
    same person is already waiting, so a double click sends nothing twice."""
    text = text.strip()[:MAX_QUESTION]
    waiting = (
        await session.exec(
            select(ForwardedQuestion).where(
                ForwardedQuestion.asker_id == asker_id,
                ForwardedQuestion.status == QuestionStatus.open,
                ForwardedQuestion.text == text,
            )
        )
    ).first()
    if waiting is not None:
        return waiting, False
    question = ForwardedQuestion(
        asker_id=asker_id, region_code=region, language=language, text=text
    )
    session.add(question)
    await session.flush()
    return question, True


@dataclass(frozen=True)
class QuestionView:
    """A forwarded question with the people around it, for cards."""

    question: ForwardedQuestion
    asker_name: str
    asker_email: str
    answered_by: str | None = None


async def question_view(session: AsyncSession, question_id: int) -> QuestionView | None:
    """A forwarded question with its asker's and (if answered) answerer's names."""
    question = await session.get(ForwardedQuestion, question_id)
    if question is None:
        return None
    asker = await session.get(Person, question.asker_id)
    answerer = (
        await session.get(Person, question.answered_by_id) if question.answered_by_id else None
    )
    return QuestionView(
        question,
        asker.name if asker else "",
        asker.email if asker else "",
        answerer.name if answerer else None,
    )


async def answer_question(
    session: AsyncSession, *, question_id: int, coordinator_id: int, answer: str, now: datetime
) -> ForwardedQuestion | None:
    """Record a coordinator's answer; None when the question is gone or was answered first
    (the row is locked, so two coordinators answering at once cannot both win)."""
    query = select(ForwardedQuestion).where(ForwardedQuestion.id == question_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    question = (await session.exec(query)).first()
    if question is None or question.status is not QuestionStatus.open:
        return None
    question.status = QuestionStatus.answered
    question.answer = answer.strip()
    question.answered_by_id = coordinator_id
    question.answered_at = now
    session.add(question)
    return question


async def open_questions(
    session: AsyncSession, *, region: str | None = None, limit: int = 10
) -> list[QuestionView]:
    """Forwarded questions still waiting for an answer, oldest first, with the askers' names."""
    query = (
        select(ForwardedQuestion, Person)
        .join(Person, col(Person.id) == ForwardedQuestion.asker_id)
        .where(ForwardedQuestion.status == QuestionStatus.open)
        .order_by(col(ForwardedQuestion.created_at), col(ForwardedQuestion.id))
        .limit(limit)
    )
    if region is not None:
        query = query.where(ForwardedQuestion.region_code == region)
    rows = (await session.exec(query)).all()
    return [QuestionView(question, person.name, person.email) for question, person in rows]


@dataclass(frozen=True)
class Counted:
    """A question or entry and how often it came up."""

    key: str
    count: int
    example: str


@dataclass
class FaqReport:
    """What the FAQ could not answer and which answers people found unhelpful."""

    unanswered: list[Counted] = field(default_factory=list)
    declined: list[Counted] = field(default_factory=list)
    unhelpful: list[Counted] = field(default_factory=list)
    helpful: Counter[str] = field(default_factory=Counter)
    open_questions: list[QuestionView] = field(default_factory=list)


async def faq_report(
    session: AsyncSession, *, region: str | None = None, limit: int = 10
) -> FaqReport:
    """The top unanswered questions and down-voted entries (newest events only), in two queries."""
    query = select(FaqEvent).order_by(col(FaqEvent.id).desc()).limit(REPORT_WINDOW)
    if region is not None:
        query = query.where(FaqEvent.region_code == region)
    events = (await session.exec(query)).all()
    report = FaqReport()
    report.unanswered = _top(
        (
            (fold(e.question), e.question)
            for e in events
            if e.kind is FaqEventKind.unanswered and e.question
        ),
        limit,
    )
    report.declined = _top(
        (
            (e.entry_id, e.entry_id)
            for e in events
            if e.kind is FaqEventKind.out_of_scope and e.entry_id
        ),
        limit,
    )
    report.unhelpful = _top(
        (
            (e.entry_id, e.question or "")
            for e in events
            if e.kind is FaqEventKind.unhelpful and e.entry_id
        ),
        limit,
    )
    report.helpful = Counter(
        e.entry_id for e in events if e.kind is FaqEventKind.helpful and e.entry_id
    )
    report.open_questions = await open_questions(session, region=region, limit=limit)
    return report


def _top(items: Iterable[tuple[str, str]], limit: int) -> list[Counted]:
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for key, example in items:
        counts[key] += 1
        examples.setdefault(key, example)  # newest first, so the newest wording
    return [Counted(key, count, examples[key]) for key, count in counts.most_common(limit)]
