"""The activity handler: who is talking, in which language, and which flow answers."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
)
from cachetools import LRUCache, TTLCache

from btassist.bot.adapter import tenant_of, turn_failed
from btassist.bot.files import sent_files
from btassist.bot.replies import to_activity
from btassist.broadcast import usecases as broadcasts
from btassist.common.language import language_for
from btassist.conversations import usecases as conversations
from btassist.conversations.usecases import TurnAddress, TurnStart
from btassist.dialogs.cards import card, paragraph
from btassist.dialogs.menu import menu_reply
from btassist.dialogs.router import respond
from btassist.dialogs.turn import FlowContext, Message, Reply
from btassist.dialogs.uploads import file_sent
from btassist.i18n.catalogue import t

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
READ_RECEIPT = "application/vnd.microsoft.readReceipt"
"""The event Teams sends in personal chats when the user has read the bot's messages (needs the
ChatMessageReadReceipt.Read.Chat permission in the app manifest)."""
STRANGER_MEMORY_SECONDS = 300
"""How long someone outside the roster is remembered as such (each look-up is a Bot Connector
call); a roster import reaches them within this time."""


class BTAssistBot(ActivityHandler):  # type: ignore[misc]
    """Resolves the roster person behind each turn and hands the turn to the flows."""

    def __init__(self, context: FlowContext) -> None:
        self.context = context
        self._strangers: TTLCache[str, str | None] = TTLCache(
            maxsize=10_000, ttl=STRANGER_MEMORY_SECONDS, timer=self._seconds
        )

    def _seconds(self) -> float:
        return self.context.now().timestamp()

    # --- Teams events -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        started = await self.start(turn_context)
        if started is None:
            return
        activity = turn_context.activity
        files = sent_files(activity, allow_http=self.context.local_mode)
        if files:  # an Excel file for the coordinator's desk (issue 15)
            await self.send(turn_context, await file_sent(self.context, started.actor, files))
            return
        clicked = isinstance(activity.value, dict)
        message = Message(
            text=activity.text or "", data=activity.value if clicked else {}, clicked=clicked
        )
        replies = await respond(self.context, started.actor, message, started.waiting)
        await self.send(
            turn_context, replies, clicked_card=activity.reply_to_id if clicked else None
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await self.greet(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.greet(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await conversations.uninstalled(
            self.context.database,
            channel_id=activity.channel_id,
            conversation_id=activity.conversation.id,
        )

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """Read receipts mark announcements read; other events are not for this bot."""
        activity = turn_context.activity
        if activity.name != READ_RECEIPT:
            return
        value = activity.value if isinstance(activity.value, dict) else {}
        last_read = value.get("lastReadMessageId")
        if not last_read:
            return
        started = await self.start(turn_context)
        if started is not None:
            await broadcasts.messages_read(
                self.context.database,
                person_id=started.actor.person_id,
                last_read_id=str(last_read),
                now=self.context.now(),
            )

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Action.Execute: the answer replaces the clicked card (text becomes a card), the rest
        are sent as messages."""
        started = await self.start(turn_context)
        if started is None:  # the stranger was already told who to ask
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value={})
        action = invoke_value.action
        if not isinstance(action, dict):  # the SDK leaves it a dict when deserialising
            action = {"verb": getattr(action, "verb", None), "data": getattr(action, "data", None)}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        data = {"verb": action.get("verb"), **(data or {})}
        message = Message(data=data, clicked=True)
        replies = await respond(self.context, started.actor, message, started.waiting)
        first = replies.pop(0) if replies else Reply(text="")
        await self.send(turn_context, replies)
        # The SDK serialises `value` as an object, so a text answer travels as a card too.
        shown = first.card or card([paragraph(first.text or "")])
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=shown)

    # --- identity -----------------------------------------------------------------------------

    async def greet(self, turn_context: TurnContext) -> None:
        """Welcome someone who just installed the bot: once, though Teams announces it twice."""
        started = await self.start(turn_context)
        if started is None:
            return
        address = turn_address(turn_context.activity)
        if await conversations.greet_once(
            self.context.database, actor=started.actor, address=address, now=self.context.now()
        ):
            welcome = menu_reply(started.actor, welcome=True, local_mode=self.context.local_mode)
            await self.send(turn_context, [welcome])

    async def start(self, turn_context: TurnContext) -> TurnStart | None:
        """The roster person behind this turn, or None after telling a stranger who to ask."""
        activity = turn_context.activity
        sender = getattr(activity.from_property, "id", None) or ""
        if sender in self._strangers:
            await self._refuse_stranger(turn_context, self._strangers[sender])
            return None
        looked_up: list[str | None] = []

        async def email() -> str | None:
            looked_up.append(await self._member_email(turn_context))
            return looked_up[-1]

        started = await conversations.start_turn(
            self.context.database, turn_address(activity), now=self.context.now(), email=email
        )
        if started is None:
            email_seen = looked_up[-1] if looked_up else None
            if sender:
                self._strangers[sender] = email_seen
            await self._refuse_stranger(turn_context, email_seen)
        return started

    async def _member_email(self, turn_context: TurnContext) -> str | None:
        """Ask the connector who the sender is (Teams knows their e-mail / UPN)."""
        activity = turn_context.activity
        if activity.channel_data is None:
            activity.channel_data = {}  # TeamsInfo reads it unconditionally
        try:
            member = await TeamsInfo.get_member(turn_context, activity.from_property.id)
        except Exception as error:
            log.info("member look-up failed: %s", type(error).__name__)
            return None
        email = getattr(member, "email", None) or getattr(member, "user_principal_name", None)
        return str(email) if email else None

    async def _refuse_stranger(self, turn_context: TurnContext, email: str | None) -> None:
        if turn_context.activity.type in (ActivityTypes.conversation_update, ActivityTypes.event):
            return  # an install is announced twice (installationUpdate answers); events are silent
        stranger = await conversations.stranger(
            self.context.database, email=email, locale=turn_context.activity.locale
        )
        language = stranger.language
        contact = (
            t(
                "unknown_person.contact",
                language,
                contacts=", ".join(f"{name} ({mail})" for name, mail in stranger.coordinators),
            )
            if stranger.coordinators
            else t("unknown_person.contact_unknown", language)
        )
        text = f"{t('unknown_person.greeting', language)} {contact}"
        await turn_context.send_activity(to_activity(Reply(text=text)))

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], *, clicked_card: str | None = None
    ) -> None:
        """Send replies in order; a `replace` reply updates the clicked card instead."""
        for reply in replies:
            activity = to_activity(reply)
            if reply.replace and clicked_card:
                activity.id = clicked_card
                await turn_context.update_activity(activity)
                clicked_card = None  # only one reply can take the clicked card's place
            else:
                await turn_context.send_activity(activity)


def turn_address(activity: Activity) -> TurnAddress:
    """Where a turn comes from, in the terms the use cases take."""
    return TurnAddress(
        channel_id=activity.channel_id,
        conversation_id=activity.conversation.id,
        tenant_id=tenant_of(activity),
        reference=personal_reference(activity),
        aad_object_id=getattr(activity.from_property, "aad_object_id", None) or None,
        locale=activity.locale,
    )


_REFERENCES: LRUCache[tuple[Any, ...], str] = LRUCache(maxsize=4096)


def personal_reference(activity: Activity) -> str | None:
    """The JSON conversation reference proactive messages will use, for 1:1 chats only.

    The same person in the same chat yields the same reference turn after turn, so it is
    serialised (msrest, a few hundred microseconds) once per distinct address and remembered.
    """
    if (activity.conversation.conversation_type or "personal") != "personal":
        return None  # proactive messages go to the person's 1:1 chat only
    key = (
        _account_key(activity.from_property),
        _account_key(activity.recipient),
        _account_key(activity.conversation),
        activity.channel_id,
        activity.locale,
        activity.service_url,
    )
    found = _REFERENCES.get(key)
    if found is None:
        reference = TurnContext.get_conversation_reference(activity)
        # The id of the message being answered is not part of the address (a proactive send
        # starts from a fresh continuation id); keeping it would rewrite the row every turn.
        reference.activity_id = None
        found = _REFERENCES[key] = json.dumps(reference.serialize(), sort_keys=True)
    return found


def _account_key(account: Any) -> tuple[tuple[str, str], ...]:
    """Every attribute of a channel or conversation account, as a hashable key."""
    if account is None:
        return ()
    return tuple(sorted((name, repr(value)) for name, value in vars(account).items()))


def apologise(log_to: logging.Logger) -> Callable[[TurnContext, Exception], Any]:
    """An `on_turn_error` that logs a correlation id and tells the user something went wrong."""

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        correlation_id = uuid.uuid4().hex[:8]
        turn_failed()
        log_to.error("turn failed [%s]: %s", correlation_id, type(error).__name__, exc_info=error)
        language = language_for(None, turn_context.activity.locale)
        try:
            await turn_context.send_activity(
                Activity(
                    type=ActivityTypes.message,
                    text=t("error.apology", language, correlation_id=correlation_id),
                )
            )
        except Exception as send_error:
            log_to.warning("apology not sent [%s]: %s", correlation_id, type(send_error).__name__)

    return on_turn_error
