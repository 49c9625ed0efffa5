"""Every table of the package in one `MetaData`, for migrations and the schema test.

Features own their tables in a `models` module of their own package; this module finds them
instead of naming them, so a new feature needs no change in `db/`.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData
from sqlmodel import SQLModel

import btassist


def load_models() -> MetaData:
    """Import every `btassist.<feature>.models` module and return the complete metadata."""
    for module in pkgutil.walk_packages(btassist.__path__, prefix="btassist."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
    return SQLModel.metadata


metadata = load_models()
