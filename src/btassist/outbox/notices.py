"""The registry of notice kinds: one name per kind, and the pydantic model of its parameters.

The same model is used where a notice is queued (a use case calls
`uow.notify(Notice(kind, params), …)`) and where it is delivered (the stored parameters are
parsed back into that model and handed to the kind's renderer in `dialogs/notices.py`), so both
ends agree on what a notice carries. Features register their parameter models next to the code
that queues them (`@register(NoticeKind.…)`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class NoticeKind(StrEnum):
    """Every kind of notice the bot sends outside a turn (stored in `outbox_message.kind`)."""

    # Courses
    waitlist_promoted = "waitlist_promoted"  # a seat freed up and the doctor got it
    session_cancelled = "session_cancelled"  # a session the doctor held was cancelled
    # Questions a person answers
    faq_question = "faq_question"  # to a coordinator: a doctor's forwarded question
    faq_answer = "faq_answer"  # to the doctor: the coordinator's answer
    # Reminders (each can be paused on its own)
    item_due_soon = "item_due_soon"  # an item of the plan is due within a week
    item_due_today = "item_due_today"  # … is due today
    weekly_digest = "weekly_digest"  # Monday's "Den här veckan"
    session_tomorrow = "session_tomorrow"  # an enrolled course session next working day
    session_moved = "session_moved"  # an enrolled or waitlisted session changed time or place
    session_new = "session_new"  # a new session of a course the doctor still needs
    bt_start = "bt_start"  # BT starts: set up the IUP (and supervision contract)
    meeting_proposal = "meeting_proposal"  # an end-of-placement meeting in two weeks
    supervisor_overdue = "supervisor_overdue"  # trainees' items overdue (handledare)
    studierektor_overdue = "studierektor_overdue"  # items overdue for two weeks
    # Broadcasts
    broadcast = "broadcast"  # a coordinator's announcement to one recipient
    broadcast_recall = "broadcast_recall"  # delete a delivered announcement again


class Params(BaseModel):
    """Base of every kind's parameters: frozen, and no stray fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=type[Params])
_MODELS: dict[NoticeKind, type[Params]] = {}


def register(*kinds: NoticeKind) -> Callable[[P], P]:
    """Make a parameters model the one of `kinds` (a kind has exactly one model)."""

    def registering(model: P) -> P:
        for kind in kinds:
            if kind in _MODELS and _MODELS[kind] is not model:
                raise ValueError(f"notice kind {kind} already has {_MODELS[kind].__name__}")
            _MODELS[kind] = model
        return model

    return registering


def registered() -> dict[NoticeKind, type[Params]]:
    """Every kind with a model so far (the features' modules register theirs on import)."""
    return dict(_MODELS)


@dataclass(frozen=True)
class Notice:
    """One notice: its kind and its parameters (of the kind's registered model)."""

    kind: NoticeKind
    params: Params

    def __post_init__(self) -> None:
        expected = _MODELS.get(self.kind)
        if expected is None or not isinstance(self.params, expected):
            raise TypeError(f"{self.kind} takes {expected}, not {type(self.params).__name__}")

    def data(self) -> dict[str, Any]:
        """The parameters as JSON data for the outbox row."""
        return self.params.model_dump(mode="json")


def parse_notice(kind: str, data: dict[str, Any]) -> Notice | None:
    """A stored notice as its model; None for a kind or parameters this release cannot read."""
    try:
        notice_kind = NoticeKind(kind)
        model = _MODELS[notice_kind]
        return Notice(notice_kind, model.model_validate(data))
    except (KeyError, ValueError, ValidationError):
        return None
