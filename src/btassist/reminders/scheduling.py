"""The timer: APScheduler only triggers sweeps; what is due, and that it goes once, is the
sweep's and the database's business. 08:30 local on weekdays (the sweep itself skips holidays),
plus one catch-up sweep when the server starts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from btassist.assessments.store import PolicyStore
from btassist.common.workdays import SEND_AT, SEND_UNTIL
from btassist.db.engine import Database
from btassist.db.types import utcnow
from btassist.observability.metrics import Metrics, Outcome
from btassist.reminders.sweep import SweepResult, sweep

log = logging.getLogger(__name__)

SWEEP_JOB = "reminders"
CATCH_UP_JOB = "reminders-catch-up"
# A trigger fired late (a suspended host, a busy loop) still sweeps until sending hours end.
LATE_SECONDS = (SEND_UNTIL.hour * 60 + SEND_UNTIL.minute - SEND_AT.hour * 60 - SEND_AT.minute) * 60


def sweeper(
    database: Database,
    *,
    zone: ZoneInfo,
    policies: PolicyStore | None = None,
    clock: Callable[[], datetime] = utcnow,
    metrics: Metrics | None = None,
) -> Callable[[], Awaitable[SweepResult]]:
    """A sweep of `database` at the clock's time, with the policies in use at that moment,
    recorded in `metrics` (how it ended, the reminders it queued, when)."""

    async def run() -> SweepResult:
        try:
            result = await sweep(
                database,
                now=clock(),
                zone=zone,
                policies=policies.current if policies is not None else None,
            )
        except Exception:
            if metrics is not None:
                metrics.reminder_sweep_finished(outcome=Outcome.error, queued=0, at=clock())
            raise
        if metrics is not None:
            metrics.reminder_sweep_finished(outcome=Outcome.ok, queued=result.queued, at=clock())
        if result.day is not None:
            log.info(
                "reminder sweep for %s: %d notices offered, %d new",
                result.day,
                result.total,
                result.queued,
            )
        return result

    return run


def add_reminder_jobs(
    scheduler: BaseScheduler,
    *,
    run_sweep: Callable[[], Awaitable[object]],
    zone: ZoneInfo,
    catch_up: bool = True,
) -> None:
    """Add the 08:30 weekday sweep (in `zone`, so it stays 08:30 across DST) and, with
    `catch_up`, one sweep as soon as the scheduler starts."""

    async def job() -> None:
        try:
            await run_sweep()
        except asyncio.CancelledError:
            # Shutting down: the sweep's transaction is undone and the next start sweeps again,
            # so this is no error for the scheduler to report.
            log.info("reminder sweep stopped by shutdown; nothing of it was written")

    trigger = CronTrigger(
        day_of_week="mon-fri", hour=SEND_AT.hour, minute=SEND_AT.minute, timezone=zone
    )
    scheduler.add_job(
        job,
        trigger,
        id=SWEEP_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=LATE_SECONDS,
        replace_existing=True,
    )
    if catch_up:
        scheduler.add_job(job, "date", id=CATCH_UP_JOB, replace_existing=True)
