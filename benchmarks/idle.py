"""Idle cost: CPU our bot and the bare echo bot use per second with no update at all.

Run from the repository root::

    .venv/bin/python benchmarks/idle.py [--seconds 30] [--settle 15]

Starts the sandbox Bot API server, our bot (``python -m bot``, a fresh database, as
benchmarks/interactive.py starts it) and the echo bot (benchmarks/echo_bot.py), waits until
both say they are polling and ``--settle`` seconds more (start-up's own work: the menu
published, the first runs of the jobs), then reads each process's CPU time (and each of its
threads') over ``--seconds`` with nobody talking to either. What a process spends then is
spent every second whatever the load: at 10 updates/s it weighs ten times what it weighs per
update at 100 updates/s. ``EMBEDDING_MODEL`` is passed through (``none`` for words only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path

from _common import (
    Child,
    Processes,
    machine_line,
    new_token,
    our_bot_env,
    start_sandbox,
    stat_cpu,
)

OUR_BOT = "community_sharing_bot"
ECHO_BOT = "echo_reference_bot"


def threads_cpu(child: Child) -> dict[str, float]:
    """CPU seconds of each of a process's threads, by name (threads of one name summed)."""
    found: dict[str, float] = {}
    base = Path(f"/proc/{child.pid}/task")
    for task in base.iterdir() if base.exists() else ():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        found[name] = found.get(name, 0.0) + stat_cpu(str(task / "stat"))
    return found


async def wait_for_line(child: Child, pattern: str, timeout: float = 120.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, child.log_path.read_text(errors="replace")):
            return
        if child.process.returncode is not None:
            break
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{child.name} did not start:\n{child.log_tail()}")


async def measure(seconds: float, settle: float, workdir: Path) -> None:
    procs = Processes(workdir)
    try:
        our_token, echo_token = new_token(), new_token()
        sandbox, url = await start_sandbox(procs, {our_token: OUR_BOT, echo_token: ECHO_BOT})
        ours = await procs.start("bot", ["-m", "bot"], our_bot_env(our_token, url, workdir))
        echo = await procs.start("echo", ["benchmarks/echo_bot.py"], {
            "BOT_TOKEN": echo_token, "TELEGRAM_API_URL": url,
        })  # fmt: skip
        await wait_for_line(ours, r"is running on")
        await wait_for_line(echo, r"polling \S+ on")
        await asyncio.sleep(settle)
        children = {"ours": ours, "echo": echo, "sandbox": sandbox}
        before = {name: (c.cpu_seconds(), threads_cpu(c)) for name, c in children.items()}
        started = time.monotonic()
        await asyncio.sleep(seconds)
        took = time.monotonic() - started
        print(machine_line())
        print(f"idle for {took:.1f} s, EMBEDDING_MODEL={os.environ.get('EMBEDDING_MODEL', '')}")
        for name, child in children.items():
            total = (child.cpu_seconds() - before[name][0]) / took * 1000
            print(f"{name}: {total:.2f} ms of CPU a second")
            after = threads_cpu(child)
            for thread, used in sorted(after.items(), key=lambda kv: -kv[1]):
                spent = (used - before[name][1].get(thread, 0.0)) / took * 1000
                if spent > 0:
                    print(f"    {thread}: {spent:.2f} ms/s")
    finally:
        await procs.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the idle window")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds left for start-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as workdir:
        asyncio.run(measure(args.seconds, args.settle, Path(workdir)))


if __name__ == "__main__":
    main()
