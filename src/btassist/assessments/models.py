"""Tables for each BT doctor's plan: what is due when, with whom, and what has been done."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class ItemKind(StrEnum):
    """What an item of the plan is; the region's policy names each one."""

    assessment = "assessment"  # formative, with an instrument (Mini-CEX, DOPS, CBD …)
    placement_assessment = "placement_assessment"  # final/overall at the end of a placement
    end_meeting = "end_meeting"  # överrapporteringsmöte, check-in with the huvudhandledare
    kollegium = "kollegium"  # BT-kollegium
    iup = "iup"  # the individual training plan, set up at the start
    supervision_contract = "supervision_contract"  # handledningskontrakt, at the start
    final_assessment = "final_assessment"  # summative, with the external assessor


class ItemStatus(StrEnum):
    """Open until done; an item the plan no longer needs is cancelled, never deleted."""

    open = "open"
    done = "done"
    cancelled = "cancelled"


def _enum(kind: type[StrEnum]) -> sa.Enum:
    return sa.Enum(kind, native_enum=False, length=30, validate_strings=True)


class PlanItem(SQLModel, table=True):
    """One thing due on one day in a doctor's BT.

    `key` names the item within the doctor's plan (e.g. `assessment:12:2`, the second assessment
    of placement 12), so regenerating the plan finds it again. A date set by hand
    (`due_edited_at`) survives regeneration; `nudged_on` and `escalated_on` record when the
    supervisors and the studierektor were last told it is overdue, and `due_known_on` when the
    plan learned the date (nobody is nudged about a date that had passed by then).
    """

    __tablename__ = "plan_item"
    __table_args__ = (
        sa.UniqueConstraint("doctor_id", "key"),
        sa.Index("ix_plan_item_status_due", "status", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    doctor_id: int = Field(foreign_key="person.id", ondelete="CASCADE")  # indexed by the key
    key: str = Field(max_length=80)
    kind: ItemKind = Field(sa_type=_enum(ItemKind))
    placement_id: int | None = Field(
        default=None, foreign_key="placement.id", index=True, ondelete="SET NULL"
    )
    due: date
    due_known_on: date = Field(description="the local day the plan learned this due date")
    status: ItemStatus = Field(default=ItemStatus.open, sa_type=_enum(ItemStatus))
    due_edited_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    due_edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_on: date | None = None
    instrument: str | None = Field(default=None, max_length=50)
    assessor: str | None = Field(default=None, max_length=200)
    done_by: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    done_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    nudged_on: date | None = None
    escalated_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
