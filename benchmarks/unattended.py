"""What keeping unattended listings out of sight costs: browse pages and counts, word search,
and the pass's read of the listings whose author left (bot/storage/verification.py,
RELEASED_LISTINGS), on the world of ``benchmarks/matching.py`` where most people speak for a
municipality and some left it.

    .venv/bin/python -m benchmarks.unattended                    # 200,000 listings
    .venv/bin/python -m benchmarks.unattended --listings 1000000 --database /tmp/u.sqlite3

The world is seeded without vectors, then: two people in three are officials of one of
``users / 8`` municipalities (their listings posted for it), one municipality in three has a
verified official, and ``--left`` (a share) of the officials left theirs after posting. Each
browse and search statement is timed as the bot runs it and with the condition
(``not_unattended``) taken out of the same text, alternately, on the same database: p50/p95
of wall time and p95 of CPU time (all threads) over ``--samples`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.matching import NOW, World, create, seed
from bot.storage import SearchQuery, Storage
from bot.storage.listings import search_statements
from bot.storage.verification import not_unattended
from bot.taxonomy import CATEGORIES


def officials(path: Path, users: int, left: float, rng: random.Random) -> int:
    """Make two people in three municipality officials, verify one municipality's in three,
    and let a share ``left`` of the officials leave after posting. Returns how many left."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    municipalities = max(1, users // 8)
    db.executemany(
        "INSERT INTO municipalities (id, name, name_key, country) VALUES (?, ?, ?, 'FR')",
        ((m, f"M{m}", f"m{m}") for m in range(1, municipalities + 1)),
    )
    chosen = [u for u in range(1, users + 1) if rng.random() < 2 / 3]
    db.executemany(
        "UPDATE users SET role = 'municipality', municipality_id = ? WHERE id = ?",
        ((rng.randint(1, municipalities), u) for u in chosen),
    )
    db.execute(
        "UPDATE listings SET municipality_id = "
        "(SELECT municipality_id FROM users WHERE id = listings.owner_id)"
    )
    db.execute(
        "INSERT INTO verification_requests (user_id, municipality_id, status, created_at, "
        "decided_at) SELECT min(id), municipality_id, 'approved', 0, 0 FROM users "
        "WHERE municipality_id % 3 = 0 GROUP BY municipality_id"
    )
    leaving = [u for u in chosen if rng.random() < left]
    db.executemany(
        "UPDATE users SET municipality_id = NULL, role = 'volunteer', municipality_left_at = ? "
        "WHERE id = ?",
        ((NOW, u) for u in leaving),
    )
    db.execute(
        "UPDATE verification_requests SET status = 'left' WHERE user_id IN "
        "(SELECT id FROM users WHERE municipality_left_at IS NOT NULL)"
    )
    db.execute("COMMIT")
    db.close()
    return len(leaving)


async def timed(storage: Storage, sql: str, params: object, samples: int) -> list[float]:
    walls, cpus = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        await storage._fetchall(sql, params)  # type: ignore[arg-type]
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    cpus.sort()
    return [
        statistics.median(walls),
        walls[int(len(walls) * 0.95) - 1],
        cpus[int(len(cpus) * 0.95) - 1],
    ]


async def measure(path: Path, samples: int) -> None:
    storage = await Storage.open(path)
    released = await storage.released_listings()
    unattended = sum(1 for speakers in released.values() if not speakers)
    print(f"open listings whose author left: {len(released):,}; unattended: {unattended:,}")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(samples):
        await storage.released_listings()
    print(
        f"the pass's read of them: {(time.perf_counter() - wall) / samples * 1000:.2f} ms "
        f"({(time.process_time() - cpu) / samples * 1000:.2f} ms CPU) a run"
    )
    category = CATEGORIES[0].key
    queries = {
        "browse: kind + category + country": SearchQuery(
            kind="offer", category=category, country="FR"
        ),
        "browse: one category, all of Europe": SearchQuery(category=category),
        "browse: everything in a country": SearchQuery(country="FR"),
        "browse: near a point, 50 km": SearchQuery(near=(48.3, 6.9), radius_km=50),
        "search: one word, all of Europe": SearchQuery(words="pompe"),
    }
    condition = not_unattended("l")
    print("statement | with the condition p50/p95 (CPU p95) | without | ms")
    for name, query in queries.items():
        statements = search_statements(query, now=NOW, limit=5)
        assert statements is not None
        for label, statement in zip(("count", "page"), statements, strict=True):
            if statement is None:
                continue
            sql, params = statement
            bare = sql.replace(condition, "1")
            assert bare != sql
            with_, without = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
            for _round in range(2):  # alternately, so that load spikes hit both
                with_ = await timed(storage, sql, params, samples // 2)
                without = await timed(storage, bare, params, samples // 2)
            print(
                f"{name} ({label}) | {with_[0]:.2f} / {with_[1]:.2f} ({with_[2]:.2f}) | "
                f"{without[0]:.2f} / {without[1]:.2f} ({without[2]:.2f})"
            )
    await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--left", type=float, default=0.02)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--database", type=Path)
    args = parser.parse_args()
    path = args.database or Path(tempfile.mkdtemp()) / "unattended.sqlite3"
    if not path.exists():
        started = time.perf_counter()
        asyncio.run(create(path))
        seed(path, World(random.Random(4)), args.listings, args.users, None)  # type: ignore[arg-type]
        gone = officials(path, args.users, args.left, random.Random(5))
        print(
            f"seeded {args.listings:,} listings, {args.users:,} people ({gone:,} left their "
            f"municipality) in {time.perf_counter() - started:.0f} s"
        )
    asyncio.run(measure(path, args.samples))


if __name__ == "__main__":
    main()
