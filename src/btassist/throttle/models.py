"""The shared send budget: one row per tenant, for the time slice being spent now."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class SendBudget(SQLModel, table=True):
    """How many of a tenant's sends the current time slice has given out, across processes.

    `slice` numbers the slices since the epoch; a process asking for a later slice starts it
    afresh, one asking for an earlier one gets nothing. `granted` is what the last taker got.
    """

    __tablename__ = "send_budget"

    tenant_id: str = Field(primary_key=True, max_length=64)
    slice: int = Field(sa_type=sa.BigInteger)
    taken: int = 0
    granted: int = 0
