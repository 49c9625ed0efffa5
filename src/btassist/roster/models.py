"""Tables for regions, people, roles, BT programmes and placements."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from btassist.common.language import Language
from btassist.db.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a person does in BT; a person may hold several."""

    doctor = "doctor"
    supervisor = "supervisor"
    coordinator = "coordinator"
    studierektor = "studierektor"


class BTType(StrEnum):
    """Block BT is a separate fixed-term post; integrated BT is done inside an ST post."""

    block = "block"
    integrated = "integrated"


class PlacementKind(StrEnum):
    """The clinical placements of BT (HSLF-FS 2021:8 plus regional choice)."""

    akut = "akut"
    primarvard = "primarvard"
    psykiatri = "psykiatri"
    valfri = "valfri"


def _enum(kind: type[StrEnum]) -> sa.Enum:
    """Enums stored as short strings, so adding a member needs no type migration on PostgreSQL."""
    return sa.Enum(kind, native_enum=False, length=20, validate_strings=True)


class Region(SQLModel, table=True):
    """A Swedish region running BT; the code is what coordinators write in the roster."""

    code: str = Field(primary_key=True, max_length=20)
    name_sv: str = Field(max_length=100)
    name_en: str = Field(max_length=100)


class Person(SQLModel, table=True):
    """Anyone the bot knows: BT doctors, supervisors, coordinators and studierektorer."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    aad_object_id: str | None = Field(default=None, max_length=64, unique=True, index=True)
    language: Language | None = Field(default=None, sa_type=_enum(Language))
    region_code: str = Field(foreign_key="region.code", max_length=20, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PersonRole(SQLModel, table=True):
    """One role held by one person."""

    __tablename__ = "person_role"

    person_id: int = Field(foreign_key="person.id", primary_key=True, ondelete="CASCADE")
    role: Role = Field(primary_key=True, sa_type=_enum(Role))


class BTProgramme(SQLModel, table=True):
    """A doctor's BT: its type, dates and huvudhandledare (main supervisor)."""

    __tablename__ = "bt_programme"

    id: int | None = Field(default=None, primary_key=True)
    doctor_id: int = Field(foreign_key="person.id", unique=True, ondelete="CASCADE")
    bt_type: BTType = Field(sa_type=_enum(BTType))
    start: date
    planned_end: date
    main_supervisor_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Placement(SQLModel, table=True):
    """A period of clinical service at one unit under a handledare (clinical supervisor)."""

    __table_args__ = (sa.UniqueConstraint("doctor_id", "kind", "start"),)

    id: int | None = Field(default=None, primary_key=True)
    doctor_id: int = Field(foreign_key="person.id", index=True, ondelete="CASCADE")
    kind: PlacementKind = Field(sa_type=_enum(PlacementKind))
    unit: str = Field(max_length=200)
    start: date
    end: date
    supervisor_id: int | None = Field(
        default=None, foreign_key="person.id", index=True, ondelete="SET NULL"
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
