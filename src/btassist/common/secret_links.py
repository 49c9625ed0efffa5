"""Secrets in links that are shown once (calendar feeds, one-time downloads).

A token is a selector (12 random bytes) followed by a verifier (24 random bytes, 192 bits), both
base64url. The selector finds the row and is not secret; only a SHA-256 hash of the verifier is
stored and it is compared in constant time, so neither a database dump nor timing reveals a
working link. A fast hash is enough: the verifier has far too much entropy to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

SELECTOR_BYTES = 12
VERIFIER_BYTES = 24
SELECTOR_LENGTH = 16  # base64url characters for SELECTOR_BYTES
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{48}")


@dataclass(frozen=True)
class NewSecret:
    """A fresh token (to show once) and what is stored of it."""

    token: str
    selector: str
    verifier_hash: str


def new_secret() -> NewSecret:
    """A new random token with its selector and the hash of its verifier."""
    selector = secrets.token_urlsafe(SELECTOR_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    return NewSecret(selector + verifier, selector, hash_verifier(verifier))


def hash_verifier(verifier: str) -> str:
    """The stored form of a token's secret part (SHA-256, hex)."""
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(selector, verifier) of a well-formed token; None for anything else."""
    if TOKEN_PATTERN.fullmatch(token) is None:
        return None
    return token[:SELECTOR_LENGTH], token[SELECTOR_LENGTH:]


def verifier_matches(stored_hash: str, verifier: str) -> bool:
    """Whether `verifier` is the secret whose hash was stored (constant time)."""
    return hmac.compare_digest(stored_hash, hash_verifier(verifier))
