"""Benchmark: a broadcast to 10,000 people under Telegram's limits, and the people using the bot
meanwhile.

The local Bot API server (bot.sandbox) limits the bot to L messages a second overall and one a
second per chat, answering 429 beyond, as Telegram does. The bot runs as its own process
(``python -m bot``, SEND_RATE_LIMIT=L) on a database holding N volunteers who have opened the
chat. An admin writes the broadcast through the real composer (/broadcast → volunteers → send
now); a person who is not in the audience sends /help about once a second, idle first, then
during the broadcast, and the time until the reply arrives is measured.

Reported: the achieved delivery rate over the steady state (10 % to 90 % of deliveries) as a
share of L, the number of 429 answers, and the interactive round trip p50/p95 idle and during
the broadcast (target: p95 during ≤ 2 × idle).

    .venv/bin/python benchmarks/broadcast.py [--recipients 10000] [--limit 30] [--probes 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.i18n import translator  # noqa: E402
from bot.sandbox.server import BotApiServer  # noqa: E402
from bot.sandbox.users import SandboxUser  # noqa: E402
from bot.storage import Storage  # noqa: E402

TOKEN = "1234567890:" + "B" * 35
ADMIN_ID = 900_000_001
MARK = "«bench»"
E = translator("en").gettext


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def round_trip(user: SandboxUser) -> float:
    started = time.monotonic()
    await user.send_text("/help")
    await user.wait_for_bot_message(timeout=30)
    return time.monotonic() - started


async def probe(user: SandboxUser, count: int | None, stop: asyncio.Event) -> list[float]:
    """/help, the next 1.1 s after each reply (the per-chat limit), ``count`` times or until
    ``stop``."""
    found: list[float] = []
    while (count is None or len(found) < count) and not stop.is_set():
        found.append(await round_trip(user))
        await asyncio.sleep(1.1)  # after the reply: the chat may get one message a second
    return found


def deliveries(server: BotApiServer) -> list[tuple[float, int]]:
    """(time, chat) of each broadcast message the server accepted, previews left out."""
    return [
        (c.time, int(c.params["chat_id"]))
        for c in server.calls
        if c.method == "sendMessage" and c.ok and MARK in c.params.get("text", "")
        and int(c.params["chat_id"]) != ADMIN_ID
    ]  # fmt: skip


async def prepare(database: Path, server: BotApiServer, recipients: int) -> None:
    """N volunteers who opened the chat, in the sandbox and in the bot's database."""
    storage = await Storage.open(database)
    rows = []
    for i in range(recipients):
        user = server.create_user(f"V{i}", language_code=("en", "fr", "de", "bg")[i % 4])
        user.chat.started = True
        rows.append((user.id, user.first_name, user.account.language_code))
    async with storage.transaction() as db:
        await db.executemany(
            "INSERT INTO users (id, first_name, language, role, country, onboarded_at) "
            "VALUES (?, ?, ?, 'volunteer', 'FR', '2025-01-01T00:00:00.000Z')",
            rows,
        )
    await storage.close()


async def tap(user: SandboxUser, label: str) -> None:
    await user.press(label)
    await user.wait_for_bot_message(timeout=30)


async def compose(admin: SandboxUser) -> None:
    """The real composer: English text, volunteers only, now; then confirm."""
    await admin.send_text("/broadcast")
    await admin.wait_for_bot_message(timeout=30)
    await tap(admin, "English")
    await admin.send_text(f"<b>Community Sharing</b> has news for volunteers {MARK}")
    await admin.wait_for_bot_message(timeout=30)
    await tap(admin, E("➡ Choose the audience"))
    await admin.press(E("🤝 Volunteer"))
    await admin.wait_for_bot_message(timeout=30, include_edits=True)
    await tap(admin, E("➡ Continue"))
    await admin.press(E("🚀 Send now"))
    await admin.wait_for_bot_message(lambda m: "Send this announcement" in (m.text or ""), 60)
    await admin.press(E("✅ Send it"))


async def main(recipients: int, limit: float, probes: int) -> dict[str, float]:
    server = BotApiServer(host="127.0.0.1", port=0)
    await server.start()
    server.add_bot(token=TOKEN, username="community_sharing_bot", first_name="Community Sharing")
    server.set_rate_limits(global_per_second=limit, per_chat_per_second=1, per_chat_burst=1)
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    database = workdir / "bot.sqlite3"
    await prepare(database, server, recipients)
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "SEND_RATE_LIMIT": str(limit),
        "ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    log = (workdir / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        admin = server.create_user("Admin", language_code="en", user_id=ADMIN_ID)
        reader = server.create_user("Reader", language_code="en")
        await round_trip(reader)  # the bot is up (and the reader registered)
        await asyncio.sleep(1.1)
        idle = await probe(reader, probes, asyncio.Event())

        await compose(admin)
        started = time.monotonic()
        calls_before = len(server.calls)
        stop = asyncio.Event()
        during_task = asyncio.create_task(probe(reader, None, stop))
        while len(deliveries(server)) < recipients:
            await asyncio.sleep(0.5)
            if process.returncode is not None:
                raise RuntimeError(f"the bot stopped; see {workdir / 'bot.log'}")
        elapsed = time.monotonic() - started
        stop.set()
        during = await during_task
        await admin.wait_for_bot_message(lambda m: "is finished" in (m.text or ""), 30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        log.close()
        await server.stop()

    delivered = deliveries(server)
    times = sorted(at for at, _chat in delivered)
    low, high = times[len(times) // 10], times[len(times) * 9 // 10]
    steady = (len(times) * 9 // 10 - len(times) // 10) / (high - low)
    figures = {
        "recipients": recipients,
        "limit": limit,
        "delivered": len(times),
        "distinct": len({chat for _at, chat in delivered}),
        "seconds": elapsed,
        "steady_rate": steady,
        "rate_share": steady / limit,
        "rate_limited_429": sum(1 for c in server.calls[calls_before:] if c.status == 429),
        "broadcast_429": sum(
            1
            for c in server.calls[calls_before:]
            if c.status == 429 and MARK in c.params.get("text", "")
        ),
        "idle_p50": statistics.median(idle),
        "idle_p95": percentile(idle, 0.95),
        "during_p50": statistics.median(during),
        "during_p95": percentile(during, 0.95),
        "during_probes": len(during),
    }
    figures["p95_ratio"] = figures["during_p95"] / figures["idle_p95"]
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=30.0, help="L, messages a second")
    parser.add_argument("--probes", type=int, default=30, help="idle /help round trips")
    args = parser.parse_args()
    found = asyncio.run(main(args.recipients, args.limit, args.probes))
    print(f"broadcast to {found['recipients']:,} recipients, server limit L = {args.limit:g}/s")
    print(
        f"  delivered {found['delivered']:,} messages to {found['distinct']:,} people "
        f"in {found['seconds']:.1f} s"
    )
    print(
        f"  steady-state rate {found['steady_rate']:.2f}/s = {found['rate_share']:.3f} × L; "
        f"429 answers during delivery: {found['rate_limited_429']} "
        f"({found['broadcast_429']} to broadcast messages)"
    )
    print(
        f"  /help round trip idle p50 {found['idle_p50'] * 1000:.0f} ms, "
        f"p95 {found['idle_p95'] * 1000:.0f} ms; during p50 {found['during_p50'] * 1000:.0f} ms, "
        f"p95 {found['during_p95'] * 1000:.0f} ms ({found['during_probes']} probes); "
        f"p95 during / idle = {found['p95_ratio']:.2f}"
    )
