"""Imports every table module so `SQLModel.metadata` is complete for migrations and tests."""

from sqlmodel import SQLModel

from btassist.conversations import models as conversations_models
from btassist.roster import models as roster_models

metadata = SQLModel.metadata

__all__ = ["conversations_models", "metadata", "roster_models"]
