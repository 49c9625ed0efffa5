"""Folding text for matching: people type "forsakringsmedicin" for "Försäkringsmedicin" and
"Novak" for "Novák"."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s?-]+")
# Letters that are not a base letter plus a mark, so decomposition leaves them as they are.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i"}
)


def strip_accents(text: str) -> str:
    """Text without diacritics (å→a, ö→o, á→a, ç→c, ø→o), by Unicode decomposition."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower case without diacritics or punctuation, words separated by single spaces."""
    text = strip_accents(text.casefold())
    return " ".join(_PUNCTUATION.sub(" ", text).split())
