"""A query helper the typed `select` lacks."""

from __future__ import annotations

from typing import Any

from sqlmodel.sql.expression import Select


def wide_select(*columns: Any) -> Select[*tuple[Any, ...]]:
    """A SELECT of any number of columns (sqlmodel's `select` is typed for at most four)."""
    return Select(*columns)
