"""Readiness: whether this process can serve turns (database reachable, schema current)."""

from __future__ import annotations

from dataclasses import dataclass

from btassist.db.engine import Database
from btassist.db.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Readiness:
    """What `/readyz` reports."""

    database: bool  # answers a trivial query
    schema: str | None  # the revision the database is at
    expected: str | None  # the newest revision this code ships

    @property
    def ready(self) -> bool:
        """Reachable and migrated to exactly what this code expects."""
        return self.database and self.schema is not None and self.schema == self.expected


async def readiness(database: Database) -> Readiness:
    """Ask the database; never raises (an unreachable database is an answer)."""
    expected = head_revision()
    if not await database.ping():
        return Readiness(database=False, schema=None, expected=expected)
    try:
        schema = await current_revision(database)
    except Exception:  # the connection dropped between the ping and this query
        return Readiness(database=False, schema=None, expected=expected)
    return Readiness(database=True, schema=schema, expected=expected)
