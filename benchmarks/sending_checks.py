"""What the outbox's check of a match card costs when it sends one: the reads that decide
whether the news still holds (both listings open, the reader still keeps theirs, the match
stored and not marked not relevant, someone still answering for the other listing), as six
reads (the code before, its storage methods still there) and as the one read the renderer
makes now (``Storage.match_at_sending``). Alert hits likewise: four reads (alert, its
person, the listing, whether someone answers for it) against one.

    .venv/bin/python -m benchmarks.sending_checks               # 2,000 pairs, 3 rounds
    .venv/bin/python -m benchmarks.sending_checks --pairs 5000

Seeds a fresh SQLite file with people of several municipalities, pairs of matching listings
and their stored matches, one alert a person; then checks every pair (and every hit) with
each way in turn, alternating, and prints the CPU time and wall time per check (median of
the rounds). Only the reads are timed, not rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from benchmarks._common import machine_line, make_bot_importable

make_bot_importable()

from bot.matching.types import FoundMatch, Matched  # noqa: E402
from bot.storage import AlertDraft, NewListing, Profile, Storage  # noqa: E402

NOW = 1_800_000_000
PLACES = ("Saint-Dié", "Épinal", "Nancy", "Metz", "Colmar", "Reims", "Troyes", "Dijon")


async def seed(
    storage: Storage, pairs: int
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
    """``pairs`` (request, offer, reader) triples with their matches, and as many alert hits
    (alert, listing, reader)."""
    people = max(10, pairs // 10)
    for person in range(1, people + 1):
        await storage.register_member(person, f"P{person}", "fr")
        role = "municipality" if person % 2 else "volunteer"
        await storage.save_profile(person, Profile(role, "FR", PLACES[person % len(PLACES)]))
    found: list[tuple[int, int, int]] = []
    hits: list[tuple[int, int, int]] = []
    for index in range(pairs):
        reader, author = 1 + index % people, 1 + (index + 1) % people
        request = await publish(storage, reader, "request", f"Besoin d'une pompe {index}")
        offer = await publish(storage, author, "offer", f"Pompe à prêter {index}")
        match = FoundMatch(request, offer, 0.8, ("category",))
        await storage.save_matches([Matched(request, [match], [])], NOW)
        found.append((request, offer, reader))
        if index < people:
            draft = AlertDraft("offer", ("equipment",), (), "europe")
            alert = await storage.save_alert(reader, draft, now=NOW)
            assert alert is not None
            hits.append((alert.id, offer, reader))
    return found, hits


async def publish(storage: Storage, owner: int, kind: str, title: str) -> int:
    listing = NewListing(
        kind=kind, category="equipment", tags=("fire_rescue",), title=title,
        description="Une pompe portative en bon état.", language="fr", country="FR",
        region="Grand Est", place="Saint-Dié", reach="country", duration_days=30,
    )  # fmt: skip
    await storage.save_draft(owner, {"seeded": True}, NOW)
    published = await storage.publish(owner, listing, now=NOW, daily_limit=10**6)
    assert published is not None
    return published.id


async def six_reads(storage: Storage, mine: int, other: int, reader: int) -> bool:
    """The match card's check before: two open_listing, manageable_listing, unattended,
    match_between, dismissed."""
    first, second = await storage.get_listing(mine), await storage.get_listing(other)
    if first is None or second is None:
        return False
    if await storage.manageable_listing(mine, reader) is None:
        return False
    if await storage.unattended(other):
        return False
    match = await storage.match_between(mine, other)
    return match is not None and not await storage.dismissed(match.id, reader)


async def one_read(storage: Storage, mine: int, other: int, reader: int) -> bool:
    found = await storage.match_at_sending(mine, other, reader)
    return found.match is not None and found.keeps and found.other_attended and not found.dismissed


async def four_reads(storage: Storage, alert_id: int, listing: int, reader: int) -> bool:
    """The alert hit's check before: the alert, its person, the listing, unattended."""
    alert = await storage.get_alert(alert_id)
    member = await storage.get_member(reader)
    if None in (alert, member, await storage.get_listing(listing)):
        return False
    return not await storage.unattended(listing)


async def one_hit_read(storage: Storage, alert_id: int, listing: int, reader: int) -> bool:
    return await storage.hit_at_sending(alert_id, listing) is not None


Check = Callable[[Storage, int, int, int], Awaitable[bool]]


async def timed(
    storage: Storage, check: Check, cases: list[tuple[int, int, int]]
) -> tuple[float, float]:
    """CPU and wall seconds per check over every case."""
    cpu, wall = time.process_time(), time.perf_counter()
    held = [await check(storage, *case) for case in cases]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert any(held), "no case holds: the seeding is wrong"
    return cpu / len(cases), wall / len(cases)


async def run(pairs: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        storage = await Storage.open(Path(folder) / "bench.sqlite3")
        try:
            found, hits = await seed(storage, pairs)
            ways: dict[str, tuple[Check, list[tuple[int, int, int]]]] = {
                "match card, six reads (before)": (six_reads, found),
                "match card, one read (now)": (one_read, found),
                "alert hit, four reads (before)": (four_reads, hits),
                "alert hit, one read (now)": (one_hit_read, hits),
            }
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
            for _round in range(rounds):  # alternating, so that load shifts hit both alike
                for name, (check, cases) in ways.items():
                    figures[name].append(await timed(storage, check, cases))
        finally:
            await storage.close()
    print(machine_line())
    print(f"{pairs:,} match pairs, {len(hits):,} alert hits, {rounds} rounds (median)")
    for name, runs in figures.items():
        cpu = statistics.median(c for c, _w in runs) * 1e6
        wall = statistics.median(w for _c, w in runs) * 1e6
        print(f"  {name:34} {cpu:7.0f} µs CPU  {wall:7.0f} µs wall per check")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.pairs, args.rounds))


if __name__ == "__main__":
    main()
