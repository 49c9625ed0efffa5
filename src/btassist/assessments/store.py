"""The region policies in use, reloaded without a restart when a coordinator edits them.

Like the FAQ: a reload reads and checks every file first and swaps the policies in only if all
are valid, so a typo never takes reminders down; the problem is logged with its file and line.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from btassist.assessments.policy import PolicyError, RegionPolicies, load_policies
from btassist.common.watch import Fingerprint, fingerprint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyReload:
    """What a reload did: swapped in new policies, or kept the old ones because of errors."""

    reloaded: bool
    error: PolicyError | None = None


class PolicyStore:
    """Holds the policies in use; `reload()` replaces them only with valid ones."""

    def __init__(self, directory: Path | None = None) -> None:
        """Load `directory` (default: the policies shipped in the package); invalid files raise
        `PolicyError`, since there is nothing older to fall back on."""
        self.directory = directory
        self._lock = threading.Lock()
        self._fingerprint = self._seen()
        self._current = load_policies(directory)

    @property
    def current(self) -> RegionPolicies:
        """The policies the plans and reminders follow now."""
        return self._current

    def _seen(self) -> Fingerprint:
        if self.directory is None:
            return ()
        return fingerprint(sorted(self.directory.glob("*.yaml")))

    def reload(self) -> PolicyReload:
        """Re-read the directory; keep the old policies if any file is wrong."""
        with self._lock:
            seen = self._seen()
            try:
                fresh = load_policies(self.directory)
            except PolicyError as error:
                self._fingerprint = seen  # do not retry the same broken files every poll
                log.error("policy reload refused, keeping the old policies:\n%s", error)
                return PolicyReload(False, error)
            self._current, self._fingerprint = fresh, seen
        log.info("region policies reloaded")
        return PolicyReload(True)

    def reload_if_changed(self) -> PolicyReload | None:
        """Reload when a file was added, removed or saved since the last (attempted) load."""
        if self.directory is None or self._seen() == self._fingerprint:
            return None
        return self.reload()
