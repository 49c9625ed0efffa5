"""The session's log check (tests/support/logscan.py) finds what it is there to find."""

from __future__ import annotations

import logging

from tests.support.logscan import RunLog, leaks, roster_words


def test_the_log_check_finds_names_addresses_and_typed_text() -> None:
    run_log = RunLog()
    logger = logging.getLogger("btassist.test.leak")
    logger.addHandler(run_log)
    logger.propagate = False
    try:
        logger.warning("turn by %s", "Per Ekström")
        logger.warning("delivered %d notices", 3)
        logger.warning("lookup failed", exc_info=ValueError("KARIN.HOLM@halland.example.org"))
        logger.warning("faq miss: vem är min studierektor?")
    finally:
        logger.removeHandler(run_log)
    found = leaks(run_log.records, roster_words() | {"vem är min studierektor?"})
    assert len(found) == 3
    assert "'Per Ekström'" in found[0]
