"""py3langid's model, kept in a quarter of the memory its own loader needs, with the same scores.

py3langid finds a text's features by walking a byte automaton whose transition table has
38,346 distinct rows of 256 32-bit states (39 MB); its loader also holds every one of its 142
languages' weights and a second copy of the table while converting it (105 MB at the peak).
Each row differs from the start state's row in 56 bytes on average, so only those differences
are kept here, sorted by byte within their row and found by bisection (10.8 MB). The model file
is read member by member and the table a slice of rows at a time, keeping the weights of the
bot's languages only, so loading never holds more than a few megabytes beyond the result.

Scoring is py3langid's (``LanguageIdentifier`` with ``norm_probs=True``), step for step, and
``tests/test_languages.py`` checks that both rank the labelled texts identically. The file's
layout is the one ``py3langid.modelio`` writes (an npz inside LZMA); the version is pinned.
"""

from __future__ import annotations

import lzma
import math
import shutil
import tempfile
import unicodedata
import zipfile
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Collection, Iterator
from typing import IO

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE  # type: ignore[import-untyped]

# Rows of the transition table read at a time (256 states each): 4 MB of a 32-bit table.
_ROWS_AT_ONCE = 4096


class LanguageModel:
    """Naive Bayes over byte n-grams, restricted to some of py3langid's languages."""

    def __init__(
        self,
        weights: np.ndarray,
        priors: np.ndarray,
        languages: list[str],
        automaton: Automaton,
    ) -> None:
        self.weights = weights  # features × languages, float16 as in the file
        self.priors = priors
        self.languages = languages
        self.automaton = automaton
        # A language with two columns (Serbian in two scripts): the first holds their sum.
        first: dict[str, int] = {}
        self.aliases: list[tuple[int, int]] = []
        for column, language in enumerate(languages):
            if language in first:
                self.aliases.append((first[language], column))
            else:
                first[language] = column

    @classmethod
    def load(cls, wanted: Collection[str]) -> LanguageModel:
        """py3langid's bundled model, with the columns of ``wanted`` languages only."""
        with tempfile.TemporaryFile(suffix=".npz") as unpacked:
            with lzma.open(MODEL_DIR / MODEL_FILE) as packed:
                shutil.copyfileobj(packed, unpacked, length=1 << 20)
            unpacked.seek(0)
            with zipfile.ZipFile(unpacked) as model:
                classes = [str(c) for c in _read(model, "classes")]
                kept = [i for i, code in enumerate(classes) if code in wanted]
                weights = _columns(model, "ptc", kept)
                priors = _read(model, "pc")[kept]
                automaton = Automaton.load(model)
        return cls(weights, priors, [classes[i] for i in kept], automaton)

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every language with its probability for ``text``, best first (``rank``'s)."""
        scores = self._scores(_encode(text))
        merged: dict[str, float] = {}
        for language, score in zip(self.languages, scores.tolist(), strict=True):
            merged.setdefault(language, score)
        return sorted(merged.items(), key=lambda pair: pair[1], reverse=True)

    def _scores(self, text: bytes) -> np.ndarray:
        visits = self.automaton.features(text)
        if not visits:  # nothing to go on: every language alike
            scores = np.zeros(len(self.languages), dtype=np.float32)
        else:
            found = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
            counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
            scores = np.log1p(counts) @ self.weights[found] + self.priors
        # py3langid's temperature: the square root of the length keeps long texts calibrated
        scores *= 1.0 / math.sqrt(len(text) or 1)
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for first, second in self.aliases:
            scores[first] += scores[second]
            scores[second] = 0.0
        return scores


class Automaton:
    """The feature automaton: a state's next state on a byte is its row's entry for that
    byte when the row has one, else the start state's."""

    def __init__(
        self,
        start_row: array[int],
        row_of_state: array[int],
        row_starts: array[int],
        row_bytes: bytes,
        row_targets: array[int],
        feature_of_state: array[int],
    ) -> None:
        self.start_row = start_row
        self.row_of_state = row_of_state
        self.row_starts = row_starts
        self.row_bytes = row_bytes
        self.row_targets = row_targets
        self.feature_of_state = feature_of_state

    @classmethod
    def load(cls, model: zipfile.ZipFile) -> Automaton:
        row_of_state = _read(model, "nextmove_row")
        start_index = int(row_of_state[0])
        start = next(
            rows[start_index % _ROWS_AT_ONCE]
            for n, rows in enumerate(_read_rows(model, "nextmove", _ROWS_AT_ONCE))
            if n == start_index // _ROWS_AT_ONCE
        ).copy()
        # Filled a slice at a time: concatenating at the end would hold the table twice.
        starts, row_bytes, targets = array("I", [0]), bytearray(), array("I")
        for rows in _read_rows(model, "nextmove", _ROWS_AT_ONCE):
            differs = rows != start
            ends = starts[-1] + np.cumsum(differs.sum(axis=1))
            starts.frombytes(ends.astype(np.uint32).tobytes())
            row_bytes += np.nonzero(differs)[1].astype(np.uint8).tobytes()  # sorted in a row
            targets.frombytes(rows[differs].astype(np.uint32).tobytes())
        return cls(
            _stdlib(start.astype(np.uint32), "I"),
            _stdlib(row_of_state.astype(np.uint32), "I"),
            starts,
            bytes(row_bytes),
            targets,
            _stdlib(_read(model, "out_feat").astype(np.int32), "i"),
        )

    def features(self, text: bytes) -> Counter[int]:
        """How often each feature occurs in ``text`` (py3langid's ``visit_counts``)."""
        found: list[int] = []
        state = 0
        for letter in text:
            row = self.row_of_state[state]
            low, high = self.row_starts[row], self.row_starts[row + 1]
            at = bisect_left(self.row_bytes, letter, low, high)
            if at < high and self.row_bytes[at] == letter:
                state = self.row_targets[at]
            else:
                state = self.start_row[letter]
            feature = self.feature_of_state[state]
            if feature >= 0:
                found.append(feature)
        return Counter(found)


def _encode(text: str) -> bytes:
    """py3langid's normalisation: an all-capitals text in lower case, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _read(model: zipfile.ZipFile, name: str) -> np.ndarray:
    with model.open(f"{name}.npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
    if fortran:
        raise ValueError("py3langid's model is stored in C order")
    return shape, dtype


def _read_rows(model: zipfile.ZipFile, name: str, at_once: int) -> Iterator[np.ndarray]:
    """A 2-D (or 1-D table of 256-wide rows) array, ``at_once`` rows at a time."""
    with model.open(f"{name}.npy") as member:
        shape, dtype = _header(member)
        width = shape[1] if len(shape) == 2 else 256
        total = shape[0] if len(shape) == 2 else shape[0] // 256
        for first in range(0, total, at_once):
            rows = min(at_once, total - first)
            chunk = member.read(rows * width * dtype.itemsize)
            yield np.frombuffer(chunk, dtype=dtype).reshape(rows, width)


def _columns(model: zipfile.ZipFile, name: str, kept: list[int]) -> np.ndarray:
    """Some columns of a 2-D array, read a slice of rows at a time."""
    with model.open(f"{name}.npy") as member:
        shape, dtype = _header(member)
    out = np.empty((shape[0], len(kept)), dtype=dtype)
    first = 0
    for rows in _read_rows(model, name, _ROWS_AT_ONCE):
        out[first : first + len(rows)] = rows[:, kept]
        first += len(rows)
    return out


def _stdlib(values: np.ndarray, typecode: str) -> array[int]:
    """A stdlib array (of the small tables): indexing it from Python is several times
    faster than indexing numpy's."""
    out = array(typecode)
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out
