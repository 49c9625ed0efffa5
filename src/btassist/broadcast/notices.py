"""What announcement notices carry, and how their delivery is recorded per recipient."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlmodel.ext.asyncio.session import AsyncSession

from btassist.broadcast.models import BroadcastRecipient, RecipientStatus
from btassist.common.ids import Id
from btassist.outbox.models import OutboxStatus
from btassist.outbox.notices import NoticeKind, Params, register
from btassist.outbox.outcomes import Finished, records

GONE = ("HTTP 403", "HTTP 404")


@register(NoticeKind.broadcast, NoticeKind.broadcast_recall)
class BroadcastNotice(Params):
    """One announcement to send to (or delete from) one recipient's chat."""

    broadcast_id: Id


def _recipient_status(item: Finished) -> RecipientStatus | None:
    """The recipient's new status; None while the message will be tried again."""
    if item.retry_at is not None:
        return None
    if item.status is OutboxStatus.sent:
        return RecipientStatus.delivered
    if item.status is OutboxStatus.no_reference or (item.error or "").startswith(GONE):
        return RecipientStatus.unreachable
    return RecipientStatus.failed


_TABLE = BroadcastRecipient.__table__  # type: ignore[attr-defined]
_DELIVERED = (
    update(_TABLE)
    .where(
        _TABLE.c.broadcast_id == bindparam("r_broadcast"),
        _TABLE.c.person_id == bindparam("r_person"),
        or_(
            _TABLE.c.status == RecipientStatus.queued.value,
            # A copy in flight when the announcement was cancelled still arrived.
            bindparam("r_status") == RecipientStatus.delivered.value,
        ),
    )
    .values(
        status=bindparam("r_status"),
        reference_id=bindparam("r_reference"),
        activity_id=bindparam("r_activity"),
        error=bindparam("r_error"),
        delivered_at=bindparam("r_at"),
    )
)


@records(NoticeKind.broadcast)
async def copies_sent(session: AsyncSession, finished: Sequence[Finished], now: datetime) -> None:
    """Keep each recipient's outcome, and the id Teams gave their copy (recall, read receipts)."""
    rows = []
    for item in finished:
        status = _recipient_status(item)
        broadcast_id = item.params.get("broadcast_id")
        if status is None or not isinstance(broadcast_id, int):
            continue
        delivered = status is RecipientStatus.delivered
        rows.append(
            {
                "r_broadcast": broadcast_id,
                "r_person": item.person_id,
                "r_status": status.value,
                "r_reference": item.reference_id,
                "r_activity": item.activity_ids[0] if delivered and item.activity_ids else None,
                "r_error": None if delivered else (item.error or "")[:200],
                "r_at": now if delivered else None,
            }
        )
    if rows:
        await session.exec(_DELIVERED, params=rows)


_RECALLED = (
    update(_TABLE)
    .where(
        _TABLE.c.broadcast_id == bindparam("r_broadcast"),
        _TABLE.c.person_id == bindparam("r_person"),
    )
    .values(status=RecipientStatus.recalled.value)
)


@records(NoticeKind.broadcast_recall)
async def copies_deleted(
    session: AsyncSession, finished: Sequence[Finished], now: datetime
) -> None:
    """A deleted copy is recalled."""
    rows = [
        {"r_broadcast": item.params["broadcast_id"], "r_person": item.person_id}
        for item in finished
        if item.status is OutboxStatus.sent and item.retry_at is None
    ]
    if rows:
        await session.exec(_RECALLED, params=rows)
