"""Which language to answer in: the person's choice, else what Teams says their locale is."""

from __future__ import annotations

from btassist.roster.models import Language


def language_for(preferred: Language | None, locale: str | None) -> Language:
    """Swedish first: a stored preference wins, then an `sv-*` locale; anything else is English."""
    if preferred is not None:
        return preferred
    if locale is None or not locale.strip():
        return Language.sv
    return Language.sv if locale.strip().lower().split("-")[0] == "sv" else Language.en
