"""Helpers shared by the benchmarks: the processes they start (the sandbox Bot API server, our
bot, the reference echo bot), their CPU time, percentiles, and a line describing the machine.

Every process is started on 127.0.0.1 with a fresh token, writes its output to a log file in
the benchmark's temporary directory, and is stopped (SIGTERM, then SIGKILL) by
:meth:`Processes.stop_all`, which the benchmarks call in a ``finally``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import math
import os
import platform
import re
import secrets
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SANDBOX_LINE = re.compile(r"Bot API sandbox on (http://127\.0\.0\.1:\d+)")


def new_token() -> str:
    """A random bot token in BotFather's shape (both the sandbox and bot.config accept it)."""
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(32)}"


def make_bot_importable() -> None:
    """Let the benchmark import the bot's modules (for button labels) from the repository."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def stat_cpu(path: str) -> float:
    """User + system CPU seconds in a /proc ``stat`` file (a process's or a thread's), 0 once
    it is gone."""
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Child:
    """One process started by a benchmark."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far (Linux /proc), 0 once the process is gone."""
        return stat_cpu(f"/proc/{self.pid}/stat")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the process's output, for error reports."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """The processes of one benchmark run, started in ``workdir`` and stopped together."""

    workdir: Path
    children: list[Child] = field(default_factory=list)

    async def start(self, name: str, args: Sequence[str], env: dict[str, str]) -> Child:
        """Start ``python <args>`` from the repository root with ``env`` added."""
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=log,
                stdin=asyncio.subprocess.DEVNULL,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    async def stop_all(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        """SIGTERM every process (newest first), SIGKILL those still running after ``timeout``."""
        for child in reversed(self.children):
            await stop(child, timeout)


async def stop(child: Child, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Stop one process: SIGTERM, then SIGKILL if it does not exit within ``timeout``."""
    if child.process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        child.process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(child.process.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.process.kill()
        await child.process.wait()


async def start_sandbox(procs: Processes, bots: dict[str, str]) -> tuple[Child, str]:
    """``python -m bot.sandbox`` on a free 127.0.0.1 port with ``bots`` (token -> username);
    returns the process and its URL once it listens."""
    args = ["-m", "bot.sandbox", "--host", "127.0.0.1", "--port", "0"]
    for token, username in bots.items():
        args += ["--token", f"{token}={username}"]
    child = await procs.start("sandbox", args, {})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        found = SANDBOX_LINE.search(child.log_path.read_text(errors="replace"))
        if found:
            return child, found.group(1)
        if child.process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the sandbox did not start:\n{child.log_tail()}")


def our_bot_env(token: str, url: str, workdir: Path) -> dict[str, str]:
    """Our bot's settings in a benchmark: the local server, a database of its own, no limit on
    sending nor on posting (a walk posts a listing every time)."""
    return {
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": url,
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "SEND_RATE_LIMIT": "0",
        "POSTS_PER_DAY": "10000",
    }


def machine_cpu_seconds() -> float:
    """CPU seconds all cores of the machine have been busy since boot (Linux /proc/stat)."""
    with contextlib.suppress(OSError):
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
    return 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of ``values``; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def cpu_model() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """CPU model, cores, Python and date: one line to print with every set of figures."""
    return (
        f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )
