"""The storage side of the hybrid search (bot/semantic/search.py): the best listings by
words, the listings a taxonomy name points to, and the candidates' vectors, all within the
search's filters (the same as the words-only search's, :func:`~bot.storage.listings.
search_filters`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.storage.base import Database
from bot.storage.listings import (
    _LISTING_COLUMNS,
    _LISTING_FROM,
    COUNT_CAP,
    Listing,
    SearchQuery,
    _away,
    _listing,
    fts_query,
    near_filters,
    search_filters,
)


@dataclass(frozen=True)
class Candidate:
    """A listing a search may show: its stored vector (None when it has none of this model
    yet), and whether it has one of the tags or categories the search's words name."""

    id: int
    vector: bytes | None
    scale: float
    named: bool = False


def filters(query: SearchQuery, now: int) -> tuple[list[str], dict[str, Any]]:
    """The conditions (on ``listings l``) and parameters of every filter of a search but
    its words, its point included."""
    where, params = search_filters(query, now)
    if query.near is not None:
        where += near_filters(query.near, query.radius_km, params)
    return where, params


class HybridSearchQueries(Database):
    async def search_candidates(
        self,
        ids: Iterable[int],
        query: SearchQuery,
        model: str,
        now: int,
        tags: Iterable[str] = (),
        categories: Iterable[str] = (),
    ) -> list[Candidate]:
        """Of these listings, those the search's filters let through, with their vectors and
        whether they have one of these tags or categories."""
        wanted = json.dumps(sorted(set(ids)))
        where, params = filters(query, now)
        params.update(
            ids=wanted, model=model, tags=json.dumps(sorted(tags)),
            categories=json.dumps(sorted(categories)),
        )  # fmt: skip
        named = (
            "(l.category IN (SELECT value FROM json_each(:categories)) OR EXISTS ("
            "SELECT 1 FROM listing_tags t WHERE t.listing_id = l.id "
            "AND t.tag IN (SELECT value FROM json_each(:tags))))"
        )
        rows = await self._fetchall(
            f"""SELECT l.id, v.vector, v.scale, {named}
                FROM listings l
                LEFT JOIN listing_vectors v ON v.listing_id = l.id AND +v.model = :model
                WHERE l.id IN (SELECT value FROM json_each(:ids)) AND {" AND ".join(where)}""",
            params,
        )
        return [Candidate(row[0], row[1], row[2] or 0.0, bool(row[3])) for row in rows]

    async def word_matches(
        self, query: SearchQuery, now: int, limit: int, offset: int = 0
    ) -> tuple[list[int], int]:
        """The best listings by the search's words, ``limit`` from ``offset``, and how many
        match up to ``COUNT_CAP + 1`` (0 past the last), ranked as the words-only search
        ranks them: bm25 among the newest ``COUNT_CAP + 1`` matches that pass the filters
        (:func:`~bot.storage.listings._by_words`), so a common word costs what a rare one
        does."""
        match = fts_query(query.words or "")
        if match is None:
            return [], 0
        where, params = filters(query, now)
        params.update(match=match, limit=limit, offset=offset, cap=COUNT_CAP + 1)
        rows = await self._fetchall(
            "WITH ranked (id, score, published_at) AS ("
            "SELECT l.id, bm25(listings_text), l.published_at "
            "FROM listings_text JOIN listings l ON l.id = listings_text.rowid "
            f"WHERE listings_text MATCH :match AND {' AND '.join(where)} "
            "ORDER BY listings_text.rowid DESC LIMIT :cap) "
            "SELECT id, (SELECT count(*) FROM ranked) FROM ranked "
            "ORDER BY score, published_at DESC LIMIT :limit OFFSET :offset",
            params,
        )
        return [row[0] for row in rows], int(rows[0][1]) if rows else 0

    async def listings_named(
        self,
        query: SearchQuery,
        tags: Iterable[str],
        categories: Iterable[str],
        now: int,
        limit: int,
    ) -> list[int]:
        """The newest ``limit`` listings with one of these tags or in one of these categories
        (the taxonomy names a search's words named), within the search's filters: for a
        search on words alone (with a model, the nearest listings are flagged instead)."""
        tags, categories = sorted(tags), sorted(categories)
        if not tags and not categories:
            return []
        where, params = filters(query, now)
        either = []
        if tags:
            either.append(
                "l.id IN (SELECT listing_id FROM listing_tags WHERE tag IN "
                "(SELECT value FROM json_each(:tags)))"
            )
            params["tags"] = json.dumps(tags)
        if categories:
            either.append("l.category IN (SELECT value FROM json_each(:categories))")
            params["categories"] = json.dumps(categories)
        where.append("(" + " OR ".join(either) + ")")
        params["limit"] = limit
        return await self._first_column(
            f"SELECT l.id FROM listings l WHERE {' AND '.join(where)} "
            "ORDER BY l.id DESC LIMIT :limit",
            params,
        )

    async def listings_in_order(self, ids: list[int], query: SearchQuery) -> list[Listing]:
        """These listings, in this order (with their distance when the search is near a
        point); ids no longer found are left out."""
        if not ids:
            return []
        rows = await self._fetchall(
            f"SELECT {_LISTING_COLUMNS} {_LISTING_FROM} "
            "WHERE l.id IN (SELECT value FROM json_each(?))",
            (json.dumps(ids),),
        )
        near = query.near
        found = {
            row[0]: _listing(row, _away(near, _listing(row)) if near is not None else None)
            for row in rows
        }
        return [found[id_] for id_ in ids if id_ in found]
