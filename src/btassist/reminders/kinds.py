"""The kinds of reminder and the data each carries into the outbox (rendered later, per language).

Each kind is an outbox `template`; its params are the `model_dump(mode="json")` of the pydantic
model in `PARAMS`, so a typed notice registry can validate them on the way out.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from btassist.assessments.models import ItemKind


class ReminderKind(StrEnum):
    """What a reminder is about; each can be paused on its own."""

    item_due_soon = "item_due_soon"  # an item of the plan is due within a week
    item_due_today = "item_due_today"  # … is due today
    weekly_digest = "weekly_digest"  # Monday's "Den här veckan"
    session_tomorrow = "session_tomorrow"  # an enrolled course session next working day
    session_moved = "session_moved"  # an enrolled or waitlisted session changed time or place
    session_new = "session_new"  # a new session of a course the doctor still needs
    bt_start = "bt_start"  # BT starts: set up the IUP (and supervision contract)
    meeting_proposal = "meeting_proposal"  # an end-of-placement meeting in two weeks
    supervisor_overdue = (
        "supervisor_overdue"  # trainees' items overdue (handledare, huvudhandledare)
    )
    studierektor_overdue = "studierektor_overdue"  # items overdue for two weeks


PAUSE_ALL = "all"


class Params(BaseModel):
    """Base of every kind's params: frozen, and no stray fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemDue(Params):
    """An item is due: on `due` (`days_left` 0 means today)."""

    item_id: int
    item_kind: ItemKind
    due: date
    days_left: int


class DigestSession(Params):
    """One occurrence of an enrolled session in the week."""

    session_id: int
    starts_at: datetime


class WeeklyDigest(Params):
    """This week: scheduled teaching hours (region policy), enrolled sessions, items due."""

    week_start: date
    teaching_hours: float | None
    sessions: list[DigestSession]
    item_ids: list[int]


class SessionTomorrow(Params):
    """An enrolled session's occurrence starts on the next working day (or the days between)."""

    session_id: int
    starts_at: datetime


class SessionMoved(Params):
    """A session the doctor holds (or waits for) changed time or place."""

    session_id: int
    starts_at: datetime
    previous_starts_at: datetime
    place_changed: bool
    waitlisted: bool


class SessionNew(Params):
    """New sessions of a course the doctor still needs."""

    course_id: int
    session_ids: list[int]


class BTStart(Params):
    """BT has started: set up the start tasks with the huvudhandledare."""

    doctor_id: int
    bt_start: date
    as_main_supervisor: bool
    item_ids: list[int]


class MeetingProposal(Params):
    """An end-of-placement meeting due on `due`, to be booked with everyone attending."""

    item_id: int
    doctor_id: int
    placement_id: int | None
    due: date
    attendee_ids: list[int]


class OverdueLine(Params):
    """One overdue item of a trainee."""

    item_id: int
    doctor_id: int
    item_kind: ItemKind
    due: date


class Overdue(Params):
    """Overdue items of the recipient's trainees (a supervisor) or region (a studierektor)."""

    items: list[OverdueLine]


PARAMS: dict[ReminderKind, type[Params]] = {
    ReminderKind.item_due_soon: ItemDue,
    ReminderKind.item_due_today: ItemDue,
    ReminderKind.weekly_digest: WeeklyDigest,
    ReminderKind.session_tomorrow: SessionTomorrow,
    ReminderKind.session_moved: SessionMoved,
    ReminderKind.session_new: SessionNew,
    ReminderKind.bt_start: BTStart,
    ReminderKind.meeting_proposal: MeetingProposal,
    ReminderKind.supervisor_overdue: Overdue,
    ReminderKind.studierektor_overdue: Overdue,
}
