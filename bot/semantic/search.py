"""The hybrid search: what a search's words mean, in every language, and the exact words.

Three ranked lists of open listings within the search's filters are fused:

1. **meaning**: the nearest listings by the binary index (a few hundred, more when filters
   narrow the search), rescored by the cosine of their int8 vectors to the search's vector,
   kept from :data:`MEANING_FROM`;
2. **words**: the full-text index's best matches (bm25), as the words-only search ranks them:
   names, numbers and rare words are found exactly as before;
3. **names**: listings with a tag or category whose name, in any of the bot's languages, is a
   word of the search ("médecin", "Arzt" → *doctor*): among the candidates of the other two
   lists, ranked by meaning (a million listings are not sorted for a tag); on words alone,
   the newest such listings.

Each list gives a listing ``weight / (RANK_OFFSET + rank)`` (reciprocal rank fusion), and the
sums order the results. Past the fused lists, a search with many word matches goes on with the
words-only ranking, so nothing an exact search finds today is lost. Thresholds and weights are
tuned on the quality set (tests/data/crosslingual, benchmarks/quality.py).

Without a model (``EMBEDDING_MODEL=none``, or it failed to load) the meaning list is empty and
the names list is ranked newest first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.semantic.codes import Vector, similarities
from bot.semantic.meaning import Meaning
from bot.semantic.names import named
from bot.storage import Candidate, Listing, SearchQuery, Storage
from bot.storage.listings import fts_query

MEANING_FROM = 0.58  # cosine of a search to a listing (centred vectors: unrelated ≈ 0.45)
NEAREST = 300  # candidates from the binary index, without filters
NEAREST_FILTERED = 3000  # with filters, which leave out most of the nearest
WORDS_FUSED = 500  # word matches fused with the others; further ones follow in bm25 order
NAMED_FUSED = 200
RANK_OFFSET = 60
WEIGHTS = {"meaning": 1.0, "words": 1.0, "names": 1.0}


@dataclass(frozen=True)
class Ranked:
    """A search's results in order: the fused ids, then word matches from ``words_from``
    onwards (bm25 order) up to ``total`` results in all."""

    fused: list[int]
    words_from: int
    total: int


def filtered(query: SearchQuery) -> bool:
    return bool(query.category or query.country or query.region or query.near)


async def rank(storage: Storage, meaning: Meaning | None, query: SearchQuery, now: int) -> Ranked:
    words = query.words or ""
    names = named(words)
    # The words on SQLite's thread while the model embeds the search and numpy reads the
    # index on theirs: the slower of the two, not their sum.
    (word_ids, word_total), near = await asyncio.gather(
        storage.word_matches(query, now, WORDS_FUSED),
        nearest(storage, meaning, words, filtered(query)),
    )
    lists: dict[str, list[int]] = {"words": word_ids}
    if near is None:
        lists["names"] = (
            await storage.listings_named(query, names.tags, names.categories, now, NAMED_FUSED)
            if names
            else []
        )
    else:
        model, vector, nearest_ids = near
        candidates = await storage.search_candidates(
            [*nearest_ids, *word_ids[:NAMED_FUSED]],
            query,
            model,
            now,
            tags=names.tags,
            categories=names.categories,
        )
        cosine = by_cosine(vector, candidates)
        by_meaning = sorted(cosine, key=lambda id_: -cosine[id_])
        lists["meaning"] = [id_ for id_ in by_meaning if cosine[id_] >= MEANING_FROM]
        named_set = {c.id for c in candidates if c.named}
        lists["names"] = [id_ for id_ in by_meaning if id_ in named_set]
    fused = fuse(lists)
    beyond = max(0, word_total - len(word_ids))
    return Ranked(fused, len(word_ids), len(fused) + beyond)


async def nearest(
    storage: Storage, meaning: Meaning | None, words: str, narrowed: bool
) -> tuple[str, Vector, list[int]] | None:
    """The model's name, the search's vector and the ids of the listings nearest to it by
    their codes; None on words alone."""
    if meaning is None:
        return None
    vector = await meaning.query(words)
    model = meaning.model
    if vector is None or model is None:
        return None
    await meaning.catch_up(storage, most=1000)  # what was published a moment ago
    found = await meaning.nearest(vector, NEAREST_FILTERED if narrowed else NEAREST)
    return model, vector, found.tolist()


def by_cosine(vector: Vector, candidates: list[Candidate]) -> dict[int, float]:
    """Each candidate's cosine to the search (those with a vector)."""
    with_vectors = [c for c in candidates if c.vector is not None]
    found = similarities(vector, [(c.vector, c.scale) for c in with_vectors])  # type: ignore[misc]
    return dict(zip((c.id for c in with_vectors), found.tolist(), strict=True))


def fuse(lists: dict[str, list[int]]) -> list[int]:
    """Reciprocal rank fusion of ranked lists of ids (see the module's docstring)."""
    scores: dict[int, float] = {}
    for name, ids in lists.items():
        weight = WEIGHTS[name]
        for rank_, id_ in enumerate(ids, start=1):
            scores[id_] = scores.get(id_, 0.0) + weight / (RANK_OFFSET + rank_)
    return sorted(scores, key=lambda id_: -scores[id_])


async def search(
    storage: Storage,
    meaning: Meaning | None,
    query: SearchQuery,
    *,
    now: int,
    offset: int = 0,
    limit: int = 5,
    after: tuple[int, int] | None = None,
) -> tuple[list[Listing], int]:
    """One page of a search and how many results it has: by words and meaning when it has
    words, else as browsing always did (:meth:`~bot.storage.listings.ListingQueries.search`)."""
    if not query.words or fts_query(query.words) is None:
        return await storage.search(query, now=now, offset=offset, limit=limit, after=after)
    ranked = await rank(storage, meaning, query, now)
    ids = ranked.fused[offset : offset + limit]
    if len(ids) < limit and offset + len(ids) < ranked.total:
        later = max(0, offset - len(ranked.fused))
        more, _total = await storage.word_matches(
            query, now, limit - len(ids), offset=ranked.words_from + later
        )
        fused = set(ranked.fused)
        ids += [id_ for id_ in more if id_ not in fused]
    return await storage.listings_in_order(ids, query), ranked.total
