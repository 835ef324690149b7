"""The background work of meaning, run by the scheduler's vectors job: embed the listings that
wait for a vector (published while the model was missing or failing, edited likewise, there
before vectors existed, or embedded by another model), a few at a time, and keep the in-memory
index caught up. Resumable by nature: what waits is in the database (vector_queue), and a
listing leaves the queue in the transaction that stores its vector.
"""

from __future__ import annotations

import logging
import time

from bot.semantic.meaning import Meaning
from bot.storage import Storage

log = logging.getLogger(__name__)

BATCH = 8  # listings embedded together (about a second of the worker thread)
RUN_SECONDS = 2.0  # one run embeds for about this long, then leaves the rest for the next


async def embed_waiting(
    storage: Storage, meaning: Meaning, now: int, seconds: float = RUN_SECONDS
) -> int:
    """Embed waiting listings for about ``seconds``; returns how many were stored."""
    semantics = meaning.semantics
    model = await semantics.model()
    if model is None:
        return 0
    await storage.queue_closed_listings_out()
    started = time.monotonic()
    stored = 0
    while time.monotonic() - started < seconds:
        waiting = await storage.listings_to_embed(model.name, BATCH)
        if not waiting:
            break
        vectors = await semantics.passages([(title, text) for _id, title, text in waiting])
        if vectors is None:
            break  # the model failed on them: logged; the next run tries again
        stored += await storage.save_vectors(
            [
                (id_, title, text, vector)
                for (id_, title, text), vector in zip(waiting, vectors, strict=True)
            ],
            now,
        )
    await meaning.catch_up(storage)
    return stored
