"""What people do with the FAQ beyond reading it: note what it could not answer, vote, forward a
question to a person, and (coordinators) answer it. Each function owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from btassist.common.language import Language
from btassist.conversations.state import stop_waiting, wait_for
from btassist.db.engine import Database
from btassist.faq import service
from btassist.faq.models import FaqEventKind, QuestionStatus
from btassist.faq.notices import QuestionNotice
from btassist.outbox.notices import Notice, NoticeKind
from btassist.outbox.unit_of_work import unit_of_work
from btassist.roster.identity import Actor

REPLY_FLOW = "faq_reply"
REPLY_STEP = "answer"
REPLY_WAIT = timedelta(hours=24)
"""How long a coordinator's "Svara" keeps their next message as the answer."""

Recipient = service.Recipient
QuestionView = service.QuestionView


@dataclass(frozen=True)
class Forwarded:
    """The question is with the region's coordinators (`created` False: it already was)."""

    question_id: int
    recipients: list[Recipient]
    created: bool


@dataclass(frozen=True)
class ReplyStarted:
    """The coordinator's next message will answer this question."""

    view: QuestionView


@dataclass(frozen=True)
class Answered:
    """The answer was recorded and is on its way to the doctor."""

    view: QuestionView


@dataclass(frozen=True)
class AlreadyAnswered:
    """Someone answered first."""

    answered_by: str | None


@dataclass(frozen=True)
class QuestionGone:
    """No such question in the coordinator's region."""


async def recipients(database: Database, region: str) -> list[Recipient]:
    """Who a question from `region` goes to: its coordinators, else its studierektorer."""
    async with database.session(write_lock=False) as session:
        return await service.recipients_for(session, region)


async def note(
    database: Database,
    *,
    kind: FaqEventKind,
    language: Language,
    region: str,
    question: str | None = None,
    entry_id: str | None = None,
) -> None:
    """Log an unanswered or declined question or a vote for the report, never who asked."""
    async with database.session() as session:
        await service.record_event(
            session,
            kind=kind,
            language=language,
            question=question,
            entry_id=entry_id,
            region=region,
        )


async def forward(
    database: Database, *, actor: Actor, text: str, region: str | None = None
) -> Forwarded | None:
    """Store a question for the coordinators of `region` (default: the asker's) and notify each
    of them once; None when the region has nobody to ask. The same open question twice is sent
    once."""
    region = region or actor.region
    async with unit_of_work(database) as uow:
        to = await service.recipients_for(uow.session, region)
        if not to:
            return None
        question, created = await service.forward_question(
            uow.session,
            asker_id=actor.person_id,
            region=region,
            language=actor.language,
            text=text,
        )
        assert question.id is not None
        if created:
            for recipient in to:
                await uow.notify(
                    Notice(NoticeKind.faq_question, QuestionNotice(question_id=question.id)),
                    to=recipient.person_id,
                    key=f"{question.id}:{recipient.person_id}",
                )
        return Forwarded(question.id, to, created)


async def start_reply(
    database: Database, *, actor: Actor, question_id: int, now: datetime
) -> ReplyStarted | AlreadyAnswered | QuestionGone:
    """A coordinator's "Svara": their next message (any process may take it) is the answer."""
    async with database.session() as session:
        view = await service.question_view(session, question_id)
        if view is None or view.question.region_code != actor.region:
            return QuestionGone()
        if view.question.status is not QuestionStatus.open:
            return AlreadyAnswered(view.answered_by)
        await wait_for(
            session,
            person_id=actor.person_id,
            flow=REPLY_FLOW,
            step=REPLY_STEP,
            payload={"question_id": question_id},
            expires_at=now + REPLY_WAIT,
            now=now,
        )
        return ReplyStarted(view)


async def send_answer(
    database: Database, *, actor: Actor, question_id: int, text: str, now: datetime
) -> Answered | AlreadyAnswered | QuestionGone:
    """Record the coordinator's answer and queue it for the doctor; the wait ends either way."""
    async with unit_of_work(database) as uow:
        await stop_waiting(uow.session, person_id=actor.person_id, flow=REPLY_FLOW)
        view = await service.question_view(uow.session, question_id)
        if view is None or view.question.region_code != actor.region:
            return QuestionGone()
        answered = await service.answer_question(
            uow.session,
            question_id=question_id,
            coordinator_id=actor.person_id,
            answer=text,
            now=now,
        )
        if answered is None:
            return AlreadyAnswered(view.answered_by)
        await uow.notify(
            Notice(NoticeKind.faq_answer, QuestionNotice(question_id=question_id)),
            to=answered.asker_id,
            key=str(question_id),
        )
        return Answered(view)


async def question(database: Database, question_id: int) -> QuestionView | None:
    """A forwarded question with its asker's and answerer's names (for notices)."""
    async with database.session(write_lock=False) as session:
        return await service.question_view(session, question_id)


async def report(database: Database, *, region: str | None, limit: int) -> service.FaqReport:
    """The coordinators' report for a region."""
    async with database.session(write_lock=False) as session:
        return await service.faq_report(session, region=region, limit=limit)
