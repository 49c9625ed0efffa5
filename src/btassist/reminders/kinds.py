"""The kinds of reminder and the data each carries into the outbox (rendered later, per language).

Each kind is a notice kind; its parameters model is registered with the notice registry, which
parses the stored parameters back into it at delivery.
"""

from __future__ import annotations

from datetime import date, datetime

from btassist.assessments.models import ItemKind
from btassist.outbox.notices import NoticeKind, Params, register

REMINDER_KINDS: tuple[NoticeKind, ...] = (
    NoticeKind.item_due_soon,
    NoticeKind.item_due_today,
    NoticeKind.weekly_digest,
    NoticeKind.session_tomorrow,
    NoticeKind.session_moved,
    NoticeKind.session_new,
    NoticeKind.bt_start,
    NoticeKind.meeting_proposal,
    NoticeKind.supervisor_overdue,
    NoticeKind.studierektor_overdue,
)
"""The notice kinds that are reminders: each can be paused on its own."""


PAUSE_ALL = "all"


@register(NoticeKind.item_due_soon, NoticeKind.item_due_today)
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


@register(NoticeKind.weekly_digest)
class WeeklyDigest(Params):
    """This week: scheduled teaching hours (region policy), enrolled sessions, items due."""

    week_start: date
    teaching_hours: float | None
    sessions: list[DigestSession]
    item_ids: list[int]


@register(NoticeKind.session_tomorrow)
class SessionTomorrow(Params):
    """An enrolled session's occurrence starts on the next working day (or the days between)."""

    session_id: int
    starts_at: datetime


@register(NoticeKind.session_moved)
class SessionMoved(Params):
    """A session the doctor holds (or waits for) changed time or place."""

    session_id: int
    starts_at: datetime
    previous_starts_at: datetime
    place_changed: bool
    waitlisted: bool


@register(NoticeKind.session_new)
class SessionNew(Params):
    """New sessions of a course the doctor still needs."""

    course_id: int
    session_ids: list[int]


@register(NoticeKind.bt_start)
class BTStart(Params):
    """BT has started: set up the start tasks with the huvudhandledare."""

    doctor_id: int
    bt_start: date
    as_main_supervisor: bool
    item_ids: list[int]


@register(NoticeKind.meeting_proposal)
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


@register(NoticeKind.supervisor_overdue, NoticeKind.studierektor_overdue)
class Overdue(Params):
    """Overdue items of the recipient's trainees (a supervisor) or region (a studierektor)."""

    items: list[OverdueLine]
