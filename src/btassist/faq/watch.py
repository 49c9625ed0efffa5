"""Reloading the FAQ in a running server: on SIGHUP, and when a file in its directory changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading

from btassist.faq.store import FaqStore, ReloadOutcome

log = logging.getLogger(__name__)


class FaqWatcher:
    """Polls the knowledge-base directory and listens for SIGHUP; both reload in a worker thread
    so reading and indexing never block the event loop."""

    def __init__(self, store: FaqStore, *, interval: float) -> None:
        self.store = store
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._reloads: set[asyncio.Task[ReloadOutcome]] = set()
        self._signal_installed = False

    def start(self) -> None:
        """Begin polling (unless the interval is 0) and handle SIGHUP where the platform can."""
        loop = asyncio.get_running_loop()
        if self.interval > 0:
            self._task = loop.create_task(self._poll())
        sighup = getattr(signal, "SIGHUP", None)
        if sighup is not None and threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sighup, self._on_sighup)
                self._signal_installed = True

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading the FAQ")
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self.store.reload))
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.store.reload_if_changed)
            except Exception:  # a watcher that dies silently would stop all future reloads
                log.exception("FAQ file check failed")

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
