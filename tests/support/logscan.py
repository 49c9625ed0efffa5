"""Every log record of the test run, checked at the end for message text, names and e-mail
addresses: logs hold ids and counts only.

`RunLog` (installed on the root logger at INFO, the production level, by a session fixture in
conftest.py) keeps each record's message (and its exception's message) with the test that
logged it. `record_typed_texts` (installed by `running_bot`) keeps what the tests typed to the
bot. At the end, `leaks` looks for the roster's names and e-mail addresses and for those texts
in one regular expression over all records.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import traceback
from collections.abc import Iterable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.support.cards import current_test

REPO = Path(__file__).resolve().parents[2]
ROSTERS = (
    REPO / "src" / "btassist" / "demo" / "roster" / "people.csv",
    REPO / "examples" / "roster" / "people.csv",
)
MIN_TEXT = 12
"""Typed texts shorter than this ("ja", "kurser", "mina kurser") are words a log may use."""

TYPED: set[str] = set()
"""What the tests typed to the bot."""


class RunLog(logging.Handler):
    """Keeps (test, logger, message) of every record it sees."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging call's problem, not ours
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + "".join(traceback.format_exception_only(record.exc_info[1]))
        self.records.append((current_test(), record.name, message))


@web.middleware
async def record_typed_texts(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Keep the text of every message posted to the bot."""
    if request.path == "/api/messages" and request.can_read_body:
        try:
            text = json.loads(await request.read()).get("text")
        except (ValueError, AttributeError):
            text = None
        if isinstance(text, str) and len(text.strip()) >= MIN_TEXT:
            TYPED.add(text.strip())
    return await handler(request)


def roster_words() -> set[str]:
    """The names and e-mail addresses of the rosters the tests load."""
    words: set[str] = set()
    for path in ROSTERS:
        with path.open(encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                words |= {row["name"].strip(), row["email"].strip()}
    return {word for word in words if word}


def leaks(records: Iterable[tuple[str, str, str]], forbidden: Iterable[str]) -> list[str]:
    """Each record that contains a forbidden string, as `test: logger: message`."""
    words = sorted(set(forbidden), key=len, reverse=True)
    if not words:
        return []
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    found = []
    for test, logger, message in records:
        match = pattern.search(message)
        if match:
            found.append(f"{test}: {logger}: {match.group(0)!r} in {message[:300]!r}")
    return found
