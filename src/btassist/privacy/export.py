"""Everything stored about a person, as JSON data (GDPR article 15: the right of access).

Built from the inventory of person columns, one query per column: whole rows where the row is
about the person, and only the person's own fields of rows that are someone else's and merely
name them (a placement they supervise, a question they answered).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as select_core
from sqlmodel import select

from btassist.db.engine import Database
from btassist.db.tables import metadata
from btassist.privacy.inventory import PERSON, PERSON_COLUMNS
from btassist.roster.models import Person

EXPORT_FORMAT = "btassist-export/1"


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _fields(row: Any, names: tuple[str, ...] | None, secret: tuple[str, ...]) -> dict[str, Any]:
    shown = names if names is not None else tuple(key for key in row if key not in secret)
    return {name: _value(row[name]) for name in shown}


async def export_person(
    database: Database, *, person_id: int, now: datetime
) -> dict[str, Any] | None:
    """The person's data: `person`, `tables` (rows about them, by table) and `named_in` (their
    part of rows that are someone else's, by `table.column`); None for an unknown id."""
    person_table = metadata.tables[PERSON]
    exported: dict[str, Any] = {"format": EXPORT_FORMAT, "exported_at": now.isoformat()}
    tables: dict[str, list[Any]] = {}
    named_in: dict[str, list[Any]] = {}
    async with database.session(write_lock=False) as session:
        connection = await session.connection()
        found = select_core(person_table).where(person_table.c.id == person_id)
        person = (await connection.execute(found)).mappings().first()
        if person is None:
            return None
        exported["person"] = _fields(person, None, ())
        for column in PERSON_COLUMNS:
            if column.table == PERSON:
                continue
            table = metadata.tables[column.table]
            query = (
                select_core(table)
                .where(table.c[column.column] == person_id)
                .order_by(*table.primary_key.columns)
            )
            rows = (await connection.execute(query)).mappings().all()
            if column.own is None:
                tables[column.table] = [_fields(row, None, column.secret) for row in rows]
            else:
                named_in[f"{column.table}.{column.column}"] = [
                    _fields(row, column.own, ()) for row in rows
                ]
    exported["tables"] = tables
    exported["named_in"] = named_in
    return exported


async def person_with_email(database: Database, email: str) -> int | None:
    """The id of the person (active or not) with this e-mail, case-insensitive."""
    async with database.session(write_lock=False) as session:
        found = await session.exec(
            select(Person).where(func.lower(Person.email) == email.strip().lower())
        )
        person = found.first()
    return None if person is None else person.id
