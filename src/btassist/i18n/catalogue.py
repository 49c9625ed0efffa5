"""Every user-visible string, in Swedish and English, from one data file."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from btassist.roster.models import Language

CATALOGUE_FILE = "messages.yaml"


@cache
def catalogue() -> dict[str, dict[Language, str]]:
    """The parsed catalogue: key → language → text (loaded once per process)."""
    raw = yaml.safe_load(resources.files(__package__).joinpath(CATALOGUE_FILE).read_text("utf-8"))
    return {
        key: {Language(lang): str(text) for lang, text in texts.items()}
        for key, texts in raw.items()
    }


def t(key: str, language: Language, /, **values: Any) -> str:
    """The message `key` in `language`, with `{placeholders}` filled from `values`."""
    return catalogue()[key][language].format(**values)


def one_language_only() -> dict[str, set[Language]]:
    """Keys that lack a language: must be empty (a test checks)."""
    every = set(Language)
    return {key: every - set(texts) for key, texts in catalogue().items() if set(texts) != every}
