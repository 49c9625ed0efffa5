"""The languages the bot speaks, and which one to answer a person in."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """Languages the bot speaks: Swedish first, English on request."""

    sv = "sv"
    en = "en"


def language_for(preferred: Language | None, locale: str | None) -> Language:
    """Swedish first: a stored preference wins, then an `sv-*` locale; anything else is English."""
    if preferred is not None:
        return preferred
    if locale is None or not locale.strip():
        return Language.sv
    return Language.sv if locale.strip().lower().split("-")[0] == "sv" else Language.en


def requested_language(asked: str | None, accept_language: str | None) -> Language:
    """A web page's language: `?lang=sv|en`, else the first one the client accepts, else Swedish."""
    if asked and asked.lower() in {language.value for language in Language}:
        return Language(asked.lower())
    accepted = (accept_language or "").split(",")[0].split(";")[0].strip()
    return language_for(None, accepted or None)
