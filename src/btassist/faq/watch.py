"""Reloading the FAQ in a running server: on SIGHUP, and when a file in its directory changes."""

from __future__ import annotations

from btassist.common.watch import FileWatcher, Watched
from btassist.faq.store import FaqStore


class FaqWatcher(FileWatcher):
    """A `FileWatcher` of the FAQ alone. A process has one SIGHUP handler: to watch the region
    policies as well, use one `FileWatcher` for both instead."""

    def __init__(self, store: FaqStore, *, interval: float) -> None:
        super().__init__([Watched(store, "FAQ")], interval=interval)
