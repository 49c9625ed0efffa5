"""Tables for courses, the regions offering them, their sessions, enrolments and completions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.db.types import UTCDateTime, utcnow


class CourseKind(StrEnum):
    """What sort of teaching a course is (as the regions name them)."""

    kurs = "kurs"
    seminarium = "seminarium"
    temadag = "temadag"
    webbkurs = "webbkurs"
    schemalagd_undervisning = "schemalagd_undervisning"


class SessionStatus(StrEnum):
    """A session happens as planned, or was cancelled (kept, never deleted)."""

    scheduled = "scheduled"
    cancelled = "cancelled"


class EnrolmentStatus(StrEnum):
    """Where a doctor stands for one session."""

    enrolled = "enrolled"
    waitlisted = "waitlisted"
    cancelled = "cancelled"  # the doctor withdrew
    needs_new_session = "needs_new_session"  # the session was cancelled under them
    attended = "attended"


class Recurrence(StrEnum):
    """Repeating teaching series (Wednesday teaching, weekly scheduled teaching)."""

    weekly = "weekly"


def _enum(kind: type[StrEnum]) -> sa.Enum:
    return sa.Enum(kind, native_enum=False, length=30, validate_strings=True)


class Course(SQLModel, table=True):
    """A course, seminar, theme day, web course or teaching series in the catalogue."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True, index=True)
    title_sv: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    description_sv: str = Field(default="", sa_type=sa.Text)
    description_en: str = Field(default="", sa_type=sa.Text)
    kind: CourseKind = Field(sa_type=_enum(CourseKind))
    provider: str = Field(default="", max_length=200)
    hours: float | None = None
    link: str | None = Field(default=None, max_length=500)
    source: str = Field(default="", max_length=200, description="where the fact comes from")
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CourseRegion(SQLModel, table=True):
    """A region offering a course, and whether it is mandatory for BT there."""

    __tablename__ = "course_region"

    course_id: int = Field(foreign_key="course.id", primary_key=True, ondelete="CASCADE")
    region_code: str = Field(foreign_key="region.code", primary_key=True, max_length=20)
    mandatory: bool = False


class CourseSession(SQLModel, table=True):
    """One occasion of a course (or a weekly series), with seats and an enrolment deadline."""

    __tablename__ = "course_session"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=120, unique=True, description="coordinators' id for re-imports")
    region_code: str = Field(foreign_key="region.code", max_length=20, index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    location: str = Field(default="", max_length=300)
    meeting_url: str | None = Field(default=None, max_length=500)
    capacity: int | None = Field(default=None, description="None: no seat limit")
    enrolment_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: SessionStatus = Field(default=SessionStatus.scheduled, sa_type=_enum(SessionStatus))
    recurrence: Recurrence | None = Field(default=None, sa_type=_enum(Recurrence))
    repeat_until: date | None = None
    sequence: int = Field(default=0, description="bumped when the time moves (iCalendar)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionSkip(SQLModel, table=True):
    """A cancelled week of a recurring series."""

    __tablename__ = "session_skip"

    session_id: int = Field(foreign_key="course_session.id", primary_key=True, ondelete="CASCADE")
    occurs_on: date = Field(primary_key=True)


class Enrolment(SQLModel, table=True):
    """A doctor's place (or place in line) for a session."""

    __table_args__ = (sa.UniqueConstraint("session_id", "doctor_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="course_session.id", index=True, ondelete="CASCADE")
    doctor_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    status: EnrolmentStatus = Field(sa_type=_enum(EnrolmentStatus), index=True)
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CourseCompletion(SQLModel, table=True):
    """A doctor has completed a course (attendance recorded, or a web course reported)."""

    __tablename__ = "course_completion"

    doctor_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    course_id: int = Field(foreign_key="course.id", primary_key=True, ondelete="CASCADE")
    completed_on: date
    reported_by_doctor: bool = False
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
