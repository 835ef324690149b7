"""The stored forms of a vector: 1,000,000 listings must fit in memory with the model.

- a binary code (the sign of each component, 48 bytes for 384 dimensions), kept in memory for
  the first pass of a search (:mod:`bot.semantic.index`): Hamming distance between codes
  follows the angle between vectors closely enough to pick a few hundred candidates;
- the components as int8 with one scale per vector (384 bytes), kept in SQLite only, read for
  those candidates to rescore them: cosine similarity to within about 0.01.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.storage.vectors import StoredVector

Vector = npt.NDArray[np.float32]


def quantize(model: str, vector: Vector) -> StoredVector:
    """The vector's binary code and int8 components (see the module's docstring)."""
    peak = float(np.abs(vector).max())
    scale = peak / 127.0 if peak > 0 else 1.0
    components = np.clip(np.rint(vector / scale), -127, 127).astype(np.int8)
    return StoredVector(
        model=model,
        code=binary_code(vector),
        vector=components.tobytes(),
        scale=scale,
    )


def binary_code(vector: Vector) -> bytes:
    return np.packbits(vector > 0).tobytes()


def similarities(query: Vector, stored: Sequence[tuple[bytes, float]]) -> npt.NDArray[np.float32]:
    """Cosine similarity of a unit query vector to each stored (int8 components, scale)."""
    if not stored:
        return np.zeros(0, np.float32)
    components = np.frombuffer(b"".join(vector for vector, _scale in stored), dtype=np.int8)
    matrix = components.reshape(len(stored), -1).astype(np.float32)
    scales = np.fromiter((scale for _vector, scale in stored), np.float32, len(stored))
    dots = matrix @ query * scales
    # The components were rounded: divide by each one's length to stay a cosine.
    lengths = np.linalg.norm(matrix, axis=1) * scales
    found: npt.NDArray[np.float32] = np.divide(
        dots, lengths, out=np.zeros_like(dots), where=lengths > 0
    ).astype(np.float32)
    return found
