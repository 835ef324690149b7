"""The in-memory binary index: every listing's code (the signs of its vector), searched by
Hamming distance for the first pass of a search.

Why not sqlite-vec: at 1,000,000 listings its k-nearest query over binary vectors took about
470 ms here, numpy over the same codes 12 ms (docs/BENCHMARKS.md), and this Python's sqlite3
cannot load extensions at all. The codes are a copy of SQLite's (``listing_vectors.code``),
caught up by the vectors' sequence number (:meth:`BinaryIndex.add`), so SQLite stays the one
truth: a listing closed, expired or deleted since is dropped by the query that rescores the
candidates, and only costs a candidate's place until then.

The codes are stored column by column (one 64-bit word of every listing, then the next word):
XOR, popcount and sum then run over long contiguous arrays, four times faster than row by row.
1,000,000 listings take 48 MB of codes and 8 MB of ids and positions (32-bit); a pass, 5.4 MB
of scratch arrays, kept for the next.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]
BLOCK = 65_536  # listings a block


class BinaryIndex:
    """Codes of ``bits`` bits by listing id; :meth:`nearest` is safe to call from a worker
    thread while the event loop adds codes (a lock guards the few shared arrays)."""

    def __init__(self, bits: int) -> None:
        if bits % 64:
            raise ValueError("codes must be a whole number of 64-bit words")
        self.words = bits // 64
        self._blocks: list[npt.NDArray[np.uint64]] = []  # (words, BLOCK) each
        self._ids: list[npt.NDArray[np.int32]] = []  # BLOCK ids each, -1 where empty
        self._count = 0
        self._rows = np.full(1024, -1, np.int32)  # listing id -> row, -1 when absent
        self._lock = threading.Lock()
        # One pass at a time reuses these (3.4 MB a block of codes scanned): allocated anew,
        # they made each worker thread's heap keep its own copy (docs/BENCHMARKS.md).
        self._scanning = threading.Lock()
        self._distances = np.empty(0, np.uint16)
        self._differing = np.empty((self.words, BLOCK), np.uint64)
        self._counted = np.empty((self.words, BLOCK), np.uint8)

    def __len__(self) -> int:
        return self._count

    def add(self, ids: Ids, codes: bytes) -> None:
        """Set the codes of these listings (distinct ids; ``codes``: theirs, one after
        another), replacing the codes they had."""
        if not len(ids):
            return
        matrix = np.frombuffer(codes, dtype=np.uint64).reshape(len(ids), self.words)
        with self._lock:
            top = int(ids.max())
            if top >= len(self._rows):
                grown = np.full(max(top + 1, 2 * len(self._rows)), -1, np.int32)
                grown[: len(self._rows)] = self._rows
                self._rows = grown
            rows = self._rows[ids].astype(np.int64)
            new = rows < 0
            rows[new] = np.arange(self._count, self._count + int(new.sum()))
            self._rows[ids[new]] = rows[new]
            self._count += int(new.sum())
            while len(self._blocks) * BLOCK < self._count:
                self._blocks.append(np.zeros((self.words, BLOCK), np.uint64))
                self._ids.append(np.full(BLOCK, -1, np.int32))
            for number in np.unique(rows // BLOCK).tolist():
                here = rows // BLOCK == number
                columns = rows[here] % BLOCK
                self._blocks[number][:, columns] = matrix[here].T
                self._ids[number][columns] = ids[here]

    def nearest(self, code: bytes, count: int) -> Ids:
        """The ids of the ``count`` listings whose codes are closest to ``code``, closest
        first (among equally close ones, the earliest added)."""
        query = np.frombuffer(code, dtype=np.uint64)[:, np.newaxis]
        with self._lock:
            blocks = list(zip(self._blocks, self._ids, strict=True))
            total = self._count
        if not total:
            return np.zeros(0, np.int64)
        with self._scanning:
            if len(self._distances) < len(blocks) * BLOCK:
                self._distances = np.empty(len(blocks) * BLOCK, np.uint16)
            distances, differing, counted = self._distances, self._differing, self._counted
            # A block's words at once: XOR, bit counts into bytes, summed down each column
            # (half the time of word by word in 64-bit sums).
            for number, (block, _ids) in enumerate(blocks):
                np.bitwise_xor(block, query, out=differing)
                np.bitwise_count(differing, out=counted, casting="unsafe")
                np.sum(counted, axis=0, dtype=np.uint16, out=distances[number * BLOCK :][:BLOCK])
            chosen = closest(distances[:total], min(count, total), self.words * 64)
        found = np.empty(len(chosen), np.int64)
        for number, (_block, block_ids) in enumerate(blocks):
            here = chosen // BLOCK == number
            found[here] = block_ids[chosen[here] % BLOCK]
        return found


def closest(distances: npt.NDArray[np.uint16], count: int, bits: int) -> Ids:
    """Positions of the ``count`` smallest distances, smallest first, earliest first among
    equals. Distances are small integers: a histogram gives the distance the ``count``-th
    lies at, and only those up to it are sorted (argpartition over a million took longer
    than counting the bits)."""
    histogram = np.bincount(distances, minlength=bits + 1)
    cut = int(np.searchsorted(np.cumsum(histogram), count))
    within = np.flatnonzero(distances <= cut)
    order = np.argsort(distances[within], kind="stable")[:count]
    return within[order]
