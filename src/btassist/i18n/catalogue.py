"""Every user-visible string, in Swedish and English, from the data files in `messages/`.

One file per feature keeps each feature's texts together; a key may appear in one file only.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from btassist.common.language import Language

CATALOGUE_DIRECTORY = "messages"


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the catalogue parses in a fraction of
the time."""


class CatalogueError(ValueError):
    """The message files contradict each other (a key in two files)."""


@cache
def catalogue() -> dict[str, dict[Language, str]]:
    """The parsed catalogue: key → language → text (loaded once per process)."""
    merged: dict[str, dict[Language, str]] = {}
    origin: dict[str, str] = {}
    files = sorted(
        (item for item in resources.files(__package__).joinpath(CATALOGUE_DIRECTORY).iterdir()),
        key=lambda item: item.name,
    )
    for item in files:
        if not item.name.endswith(".yaml"):
            continue
        raw = yaml.load(item.read_text("utf-8"), Loader=_LOADER) or {}
        for key, texts in raw.items():
            if key in merged:
                raise CatalogueError(f"message {key!r} is in both {origin[key]} and {item.name}")
            origin[key] = item.name
            merged[key] = {Language(lang): str(text) for lang, text in texts.items()}
    return merged


def t(key: str, language: Language, /, **values: Any) -> str:
    """The message `key` in `language`, with `{placeholders}` filled from `values`."""
    return catalogue()[key][language].format(**values)


def one_language_only() -> dict[str, set[Language]]:
    """Keys that lack a language: must be empty (a test checks)."""
    every = set(Language)
    return {key: every - set(texts) for key, texts in catalogue().items() if set(texts) != every}
