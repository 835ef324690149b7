"""What one update costs: Bot API calls, SQL statements and write transactions, step by step.

    .venv/bin/python -m benchmarks.per_update

Runs the real bot in this process against a local Bot API server (as the tests do), with the
scheduled jobs paused so that only the updates' own work is counted, and walks the interactive
benchmark's script (onboarding, then posting an offer: 21 updates) as one person, then a few
browse and search steps. For each update it prints the Bot API calls the bot made, the SQL
statements it ran and how many of them were write transactions (BEGIN ... COMMIT), then the
totals. Counts, not times; but "alone" (a question's record no write carried within 50 ms,
see bot/persistence.py) depends on how fast the machine answers.

    .venv/bin/python -m benchmarks.per_update --people 8

Walks the same script as 8 people at once (each with a place of their own), as a busy bot
serves them, and prints the same figures per update over all of them: a write of one person
then carries what another's is waiting to write (see bot/persistence.py). These depend a
little on timing, so a run prints slightly different figures.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.app import running
from bot.config import Settings
from bot.sandbox.server import BotApiServer
from bot.sandbox.users import SandboxUser

TOKEN = "1234567890:" + "P" * 35
VERBOSE = "--verbose" in sys.argv
# How the persistence writes a person's data carried by another write (bot/storage/ptb.py).
CARRIED = "INSERT INTO ptb_user_data (user_id, data) SELECT"
PEOPLE = int(sys.argv[sys.argv.index("--people") + 1]) if "--people" in sys.argv else 1
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from interactive import Step, our_script  # noqa: E402


class Meter:
    """Counts SQL statements (from SQLite's trace) and notices when an update is done."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.done = asyncio.Event()

    def trace(self, sql: str) -> None:
        self.statements.append(" ".join(sql.split()))


async def act(user: SandboxUser, step: Step) -> None:
    label = step.body.get("label", "")
    if step.action == "send_text":
        await user.send_text(step.body["text"])
    elif step.action == "press":
        await user.press(label)
    else:
        await user.tap_reply_button(label)


def browse_steps() -> list[Step]:
    from bot.dialogs.search import KIND_BUTTONS
    from bot.i18n import translator

    _ = translator("en").gettext
    return [
        Step("send_text", {"text": "/browse"}),
        Step("press", {"label": _(KIND_BUTTONS["offer"])}),
        Step("press", {"label": _("All categories")}),
        Step("press", {"label": _("🇪🇺 All of Europe")}),
        Step("send_text", {"text": "/search fire engine"}),
    ]


async def measure() -> None:
    server = BotApiServer(host="127.0.0.1", port=0)
    await server.start()
    server.add_bot(TOKEN, "per_update_bot")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            bot_token=TOKEN,
            api_url=server.url,
            database_path=Path(folder) / "bot.sqlite3",
            send_rate=0,
            posts_per_day=1000,
        )
        try:
            async with running(settings) as application:
                if PEOPLE > 1:
                    await crowd(server, application, PEOPLE)
                else:
                    await walk(server, application)
        finally:
            await server.stop()


async def quiet(application: Any) -> None:
    """Jobs paused, and the start-up's own writes done: what is counted is the updates'."""
    assert application.job_queue is not None
    application.job_queue.scheduler.pause()
    # The command menu is published beside the first updates at start-up: not theirs to count.
    async with asyncio.timeout(30):
        while await application.storage.published_menu(application.bot.id) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def crowd(server: BotApiServer, application: Any, count: int) -> None:
    """``count`` people walking the script at once; totals over all their updates."""
    await quiet(application)
    meter = Meter()
    await application.storage._db.set_trace_callback(meter.trace)
    processed: Callable[[object], Awaitable[None]] = application.process_update
    done: dict[int, asyncio.Event] = {}

    async def process_update(update: Any) -> None:
        await processed(update)
        done[update.effective_user.id].set()

    application.process_update = process_update
    calls_before = len(server.calls)
    cpu_before = time.process_time()

    async def person(number: int) -> int:
        user = server.create_user(f"Ana {number}", language_code="en")
        done[user.id] = asyncio.Event()
        place = f"Sveti Vlas {number}"
        for step in [*our_script(), *browse_steps()]:
            for key, value in step.body.items():
                step.body[key] = value.replace("Sveti Vlas", place)
            done[user.id].clear()
            await act(user, step)
            await asyncio.wait_for(done[user.id].wait(), 30)
        return len(our_script()) + len(browse_steps())

    n = sum(await asyncio.gather(*(person(number) for number in range(count))))
    await application.persistence.flush()  # what still waits to be carried counts too
    cpu = time.process_time() - cpu_before
    calls = [c for c in server.calls[calls_before:] if c.method != "getUpdates"]
    writes = sum(1 for s in meter.statements if s.upper().startswith("BEGIN"))
    print(
        f"{count} people at once, {n} updates: {len(calls) / n:.2f} Bot API calls, "
        f"{len(meter.statements) / n:.1f} SQL statements and {writes / n:.2f} write "
        f"transactions per update ({alone(meter.statements) / n:.2f} of them only "
        "questions confirmed sent, written on their own)"
    )
    print(f"CPU: {cpu / n * 1000:.2f} ms per update (the bot, the server and the people)")


def alone(statements: list[str]) -> int:
    """Transactions that wrote nothing but people's data carried (see bot/persistence.py)."""
    count, inside = 0, None
    for statement in statements:
        if statement.startswith("BEGIN"):
            inside = []
        elif statement.startswith("COMMIT") and inside is not None:
            count += bool(inside) and all(s.startswith(CARRIED) for s in inside)
            inside = None
        elif inside is not None:
            inside.append(statement)
    return count


async def walk(server: BotApiServer, application: Any) -> None:
    await quiet(application)
    meter = Meter()
    await application.storage._db.set_trace_callback(meter.trace)
    processed: Callable[[object], Awaitable[None]] = application.process_update

    async def process_update(update: object) -> None:
        await processed(update)
        meter.done.set()

    application.process_update = process_update
    user = server.create_user("Ana", language_code="en")
    steps = [*our_script(), *browse_steps()]
    totals: Counter[str] = Counter()
    print(f"{'step':<44}{'Bot API calls':<44}{'SQL':>5}{'writes':>8}{'alone':>7}")
    for step in steps:
        calls_before = len(server.calls)
        meter.statements.clear()
        meter.done.clear()
        await act(user, step)
        await asyncio.wait_for(meter.done.wait(), 10)
        calls = [c.method for c in server.calls[calls_before:] if c.method != "getUpdates"]
        writes = sum(1 for s in meter.statements if s.upper().startswith("BEGIN"))
        lone = alone(meter.statements)
        what = step.body.get("text") or step.body.get("label", "")
        print(
            f"{what[:42]:<44}{', '.join(calls)[:42]:<44}{len(meter.statements):>5}{writes:>8}"
            f"{lone:>7}"
        )
        if VERBOSE:
            print("    calls: " + ", ".join(calls))
            print("".join(f"    {statement[:150]}\n" for statement in meter.statements), end="")
        totals.update(
            calls=len(calls), sql=len(meter.statements), writes=writes, alone=lone, updates=1
        )
    n = totals["updates"]
    print(
        f"\n{n} updates: {totals['calls'] / n:.2f} Bot API calls, {totals['sql'] / n:.1f} SQL "
        f"statements and {totals['writes'] / n:.2f} write transactions per update "
        f"({totals['alone'] / n:.2f} of them only questions confirmed sent, written on their "
        "own once no write carried them within 50 ms: how many depends on the machine's load)"
    )


if __name__ == "__main__":
    asyncio.run(measure())
