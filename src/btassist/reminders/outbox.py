"""A reminder as the sweep plans it: for whom, of which kind, about what, for which date.

The outbox key is (kind, person, subject, date): the same reminder about the same thing on the
same date is queued once, whichever process or sweep gets there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from btassist.outbox.notices import Notice, NoticeKind, Params
from btassist.outbox.queue import Queued


@dataclass(frozen=True)
class Reminder:
    """A reminder for one person: its kind, what it is about, the date it concerns, its params."""

    person_id: int
    kind: NoticeKind
    subject: str
    on: date
    params: Params

    @property
    def key(self) -> str:
        """The idempotency key within the kind."""
        return f"{self.person_id}:{self.subject}:{self.on.isoformat()}"

    @property
    def dedupe_key(self) -> str:
        """The outbox's unique key for this reminder."""
        return f"{self.kind.value}:{self.key}"

    def queued(self, available_at: datetime) -> Queued:
        """The outbox row for this reminder."""
        return Queued(self.person_id, Notice(self.kind, self.params), self.key, available_at)
