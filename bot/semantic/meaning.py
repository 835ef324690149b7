"""What an Application knows of meaning: the model (:class:`~bot.semantic.service.Semantics`)
and the in-memory index of the listings' codes, caught up from SQLite.

The index is filled in the background after start-up (:meth:`Meaning.catch_up`, run by the
vectors job in slices that leave the event loop free between them), so start-up never waits
for it; until it is full, searches rank by meaning among what it holds, and by words.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from bot.memory import give_back
from bot.semantic.codes import Vector, binary_code
from bot.semantic.index import BinaryIndex, Ids
from bot.semantic.service import Semantics
from bot.storage import Storage
from bot.storage.vectors import StoredVector

CATCH_UP_SLICE = 20_000  # codes read from SQLite at a time (about 4 MB as Python rows)
QUERY_CACHE = 256  # recent searches' vectors: paging through results embeds nothing again
AHEAD = 32  # listings being embedded ahead of their publishing (previews shown meanwhile)

# Starts a coroutine as a task the Application keeps track of (PTB's create_task: awaited
# when the bot stops, so no embedding is cut off half-way).
Embedding = Coroutine[Any, Any, StoredVector | None]
Starter = Callable[[Embedding], "asyncio.Future[StoredVector | None]"]


class Meaning:
    def __init__(self, semantics: Semantics, cached_queries: int = QUERY_CACHE) -> None:
        self.semantics = semantics
        self.cached_queries = cached_queries
        self.index: BinaryIndex | None = None
        self.model: str | None = None
        self.last_seq = 0
        self._catching_up = asyncio.Lock()
        self._queries: OrderedDict[str, Vector | None] = OrderedDict()
        self._ahead: OrderedDict[tuple[str, str], asyncio.Future[StoredVector | None]] = (
            OrderedDict()
        )

    def model_name(self) -> str | None:
        return self.semantics.model_name()

    async def query(self, text: str) -> Vector | None:
        """A search's vector (cached for the next pages); None on words alone."""
        if text in self._queries:
            self._queries.move_to_end(text)
            return self._queries[text]
        vector = await self.semantics.query(text)
        self._queries[text] = vector
        while len(self._queries) > self.cached_queries:
            self._queries.popitem(last=False)
        return vector

    def embed_ahead(self, title: str, description: str, start: Starter) -> None:
        """Start embedding a listing shown in its preview, so that publishing it (most
        people press Publish seconds later) does not wait for the model: two embeddings,
        some 40 ms of a core."""
        key = (title, description)
        if not self.semantics.wanted or key in self._ahead:
            return
        self._ahead[key] = start(self.semantics.passage(title, description))
        while len(self._ahead) > AHEAD:
            self._ahead.popitem(last=False)  # a preview left long ago: embedded again if needed

    async def passage(self, title: str, description: str) -> StoredVector | None:
        """A listing's stored vector, from its preview's embedding when there was one."""
        ahead = self._ahead.pop((title, description), None)
        if ahead is not None:
            return await ahead
        return await self.semantics.passage(title, description)

    async def catch_up(self, storage: Storage, most: int | None = None) -> int:
        """Add to the index the codes written since it last looked (at most ``most``; all
        when None, a slice at a time). Returns how many were added. With ``most`` (a search
        wanting what was just published), nothing is waited for: if the job is filling the
        index, the search goes on with what it holds."""
        model = await self.semantics.model()
        if model is None or (most is not None and self._catching_up.locked()):
            return 0
        async with self._catching_up:
            if self.index is None or self.model != model.name:
                self.index, self.model, self.last_seq = BinaryIndex(model.dimension), model.name, 0
            added = 0
            while most is None or added < most:
                wanted = CATCH_UP_SLICE if most is None else min(CATCH_UP_SLICE, most - added)
                ids, codes, last = await storage.codes_since(model.name, self.last_seq, wanted)
                if not ids:
                    break
                self.index.add(np.asarray(ids, np.int64), codes)
                self.last_seq = last
                added += len(ids)
                if len(ids) < wanted:
                    break
                await asyncio.sleep(0)  # a slice at a time: the bot keeps answering
            if added >= CATCH_UP_SLICE:
                give_back()  # the slices' rows, read and freed
            return added

    async def nearest(self, vector: Vector, count: int) -> Ids:
        """The listings whose codes are nearest to ``vector`` (off the event loop: a pass
        over a million codes takes some milliseconds)."""
        index = self.index
        if index is None or not len(index):
            return np.zeros(0, np.int64)
        return await asyncio.to_thread(index.nearest, binary_code(vector), count)
