"""What a flow sees of a turn and what it answers: plain data, no Bot Framework types."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from btassist.db.engine import Database
from btassist.roster.models import Language, Role


@dataclass(frozen=True)
class Asker:
    """The roster person behind the turn, with the language to answer in."""

    person_id: int
    name: str
    email: str
    region: str
    roles: frozenset[Role]
    language: Language

    def speaking(self, language: Language) -> Asker:
        """The same person answered in another language."""
        return replace(self, language=language)


@dataclass(frozen=True)
class Message:
    """Typed text, or the verb and data of a clicked card button."""

    text: str = ""
    verb: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """One message back: text, an Adaptive Card (as a dict), or both."""

    text: str | None = None
    card: dict[str, Any] | None = None


@dataclass(frozen=True)
class FlowContext:
    """The collaborators flows need, handed in by the transport."""

    database: Database
    zone: ZoneInfo
    local_mode: bool = False
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def today(self) -> date:
        """Today's date in the service's local time zone."""
        return self.clock().astimezone(self.zone).date()
