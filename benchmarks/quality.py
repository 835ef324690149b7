"""Search quality across languages, on the quality set (tests/data/crosslingual): 206 listings
in the bot's 29 languages and 84 searches as people type them, each with the concepts whose
listings answer it.

    .venv/bin/python -m benchmarks.quality              # words only, then words and meaning
    .venv/bin/python -m benchmarks.quality --misses     # and the searches that miss

The listings are published through the bot's storage (with their vectors, as the posting
dialog does) into a fresh database, and each search runs through the bot's own search: today's
words-only search (FTS5) and the hybrid one (bot/semantic/search.py). For each search:

- **cross-language**: the listings written in the search's language are left out of its
  results; the relevant ones are those of its concepts in the other languages;
- **same-language**: only the listings in the search's language count (searches that have
  relevant listings in their own language).

recall@3: the share of the first three results that are relevant, out of at most three (all
relevant when there are fewer); MRR: the mean of 1/rank of the first relevant result (0 when
none is among the first 30).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.semantic import search as hybrid
from bot.semantic.embedder import DEFAULT_MODEL
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import NewListing, Profile, SearchQuery, Storage

SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "crosslingual"
NOW = 1_760_000_000
DEPTH = 30  # results looked at per search


@dataclass
class Scores:
    recall: list[float] = field(default_factory=list)
    reciprocal: list[float] = field(default_factory=list)

    def add(self, ranked: list[int], relevant: set[int]) -> None:
        top = ranked[:3]
        self.recall.append(len(relevant & set(top)) / min(3, len(relevant)))
        first = next((rank for rank, id_ in enumerate(ranked, 1) if id_ in relevant), None)
        self.reciprocal.append(1 / first if first else 0.0)

    def line(self) -> str:
        if not self.recall:
            return "no searches"
        return (
            f"recall@3 {statistics.mean(self.recall):.3f}  MRR "
            f"{statistics.mean(self.reciprocal):.3f}  ({len(self.recall)} searches)"
        )


@dataclass
class Report:
    cross: Scores = field(default_factory=Scores)
    same: Scores = field(default_factory=Scores)
    misses: list[str] = field(default_factory=list)


def load_set() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    listings = json.loads((SET / "listings.json").read_text(encoding="utf-8"))["listings"]
    queries = json.loads((SET / "queries.json").read_text(encoding="utf-8"))["queries"]
    return listings, queries


async def publish_set(
    storage: Storage, semantics: Semantics, listings: list[dict[str, Any]]
) -> dict[int, int]:
    """Publish every listing of the set (one author each, as the posting dialog would: the
    vector made first, then stored with the listing). Returns set id -> listing id."""
    vectors = await semantics.passages([(item["title"], item["description"]) for item in listings])
    ids = {}
    for number, item in enumerate(listings):
        owner = 10_000 + item["id"]
        await storage.register_member(owner, f"Author {item['id']}", item["language"])
        await storage.save_profile(owner, Profile(role="municipality", country="FR", place="X"))
        await storage.save_draft(owner, {"set": item["id"]}, NOW)
        new = NewListing(
            kind=item["kind"], category=item["category"], tags=tuple(item["tags"]),
            title=item["title"], description=item["description"], language=item["language"],
            country="FR", region="", place="X", reach="europe", duration_days=30,
        )  # fmt: skip
        vector = vectors[number] if vectors else None
        published = await storage.publish(owner, new, now=NOW, daily_limit=10, vector=vector)
        assert published is not None
        ids[item["id"]] = published.id
    return ids


async def evaluate(model: str = DEFAULT_MODEL, *, hybrid_search: bool = True) -> Report:
    """Publish the set into a fresh database and score every search (see the docstring)."""
    listings, queries = load_set()
    semantics = Semantics(model)
    meaning = Meaning(semantics) if hybrid_search else None
    report = Report()
    with tempfile.TemporaryDirectory() as folder:
        storage = await Storage.open(Path(folder) / "quality.sqlite3")
        try:
            ids = await publish_set(storage, semantics, listings)
            language_of = {ids[item["id"]]: item["language"] for item in listings}
            concept_of = {ids[item["id"]]: item["concept"] for item in listings}
            if meaning is not None:
                await meaning.catch_up(storage)
            for query in queries:
                wanted = SearchQuery(words=query["text"])
                if meaning is None:
                    found, _total = await storage.search(wanted, now=NOW, limit=200)
                else:
                    found, _total = await hybrid.search(
                        storage, meaning, wanted, now=NOW, limit=200
                    )
                ranked = [listing.id for listing in found]
                relevant = {
                    id_ for id_, concept in concept_of.items() if concept in query["relevant"]
                }
                language = query["language"]
                others = [id_ for id_ in ranked if language_of[id_] != language]
                report.cross.add(
                    others[:DEPTH], {i for i in relevant if language_of[i] != language}
                )
                own = {i for i in relevant if language_of[i] == language}
                if own:
                    mine = [id_ for id_ in ranked if language_of[id_] == language]
                    report.same.add(mine[:DEPTH], own)
                if report.cross.recall[-1] < 1:
                    shown = ", ".join(f"{concept_of[i]}/{language_of[i]}" for i in others[:3])
                    report.misses.append(f"{language} {query['text']!r}: {shown or 'nothing'}")
        finally:
            await storage.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--misses", action="store_true", help="list the searches that miss")
    args = parser.parse_args()
    for title, use_meaning in (("words only (FTS5, today)", False), ("words and meaning", True)):
        started = time.perf_counter()
        report = asyncio.run(evaluate(args.model, hybrid_search=use_meaning))
        print(f"{title}  [{time.perf_counter() - started:.1f} s]")
        print(f"  cross-language: {report.cross.line()}")
        print(f"  same-language:  {report.same.line()}")
        if args.misses:
            for miss in report.misses:
                print(f"    miss: {miss}")


if __name__ == "__main__":
    main()
