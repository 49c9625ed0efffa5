"""Log setup for `btassist serve`: readable lines, or one JSON object per line for collectors.

What gets logged is unchanged: ids and counts, never message text, names or e-mail addresses.
As a safety net both formats blank anything shaped like an e-mail address before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TextIO

EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "<email>"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Attributes every LogRecord has; anything else was passed with `extra=` and is kept in JSON.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class LogFormat(StrEnum):
    """How `btassist serve` writes its log (`BTASSIST_LOG_FORMAT`)."""

    text = "text"
    json = "json"


def redact(text: str) -> str:
    """`text` with e-mail addresses blanked."""
    return EMAIL.sub(REDACTED, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, `extra=` fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """The plain line format, e-mail addresses blanked."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one readable line (plus a traceback)."""
        return redact(super().format(record))


def configure_logging(
    log_format: LogFormat, *, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to `stream` (standard error) in `log_format`; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format is LogFormat.json else RedactingFormatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per timer tick is noise
    return handler
