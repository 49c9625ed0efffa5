"""What a flow sees of a turn and what it answers: plain data, no Bot Framework types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from btassist.assessments.policy import RegionPolicies
from btassist.assessments.store import PolicyStore
from btassist.assessments.sync import shipped_policies
from btassist.db.engine import Database
from btassist.faq.store import FaqStore


@dataclass(frozen=True)
class Message:
    """Typed text, or the data of a clicked card button (`clicked`)."""

    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    clicked: bool = False


@dataclass(frozen=True)
class Reply:
    """One message back: text, an Adaptive Card (as a dict), or both.

    `replace` asks the transport to update the card the user clicked instead of adding a new
    message, so no stale buttons (an old "Anmäl") stay behind.
    """

    text: str | None = None
    card: dict[str, Any] | None = None
    replace: bool = False


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FlowContext:
    """The collaborators flows need, handed in by the transport."""

    database: Database
    zone: ZoneInfo
    local_mode: bool = False
    clock: Callable[[], datetime] = _utcnow
    public_url: str = "http://127.0.0.1:3978"
    faq: FaqStore | None = None  # the FAQ knowledge base; None: unmatched text is not understood
    policies: PolicyStore | None = None  # the region policies in use; None: the shipped ones

    def today(self) -> date:
        """Today's date in the service's local time zone."""
        return self.clock().astimezone(self.zone).date()

    def now(self) -> datetime:
        """The current instant (UTC), from the injected clock."""
        return self.clock()

    def region_policies(self) -> RegionPolicies:
        """The region policies plans and reminders follow now."""
        return self.policies.current if self.policies is not None else shipped_policies()

    def url(self, path: str) -> str:
        """An absolute URL on this service for `path` (which starts with "/")."""
        return f"{self.public_url.rstrip('/')}{path}"
