"""Token buckets per key (tenant), so proactive sends stay under Teams' per-tenant rate limit."""

from __future__ import annotations

import asyncio
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
            while True:
                now = self._clock()
                bucket.tokens = min(
                    self.burst, bucket.tokens + (now - bucket.refilled_at) * self.rate
                )
                bucket.refilled_at = now
                if bucket.tokens >= 1 - _SLACK:
                    bucket.tokens = max(0.0, bucket.tokens - 1)
                    return
                # Cancelling here takes no token, and the lock passes to the next waiter.
                await self._sleep((1 - bucket.tokens) / self.rate)
