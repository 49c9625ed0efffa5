"""Token buckets per key (tenant), so proactive sends stay under Teams' per-tenant rate limit, and
the budget several processes share through the database."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Float slack: after sleeping exactly the computed wait, the refill can come out at 0.9999999.
_SLACK = 1e-9


@dataclass
class _Bucket:
    tokens: float
    refilled_at: float
    # One waiter at a time: asyncio.Lock queues FIFO, so callers pass in arrival order and a crowd
    # of concurrent callers cannot all see the same refill and pass together.
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


class TokenBuckets:
    """An async token bucket per key: `await acquire(key)` returns when a request may be made.

    `burst` is how many requests may go at once after a quiet spell. It defaults to 1 (strict
    pacing) because Teams counts requests per second: a bucket of b tokens lets rate + b requests
    through in the first second, and 2 x 40 would break the 50 per second limit.
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0, got {rate_per_second}")
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.rate = rate_per_second
        self.burst = 1.0 if burst is None else float(burst)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    async def acquire(self, key: str) -> None:
        """Wait for, then take, one token from `key`'s bucket."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self.burst, refilled_at=self._clock())
        async with bucket.turn:
            slept = False
            while True:
                now = self._clock()
                # A waiter woken late keeps the lateness (up to one token) for the next one, so
                # a busy event loop does not lower the rate; an idle bucket fills to `burst`.
                cap = self.burst + (1 if slept else 0)
                bucket.tokens = min(cap, bucket.tokens + (now - bucket.refilled_at) * self.rate)
                bucket.refilled_at = now
                if bucket.tokens >= 1 - _SLACK:
                    bucket.tokens = max(0.0, bucket.tokens - 1)
                    return
                # Cancelling here takes no token, and the lock passes to the next waiter.
                await self._sleep((1 - bucket.tokens) / self.rate)
                slept = True

    def refund(self, key: str) -> None:
        """Give back a token whose request the server refused (it created no message)."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self.burst + 1, bucket.tokens + 1)


Take = Callable[[str, int, int, int], Awaitable[int]]
"""(tenant, slice number, sends the slice allows, chunk wanted) → sends granted."""

SLICE_SECONDS = 0.05
"""About how long a slice lasts: a whole number of sends at the rate (a slow rate gets longer
slices rather than fractions of a send)."""


@dataclass
class _Pool:
    slice_number: int
    tokens: int
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)


class SharedBudget:
    """A tenant's sends across every process, drawn in small chunks from the database.

    Wall-clock time is cut into slices worth `rate × slice` sends; tokens left when a slice ends
    are dropped, so in any one-second window all processes together send at most the rate plus
    one slice's worth. Processes on different machines agree as far as their clocks do (NTP).
    """

    def __init__(
        self,
        rate_per_second: float,
        take: Take,
        *,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError(f"rate_per_second must be > 0, got {rate_per_second}")
        self.per_slice = max(1, math.ceil(rate_per_second * SLICE_SECONDS - _SLACK))
        self.slice_seconds = self.per_slice / rate_per_second
        self.chunk = max(1, math.ceil(self.per_slice / 2))
        self._take = take
        self._wall = wall
        self._sleep = sleep
        self._pools: dict[str, _Pool] = {}

    @property
    def most_in_a_second(self) -> int:
        """The most sends all processes together can make in any one-second window: the slices
        such a window touches, each fully spent."""
        return (math.ceil(1 / self.slice_seconds - _SLACK) + 1) * self.per_slice

    async def acquire(self, key: str) -> int:
        """Wait for, then take, one of `key`'s sends; returns the slice it belongs to."""
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(slice_number=-1, tokens=0)
        async with pool.turn:
            while True:
                now = self._wall()
                current = int(now // self.slice_seconds)
                if pool.slice_number == current and pool.tokens > 0:
                    pool.tokens -= 1
                    return current
                granted = await self._take(key, current, self.per_slice, self.chunk)
                if granted > 0:
                    pool.slice_number, pool.tokens = current, granted - 1
                    return current
                # The slice is spent (by this process or others): wait for the next one.
                await self._sleep(max(0.0, (current + 1) * self.slice_seconds - now) + 0.001)

    def refund(self, key: str, slice_number: int) -> None:
        """Give back a send the server refused, if its slice is still the one being spent."""
        pool = self._pools.get(key)
        if pool is not None and pool.slice_number == slice_number:
            pool.tokens += 1
