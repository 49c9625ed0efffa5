"""Reloading edited data files in a running server: polling their directories, and on SIGHUP.

One watcher serves every store (the FAQ, the region policies …): a process has one SIGHUP
handler, so each store that installed its own would silently replace the last one's. Reads run
in a worker thread so checking files never blocks the event loop; a store's `on_reload`
callback (e.g. regenerating plans after a policy change) runs on the loop after a swap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: Iterable[Path]) -> Fingerprint:
    """Names, sizes and modification times of files: changes when someone saves one."""
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:  # removed between listing and stat
            continue
        found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


class Outcome(Protocol):
    """What a store's reload reports."""

    @property
    def reloaded(self) -> bool:
        """True when new data was swapped in."""
        ...


class Reloadable(Protocol):
    """A store that rebuilds itself from files and keeps its old data when they are broken."""

    def reload(self) -> Outcome:
        """Re-read everything."""
        ...

    def reload_if_changed(self) -> Outcome | None:
        """Re-read if a file changed since the last attempt; None when nothing changed."""
        ...


@dataclass(frozen=True)
class Watched:
    """A store to keep current, its name for logs, and what to do after it reloads."""

    store: Reloadable
    label: str
    on_reload: Callable[[], Awaitable[None]] | None = None


class FileWatcher:
    """Polls the stores every `interval` seconds (0: never) and reloads all of them on SIGHUP."""

    def __init__(self, watched: Sequence[Watched], *, interval: float) -> None:
        self.watched = list(watched)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._reloads: set[asyncio.Task[None]] = set()
        self._signal_installed = False

    def start(self) -> None:
        """Begin polling and handle SIGHUP where the platform can."""
        loop = asyncio.get_running_loop()
        if self.interval > 0:
            self._task = loop.create_task(self._poll())
        sighup = getattr(signal, "SIGHUP", None)
        if sighup is not None and threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sighup, self._on_sighup)
                self._signal_installed = True

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading %s", ", ".join(w.label for w in self.watched))
        task = asyncio.get_running_loop().create_task(self.check(force=True))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def check(self, *, force: bool = False) -> None:
        """Reload what changed (everything with `force`); run the callbacks of stores swapped."""
        for watched in self.watched:
            try:
                store = watched.store
                outcome = await asyncio.to_thread(
                    store.reload if force else store.reload_if_changed
                )
                if outcome is not None and outcome.reloaded and watched.on_reload is not None:
                    await watched.on_reload()
            except Exception:  # a watcher that dies silently would stop all future reloads
                log.exception("%s file check failed", watched.label)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def stop(self) -> None:
        """Stop polling and give SIGHUP back."""
        if self._signal_installed:
            sighup = getattr(signal, "SIGHUP", None)
            if sighup is not None:
                asyncio.get_running_loop().remove_signal_handler(sighup)
            self._signal_installed = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reloads:
            await asyncio.gather(*self._reloads, return_exceptions=True)
