"""What coordinators and recipients do with announcements; each function owns its transaction.

An announcement starts as a draft (its text), gets its audience and options at the preview, and
is queued only when its author confirms: one row per recipient here and one outbox row per
recipient (idempotency key "broadcast:<id>:<person>"), which the delivery worker drains at the
tenant's rate. Cancelling drops what has not gone out; recalling also deletes the delivered
copies. Authors are scoped to their own region(s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import String, cast, delete, func, insert, literal, update
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.broadcast.audience import Audience, select_recipients, unknown_emails
from btassist.broadcast.models import (
    Broadcast,
    BroadcastEvent,
    BroadcastRecipient,
    BroadcastStatus,
    RecipientStatus,
)
from btassist.broadcast.notices import BroadcastNotice
from btassist.common.regions import REGION_CODES
from btassist.conversations.models import ConversationRef
from btassist.db.engine import Database
from btassist.faq import service as faq
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.outbox.notices import Notice, NoticeKind
from btassist.outbox.queue import Queued
from btassist.outbox.unit_of_work import unit_of_work
from btassist.roster.identity import Actor
from btassist.roster.models import Person

MAX_TEXT = 4000
REPLY_WINDOW = timedelta(days=2)
"""How long after an announcement a person's typed message may be an answer to it."""


@dataclass(frozen=True)
class Author:
    """Who writes an announcement and the regions they may reach."""

    person_id: int | None
    label: str
    regions: frozenset[str]


def author_of(actor: Actor) -> Author | None:
    """A koordinator or studierektor as an author (their own region); None for anyone else."""
    if not actor.coordinates:
        return None
    return Author(actor.person_id, actor.name, frozenset({actor.region}))


def operator(label: str) -> Author:
    """Someone at the command line: the database's operator may reach every region."""
    return Author(None, label, frozenset(REGION_CODES))


@dataclass(frozen=True)
class NotFound:
    """No such announcement (or none this author may touch)."""


@dataclass(frozen=True)
class OutsideRegion:
    """The audience reaches regions (or people) outside the author's own."""

    regions: tuple[str, ...]
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class InThePast:
    """ "Send later" named a time that has passed."""


@dataclass(frozen=True)
class NotADraft:
    """The announcement was already queued (or stopped): nothing changed."""

    status: BroadcastStatus


@dataclass(frozen=True)
class Draft:
    """An announcement being composed."""

    broadcast_id: int


@dataclass(frozen=True)
class Preview:
    """What confirming would send: to how many, how it reads, when."""

    broadcast: Broadcast
    audience: Audience
    count: int
    unknown_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueuedUp:
    """The announcement is on its way to `count` people (from `send_at`, or now)."""

    broadcast: Broadcast
    count: int


@dataclass(frozen=True)
class Stopped:
    """Cancelled (or recalled): `dropped` copies will not go out, `deleting` are being removed."""

    broadcast: Broadcast
    dropped: int
    deleting: int = 0


@dataclass(frozen=True)
class Counts:
    """Where an announcement's copies are."""

    total: int = 0
    delivered: int = 0
    failed: int = 0
    unreachable: int = 0
    pending: int = 0
    cancelled: int = 0
    recalled: int = 0
    acknowledged: int = 0
    read: int = 0


@dataclass(frozen=True)
class Report:
    """An announcement with its counts (the report card and `broadcast status`)."""

    broadcast: Broadcast
    counts: Counts


@dataclass(frozen=True)
class Failure:
    """A recipient the announcement did not reach, and why."""

    name: str
    email: str
    status: RecipientStatus
    reason: str


@dataclass(frozen=True)
class Acknowledged:
    """The recipient said "Uppfattat" (`first` False: they had already)."""

    broadcast: Broadcast
    first: bool


@dataclass(frozen=True)
class Reach:
    """An audience split by whether the bot can message each person, with why not."""

    reachable: list[int] = field(default_factory=list)
    unreachable: dict[int, str] = field(default_factory=dict)


# --- composing ----------------------------------------------------------------------------------


async def compose(database: Database, *, author: Author, text: str, now: datetime) -> Draft:
    """Start a draft with its text (audience and options come at the preview)."""
    broadcast = Broadcast(
        author_id=author.person_id,
        author_label=author.label[:200],
        regions=",".join(sorted(author.regions)),
        text=text.strip()[:MAX_TEXT],
        created_at=now,
    )
    async with database.session() as session:
        session.add(broadcast)
        await session.flush()
        assert broadcast.id is not None
        return Draft(broadcast.id)


async def rewrite(
    database: Database, *, author: Author, broadcast_id: int, text: str
) -> Draft | NotFound | NotADraft:
    """Replace a draft's text."""
    async with database.session() as session:
        broadcast = await _authored(session, author, broadcast_id)
        if broadcast is None:
            return NotFound()
        if broadcast.status is not BroadcastStatus.draft:
            return NotADraft(broadcast.status)
        broadcast.text = text.strip()[:MAX_TEXT]
        session.add(broadcast)
        return Draft(broadcast_id)


async def preview(
    database: Database,
    *,
    author: Author,
    broadcast_id: int,
    audience: Audience,
    ack: bool,
    send_at: datetime | None,
    now: datetime,
    zone: tzinfo = UTC,
) -> Preview | NotFound | NotADraft | OutsideRegion | InThePast:
    """Set a draft's audience and options, and count exactly whom it would reach."""
    outside = tuple(sorted(set(audience.regions) - author.regions))
    if outside:
        return OutsideRegion(outside)
    if send_at is not None and send_at <= now:
        return InThePast()
    async with database.session() as session:
        broadcast = await _authored(session, author, broadcast_id)
        if broadcast is None:
            return NotFound()
        if broadcast.status is not BroadcastStatus.draft:
            return NotADraft(broadcast.status)
        missing, elsewhere = await unknown_emails(session, audience.emails, audience.regions)
        if elsewhere:
            return OutsideRegion((), tuple(elsewhere))
        recipients = await select_recipients(session, audience, today=now.astimezone(zone).date())
        broadcast.audience = audience.data()
        broadcast.regions = ",".join(audience.regions)
        broadcast.ack = ack
        broadcast.send_at = send_at
        broadcast.recipient_count = len(recipients)
        session.add(broadcast)
        return Preview(broadcast, audience, len(recipients), tuple(missing))


async def send(
    database: Database, *, author: Author, broadcast_id: int, now: datetime, zone: tzinfo = UTC
) -> QueuedUp | NotFound | NotADraft | InThePast:
    """Queue a previewed draft for everyone its audience names now (once, however often the
    author confirms)."""
    async with unit_of_work(database) as uow:
        session = uow.session
        broadcast = await _authored(session, author, broadcast_id)
        if broadcast is None or not broadcast.audience:
            return NotFound()
        if broadcast.status is not BroadcastStatus.draft:
            return NotADraft(broadcast.status)
        if broadcast.send_at is not None and broadcast.send_at <= now:
            return InThePast()
        audience = Audience.model_validate(broadcast.audience)
        recipients = await select_recipients(session, audience, today=now.astimezone(zone).date())
        if recipients:
            await session.exec(
                insert(BroadcastRecipient.__table__),  # type: ignore[attr-defined]
                params=[
                    {
                        "broadcast_id": broadcast_id,
                        "person_id": person_id,
                        "status": RecipientStatus.queued.value,
                    }
                    for person_id in recipients
                ],
            )
            notice = Notice(NoticeKind.broadcast, BroadcastNotice(broadcast_id=broadcast_id))
            when = broadcast.send_at or now
            await uow.notify_many(
                [
                    Queued(person_id, notice, f"{broadcast_id}:{person_id}", when)
                    for person_id in recipients
                ]
            )
        broadcast.status = BroadcastStatus.queued
        broadcast.recipient_count = len(recipients)
        broadcast.queued_at = now
        session.add(broadcast)
        session.add(_event(broadcast_id, author, "queued", len(recipients), now))
        return QueuedUp(broadcast, len(recipients))


# --- stopping -----------------------------------------------------------------------------------


async def cancel(
    database: Database, *, author: Author, broadcast_id: int, now: datetime
) -> Stopped | NotFound | NotADraft:
    """Stop sending: copies not yet out never go (one in flight right now may still arrive)."""
    return await _stop(database, author, broadcast_id, now, recall=False)


async def recall(
    database: Database, *, author: Author, broadcast_id: int, now: datetime
) -> Stopped | NotFound | NotADraft:
    """Cancel, and delete every delivered copy from its chat through the Bot Connector."""
    return await _stop(database, author, broadcast_id, now, recall=True)


async def _stop(
    database: Database, author: Author, broadcast_id: int, now: datetime, *, recall: bool
) -> Stopped | NotFound | NotADraft:
    async with unit_of_work(database) as uow:
        session = uow.session
        broadcast = await _authored(session, author, broadcast_id)
        if broadcast is None or broadcast.status is BroadcastStatus.draft:
            return NotFound()
        stoppable = {BroadcastStatus.queued} | ({BroadcastStatus.cancelled} if recall else set())
        if broadcast.status not in stoppable:
            return NotADraft(broadcast.status)
        keys = select(
            literal(f"{NoticeKind.broadcast.value}:{broadcast_id}:")
            + cast(BroadcastRecipient.person_id, String)
        ).where(col(BroadcastRecipient.broadcast_id) == broadcast_id)
        await session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.status) == OutboxStatus.pending,
                col(OutboxMessage.dedupe_key).in_(keys),
            )
        )
        dropped = await session.exec(
            update(BroadcastRecipient)
            .where(
                col(BroadcastRecipient.broadcast_id) == broadcast_id,
                col(BroadcastRecipient.status) == RecipientStatus.queued,
            )
            .values(status=RecipientStatus.cancelled)
        )
        deleting = 0
        if recall:
            delivered = (
                await session.exec(
                    select(BroadcastRecipient.person_id).where(
                        col(BroadcastRecipient.broadcast_id) == broadcast_id,
                        col(BroadcastRecipient.status) == RecipientStatus.delivered,
                        col(BroadcastRecipient.activity_id).is_not(None),
                    )
                )
            ).all()
            notice = Notice(NoticeKind.broadcast_recall, BroadcastNotice(broadcast_id=broadcast_id))
            await uow.notify_many(
                [
                    Queued(person_id, notice, f"{broadcast_id}:{person_id}", now)
                    for person_id in delivered
                ]
            )
            deleting = len(delivered)
        broadcast.status = BroadcastStatus.recalled if recall else BroadcastStatus.cancelled
        broadcast.stopped_at = now
        session.add(broadcast)
        action = "recalled" if recall else "cancelled"
        session.add(_event(broadcast_id, author, action, int(dropped.rowcount or 0), now))
        return Stopped(broadcast, int(dropped.rowcount or 0), deleting)


# --- recipients ---------------------------------------------------------------------------------


async def acknowledge(
    database: Database, *, actor: Actor, broadcast_id: int, now: datetime
) -> Acknowledged | NotFound:
    """A recipient's "Uppfattat"; only a recipient of the announcement can give it."""
    async with database.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return NotFound()
        marked = await session.exec(
            update(BroadcastRecipient)
            .where(
                col(BroadcastRecipient.broadcast_id) == broadcast_id,
                col(BroadcastRecipient.person_id) == actor.person_id,
                col(BroadcastRecipient.acknowledged_at).is_(None),
            )
            .values(acknowledged_at=now, read_at=func.coalesce(BroadcastRecipient.read_at, now))
        )
        if marked.rowcount:
            return Acknowledged(broadcast, first=True)
        known = await session.get(BroadcastRecipient, (broadcast_id, actor.person_id))
        return NotFound() if known is None else Acknowledged(broadcast, first=False)


def is_read(activity_id: str, last_read: str) -> bool:
    """Whether Teams' read receipt ("read up to `last_read`") covers a message: personal-chat
    message ids are numbers that grow with time, as Microsoft's ReadReceiptInfo compares them."""
    if activity_id.isdigit() and last_read.isdigit():
        return int(activity_id) <= int(last_read)
    return activity_id == last_read


async def messages_read(
    database: Database, *, person_id: int, last_read_id: str, now: datetime
) -> int:
    """A read receipt from a personal chat: mark the announcements it covers as read."""
    async with database.session() as session:
        unread = (
            await session.exec(
                select(BroadcastRecipient.broadcast_id, BroadcastRecipient.activity_id).where(
                    col(BroadcastRecipient.person_id) == person_id,
                    col(BroadcastRecipient.read_at).is_(None),
                    col(BroadcastRecipient.activity_id).is_not(None),
                )
            )
        ).all()
        read = [bid for bid, activity in unread if activity and is_read(activity, last_read_id)]
        if read:
            await session.exec(
                update(BroadcastRecipient)
                .where(
                    col(BroadcastRecipient.person_id) == person_id,
                    col(BroadcastRecipient.broadcast_id).in_(read),
                )
                .values(read_at=now)
            )
        return len(read)


@dataclass(frozen=True)
class Answered:
    """The announcement a person's message may answer: the newest delivered to them lately."""

    broadcast_id: int
    author_id: int | None
    author_label: str


async def latest_for(database: Database, *, person_id: int, now: datetime) -> Answered | None:
    """The announcement a typed message right after one is probably about; None if none came
    within `REPLY_WINDOW`."""
    async with database.session(write_lock=False) as session:
        row = (
            await session.exec(
                select(Broadcast.id, Broadcast.author_id, Broadcast.author_label)
                .join(BroadcastRecipient, col(BroadcastRecipient.broadcast_id) == col(Broadcast.id))
                .where(
                    col(BroadcastRecipient.person_id) == person_id,
                    col(BroadcastRecipient.delivered_at) >= now - REPLY_WINDOW,
                    col(Broadcast.status) == BroadcastStatus.queued,
                )
                .order_by(col(BroadcastRecipient.delivered_at).desc())
                .limit(1)
            )
        ).first()
    if row is None or row[0] is None:
        return None
    return Answered(row[0], row[1], row[2])


async def reply_to_author(
    database: Database, *, actor: Actor, broadcast_id: int, text: str
) -> str | None:
    """Send a recipient's question about an announcement to its author (as a forwarded
    question they can answer with "Svara"); the author's name, or None if they cannot be
    asked (a command-line announcement, or the author left)."""
    async with unit_of_work(database) as uow:
        broadcast = await uow.session.get(Broadcast, broadcast_id)
        known = await uow.session.get(BroadcastRecipient, (broadcast_id, actor.person_id))
        if broadcast is None or known is None or broadcast.author_id is None:
            return None
        author = await uow.session.get(Person, broadcast.author_id)
        if author is None or not author.active:
            return None
        question, created = await faq.forward_question(
            uow.session,
            asker_id=actor.person_id,
            region=actor.region,
            language=actor.language,
            text=text[:500],
        )
        assert question.id is not None
        if created:
            from btassist.faq.notices import QuestionNotice

            await uow.notify(
                Notice(NoticeKind.faq_question, QuestionNotice(question_id=question.id)),
                to=broadcast.author_id,
                key=f"{question.id}:{broadcast.author_id}",
            )
        return author.name


# --- reading ------------------------------------------------------------------------------------


async def announcement(database: Database, broadcast_id: int) -> Broadcast | None:
    """An announcement as stored (for rendering its card)."""
    async with database.session(write_lock=False) as session:
        return await session.get(Broadcast, broadcast_id)


async def report(database: Database, *, author: Author, broadcast_id: int) -> Report | NotFound:
    """Delivered / failed / pending, acknowledgements and read receipts, in one query."""
    async with database.session(write_lock=False) as session:
        broadcast = await _authored(session, author, broadcast_id)
        if broadcast is None:
            return NotFound()
        counts = (await _counts(session, [broadcast_id])).get(broadcast_id, Counts())
        return Report(broadcast, counts)


async def reports(database: Database, *, author: Author, limit: int = 20) -> list[Report]:
    """The newest announcements in the author's regions, with their counts."""
    async with database.session(write_lock=False) as session:
        found = [
            broadcast
            for broadcast in (
                await session.exec(
                    select(Broadcast)
                    .where(col(Broadcast.status) != BroadcastStatus.draft)
                    .order_by(col(Broadcast.id).desc())
                    .limit(limit * 4)
                )
            ).all()
            if _within(broadcast, author)
        ][:limit]
        counts = await _counts(session, [b.id for b in found if b.id is not None])
    return [Report(b, counts.get(b.id or 0, Counts())) for b in found]


async def failures(
    database: Database, *, author: Author, broadcast_id: int
) -> list[Failure] | NotFound:
    """Everyone the announcement did not reach, with the reason (the CSV export)."""
    async with database.session(write_lock=False) as session:
        if await _authored(session, author, broadcast_id) is None:
            return NotFound()
        rows = (
            await session.exec(
                select(
                    Person.name,
                    Person.email,
                    BroadcastRecipient.status,
                    BroadcastRecipient.error,
                )
                .join(Person, col(Person.id) == col(BroadcastRecipient.person_id))
                .where(
                    col(BroadcastRecipient.broadcast_id) == broadcast_id,
                    col(BroadcastRecipient.status).in_(
                        [RecipientStatus.failed, RecipientStatus.unreachable]
                    ),
                )
                .order_by(Person.name)
            )
        ).all()
    return [
        Failure(name, email, RecipientStatus(status), error or "")
        for name, email, status, error in rows
    ]


async def audit(database: Database, *, broadcast_id: int) -> list[BroadcastEvent]:
    """Who queued, cancelled or recalled the announcement, and when."""
    async with database.session(write_lock=False) as session:
        return list(
            (
                await session.exec(
                    select(BroadcastEvent)
                    .where(col(BroadcastEvent.broadcast_id) == broadcast_id)
                    .order_by(col(BroadcastEvent.id))
                )
            ).all()
        )


async def audience_reach(
    database: Database, *, audience: Audience, now: datetime, zone: tzinfo = UTC
) -> Reach:
    """The audience split into people the bot can message and those it cannot, with why
    ("no_reference": never opened the bot, or removed it)."""
    async with database.session(write_lock=False) as session:
        people = await select_recipients(session, audience, today=now.astimezone(zone).date())
        reached: set[int] = set()
        for offset in range(0, len(people), 500):
            chunk = people[offset : offset + 500]
            reached |= set(
                (
                    await session.exec(
                        select(ConversationRef.person_id).where(
                            col(ConversationRef.person_id).in_(chunk),
                            col(ConversationRef.active).is_(True),
                        )
                    )
                ).all()
            )
    return Reach(
        reachable=[p for p in people if p in reached],
        unreachable={p: "no_reference" for p in people if p not in reached},
    )


async def recall_targets(
    database: Database, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, str, str | None, str]]:
    """For (announcement, person) pairs: the reference id, its JSON, its tenant and the id of
    the delivered copy — what deleting it takes."""
    if not pairs:
        return {}
    broadcast_ids = sorted({b for b, _ in pairs})
    people = sorted({p for _, p in pairs})
    async with database.session(write_lock=False) as session:
        rows = (
            await _rows(
                session,
                select_columns(
                    col(BroadcastRecipient.broadcast_id),
                    col(BroadcastRecipient.person_id),
                    col(ConversationRef.id),
                    col(ConversationRef.reference),
                    col(ConversationRef.tenant_id),
                    col(BroadcastRecipient.activity_id),
                )
                .join(
                    ConversationRef, col(ConversationRef.id) == col(BroadcastRecipient.reference_id)
                )
                .where(
                    col(BroadcastRecipient.broadcast_id).in_(broadcast_ids),
                    col(BroadcastRecipient.person_id).in_(people),
                    col(BroadcastRecipient.activity_id).is_not(None),
                ),
            )
        ).all()
    return {
        (b, p): (ref_id, reference, tenant, activity)
        for b, p, ref_id, reference, tenant, activity in rows
        if ref_id is not None and activity is not None
    }


# --- helpers ------------------------------------------------------------------------------------


async def _rows(session: AsyncSession, statement: Any) -> Any:
    """Run a many-column select (beyond what sqlmodel's typed `select` spells)."""
    connection = await session.connection()
    return await connection.execute(statement)


def _within(broadcast: Broadcast, author: Author) -> bool:
    regions = {code for code in broadcast.regions.split(",") if code}
    return bool(regions) and regions <= author.regions


async def _authored(session: AsyncSession, author: Author, broadcast_id: int) -> Broadcast | None:
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or not _within(broadcast, author):
        return None
    return broadcast


def _event(
    broadcast_id: int, author: Author, action: str, count: int, now: datetime
) -> BroadcastEvent:
    return BroadcastEvent(
        broadcast_id=broadcast_id,
        actor_id=author.person_id,
        actor_label=author.label[:200],
        action=action,
        count=count,
        at=now,
    )


async def _counts(session: AsyncSession, broadcast_ids: Sequence[int]) -> dict[int, Counts]:
    if not broadcast_ids:
        return {}
    rows = (
        await _rows(
            session,
            select_columns(
                col(BroadcastRecipient.broadcast_id),
                col(BroadcastRecipient.status),
                func.count(),
                func.count(col(BroadcastRecipient.acknowledged_at)),
                func.count(col(BroadcastRecipient.read_at)),
            )
            .where(col(BroadcastRecipient.broadcast_id).in_(list(broadcast_ids)))
            .group_by(col(BroadcastRecipient.broadcast_id), col(BroadcastRecipient.status)),
        )
    ).all()
    tallies: dict[int, dict[str, int]] = {}
    for broadcast_id, status, count, acked, read in rows:
        tally = tallies.setdefault(broadcast_id, {})
        name = "pending" if RecipientStatus(status) is RecipientStatus.queued else str(status)
        tally[name] = tally.get(name, 0) + int(count)
        tally["total"] = tally.get("total", 0) + int(count)
        tally["acknowledged"] = tally.get("acknowledged", 0) + int(acked)
        tally["read"] = tally.get("read", 0) + int(read)
    return {broadcast_id: Counts(**tally) for broadcast_id, tally in tallies.items()}


@dataclass(frozen=True)
class Target:
    """A course or an upcoming session whose participants or waitlist an announcement may reach."""

    course_code: str
    session_id: int | None
    title_sv: str
    title_en: str
    starts_at: datetime | None


async def targets(
    database: Database, *, regions: frozenset[str], now: datetime, sessions: int = 15
) -> list[Target]:
    """The courses the regions offer, then their next sessions (at most `sessions`)."""
    from btassist.courses.models import Course, CourseRegion, CourseSession, SessionStatus

    async with database.session(write_lock=False) as session:
        courses = (
            await session.exec(
                select(Course.code, Course.title_sv, Course.title_en)
                .join(CourseRegion, col(CourseRegion.course_id) == col(Course.id))
                .where(col(CourseRegion.region_code).in_(sorted(regions)), col(Course.active))
                .distinct()
                .order_by(Course.title_sv)
            )
        ).all()
        upcoming = (
            await _rows(
                session,
                select_columns(
                    col(Course.code),
                    col(CourseSession.id),
                    col(Course.title_sv),
                    col(Course.title_en),
                    col(CourseSession.starts_at),
                )
                .join(Course, col(Course.id) == col(CourseSession.course_id))
                .where(
                    col(CourseSession.region_code).in_(sorted(regions)),
                    col(CourseSession.starts_at) >= now,
                    col(CourseSession.status) == SessionStatus.scheduled,
                )
                .order_by(col(CourseSession.starts_at))
                .limit(sessions),
            )
        ).all()
    return [Target(code, None, sv, en, None) for code, sv, en in courses] + [
        Target(code, session_id, sv, en, starts) for code, session_id, sv, en, starts in upcoming
    ]
