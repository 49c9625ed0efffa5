"""Imports every table module so `SQLModel.metadata` is complete for migrations and tests."""

from sqlmodel import SQLModel

from btassist.calendar import models as calendar_models
from btassist.conversations import models as conversations_models
from btassist.courses import models as courses_models
from btassist.faq import models as faq_models
from btassist.outbox import models as outbox_models
from btassist.roster import models as roster_models

metadata = SQLModel.metadata

__all__ = [
    "calendar_models",
    "conversations_models",
    "courses_models",
    "faq_models",
    "metadata",
    "outbox_models",
    "roster_models",
]
