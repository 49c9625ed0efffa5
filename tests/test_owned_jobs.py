"""Scheduled jobs the app owns: shutting down waits until a cancelled job has unwound."""

from __future__ import annotations

import asyncio

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from btassist.common.jobs import OwnedJobs


async def test_stop_waits_for_a_cancelled_job_to_finish_its_cleanup() -> None:
    jobs = OwnedJobs()
    started = asyncio.Event()
    cleaned_up: list[str] = []

    async def sweep() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:  # like closing a connection: takes a moment and must not be cut short
            await asyncio.shield(asyncio.sleep(0.2))
            cleaned_up.append("closed")

    scheduler = AsyncIOScheduler()
    scheduler.add_job(jobs.owned(sweep), "date")
    scheduler.start()
    await asyncio.wait_for(started.wait(), 5)
    scheduler.shutdown(wait=False)  # cancels the job, but cannot wait for it
    assert cleaned_up == []
    await jobs.stop()
    assert cleaned_up == ["closed"]


async def test_stop_with_nothing_running_returns_at_once() -> None:
    jobs = OwnedJobs()

    async def quick() -> int:
        return 7

    assert await jobs.owned(quick)() == 7
    await asyncio.wait_for(jobs.stop(), 1)
