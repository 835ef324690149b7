"""Matching at scale: seed N listings (default 1,000,000) into a fresh database, then time
matching one new listing (p50/p95 over ``--samples`` new listings), a matching pass over
``--pass-listings`` new listings (matches stored, notifications queued, listings marked, as
the bot's job does it), and report the peak memory of the matching process (the seeding
runs in a process of its own).

    .venv/bin/python -m benchmarks.matching                 # 1,000,000 listings
    .venv/bin/python -m benchmarks.matching --listings 100000
    .venv/bin/python -m benchmarks.matching --database /tmp/seeded.sqlite3   # seed once, reuse

The spread is meant to look like the real thing: 40 countries of different sizes with about
ten regions each, 11 categories and their tags, both kinds, a mix of reaches, coordinates for
most, a handful of languages, words drawn from per-category vocabularies (so some words are
rare and some common), listings of the last six months of which some have expired or closed.
Every listing has a vector, as the bot stores them (binary code and int8, bot/semantic): real
embeddings of the quality set's listings of the same category (tests/data/crosslingual, by the
bot's model), each moved by noise so that a listing is as close to its source as two listings
about the same thing in two languages are (cosine about 0.8). The model is loaded in this
process, so the peak memory counts it; embedding a new listing's text is timed on its own.
Targets: p95 ≤ 20 ms per listing, pass ≤ 30 s for 10,000, peak ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import shutil
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks._common import stat_cpu
from benchmarks.quality import load_set
from bot.matching.matcher import Lookups, match_listing, matching_pass
from bot.matching.types import Features, Subject
from bot.memory import collect_less, limit_arenas
from bot.places.countries import COUNTRIES
from bot.semantic.embedder import DEFAULT_MODEL
from bot.semantic.service import Semantics
from bot.storage import Storage, fold
from bot.taxonomy import CATEGORIES, REACHES

DAY = 86_400
NOW = 1_760_000_000
LANGUAGES_BY_COUNTRY = {
    "BG": "bg", "FR": "fr", "BE": "fr", "LU": "fr", "DE": "de", "AT": "de",
    "CH": "de", "LI": "de", "IT": "it", "ES": "es", "PL": "pl", "RO": "ro",
}  # fmt: skip
REACH_WEIGHTS = (25, 35, 28, 12)  # municipality, region, country, europe
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "pri", "sto", "gra", "den", "mar",
             "lin", "bor", "zel", "pom", "tur", "fen", "kol"]  # fmt: skip


def word(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))


class World:
    """Countries with sizes, regions with centres, vocabularies per category and language."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.countries = list(COUNTRIES)
        # A few big countries, many small ones.
        self.country_weights = [1.0 / (rank + 1) ** 0.7 for rank in range(len(self.countries))]
        self.centres = {
            c: (rng.uniform(36, 68), rng.uniform(-9, 30)) for c in self.countries
        }  # fmt: skip
        self.languages = sorted({*LANGUAGES_BY_COUNTRY.values(), "en"})
        self.vocabulary = {
            (category.key, language): [word(rng, language[0]) for _ in range(60)]
            for category in CATEGORIES
            for language in self.languages
        }
        self.common = {language: [word(rng, "") for _ in range(150)] for language in self.languages}

    def text(self, category: str, language: str, count: int) -> str:
        rng = self.rng
        special = self.vocabulary[(category, language)]
        common = self.common[language]
        return " ".join(
            rng.choice(special) if rng.random() < 0.4 else rng.choice(common) for _ in range(count)
        )

    def listing(self, listing_id: int, owner: int, *, published_at: int) -> tuple:
        rng = self.rng
        country = rng.choices(self.countries, self.country_weights)[0]
        region = f"R{rng.randint(0, 9)}"
        lat0, lon0 = self.centres[country]
        has_point = rng.random() < 0.7
        lat = lat0 + rng.uniform(-1.5, 1.5) if has_point else None
        lon = lon0 + rng.uniform(-2, 2) if has_point else None
        category = rng.choice(CATEGORIES)
        language = LANGUAGES_BY_COUNTRY.get(country, "en")
        if rng.random() < 0.15:
            language = rng.choice(self.languages)
        tags = rng.sample(category.tags, rng.choice((0, 1, 1, 2, 2, 3)))
        title = self.text(category.key, language, rng.randint(3, 6))
        description = self.text(category.key, language, rng.randint(12, 30))
        duration = rng.choice((7, 30, 91, 182))
        status = "open" if rng.random() < 0.88 else rng.choice(("closed", "fulfilled"))
        return (
            listing_id,
            owner,
            rng.choice(("offer", "request")),
            category.key,
            title,
            description,
            language,
            country,
            region,
            f"P{rng.randint(0, 40)}",
            lat,
            lon,
            rng.choices(REACHES, REACH_WEIGHTS)[0],
            status,
            published_at,
            published_at + duration * DAY,
            tags,
        )


# Noise added to a source embedding: two listings made from the same source have a cosine of
# about 1 / (1 + 384 * NOISE**2) ≈ 0.77, as two listings about the same thing in two languages.
NOISE = 0.028


class Vectors:
    """Realistic vectors for seeded listings (see the module's docstring)."""

    def __init__(self, model: str, sources: dict[str, np.ndarray], seed: int) -> None:
        self.model = model
        self.sources = sources  # category -> (n, dimension) unit vectors
        self.rng = np.random.default_rng(seed)

    def rows(self, listings: list[tuple]) -> list[tuple]:
        """(listing_id, model, code, vector, scale, seq) for each listing, by its category."""
        made = np.empty((len(listings), 384), np.float32)
        for number, row in enumerate(listings):
            source = self.sources[row[3]]
            made[number] = source[self.rng.integers(len(source))]
        made += self.rng.normal(0, NOISE, made.shape).astype(np.float32)
        made /= np.linalg.norm(made, axis=1, keepdims=True)
        codes = np.packbits(made > 0, axis=1)
        scales = np.abs(made).max(axis=1) / 127
        components = np.rint(made / scales[:, None]).astype(np.int8)
        return [
            (
                row[0],
                self.model,
                codes[n].tobytes(),
                components[n].tobytes(),
                float(scales[n]),
                row[0],
            )
            for n, row in enumerate(listings)
        ]


async def source_vectors() -> tuple[Semantics, dict[str, np.ndarray]]:
    """The model, loaded here, and the quality set's listings embedded, by category."""
    semantics = Semantics(DEFAULT_MODEL)
    listings, _queries = load_set()
    stored = await semantics.passages([(item["title"], item["description"]) for item in listings])
    assert stored is not None, "the embedding model did not load"
    sources: dict[str, list[np.ndarray]] = {}
    for item, vector in zip(listings, stored, strict=True):
        unit = np.frombuffer(vector.vector, np.int8).astype(np.float32)
        sources.setdefault(item["category"], []).append(unit / np.linalg.norm(unit))
    return semantics, {category: np.stack(found) for category, found in sources.items()}


LISTING_INSERT = """
INSERT INTO listings (id, owner_id, kind, category, title, description, language, country,
    region, place, latitude, longitude, reach, status, published_at, expires_at,
    status_changed_at, matched_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def insert(
    db: sqlite3.Connection, rows: list[tuple], matched: bool, vectors: Vectors | None = None
) -> None:
    # Tags before their listings: adding a tag makes a matched listing new to matching again
    # (migration 0004's trigger), which a seeded listing must not be.
    db.executemany(
        "INSERT INTO listing_tags (listing_id, tag) VALUES (?, ?)",
        [(row[0], tag) for row in rows for tag in row[16]],
    )
    db.executemany(
        LISTING_INSERT,
        [(*row[:16], row[14], row[14] if matched else None) for row in rows],
    )
    db.executemany(
        "INSERT INTO listings_text (rowid, title, description) VALUES (?, ?, ?)",
        [(row[0], fold(row[4]), fold(row[5])) for row in rows],
    )
    if vectors is not None:
        db.executemany(
            "INSERT INTO listing_vectors (listing_id, model, code, vector, scale, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            vectors.rows(rows),
        )


def chunks(world: World, first: int, count: int, users: int, size: int = 20_000) -> Iterator[list]:
    for start in range(first, first + count, size):
        yield [
            world.listing(
                listing_id,
                world.rng.randint(1, users),
                published_at=NOW - int(world.rng.random() ** 1.5 * 180 * DAY),
            )
            for listing_id in range(start, min(start + size, first + count))
        ]


async def create(path: Path) -> None:
    """The schema, exactly as the bot's migrations make it."""
    storage = await Storage.open(path)
    await storage.close()


def seed(path: Path, world: World, count: int, users: int, vectors: Vectors) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -65536")
    # Bulk loading: drop the listings' indexes and build them once at the end, as one would
    # for an import; the schema afterwards is exactly the migrations'.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('listings', 'listing_tags', 'listing_vectors')"
    ).fetchall()
    db.execute("BEGIN")
    for name, _sql in indexes:
        db.execute(f"DROP INDEX {name}")
    db.executemany(
        "INSERT INTO users (id, first_name, language, role, country, onboarded_at) "
        "VALUES (?, 'Bench', 'en', 'volunteer', ?, '2025-01-01')",
        ((user, world.rng.choice(world.countries)) for user in range(1, users + 1)),
    )
    db.executemany(
        "INSERT INTO notification_settings (user_id, frequency, quiet_start, quiet_end, "
        "updated_at) VALUES (?, ?, 22, 8, 0)",
        ((user, world.rng.choice(("daily", "weekly"))) for user in range(1, users + 1, 10)),
    )
    db.executemany(
        "INSERT INTO alerts (user_id, kind, categories, tags, area, country, region, latitude, "
        "longitude, radius_km, keywords, frequency, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, 0, 0)",
        (alert(world, users) for _ in range(args_alerts(users))),
    )
    for rows in chunks(world, 1, count, users):
        insert(db, rows, matched=True, vectors=vectors)
    for _name, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.close()


def args_alerts(users: int) -> int:
    return max(100, users // 50)


def alert(world: World, users: int) -> tuple:
    """A saved search: mostly one category in one's country or region, some with tags, a
    few Europe-wide or around a point; most want a digest."""
    rng = world.rng
    category = rng.choice(CATEGORIES)
    country = rng.choices(world.countries, world.country_weights)[0]
    area = rng.choices(("region", "country", "europe", "radius"), (25, 55, 10, 10))[0]
    lat, lon = world.centres[country]
    tags = " ".join(rng.sample(category.tags, 1)) if rng.random() < 0.5 else ""
    return (
        rng.randint(1, users),
        rng.choice(("offer", "request", None)),
        category.key,
        tags,
        area,
        country,
        f"R{rng.randint(0, 9)}",
        lat,
        lon,
        50.0,
        rng.choices(("instant", "daily", "weekly"), (40, 40, 20))[0],
    )


def subject(row: tuple) -> Subject:
    features = Features(
        id=row[0], owner_id=row[1], municipality_id=None, kind=row[2], category=row[3],
        tags=frozenset(row[16]), country=row[7], region=row[8], place=row[9], latitude=row[10],
        longitude=row[11], reach=row[12], language=row[6], published_at=row[14],
    )  # fmt: skip
    return Subject(features, "open", row[15], fold(f"{row[4]} {row[5]}"))


def cpu_seconds() -> float:
    """CPU time of the process, all threads (the database's included): unlike the clock, it
    does not count waiting for a machine shared with other work."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu() -> dict[str, float]:
    """CPU seconds of the event loop's thread, the database's (aiosqlite's) and all the
    others, from /proc/self/task (user and system time, in clock ticks)."""
    names = {threading.main_thread().native_id: "event loop"}
    names.update(
        (thread.native_id, "database")
        for thread in threading.enumerate()
        if "_connection_worker_thread" in thread.name
    )
    found: dict[str, float] = {"event loop": 0.0, "database": 0.0, "others": 0.0}
    for task in os.listdir("/proc/self/task"):  # one that ended meanwhile counts 0
        found[names.get(int(task), "others")] += stat_cpu(f"/proc/self/task/{task}/stat")
    return found


def io_counts() -> dict[str, int]:
    """The process's bytes read and written through system calls (SQLite's page reads and
    its writes to the WAL and, at checkpoints, to the database file) and how many calls:
    unlike CPU time, these hardly depend on what else the machine is doing."""
    with open("/proc/self/io") as counters:
        pairs = (line.split(":") for line in counters)
        return {name: int(value) for name, value in pairs}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def embedding_times(semantics: Semantics) -> None:
    """Embedding a new listing's text (title and description), as publishing does: p50/p95."""
    listings, _queries = load_set()
    timings = []
    for item in listings[:60]:
        started = time.perf_counter()
        await semantics.passage(item["title"], item["description"])
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"embed one new listing (at publish time, not part of matching): "
        f"p50 {statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms"
    )


async def measure(
    path: Path, world: World, args: argparse.Namespace, semantics: Semantics, vectors: Vectors
) -> None:
    await embedding_times(semantics)
    storage = await Storage.open(path)
    collect_less()  # as the bot does once it is up (bot/__main__.py)
    now = NOW
    first_new = args.listings + 1  # new listings get ids after the seeded ones
    rows = [
        world.listing(first_new + i, world.rng.randint(1, args.users), published_at=now)
        for i in range(args.samples)
    ]
    # Published (with their vectors) but left out of the pass: matched one by one below.
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    insert(db, [(*row[:13], "open", *row[14:]) for row in rows], matched=True, vectors=vectors)
    db.execute("COMMIT")
    db.close()
    samples = [subject(row) for row in rows]
    # As in the running bot: one set of lookups (alerts, word counts, vectors) across
    # listings, and a warm page cache.
    lookups = Lookups(storage, semantics)
    for sample in samples[:20]:
        await match_listing(storage, sample, now, lookups)
    timings, found = [], []
    for sample in samples:
        started = time.perf_counter()
        result = await match_listing(storage, sample, now, lookups)
        timings.append((time.perf_counter() - started) * 1000)
        found.append(len(result.found))
    print(
        f"match one listing: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {percentile(timings, 0.95):.2f} ms, max {max(timings):.2f} ms "
        f"({statistics.mean(found):.1f} matches on average, over {len(samples)} listings)"
    )

    candidates = await storage.match_candidates(samples[0].features, now)
    print(f"  candidates for one listing: {len(candidates)}")

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    pass_first = first_new + args.samples
    for rows in chunks(world, pass_first, args.pass_listings, args.users):
        fresh = [(*row[:13], "open", now, now + row[15] - row[14], row[16]) for row in rows]
        insert(db, fresh, matched=False, vectors=vectors)
    db.execute("COMMIT")
    db.close()
    cpu_before = cpu_seconds()
    threads_before = thread_cpu()
    io_before = io_counts()
    started = time.perf_counter()
    done, _instant = await matching_pass(
        storage, lambda: now, seconds=float("inf"), lookups=lookups
    )
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    threads = {name: value - threads_before[name] for name, value in thread_cpu().items()}
    io = {name: value - io_before[name] for name, value in io_counts().items()}
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    (stored,) = await storage._fetchone("SELECT count(*) FROM matches")  # type: ignore[misc]
    queued = await storage.outbox_counts()
    (digests,) = await storage._fetchone("SELECT count(*) FROM digest_items")  # type: ignore[misc]
    (meaning,) = await storage._fetchone(  # type: ignore[misc]
        "SELECT count(*) FROM matches WHERE reasons LIKE '%meaning%'"
    )
    print(
        f"pass over {done:,} new listings: {elapsed:.1f} s ({done / elapsed:,.0f} listings/s, "
        f"{cpu:.1f} s of CPU); "
        f"{stored:,} matches stored ({meaning:,} with a similar description), "
        f"{queued.get('pending', 0):,} outbox rows, "
        f"{digests:,} digest items"
    )
    print("  its CPU by thread: " + ", ".join(f"{n} {v:.1f} s" for n, v in threads.items()))
    print(
        f"  its reads and writes: {io['rchar'] / 2**20:,.0f} MB read in {io['syscr']:,} calls, "
        f"{io['wchar'] / 2**20:,.0f} MB written in {io['syscw']:,} calls; "
        f"the WAL on disk after it: {wal_size:,.0f} MB"
    )
    await storage.close()


def seed_into(
    path: Path, args: argparse.Namespace, model: str, sources: dict[str, np.ndarray]
) -> None:
    """Seed in a child process: the figures below are the matching's, not the loader's."""
    started = time.perf_counter()
    asyncio.run(create(path))
    vectors = Vectors(model, sources, args.seed)
    seed(path, World(random.Random(args.seed)), args.listings, args.users, vectors)
    size = path.stat().st_size / 2**20
    print(
        f"seeded {args.listings:,} listings, {args.users:,} people in "
        f"{time.perf_counter() - started:.0f} s ({size:,.0f} MB)",
        flush=True,
    )


def main() -> None:
    limit_arenas()  # as the bot does at start-up (bot/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--pass-listings", type=int, default=10_000)
    parser.add_argument(
        "--database", type=Path, help="seed here once and reuse it (default: a temporary file)"
    )
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    semantics, sources = asyncio.run(source_vectors())
    model = semantics.model_name()
    assert model is not None
    with tempfile.TemporaryDirectory() as scratch:
        seeded = args.database or Path(scratch) / "seeded.sqlite3"
        if not seeded.exists():
            child = multiprocessing.get_context("spawn").Process(
                target=seed_into, args=(seeded, args, model, sources)
            )
            child.start()
            child.join()
            if child.exitcode:
                raise SystemExit("seeding failed")
        # Measure on a copy: the pass adds listings, matches and notifications.
        with sqlite3.connect(seeded) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
        path = Path(scratch) / "bench.sqlite3"
        shutil.copyfile(seeded, path)
        world = World(random.Random(args.seed))  # the same places and words as seeded
        world.rng = random.Random(args.seed + 1)  # but other listings
        vectors = Vectors(model, sources, args.seed + 1)
        asyncio.run(measure(path, world, args, semantics, vectors))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (matching process): {peak:.0f} MB")


if __name__ == "__main__":
    main()
