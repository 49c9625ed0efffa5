"""Confirmation before anything that cannot be undone, kept in conversation state.

The action to confirm waits in the person's conversation state; "Ja" (the button, or typing
"ja"/"yes") runs it once with `confirmed=True`, "Avbryt"/"nej" drops it, and it expires after a
few minutes. The button carries a nonce, so a "Ja" on an older question runs nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from btassist.conversations import usecases as conversations
from btassist.conversations.state import Waiting
from btassist.dialogs import actions as a
from btassist.dialogs.cards import Element, card, execute
from btassist.dialogs.turn import FlowContext, Reply
from btassist.i18n.catalogue import t
from btassist.roster.identity import Actor

FLOW = "confirm"
STEP = "yes_no"
CONFIRM_FOR = timedelta(minutes=15)


async def ask_to_confirm(
    ctx: FlowContext, actor: Actor, action: a.Action, *, body: list[Element], yes: str
) -> Reply:
    """A card asking to confirm `action`, which waits in the person's conversation state."""
    nonce = secrets.token_hex(6)
    now = ctx.now()
    await conversations.wait(
        ctx.database,
        actor=actor,
        flow=FLOW,
        step=STEP,
        payload={"action": action.data(), "nonce": nonce},
        until=now + CONFIRM_FOR,
        now=now,
    )
    buttons = [
        execute(yes, a.Confirm(nonce=nonce)),
        execute(t("confirm.no", actor.language), a.Cancel()),
    ]
    return Reply(card=card(body, buttons))


def confirmed_action(waiting: Waiting | None, nonce: str | None) -> a.Action | None:
    """The waiting action, confirmed; None when nothing (or something else) waits."""
    if waiting is None or waiting.flow != FLOW:
        return None
    if nonce is not None and waiting.payload.get("nonce") != nonce:
        return None
    stored = waiting.payload.get("action")
    action = a.parse_action(stored) if isinstance(stored, dict) else None
    if action is None or "confirmed" not in type(action).model_fields:
        return None
    return action.model_copy(update={"confirmed": True})
