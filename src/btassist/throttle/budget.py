"""Taking sends from a tenant's shared budget: one statement hands out a few at a time.

Time is cut into short slices, each worth `rate × slice` sends per tenant. A process takes a
small chunk of the current slice with one INSERT … ON CONFLICT DO UPDATE … RETURNING; the row
lock (PostgreSQL) or the write lock (SQLite) makes concurrent takers queue, so however many
processes draw, a slice never gives out more than its worth. A later slice resets the row; a
process whose clock lags gets nothing for a slice already past.
"""

from __future__ import annotations

from sqlalchemy import case, func, literal
from sqlmodel import col

from btassist.db.engine import Database
from btassist.db.upsert import dialect_insert
from btassist.throttle.models import SendBudget


async def take(
    database: Database, *, tenant: str, slice_number: int, limit: int, chunk: int
) -> int:
    """Take up to `chunk` of the `limit` sends slice `slice_number` allows `tenant`; how many
    were granted (0: the slice is spent, or already over)."""
    dialect = database.engine.dialect.name
    insert = dialect_insert(dialect)
    smaller = func.least if dialect == "postgresql" else func.min
    first = min(limit, chunk)
    statement = insert(SendBudget).values(
        tenant_id=tenant, slice=slice_number, taken=first, granted=first
    )
    current = col(SendBudget.slice)
    taken = col(SendBudget.taken)
    same = current == slice_number
    later = current < slice_number
    # Every SET expression reads the row as it was, so `granted` and `taken` agree.
    upsert = statement.on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={
            "granted": case(
                (later, literal(first)),
                (same, smaller(limit, taken + chunk) - taken),
                else_=literal(0),
            ),
            "taken": case(
                (later, literal(first)), (same, smaller(limit, taken + chunk)), else_=taken
            ),
            "slice": case((later, literal(slice_number)), else_=current),
        },
    ).returning(col(SendBudget.granted))
    async with database.session() as session:
        granted = (await session.exec(upsert)).scalar_one()
    return max(0, int(granted))
