"""Scheduled jobs as tasks the app owns, so shutting down waits for them to unwind."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class OwnedJobs:
    """The running instances of scheduled coroutine jobs.

    APScheduler 3 cancels a running coroutine job on `shutdown()` but cannot wait for it, so a
    sweep cancelled mid-transaction could still be closing its connection when the database is
    disposed, and that close then never finishes. Wrap each job with `owned`; after the
    scheduler's shutdown, `await stop()` cancels what still runs and waits for it.
    """

    def __init__(self) -> None:
        self._running: set[asyncio.Task[object]] = set()

    def owned(self, job: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(job)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                return await job(*args, **kwargs)
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    async def stop(self) -> None:
        """Cancel the jobs still running and wait until each has unwound."""
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
