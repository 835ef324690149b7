"""The listings' vectors (bot/semantic): written with the listing, queued when they could not be
made, read in bulk by the in-memory index and by the candidates of a search, a match or an
alert. See migration 0016 for the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.base import Database


@dataclass(frozen=True)
class StoredVector:
    """A listing's vector as stored (see bot/semantic/codes.py)."""

    model: str
    code: bytes
    vector: bytes
    scale: float


REMATCH_WITHIN = 2 * 86_400

_UPSERT = """
INSERT INTO listing_vectors (listing_id, model, code, vector, scale, seq)
VALUES (:id, :model, :code, :vector, :scale,
        (SELECT coalesce(max(seq), 0) + 1 FROM listing_vectors))
ON CONFLICT (listing_id) DO UPDATE SET
    model = excluded.model, code = excluded.code, vector = excluded.vector,
    scale = excluded.scale, seq = excluded.seq
"""


async def write_vector(
    db: aiosqlite.Connection, listing_id: int, stored: StoredVector | None
) -> None:
    """On the caller's transaction (publishing or editing the listing's text): store its new
    vector, or, when none could be made, forget the old one and queue the listing for the job."""
    if stored is None:
        await db.execute("DELETE FROM listing_vectors WHERE listing_id = ?", (listing_id,))
        await db.execute(
            "INSERT INTO vector_queue (listing_id) VALUES (?) ON CONFLICT DO NOTHING", (listing_id,)
        )
        return
    await db.execute(_UPSERT, _values(listing_id, stored))
    await db.execute("DELETE FROM vector_queue WHERE listing_id = ?", (listing_id,))


def _values(listing_id: int, stored: StoredVector) -> dict[str, Any]:
    return {
        "id": listing_id,
        "model": stored.model,
        "code": stored.code,
        "vector": stored.vector,
        "scale": stored.scale,
    }


class VectorQueries(Database):
    # --- the background job ------------------------------------------------------------------

    async def listings_to_embed(self, model: str, limit: int) -> list[tuple[int, str, str]]:
        """Listings waiting for a vector of ``model`` (id, title, description): the queue
        first (new, edited, or there before vectors), then those with another model's."""
        rows = await self._fetchall(
            """SELECT l.id, l.title, l.description FROM vector_queue q
               JOIN listings l ON l.id = q.listing_id
               WHERE l.status IN ('open', 'hidden')
               ORDER BY q.listing_id DESC LIMIT ?""",
            (limit,),
        )
        if len(rows) < limit:
            rows += await self._fetchall(
                """SELECT l.id, l.title, l.description FROM listing_vectors v
                   JOIN listings l ON l.id = v.listing_id
                   WHERE (v.model < :model OR v.model > :model)
                     AND l.status IN ('open', 'hidden')
                   LIMIT :limit""",
                {"model": model, "limit": limit - len(rows)},
            )
        return [(row[0], row[1], row[2]) for row in rows]

    async def save_vectors(
        self, texts: Sequence[tuple[int, str, str, StoredVector]], now: int
    ) -> int:
        """Store the vectors the job made, each only if the listing's text is still the one
        embedded (an edit in between queued it again). Returns how many were stored.

        A listing published in the last :data:`REMATCH_WITHIN` seconds is matched again, now
        by meaning (it may have been matched on its words while its vector was missing; the
        outbox's keys tell nobody twice). Older ones, embedded after the migration, are not:
        their time for news has passed, and new listings meet them by meaning anyway."""
        stored = 0
        async with self.transaction() as db:
            for listing_id, title, description, vector in texts:
                async with db.execute(
                    "SELECT 1 FROM listings WHERE id = ? AND title = ? AND description = ?",
                    (listing_id, title, description),
                ) as cursor:
                    if await cursor.fetchone() is None:
                        continue
                await write_vector(db, listing_id, vector)
                await db.execute(
                    "UPDATE listings SET matched_at = NULL "
                    "WHERE id = ? AND matched_at IS NOT NULL AND published_at > ?",
                    (listing_id, now - REMATCH_WITHIN),
                )
                stored += 1
        return stored

    async def queue_closed_listings_out(self) -> int:
        """Closed and fulfilled listings leave the queue: they are never searched again."""
        async with (
            self.transaction() as db,
            db.execute(
                """DELETE FROM vector_queue WHERE listing_id IN (
                       SELECT listing_id FROM vector_queue q JOIN listings l ON l.id = q.listing_id
                       WHERE l.status IN ('closed', 'fulfilled') LIMIT 1000)"""
            ) as cursor,
        ):
            return cursor.rowcount

    async def vectors_waiting(self) -> int:
        (count,) = await self._fetchone("SELECT count(*) FROM vector_queue")  # type: ignore[misc]
        return int(count)

    # --- the in-memory index -----------------------------------------------------------------

    async def codes_since(self, model: str, after: int, limit: int) -> tuple[list[int], bytes, int]:
        """Ids and binary codes (one after another) of ``model``'s vectors written after
        sequence number ``after``, in order, at most ``limit``; and the last sequence number."""
        rows = await self._fetchall(
            "SELECT listing_id, code, seq FROM listing_vectors "
            "WHERE seq > ? AND model = ? ORDER BY seq LIMIT ?",
            (after, model, limit),
        )
        rows = list(rows)
        if not rows:
            return [], b"", after
        return [row[0] for row in rows], b"".join(row[1] for row in rows), rows[-1][2]

    # --- matching and alerts -----------------------------------------------------------------

    async def vectors_of(self, ids: Iterable[int], model: str) -> dict[int, tuple[bytes, float]]:
        """The stored vectors of these listings (those that have one of ``model``)."""
        rows = await self._fetchall(*vectors_statement(ids, model))
        return {row[0]: (row[1], row[2]) for row in rows}


def vectors_statement(ids: Iterable[int], model: str) -> tuple[str, tuple[str, str]]:
    """The statement of :meth:`VectorQueries.vectors_of`: (listing, vector, scale) rows, in
    the listings' order (so the pages are read in the file's order)."""
    return (
        # +model: looked up by listing id; an index on the model would scan every vector.
        "SELECT listing_id, vector, scale FROM listing_vectors "
        "WHERE listing_id IN (SELECT value FROM json_each(?)) AND +model = ?",
        (json.dumps(sorted(set(ids))), model),
    )
