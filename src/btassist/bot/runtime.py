"""Assembling the adapter, the bot, the proactive sender and the outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from btassist.bot.adapter import BTAdapter
from btassist.bot.delivery import OutboxWorker
from btassist.bot.handler import BTAssistBot, apologise
from btassist.bot.opener import proactive_installer
from btassist.bot.proactive import ProactiveSender
from btassist.bot.rate_limit import SharedBudget
from btassist.dialogs.turn import FlowContext
from btassist.observability.metrics import Metrics
from btassist.reach.install import ProactiveInstaller, installation_problems
from btassist.settings import Settings
from btassist.throttle.budget import take

log = logging.getLogger("btassist.bot")


@dataclass
class BotRuntime:
    """The adapter and bot serving /api/messages, and what reaches people outside a turn."""

    adapter: BTAdapter
    bot: BTAssistBot
    sender: ProactiveSender
    worker: OutboxWorker
    installer: ProactiveInstaller | None = None
    """Proactive installation through Graph (BTASSIST_PROACTIVE_INSTALL); None when off."""

    async def handle(self, request: web.Request) -> web.Response:
        """Process one POST /api/messages."""
        return await self.adapter.process(request, self.bot)


def build_runtime(
    settings: Settings,
    context: FlowContext,
    *,
    credentials_factory: Any = None,
    metrics: Metrics | None = None,
) -> BotRuntime:
    """The bot for these settings; `credentials_factory` replaces Entra ID tokens (tests).

    On PostgreSQL the send rate is shared with every other process on the database
    (`SharedBudget`)."""
    adapter = BTAdapter(settings, credentials_factory=credentials_factory, metrics=metrics)
    adapter.on_turn_error = apologise(log)

    async def take_from_database(tenant: str, slice_number: int, limit: int, chunk: int) -> int:
        return await take(
            context.database, tenant=tenant, slice_number=slice_number, limit=limit, chunk=chunk
        )

    # SQLite is the embedded, one-process case: the process's own token bucket is the whole
    # budget, and its single writer is kept for claims and outcomes. On PostgreSQL every process
    # draws from the shared budget.
    shared = (
        None if context.database.is_sqlite else SharedBudget(settings.send_rate, take_from_database)
    )
    sender = ProactiveSender(
        adapter,
        app_id=settings.APP_ID,
        database=context.database,
        send_rate=settings.send_rate,
        budget=shared,
        metrics=metrics,
    )
    installer = proactive_installer(settings, database=context.database, adapter=adapter)
    if settings.proactive_install and installer is None:
        log.error("proactive installation is off: %s", "; ".join(installation_problems(settings)))
    worker = OutboxWorker(
        context=context,
        sender=sender,
        concurrency=settings.send_concurrency,
        interval=settings.outbox_interval,
        lease=timedelta(seconds=settings.outbox_lease),
        installer=installer,
    )
    return BotRuntime(
        adapter=adapter,
        bot=BTAssistBot(context),
        sender=sender,
        worker=worker,
        installer=installer,
    )
