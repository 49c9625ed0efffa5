"""Erasing a person (GDPR article 17), except the course attendance the region must keep.

Seats and waitlist places in sessions still to come are given up first, as a withdrawal would
(the next in line gets the seat and is told). Then, in one transaction, every row about the
person goes, rows that only name them lose the name, and course attendance stays. When any
attendance stays, the person row keeps what says whose it is (name, e-mail, region), cleared of
everything else and inactive; otherwise the person row goes too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Text, cast, delete, func, not_, update
from sqlalchemy import select as select_core
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from btassist.courses.enrolment import HOLDING, withdraw
from btassist.courses.models import CourseSession, Enrolment
from btassist.db.engine import Database
from btassist.db.tables import metadata
from btassist.privacy.inventory import PERSON, PERSON_COLUMNS, PERSON_FIELDS_KEPT, Erasure
from btassist.roster.models import Person


@dataclass(frozen=True)
class Erased:
    """What an erasure removed and what it kept."""

    person_kept: bool
    """The person row stays (name, e-mail, region), because attendance records name them."""
    kept: dict[str, int] = field(default_factory=dict)
    """Rows kept per table (course attendance)."""
    removed: dict[str, int] = field(default_factory=dict)
    """Rows deleted or unlinked per table."""
    withdrawn: int = 0
    """Seats and waitlist places given up in sessions to come."""


async def kept_on_erasure(database: Database, *, person_id: int) -> dict[str, int]:
    """The records an erasure would keep, per table (what the confirmation must mention)."""
    kept: dict[str, int] = {}
    async with database.session(write_lock=False) as session:
        connection = await session.connection()
        for column in PERSON_COLUMNS:
            if column.erasure is not Erasure.keep and column.kept is None:
                continue
            table = metadata.tables[column.table]
            where = table.c[column.column] == person_id
            if column.kept is not None:
                where = where & column.kept(table)
            count = (await connection.execute(select_core(func.count()).where(where))).scalar_one()
            if count:
                kept[column.table] = int(count)
    return kept


async def erase_person(database: Database, *, person_id: int, now: datetime) -> Erased | None:
    """Erase everything about the person except course attendance; None for an unknown id."""
    async with database.session(write_lock=False) as session:
        found = await session.get(Person, person_id)
        if found is None:
            return None
        email = found.email.lower()
        upcoming = (
            await session.exec(
                select(Enrolment.session_id)
                .join(CourseSession, col(CourseSession.id) == col(Enrolment.session_id))
                .where(
                    col(Enrolment.doctor_id) == person_id,
                    col(Enrolment.status).in_(HOLDING),
                    col(CourseSession.starts_at) > now,
                )
            )
        ).all()
    withdrawn = 0
    for session_id in upcoming:
        if await withdraw(database, doctor_id=person_id, session_id=session_id, now=now):
            withdrawn += 1
    kept: dict[str, int] = {}
    removed: dict[str, int] = {}
    async with database.session() as session:
        connection = await session.connection()
        for column in PERSON_COLUMNS:
            if column.table == PERSON:
                continue
            table = metadata.tables[column.table]
            mine = table.c[column.column] == person_id
            if column.erasure is Erasure.keep or column.kept is not None:
                keep = mine if column.kept is None else mine & column.kept(table)
                count = (
                    await connection.execute(select_core(func.count()).where(keep))
                ).scalar_one()
                if count:
                    kept[column.table] = kept.get(column.table, 0) + int(count)
            if column.erasure is Erasure.delete:
                gone = mine if column.kept is None else mine & not_(column.kept(table))
                result = await connection.execute(delete(table).where(gone))
            elif column.erasure is Erasure.unlink:
                result = await connection.execute(
                    update(table).where(mine).values({column.column: None, **dict(column.scrub)})
                )
            else:
                continue
            if result.rowcount:
                removed[column.table] = removed.get(column.table, 0) + result.rowcount
        await _forget_in_audiences(connection, email)
        person = metadata.tables[PERSON]
        if kept:
            cleared = {c.name: None for c in person.columns if c.name not in PERSON_FIELDS_KEPT}
            await connection.execute(
                update(person)
                .where(person.c.id == person_id)
                .values(cleared | {"active": False, "updated_at": now})
            )
        else:
            await connection.execute(delete(person).where(person.c.id == person_id))
    return Erased(person_kept=bool(kept), kept=kept, removed=removed, withdrawn=withdrawn)


async def _forget_in_audiences(connection: AsyncConnection, email: str) -> None:
    """An announcement sent to a list of e-mail addresses keeps the list for its audit: the
    erased person's address leaves it (the recipient rows, already deleted, said who got it)."""
    broadcast = metadata.tables["broadcast"]
    rows = (
        await connection.execute(
            select_core(broadcast.c.id, broadcast.c.audience).where(
                func.lower(cast(broadcast.c.audience, Text)).contains(email)
            )
        )
    ).all()
    for broadcast_id, audience in rows:
        listed = audience.get("emails") or []
        kept = [address for address in listed if str(address).lower() != email]
        if kept != listed:
            await connection.execute(
                update(broadcast)
                .where(broadcast.c.id == broadcast_id)
                .values(audience={**audience, "emails": kept})
            )
