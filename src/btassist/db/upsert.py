"""INSERT … ON CONFLICT, which SQLAlchemy builds per dialect: PostgreSQL's or SQLite's `insert`.

Each is imported when first asked for, so a process on SQLite never loads the PostgreSQL
dialect (with its drivers' modules, 2 MB), nor one on PostgreSQL SQLite's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql.dml import Insert as PostgresInsert
    from sqlalchemy.dialects.sqlite.dml import Insert as SqliteInsert


def dialect_insert(dialect: str) -> Callable[[Any], PostgresInsert | SqliteInsert]:
    """`insert` with `on_conflict_do_nothing`/`on_conflict_do_update` for the dialect named."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
