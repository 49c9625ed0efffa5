"""Database ids as they may arrive from outside (card buttons, stored notices): checked, bounded."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**31 - 1
"""The largest value an INTEGER primary key holds on PostgreSQL (and that SQLite will match)."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id: a positive integer that fits the database's integer column."""
