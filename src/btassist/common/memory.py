"""Process-wide memory settings for a long-running server process."""

from __future__ import annotations

import ctypes
import gc
import os

M_ARENA_MAX = -8
"""glibc's `mallopt` parameter for the most arenas its allocator makes (malloc.h)."""


def use_one_malloc_arena() -> bool:
    """Have every thread allocate from glibc's main arena; False where that is not glibc.

    glibc gives a thread that allocates while another holds the allocator's lock an arena of
    its own, and what is freed in an arena stays with it. In `btassist serve` those threads are
    aiosqlite's, one for each pooled connection, and their arenas (SQLite's page caches among
    them) added 2 to 3 MB to the process during a broadcast. Python code allocates under the GIL
    anyway, so one shared arena is rarely waited for. `MALLOC_ARENA_MAX=1` in the environment
    does the same; this does it without asking operators to set it.
    """
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):  # not a glibc system (macOS, musl, Windows)
        return False
    if not glibc:
        return False
    return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1))


async def freeze_what_start_built(app: object) -> None:
    """What start-up built (the FAQ index, the catalogue, mappers) lives as long as the process:
    moved out of the garbage collector's sight, so a full collection in the middle of a broadcast
    walks only what the work itself allocates. An aiohttp on_startup hook for `serve` only: a
    test process starts many apps, and would keep each one's garbage for good."""
    gc.collect()
    gc.freeze()
