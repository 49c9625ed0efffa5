"""The registry of notice kinds: each kind is a pydantic model of its parameters.

The same model is used where a notice is queued (a use case calls `uow.notify(SomeNotice(...))`)
and where it is delivered (the stored parameters are parsed back into that model and handed to
the kind's renderer in `dialogs/notices.py`), so both ends agree on what a notice carries.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from btassist.common.ids import Id


class NoticeKind(StrEnum):
    """Every kind of notice the bot sends outside a turn (stored in `outbox_message.kind`)."""

    waitlist_promoted = "waitlist_promoted"
    session_cancelled = "session_cancelled"
    faq_question = "faq_question"
    faq_answer = "faq_answer"


class Notice(BaseModel):
    """A notice's parameters; subclasses name their kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[NoticeKind]

    def params(self) -> dict[str, Any]:
        """The parameters as JSON data for the outbox row."""
        return self.model_dump(mode="json")


_KINDS: dict[NoticeKind, type[Notice]] = {}


def notice_kind(cls: type[Notice]) -> type[Notice]:
    """Register a notice model under its kind (one model per kind)."""
    if cls.kind in _KINDS:
        raise ValueError(f"notice kind {cls.kind} is registered twice")
    _KINDS[cls.kind] = cls
    return cls


def notice_types() -> dict[NoticeKind, type[Notice]]:
    """Every registered kind and its model."""
    return dict(_KINDS)


def parse_notice(kind: str, params: dict[str, Any]) -> Notice | None:
    """The stored notice as its model; None for a kind or parameters this release cannot read."""
    try:
        model = _KINDS[NoticeKind(kind)]
        return model.model_validate(params)
    except (KeyError, ValueError, ValidationError):
        return None


@notice_kind
class WaitlistPromoted(Notice):
    """A seat freed up and the doctor moved from the waitlist into it."""

    kind = NoticeKind.waitlist_promoted
    session_id: Id


@notice_kind
class SessionCancelled(Notice):
    """A session the doctor held a seat or waitlist place in was cancelled."""

    kind = NoticeKind.session_cancelled
    session_id: Id


@notice_kind
class QuestionForwarded(Notice):
    """To a coordinator: a doctor's question the FAQ could not answer."""

    kind = NoticeKind.faq_question
    question_id: Id


@notice_kind
class QuestionAnswered(Notice):
    """To the doctor: a coordinator's answer to their forwarded question."""

    kind = NoticeKind.faq_answer
    question_id: Id
