"""Assembling the adapter, the bot, the proactive sender and the outbox worker."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from btassist.bot.adapter import BTAdapter
from btassist.bot.delivery import OutboxWorker
from btassist.bot.handler import BTAssistBot, apologise
from btassist.bot.opener import proactive_installer
from btassist.bot.proactive import ProactiveSender
from btassist.dialogs.turn import FlowContext
from btassist.reach.install import ProactiveInstaller, installation_problems
from btassist.settings import Settings

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
    settings: Settings, context: FlowContext, *, credentials_factory: Any = None
) -> BotRuntime:
    """The bot for these settings; `credentials_factory` replaces Entra ID tokens (tests)."""
    adapter = BTAdapter(settings, credentials_factory=credentials_factory)
    adapter.on_turn_error = apologise(log)
    sender = ProactiveSender(
        adapter, app_id=settings.APP_ID, database=context.database, send_rate=settings.send_rate
    )
    installer = proactive_installer(settings, database=context.database, adapter=adapter)
    if settings.proactive_install and installer is None:
        log.error("proactive installation is off: %s", "; ".join(installation_problems(settings)))
    worker = OutboxWorker(
        context=context,
        sender=sender,
        concurrency=settings.send_concurrency,
        interval=settings.outbox_interval,
        installer=installer,
    )
    return BotRuntime(
        adapter=adapter,
        bot=BTAssistBot(context),
        sender=sender,
        worker=worker,
        installer=installer,
    )
