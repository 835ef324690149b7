"""Keeping the process's memory near what it holds, with glibc's allocator (docs/BENCHMARKS.md).

Two habits of glibc cost the bot about 40 MB at 1,000,000 listings:

- every thread that allocates gets an arena of its own (up to 8 per core), and each keeps the
  freed temporaries of its last big job: the index pass and the language model run on asyncio's
  worker threads, the embedding on its own, SQLite on aiosqlite's. Two arenas are enough for a
  bot that does its heavy work one job at a time (:func:`limit_arenas`, at start-up).
- memory freed after a one-off load (the models, the index's catch-up) stays in the heap
  until something trims it (:func:`give_back`, after each such load).

Fixing glibc's threshold for mapping big blocks (``M_MMAP_THRESHOLD``) saved as much but made
each search fault in its numpy temporaries again (+6 ms of CPU a search): not used.
Elsewhere (musl, macOS) both are no-ops.

Python's own collector costs the event loop CPU rather than memory: its full rounds walk every
container object the process holds, and start-up alone leaves some 130,000 of them (modules,
catalogs, CLDR data, the taxonomy) that live as long as the process; and PTB's objects for each
Bot API answer and update (hundreds an update) set off a young round every 700 allocations.
:func:`collect_less` is called once the bot is up (docs/BENCHMARKS.md, "Issue 19: CPU per
update").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h
ARENAS = 2
YOUNG = 10_000  # allocations between two young rounds of the collector (Python's: 700)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018  # glibc has both; others may have neither
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_libc = _glibc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most ``arenas`` malloc arenas for the whole process; call before starting threads.
    True when the allocator took it."""
    return _libc is not None and _libc.mallopt(_M_ARENA_MAX, arenas) == 1


def give_back() -> bool:
    """Return the heap's free pages to the system (after a one-off load freed its
    temporaries). True when some were returned."""
    return _libc is not None and _libc.malloc_trim(0) == 1


def collect_less(young: int = YOUNG) -> int:
    """Leave what start-up made out of the collector's rounds from now on (each full round
    walked all of it, some 60 ms of the event loop), and let ``young`` allocations, not 700,
    set off a young round: most of an update's objects are freed by their reference counts
    meanwhile, so rounds are rarer and find less alive. Freed memory is freed as before; only
    reference cycles wait longer. For a process that starts once: a frozen object that later
    falls into a cycle is never collected. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(young, *gc.get_threshold()[1:])
    return gc.get_freeze_count()
