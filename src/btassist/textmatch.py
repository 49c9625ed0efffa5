"""Folding Swedish text for matching: people type "forsakringsmedicin" for "Försäkringsmedicin"."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
_PUNCTUATION = re.compile(r"[^\w\s?-]+")


def fold(text: str) -> str:
    """Lower case without å/ä/ö or punctuation, words separated by single spaces."""
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD)
    return " ".join(_PUNCTUATION.sub(" ", text).split())
