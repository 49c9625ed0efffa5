"""Role words as people read them: "BT-läkare, handledare" in Swedish, never "doctor"."""

from __future__ import annotations

from collections.abc import Iterable

from btassist.common.language import Language
from btassist.i18n.catalogue import t
from btassist.roster.models import Role

ROLE_ORDER = (Role.doctor, Role.supervisor, Role.coordinator, Role.studierektor)
"""Junior to senior: how pickers and lists order a person's roles."""


def role_names(roles: Iterable[Role], language: Language) -> str:
    """A person's roles in `language`, in `ROLE_ORDER`."""
    held = set(roles)
    return ", ".join(t(f"role.{role.value}", language) for role in ROLE_ORDER if role in held)
