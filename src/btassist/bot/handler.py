"""The activity handler: who is talking, in which language, and which flow answers."""

from __future__ import annotations

import json
import logging
import uuid
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

from btassist.bot.adapter import tenant_of
from btassist.bot.replies import to_activity
from btassist.common.language import language_for
from btassist.conversations.models import ConversationRef
from btassist.conversations.refs import active_reference, deactivate_conversation, save_reference
from btassist.dialogs.cards import card, paragraph
from btassist.dialogs.menu import menu_reply
from btassist.dialogs.router import respond
from btassist.dialogs.turn import Asker, FlowContext, Message, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import coordinators_for_email, find_person, remember_object_id

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


class BTAssistBot(ActivityHandler):  # type: ignore[misc]
    """Resolves the roster person behind each turn and hands the turn to the flows."""

    def __init__(self, context: FlowContext) -> None:
        self.context = context

    # --- Teams events -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        asker = await self.identify(turn_context)
        if asker is None:
            return
        value = turn_context.activity.value if isinstance(turn_context.activity.value, dict) else {}
        verb = value.get("verb")
        message = Message(
            text=turn_context.activity.text or "", verb=str(verb) if verb else None, data=value
        )
        replies = await respond(self.context, asker, message)
        clicked_card = turn_context.activity.reply_to_id if value else None
        await self.send(turn_context, replies, clicked_card=clicked_card)

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
        async with self.context.database.session(write_lock=False) as session:
            await deactivate_conversation(
                session, channel_id=activity.channel_id, conversation_id=activity.conversation.id
            )

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        """Action.Execute: the answer replaces the clicked card (text becomes a card), the rest
        are sent as messages."""
        asker = await self.identify(turn_context)
        if asker is None:  # the stranger was already told who to ask
            return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value={})
        action = invoke_value.action
        if not isinstance(action, dict):  # the SDK leaves it a dict when deserialising
            action = {"verb": getattr(action, "verb", None), "data": getattr(action, "data", None)}
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        verb = action.get("verb")
        message = Message(verb=str(verb) if verb else None, data=data or {})
        replies = await respond(self.context, asker, message)
        first = replies.pop(0) if replies else Reply(text="")
        await self.send(turn_context, replies)
        # The SDK serialises `value` as an object, so a text answer travels as a card too.
        shown = first.card or card([paragraph(first.text or "")])
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=shown)

    # --- identity and references --------------------------------------------------------------

    async def greet(self, turn_context: TurnContext) -> None:
        """Welcome someone who just installed the bot (once per conversation)."""
        asker = await self.identify(turn_context)
        if asker is not None:
            await self.send(
                turn_context,
                [menu_reply(asker, welcome=True, local_mode=self.context.local_mode)],
            )

    async def identify(self, turn_context: TurnContext) -> Asker | None:
        """The roster person behind this turn, or None after telling a stranger who to ask.

        A known person costs one read-only transaction: who they are, and their stored
        conversation reference, read every turn so that one the proactive sender deactivated
        comes back as soon as the person talks to the bot again. The reference is written (a
        write-locked transaction) only when it is new, changed or inactive.
        """
        activity = turn_context.activity
        aad_object_id = getattr(activity.from_property, "aad_object_id", None)
        reference = personal_reference(activity)
        found = stored = None
        if aad_object_id:
            async with self.context.database.session(write_lock=False) as session:
                found = await find_person(session, aad_object_id=aad_object_id)
                if found is not None and found.person.id is not None and reference is not None:
                    stored = await active_reference(session, found.person.id)
        email = None
        if found is None:
            email = await self._member_email(turn_context)
            if email:
                async with self.context.database.session() as session:
                    found = await find_person(session, email=email)
                    if found is not None and found.person.id is not None and aad_object_id:
                        await remember_object_id(
                            session, person_id=found.person.id, aad_object_id=aad_object_id
                        )
        if found is None or found.person.id is None:
            await self._refuse_stranger(turn_context, email)
            return None
        if reference is not None and not is_stored(stored, activity, reference):
            async with self.context.database.session() as session:
                await save_reference(
                    session,
                    person_id=found.person.id,
                    channel_id=activity.channel_id,
                    conversation_id=activity.conversation.id,
                    tenant_id=tenant_of(activity),
                    reference=reference,
                )
        return Asker(
            person_id=found.person.id,
            name=found.person.name,
            email=found.person.email,
            region=found.person.region_code,
            roles=found.roles,
            language=language_for(found.person.language, activity.locale),
        )

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
        language = language_for(None, turn_context.activity.locale)
        async with self.context.database.session(write_lock=False) as session:
            coordinators = await coordinators_for_email(session, email)
        contact = (
            t(
                "unknown_person.contact",
                language,
                contacts=", ".join(f"{c.name} ({c.email})" for c in coordinators),
            )
            if coordinators
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


def personal_reference(activity: Activity) -> str | None:
    """The JSON conversation reference proactive messages will use, for 1:1 chats only."""
    if (activity.conversation.conversation_type or "personal") != "personal":
        return None  # proactive messages go to the person's 1:1 chat only
    reference = TurnContext.get_conversation_reference(activity)
    # The id of the message being answered is not part of the address (a proactive send
    # starts from a fresh continuation id); keeping it would rewrite the row every turn.
    reference.activity_id = None
    return json.dumps(reference.serialize(), sort_keys=True)


def is_stored(stored: ConversationRef | None, activity: Activity, reference: str) -> bool:
    """Whether the person's latest active reference already is this conversation's, unchanged."""
    return (
        stored is not None
        and stored.channel_id == activity.channel_id
        and stored.conversation_id == activity.conversation.id
        and stored.reference == reference
        and stored.tenant_id == tenant_of(activity)
    )


def apologise(log_to: logging.Logger) -> Any:
    """An `on_turn_error` that logs a correlation id and tells the user something went wrong."""

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        correlation_id = uuid.uuid4().hex[:8]
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
