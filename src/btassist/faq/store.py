"""The knowledge base being served, and reloading it without a restart.

A reload builds a complete new knowledge base first and swaps it in only if every file is valid,
so a coordinator's typo never takes the FAQ down: the old one keeps serving and the problem is
reported with its file and line.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from btassist.common.watch import Fingerprint
from btassist.common.watch import fingerprint as files_fingerprint
from btassist.faq.index import FaqIndex, SearchResult
from btassist.faq.kb import (
    PACKAGED_KB,
    Entry,
    KnowledgeBaseError,
    RegionContacts,
    kb_files,
    read_directory,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeBase:
    """Validated entries, role contacts and the search index over them."""

    directory: Path
    entries: dict[str, Entry]
    contacts: dict[str, RegionContacts]
    index: FaqIndex
    build_seconds: float

    def search(self, question: str, *, region: str | None = None) -> SearchResult:
        """See `FaqIndex.search`."""
        return self.index.search(question, region=region)

    def knows(self, word: str) -> bool:
        """See `FaqIndex.knows`."""
        return self.index.knows(word)

    def spells(self, word: str) -> bool:
        """See `FaqIndex.spells`."""
        return self.index.spells(word)


def load_knowledge_base(directory: Path = PACKAGED_KB) -> KnowledgeBase:
    """Read, validate and index a directory; raises `KnowledgeBaseError` with file and line."""
    started = time.perf_counter()
    files = read_directory(directory)
    index = FaqIndex(files.entries, declined=files.declined, synonyms=files.synonyms)
    return KnowledgeBase(
        directory=directory,
        entries={entry.id: entry for entry in files.entries},
        contacts=files.contacts,
        index=index,
        build_seconds=time.perf_counter() - started,
    )


@lru_cache(maxsize=4)
def _built(directory: Path, seen: Fingerprint) -> KnowledgeBase:
    """A knowledge base is a pure function of its files, and building one takes about a second:
    stores in one process (apps in tests, a reload after a touch) share the build of the same
    files. A broken directory raises and is not remembered."""
    return load_knowledge_base(directory)


def fingerprint(directory: Path) -> Fingerprint:
    """Names, sizes and modification times of the files: changes when a coordinator saves."""
    return files_fingerprint(kb_files(directory))


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: swapped in a new knowledge base, or kept the old one because of errors."""

    reloaded: bool
    entries: int
    error: KnowledgeBaseError | None = None


class FaqStore:
    """Holds the knowledge base in use; `reload()` replaces it only with a valid one."""

    def __init__(self, directory: Path | None = None) -> None:
        """Load `directory` (default: the knowledge base shipped in the package); a broken one
        raises `KnowledgeBaseError`, since there is nothing older to fall back on."""
        self.directory = directory or PACKAGED_KB
        self._lock = threading.Lock()
        self._fingerprint = fingerprint(self.directory)
        self._current = _built(self.directory, self._fingerprint)

    @property
    def current(self) -> KnowledgeBase:
        """The knowledge base answering questions now."""
        return self._current

    def reload(self) -> ReloadOutcome:
        """Re-read the directory; keep serving the old knowledge base if anything is wrong."""
        with self._lock:
            seen = fingerprint(self.directory)
            try:
                fresh = _built(self.directory, seen)
            except KnowledgeBaseError as error:
                self._fingerprint = seen  # do not retry the same broken files every poll
                log.error(
                    "FAQ reload refused, still serving %d entries:\n%s",
                    len(self._current.entries),
                    error,
                )
                return ReloadOutcome(False, len(self._current.entries), error)
            self._current = fresh
            self._fingerprint = seen
        log.info("FAQ reloaded: %d entries in %.3f s", len(fresh.entries), fresh.build_seconds)
        return ReloadOutcome(True, len(fresh.entries))

    def reload_if_changed(self) -> ReloadOutcome | None:
        """Reload when a file was added, removed or saved since the last (attempted) load."""
        if fingerprint(self.directory) == self._fingerprint:
            return None
        return self.reload()
