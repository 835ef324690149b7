"""Memory given back to the system (bot/memory.py), and the index's reused scratch arrays.

Each allocator check runs in a fresh interpreter: the arena limit must be set before threads
start, and what the heap holds depends on everything the process did before."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from bot import memory
from bot.semantic.index import BLOCK, BinaryIndex

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or memory._libc is None, reason="glibc only"
)


def run(code: str, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


RESIDENT = """
from pathlib import Path
def resident_mb():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024
"""


def test_freed_heap_memory_goes_back_to_the_system_when_given_back():
    """80 MB of 64 KB blocks (under glibc's threshold for mapping blocks of their own, so they
    come from the heap), all freed but the last, which pins the heap's top: without a trim
    the process keeps the 80 MB; after one it keeps almost none of them."""
    found = run(
        RESIDENT
        + """
from bot.memory import give_back
before = resident_mb()
blocks = [bytearray(64 * 1024) for _ in range(1280)]
last = blocks.pop()
del blocks
kept = resident_mb() - before
returned = give_back()
print(f"{kept:.0f} {resident_mb() - before:.0f} {returned}")
"""
    )
    kept, after, returned = found.split()
    assert float(kept) > 70
    assert float(after) < 10
    assert returned == "True"


def test_threads_share_two_arenas_once_limited():
    """Eight threads, one job after another, each leave 8 MB of freed blocks behind: each in
    an arena of its own by default (64 MB kept); with two arenas (:func:`limit_arenas`, at
    start-up) a job reuses what an earlier one freed."""
    code = (
        RESIDENT
        + """
import sys, threading
from bot.memory import limit_arenas
print(limit_arenas() if sys.argv[1:] == ["limit"] else None)
before = resident_mb()
ready, turn = threading.Barrier(8), threading.Lock()
def work():
    ready.wait()  # all alive at once: each thread takes an arena of its own if it may
    with turn:  # one job at a time, as the bot's heavy work goes
        blocks = [bytearray(64 * 1024) for _ in range(128)]
        pin.append(bytearray(64 * 1024))  # keeps the top of its heap in use
        del blocks
pin = []
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(f"{resident_mb() - before:.0f}")
"""
    )

    default, limited = run(code).split(), run(code, "limit").split()
    assert limited[0] == "True"
    assert float(default[1]) >= 40
    assert float(limited[1]) <= 20


def test_concurrent_index_passes_share_the_scratch_arrays_and_agree():
    """Passes from several threads at once (searches of two people) give each its own
    answer, the same as one pass alone; the scratch arrays are allocated once."""
    rng = np.random.default_rng(5)
    index = BinaryIndex(384)
    count = BLOCK + 1000  # two blocks
    index.add(
        np.arange(1, count + 1, dtype=np.int64),
        rng.integers(0, 2**63, size=(count, 6), dtype=np.uint64).tobytes(),
    )
    queries = [rng.integers(0, 2**63, size=6, dtype=np.uint64).tobytes() for _ in range(16)]
    alone = [index.nearest(query, 50) for query in queries]
    scratch = index._distances
    together: dict[int, np.ndarray] = {}

    def search(n: int) -> None:
        together[n] = index.nearest(queries[n], 50)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, expected in enumerate(alone):
        assert np.array_equal(together[n], expected)
    assert index._distances is scratch


def test_collecting_less_freezes_start_up_and_still_frees_later_cycles():
    """After start-up's modules are loaded, :func:`collect_less` takes their objects out of
    the collector's rounds and makes young rounds rarer; a reference cycle made afterwards (the
    one kind of garbage reference counts miss) is still found by a full round."""
    found = run(
        """
import gc, weakref
import bot.app  # start-up's modules, catalogs and the taxonomy
from bot.memory import YOUNG, collect_less
frozen = collect_less()
class Node: pass
first, second = Node(), Node()
first.other, second.other = second, first
alive = weakref.ref(first)
del first, second
gc.collect()
print(frozen, gc.get_threshold()[0] == YOUNG, alive() is None)
"""
    )
    frozen, young, freed = found.split()
    assert int(frozen) > 50_000
    assert young == "True"
    assert freed == "True"
