"""How long records that outlive their purpose are kept, and the sweep that deletes them.

The privacy page states these periods from this table, so the page and the deletions cannot
disagree. Everything not listed here belongs to a person in the roster (who they are, their
BT, enrolments, completed courses, their calendar link and how to reach them in Teams) and is
kept while they are in it: coordinators remove people whose BT has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from btassist.calendar.models import FeedToken
from btassist.conversations.models import ConversationRef
from btassist.db.engine import Database
from btassist.faq.models import FaqEvent, ForwardedQuestion
from btassist.outbox.models import OutboxMessage, OutboxStatus
from btassist.privacy.models import ExportLink

FINISHED = (OutboxStatus.sent, OutboxStatus.failed, OutboxStatus.no_reference)


@dataclass(frozen=True)
class RetentionRule:
    """Rows of `table` matching `expired(cutoff)` are deleted `days` after their own date."""

    key: str  # names the rule on the privacy page (legal.retention.<key>)
    table: Any
    days: int
    expired: Callable[[datetime], ColumnElement[bool]]


RULES = (
    RetentionRule(
        "notices",
        OutboxMessage,
        30,
        lambda cutoff: (
            col(OutboxMessage.status).in_(FINISHED) & (col(OutboxMessage.created_at) < cutoff)
        ),
    ),
    RetentionRule(
        "revoked_links",
        FeedToken,
        30,
        lambda cutoff: (
            col(FeedToken.revoked_at).is_not(None) & (col(FeedToken.revoked_at) < cutoff)
        ),
    ),
    RetentionRule(
        "removed_chats",
        ConversationRef,
        90,
        lambda cutoff: (
            col(ConversationRef.active).is_(False) & (col(ConversationRef.updated_at) < cutoff)
        ),
    ),
    RetentionRule(
        "forwarded_questions",
        ForwardedQuestion,
        365,
        lambda cutoff: col(ForwardedQuestion.created_at) < cutoff,
    ),
    RetentionRule(
        "faq_log",
        FaqEvent,
        365,
        lambda cutoff: col(FaqEvent.created_at) < cutoff,
    ),
    RetentionRule(
        "export_links",
        ExportLink,
        30,
        lambda cutoff: col(ExportLink.created_at) < cutoff,
    ),
)


async def sweep(database: Database, *, now: datetime) -> dict[str, int]:
    """Delete what every rule says has expired at `now`; rows deleted per rule."""
    deleted: dict[str, int] = {}
    async with database.session() as session:
        for rule in RULES:
            cutoff = now - timedelta(days=rule.days)
            result = await session.exec(delete(rule.table).where(rule.expired(cutoff)))
            deleted[rule.key] = result.rowcount
    return deleted
