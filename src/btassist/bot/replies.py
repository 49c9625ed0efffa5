"""Turning flow replies (plain data) into Bot Framework activities."""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from btassist.dialogs.turn import Reply


def to_activity(reply: Reply) -> Activity:
    """A message activity with the reply's text and, if any, its Adaptive Card."""
    if reply.card is None:
        return MessageFactory.text(reply.text or "")
    activity = MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
    if reply.text:
        activity.text = reply.text
    return activity
