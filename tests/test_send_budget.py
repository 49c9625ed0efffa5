"""The per-tenant send budget shared through the database: a slice never gives out more than
its worth however many processes draw, a later slice starts afresh, an earlier one gives nothing
— on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from btassist.bot.rate_limit import SharedBudget
from btassist.db.engine import Database
from btassist.throttle.budget import take


async def test_concurrent_takers_never_exceed_a_slice(db: Database) -> None:
    grants = await asyncio.gather(
        *(take(db, tenant="t", slice_number=10, limit=10, chunk=3) for _ in range(8))
    )
    assert sum(grants) == 10
    assert all(0 <= granted <= 3 for granted in grants)
    assert await take(db, tenant="t", slice_number=10, limit=10, chunk=3) == 0  # spent
    assert await take(db, tenant="other", slice_number=10, limit=10, chunk=3) == 3  # own budget
    assert await take(db, tenant="t", slice_number=11, limit=10, chunk=3) == 3  # afresh
    assert await take(db, tenant="t", slice_number=10, limit=10, chunk=3) == 0  # already past


class Wall:
    """A wall clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_two_processes_together_send_at_the_rate(db: Database) -> None:
    wall = Wall()

    async def from_database(tenant: str, slice_number: int, limit: int, chunk: int) -> int:
        return await take(db, tenant=tenant, slice_number=slice_number, limit=limit, chunk=chunk)

    first, second = (
        SharedBudget(200, from_database, wall=wall, sleep=wall.sleep) for _ in range(2)
    )
    sent: list[int] = []

    async def sender(budget: SharedBudget, count: int) -> None:
        for _ in range(count):
            sent.append(await budget.acquire("tenant"))

    await asyncio.gather(sender(first, 300), sender(second, 300))
    assert len(sent) == 600
    per_slice = first.per_slice
    slices: dict[int, int] = {}
    for number in sent:
        slices[number] = slices.get(number, 0) + 1
    assert max(slices.values()) <= per_slice
    assert wall.now - 1_000.0 >= 600 / 200 - 2 * first.slice_seconds  # not faster than 200/s


async def test_a_refused_send_is_given_back_within_its_slice(db: Database) -> None:
    wall = Wall()

    async def from_database(tenant: str, slice_number: int, limit: int, chunk: int) -> int:
        return await take(db, tenant=tenant, slice_number=slice_number, limit=limit, chunk=chunk)

    budget = SharedBudget(40, from_database, wall=wall, sleep=wall.sleep)  # 2 per slice
    spent = [await budget.acquire("t"), await budget.acquire("t")]
    budget.refund("t", spent[1])
    before = wall.now
    await budget.acquire("t")
    assert wall.now == before  # the refunded send went at once, no wait for the next slice
