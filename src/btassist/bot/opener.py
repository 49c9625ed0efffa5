"""Opening a person's 1:1 chat with the bot through the Bot Connector, and assembling the
proactive installer (Graph + this opener) from the settings.

After Graph installed the app for someone, the bot creates the personal conversation with their
Entra object id and tenant (Teams answers with the chat's id, the same one its install event
names) and the reference is stored as a turn in that chat would store it. Right after an install
Teams may not know yet that the app is there, so 403/404 are retried like 429 and 5xx.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

from botbuilder.core import TurnContext
from botbuilder.schema import ChannelAccount, ConversationParameters, ConversationReference

from btassist.bot.adapter import BTAdapter
from btassist.bot.proactive import GONE_STATUSES, RetryPolicy, classify_failure
from btassist.bot.rate_limit import Sleep
from btassist.db.engine import Database
from btassist.reach.graph import EntraToken, GraphClient, TokenSource, graph_scope
from btassist.reach.install import (
    ChatNotOpened,
    OpenedChat,
    ProactiveInstaller,
    install_tenant,
    installation_problems,
)
from btassist.settings import Settings

TEAMS_CHANNEL = "msteams"


class TeamsChatOpener:
    """Creates personal conversations through the adapter (no Bot Framework type leaves it)."""

    def __init__(
        self,
        adapter: BTAdapter,
        *,
        app_id: str,
        service_url: str,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.service_url = service_url
        self.policy = policy or RetryPolicy(max_attempts=4)
        self._sleep, self._jitter = sleep, jitter

    async def open_personal(self, *, aad_object_id: str, tenant_id: str) -> OpenedChat:
        """The 1:1 chat with this user; `ChatNotOpened` when the connector will not open it."""
        parameters = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=f"28:{self.app_id}"),
            members=[ChannelAccount(id=aad_object_id, aad_object_id=aad_object_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}},
        )
        opened: list[ConversationReference] = []

        async def keep(turn_context: TurnContext) -> None:
            opened.append(TurnContext.get_conversation_reference(turn_context.activity))

        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                await self.adapter.create_conversation(
                    self.app_id, keep, parameters, TEAMS_CHANNEL, self.service_url, None
                )
            except Exception as error:
                failed = classify_failure(error)
                again = failed.retryable or failed.http_status in GONE_STATUSES
                if not again or attempt == self.policy.max_attempts:
                    raise ChatNotOpened(failed.error or "no answer") from None
                await self._sleep(self.policy.backoff(attempt, self._jitter()))
                continue
            return _opened(opened[-1], aad_object_id=aad_object_id, tenant_id=tenant_id)
        raise ChatNotOpened("no attempt made")  # max_attempts >= 1: never reached


def _opened(reference: ConversationReference, *, aad_object_id: str, tenant_id: str) -> OpenedChat:
    """The new chat as the use cases take it, the reference shaped like a turn's."""
    reference.activity_id = None  # a proactive send starts from a fresh continuation id
    reference.user = ChannelAccount(id=aad_object_id, aad_object_id=aad_object_id)
    reference.conversation.conversation_type = "personal"
    return OpenedChat(
        channel_id=reference.channel_id,
        conversation_id=reference.conversation.id,
        tenant_id=tenant_id,
        reference=json.dumps(reference.serialize(), sort_keys=True),
    )


def proactive_installer(
    settings: Settings,
    *,
    database: Database,
    adapter: BTAdapter,
    token: TokenSource | None = None,
) -> ProactiveInstaller | None:
    """The installer these settings ask for; None when proactive installation is off or the
    settings lack something (`installation_problems` says what). `token` replaces Entra ID."""
    tenant = install_tenant(settings)
    if installation_problems(settings) or tenant is None:
        return None
    source = token or EntraToken(
        client_id=settings.APP_ID,
        client_secret=settings.APP_PASSWORD,
        tenant_id=tenant,
        login_url=settings.login_url,
        scope=graph_scope(settings.graph_url),
    )
    return ProactiveInstaller(
        database=database,
        graph=GraphClient(base_url=settings.graph_url, token=source),
        opener=TeamsChatOpener(
            adapter, app_id=settings.APP_ID, service_url=settings.teams_service_url
        ),
        teams_app_id=settings.teams_app_id,
        tenant_id=tenant,
    )
