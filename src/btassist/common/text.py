"""Folding text for matching: people type "forsakringsmedicin" for "Försäkringsmedicin" and
"Novak" for "Novák"."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s?-]+")


def strip_accents(text: str) -> str:
    """Text without diacritics (å→a, ö→o, á→a, ç→c), by Unicode decomposition."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case without diacritics or punctuation, words separated by single spaces."""
    text = strip_accents(text.casefold())
    return " ".join(_PUNCTUATION.sub(" ", text).split())
