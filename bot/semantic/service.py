"""The chosen embedding model, loaded once per process, lazily, and always used off the event
loop: every load and every encoding runs on one worker thread of its own (ONNX Runtime
releases the GIL while it computes), so the bot keeps answering while a text is embedded.

What is stored and compared is not the model's raw output but, tuned on the quality set
(docs/BENCHMARKS.md):

- a listing's vector is the mean of its title's and its whole text's embeddings: people search
  with a few words, which are closer to a title than to a description (cross-language
  recall@3 0.77 → 0.83 for pure vector ranking);
- every vector, listing or search, is centred: half the mean embedding of a fixed set of
  short reference phrases (:data:`REFERENCE`) is taken away before normalising. A model such
  as e5 puts every text in a narrow cone (unrelated texts at cosine 0.75), which blurs both the
  ranking and the sign bits of the binary codes; centring spreads them out.

If the model cannot be loaded (missing package, broken file, ``EMBEDDING_MODEL=none``), the bot
runs on words alone: :meth:`Semantics.query` and :meth:`Semantics.passages` answer None, and a
warning says so once in the log.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from bot.memory import give_back
from bot.semantic.codes import Vector, quantize
from bot.semantic.embedder import MODELS, NONE, Embedder
from bot.storage.vectors import StoredVector

log = logging.getLogger(__name__)

# Characters of a listing and of a search that are embedded: e5 reads 512 tokens at most, and a
# longer text costs time without changing what it is about.
PASSAGE_CHARS = 1000
QUERY_CHARS = 200
# Texts given to the model at a time: a larger batch is hardly faster on one thread, and its
# working memory grows with it (about 20 MB for 16 texts, 200 MB for 400).
CHUNK = 16
# The stored vectors' form (title and text, centred): part of the name stored with them, so a
# change of form makes the job embed every listing again.
FORM = "tc1"
CENTRING = 0.5
# Short phrases of the kind people search for (the taxonomy's English names when vectors were
# first centred; kept fixed here so that the centre never moves under stored vectors).
REFERENCE = (
    "Expertise and good practice", "Interim managers and staff on loan", "Volunteers",
    "Equipment and machinery", "Goods, materials and raw materials", "Services",
    "Premises, land and housing", "Business partners and investment",
    "Local businesses and project ideas", "Health and care professionals", "Community life",
    "urban planning", "energy", "digital services", "tourism", "EU funding", "water", "waste",
    "management", "engineering", "finance", "legal", "IT specialists", "emergency relief",
    "elderly people", "children", "environment", "events", "building work", "vehicles",
    "fire and rescue", "IT equipment", "school", "furniture", "medical", "machinery",
    "building materials", "food", "clothing", "wood", "books", "transport", "maintenance",
    "training", "translation", "cleaning", "shop premises", "offices", "housing", "land",
    "industrial site", "investor", "business partner", "funding", "renewable energy", "shop",
    "café", "bakery", "craft", "restaurant", "market", "doctor", "nurse", "pharmacist",
    "dentist", "carer", "youth", "culture", "sport", "clean-ups", "town twinning",
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    """A loaded embedder and the centre its vectors are moved by."""

    embedder: Embedder
    centre: Vector

    @property
    def name(self) -> str:
        """Stored with the vectors: the model and the form of the vectors."""
        return f"{self.embedder.name}/{FORM}"

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def centred(self, vectors: Vector) -> Vector:
        moved = vectors - CENTRING * self.centre
        lengths = np.linalg.norm(moved, axis=-1, keepdims=True)
        unit: Vector = (moved / np.maximum(lengths, 1e-6)).astype(np.float32)
        return unit

    def queries(self, texts: list[str]) -> list[Vector]:
        found = [self.embedder.queries(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        return list(self.centred(np.concatenate(found)))

    def passages(self, texts: list[tuple[str, str]]) -> list[Vector]:
        """Each listing's (title, description) vector (see the module's docstring)."""
        made: list[Vector] = []
        half = CHUNK // 2
        for start in range(0, len(texts), half):
            some = texts[start : start + half]
            both = [title.strip()[:QUERY_CHARS] for title, _ in some]
            both += [passage_text(title, description) for title, description in some]
            found = self.embedder.passages(both)
            mean = ((found[: len(some)] + found[len(some) :]) / 2).astype(np.float32)
            made.extend(self.centred(mean))
        return made


# One worker thread and one model per process, whatever the number of Applications (the tests
# start a bot per test and load the model once for the whole session).
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")
_loaded: dict[str, Model | None] = {}
_loading = threading.Lock()


def _load(name: str) -> Model | None:
    """The model, loaded on the worker thread the first time; None if it cannot be."""
    with _loading:
        if name in _loaded:
            return _loaded[name]
        started = time.perf_counter()
        before = _peak_mb()
        model: Model | None = None
        try:
            embedder = MODELS[name]()
            reference = [
                embedder.queries(REFERENCE[i : i + CHUNK]) for i in range(0, len(REFERENCE), CHUNK)
            ]
            model = Model(embedder, np.concatenate(reference).mean(axis=0))
            give_back()  # the engine's buffers for the reference phrases
        except Exception as error:  # any failure to load means: words only
            log.warning(
                "embedding model %s could not be loaded (%s): search, matching and alerts "
                "run on words alone",
                name,
                error,
            )
        else:
            log.info(
                "embedding model %s loaded in %.2f s (+%.0f MB)",
                model.name,
                time.perf_counter() - started,
                max(0.0, _peak_mb() - before),  # growth of resident memory while loading
            )
        _loaded[name] = model
        return model


def _peak_mb() -> float:
    """The process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Semantics:
    """The model named by the ``EMBEDDING_MODEL`` setting, for one Application."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        if setting != NONE and setting not in MODELS:
            # Checked by bot.config; a benchmark or test naming another model lands here.
            raise ValueError(f"unknown embedding model {setting!r}")

    @property
    def wanted(self) -> bool:
        """False when the deployment chose words only."""
        return self.setting != NONE

    def model_name(self) -> str | None:
        """The stored name of the loaded model's vectors; None until it loaded (or never)."""
        model = _loaded.get(self.setting)
        return model.name if model is not None else None

    async def model(self) -> Model | None:
        """The model, loading it (off the event loop) the first time."""
        if not self.wanted:
            return None
        if self.setting in _loaded:
            return _loaded[self.setting]
        return await asyncio.get_running_loop().run_in_executor(_worker, _load, self.setting)

    async def query(self, text: str) -> Vector | None:
        """A search's (or an alert's) vector; None on words alone or if it cannot be made."""
        vectors = await self._encode([(text[:QUERY_CHARS], "")], query=True)
        return None if vectors is None else vectors[0]

    async def passages(self, texts: Sequence[tuple[str, str]]) -> list[StoredVector] | None:
        """Each listing's (title, description) stored vector; None on words alone or if the
        model failed on them (they are published without, and retried by the job)."""
        vectors = await self._encode(list(texts), query=False)
        model = self.model_name()
        if vectors is None or model is None:
            return None
        return [quantize(model, vector) for vector in vectors]

    async def passage(self, title: str, description: str) -> StoredVector | None:
        found = await self.passages([(title, description)])
        return found[0] if found else None

    async def _encode(self, texts: list[tuple[str, str]], *, query: bool) -> list[Vector] | None:
        model = await self.model()
        if model is None or not texts:
            return None

        def encode() -> list[Vector]:
            if query:
                return model.queries([text for text, _ in texts])
            return model.passages(texts)

        try:
            return await asyncio.get_running_loop().run_in_executor(_worker, encode)
        except Exception:
            log.exception("could not embed %d text(s) with %s", len(texts), model.name)
            return None


def passage_text(title: str, description: str) -> str:
    """What is embedded of a listing: its title and the beginning of its description."""
    return f"{title.strip()}. {description.strip()}"[:PASSAGE_CHARS]
