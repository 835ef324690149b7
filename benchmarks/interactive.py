"""Interactive load benchmark: simulated people walking onboarding and the posting dialog.

Run from the repository root::

    .venv/bin/python benchmarks/interactive.py [--users 200] [--quick]

What it starts, each as its own process on 127.0.0.1: the local Bot API server
(``python -m bot.sandbox``, two bots, no rate limits), our bot (``python -m bot``, a fresh
database in a temporary directory, ``SEND_RATE_LIMIT=0``) and the reference, a bare
python-telegram-bot echo bot (``benchmarks/echo_bot.py``). This process is the driver: N
simulated people per bot talk to the server's user side over HTTP (``/sandbox/api``) and learn
of the bots' answers from the server's event stream (``/sandbox/api/events``, one connection).

Each of our people walks a fixed script of 21 updates: ``/start``, language, role, country,
place, region, population, Save, then ``/post``, kind, category, a tag, Done, title,
description, place, reach, Skip photo, duration, Publish; a person who finished starts again
as a new account. The echo bot's people send the same number of plain texts. A calibration
walk first counts the bot events each step produces, so that a step is known to be over;
then every person walks, unmeasured, to a step drawn at random, so that each phase sees the
script's steps in their proportions.

Figures, per bot and per load, all measured by the driver (so they include the sandbox and the
driver, the same for both bots; the echo bot's rows show that floor):

- updates/s: updates whose step completed, per second (the closed loop: completed within its
  measured window, whenever they started);
- reply latency p50/p95/p99: from just before the action's POST to the arrival of the bot's
  first message (new or edited) for that update; "done p95": until the step's last event;
- loads: open loop at fixed rates (Poisson arrivals handed to an idle person; an arrival that
  finds all N people busy is counted as dropped), then closed loop (every person acts again as
  soon as the previous step is over, no think time) for saturation throughput, in rounds where
  the two bots take turns (the verdict takes the medians: a shared machine's load varies);
- bot CPU/upd: CPU time the bot under test used per update (its CPU share / updates/s);
- event loops: ours is uvloop where installed (bot/event_loop.py); the echo bot runs on
  asyncio's loop, the reference the targets are set against, or on uvloop with
  ``--echo-loop uvloop`` (for comparison);
- CPU: share of one core used by the sandbox, the bot under test and the driver during the
  phase, and by everything else the machine ran meanwhile ("others": on a shared machine the
  figures are only meaningful when that is near 0).

The ratio of our saturation throughput to the echo bot's, and our p95 at the fixed loads
below saturation, are compared with the targets (ratio >= 0.6, p95 < 50 ms).
``--profile-bot FILE`` runs our bot under cProfile and writes its stats to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import random
import re
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    Child,
    Processes,
    machine_cpu_seconds,
    machine_line,
    make_bot_importable,
    new_token,
    our_bot_env,
    percentile,
    start_sandbox,
)

OUR_BOT = "community_sharing_bot"
ECHO_BOT = "echo_reference_bot"
STEP_TIMEOUT = 15.0  # seconds a step may take before it counts as failed
MESSAGE_KINDS = ("new", "edit")
P95_TARGET = 0.050
RATIO_TARGET = 0.6


# --- scripts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One update a person causes: a user-side action and its JSON body."""

    action: str  # send_text, press or tap_reply_button
    body: dict[str, Any]


def text(value: str) -> Step:
    return Step("send_text", {"text": value})


def press(label: str) -> Step:
    return Step("press", {"label": label})


def our_script() -> list[Step]:
    """Onboarding as a Bulgarian municipality, then posting an offer (English labels)."""
    make_bot_importable()
    from bot import taxonomy
    from bot.dialogs import posting as q
    from bot.i18n import autonym, translator
    from bot.places.countries import flag
    from bot.views import cards

    t = translator("en")
    _ = t.gettext
    return [
        text("/start"),
        press("✓ " + autonym("en")),
        press(_("🏛 Municipality")),
        Step("tap_reply_button", {"label": _("🌍 Choose the country")}),
        press(f"{flag('BG')} {t.country('BG')}"),
        text("Sveti Vlas"),
        text("Burgas"),
        text("3 500"),
        press(_("✅ Save")),
        text("/post"),
        press(_(q.KIND_CHOICES["offer"])),
        press(cards.category_label(t, "equipment")),
        press(_(taxonomy.TAG_NAMES["vehicles"])),
        press(_("✅ Done")),
        # Each walk's listing its own ({walk}): texts are embedded one listing at a time.
        text("Fire engine for a neighbouring village, {walk}"),
        text("A 1998 fire engine in working order ({walk}). We can bring it over in May."),
        press(_("📍 Use my profile's place: {place}").format(place="Sveti Vlas")),
        press(_(cards.REACH_LABELS["region"])),
        press(_("Skip")),
        press(_(q.DURATION_LABELS["1m"])),
        press(_("✅ Publish")),
    ]


def echo_script(length: int) -> list[Step]:
    """``length`` plain texts for the echo bot."""
    return [text(f"message {n + 1} of {length}: hello, echo") for n in range(length)]


# --- the driver: HTTP to the user side, events from the stream --------------------------------


class ActionError(Exception):
    """The user side refused an action (a label not shown...): the script no longer fits."""


@dataclass
class Event:
    """A bot event in one person's chat, as the driver received it."""

    seq: int
    kind: str
    at: float  # time.perf_counter() on arrival


@dataclass
class Sample:
    """One update: when its POST started, its reply latency, its completion latency."""

    started: float
    reply: float
    done: float
    ok: bool = True
    position: int = -1  # the step of the script

    @property
    def finished(self) -> float:
        return self.started + self.done


class Driver:
    """HTTP to the sandbox's user side, and the event stream routed to the people."""

    def __init__(self, url: str, connections: int) -> None:
        self.api = f"{url}/sandbox/api"
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=STEP_TIMEOUT + 5),
        )
        self.people: dict[tuple[str, int], Person] = {}
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.session.close()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A user-side request; its ``result`` and ``cursor`` as a dict."""
        async with self.session.request(method, self.api + path, json=body) as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise ActionError(f"{method} {path} {body}: {answer.get('error')}")
        return answer

    async def new_user(self, bot: str, number: int) -> int:
        answer = await self.call(
            "POST", "/users", {"first_name": f"Person {number}", "language_code": "en", "bot": bot}
        )
        return int(answer["result"]["id"])

    async def wait_polling(self, bots: Sequence[str], timeout: float = 60) -> None:  # noqa: ASYNC109
        """Wait until every bot in ``bots`` has called getUpdates (it is started and ready)."""
        waiting, seen = set(bots), 0
        deadline = time.perf_counter() + timeout
        while waiting:
            answer = await self.call("GET", f"/calls?since={seen}")
            seen = answer["next"]
            waiting -= {c["bot"] for c in answer["result"] if c["method"] == "getUpdates"}
            if waiting and time.perf_counter() > deadline:
                raise RuntimeError(f"not polling after {timeout} s: {sorted(waiting)}")
            await asyncio.sleep(0.1)

    async def stats(self) -> dict[str, int]:
        return (await self.call("GET", "/stats"))["result"]

    def listen(self) -> None:
        """Start reading the event stream (one connection for every person)."""
        self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
        async with self.session.get(self.api + "/events", timeout=timeout) as response:
            self.connected.set()
            async for raw in response.content:
                if raw.startswith(b"data: "):
                    self._route(json.loads(raw[6:]))

    def _route(self, event: dict[str, Any]) -> None:
        if not event["from_bot"]:
            return
        person = self.people.get((event["bot"], event["user_id"]))
        if person is not None:
            person.arrived(Event(event["seq"], event["kind"], time.perf_counter()))


class Person:
    """A simulated person walking a script over and over, one account per walk."""

    def __init__(self, driver: Driver, bot: str, number: int, script: Sequence[Step]) -> None:
        self.driver = driver
        self.bot = bot
        self.number = number
        self.script = script
        self.expected: Sequence[int] = [1] * len(script)  # bot events per step (calibrated)
        self.user_id = 0
        self.position = 0
        self.events: list[Event] = []
        self.changed = asyncio.Event()

    def arrived(self, event: Event) -> None:
        self.events.append(event)
        self.changed.set()

    async def new_account(self) -> None:
        """Start the script again as a new person (a fresh Telegram account)."""
        self.driver.people.pop((self.bot, self.user_id), None)
        self.user_id = await self.driver.new_user(self.bot, self.number)
        self.driver.people[(self.bot, self.user_id)] = self
        self.position = 0
        self.events.clear()

    async def act(self) -> int:
        """Cause the current step's update; the server's cursor just after it."""
        step = self.script[self.position]
        path = f"/users/{self.user_id}/{step.action}?bot={self.bot}"
        body = step.body
        if "{walk}" in body.get("text", ""):
            body = {**body, "text": body["text"].replace("{walk}", f"no. {self.user_id}")}
        return int((await self.driver.call("POST", path, body))["cursor"])

    async def step(self) -> Sample:
        """Take the next step and wait until the bot has finished answering it."""
        started = time.perf_counter()
        try:
            cursor = await self.act()
            reply, done = await self._answered(cursor, self.expected[self.position], started)
        except (TimeoutError, ActionError, aiohttp.ClientError):
            # Where the dialog stands is unknown now: go on as someone new.
            await self.new_account()
            elapsed = time.perf_counter() - started
            return Sample(started, elapsed, elapsed, ok=False)
        sample = Sample(started, reply, done, position=self.position)
        self.position += 1
        if self.position == len(self.script):
            await self.new_account()
        return sample

    async def _answered(self, cursor: int, expected: int, started: float) -> tuple[float, float]:
        """Wait for ``expected`` bot events after ``cursor``: (first message, last event)."""
        deadline = started + STEP_TIMEOUT
        while True:
            answers = [e for e in self.events if e.seq > cursor][:expected]
            if len(answers) == expected:
                first = next((e for e in answers if e.kind in MESSAGE_KINDS), answers[-1])
                last = answers[-1]
                self.events = [e for e in self.events if e.seq > last.seq]
                return first.at - started, last.at - started
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(0.001, deadline - time.perf_counter()))


async def calibrate(person: Person, settle: float = 1.5) -> list[int]:
    """Walk the script once, slowly: how many bot events each step produces.

    Each step waits until the bot has been quiet for ``settle`` seconds, and a button step
    until its button is there: the first listing's preview waits for the language and
    embedding models to load (a second or two, more on a busy machine). A step's events are
    those between its cursor and the next step's."""
    await person.new_account()
    cursors = []
    for position in range(len(person.script)):
        person.position = position
        cursors.append(await _act_when_ready(person))
        await _until_quiet(person, settle)
    counts = [
        sum(1 for e in person.events if start < e.seq <= end)
        for start, end in zip(cursors, [*cursors[1:], math.inf], strict=True)
    ]
    if 0 in counts:
        raise RuntimeError(f"@{person.bot} did not answer step {counts.index(0) + 1}")
    person.events.clear()
    return counts


async def _until_quiet(person: Person, settle: float) -> None:
    """Until no bot event came for ``settle`` seconds (at most 25 times that)."""
    await asyncio.sleep(settle)
    for _ in range(25):
        before = len(person.events)
        await asyncio.sleep(settle)  # quiet is a span of time: there is no event to wait for
        if len(person.events) == before:
            return


async def _act_when_ready(person: Person, patience: float = 60.0) -> int:
    """Take the current step, trying again while its button has not come yet."""
    deadline = time.perf_counter() + patience
    while True:
        try:
            return await person.act()
        except ActionError as refused:
            if "no inline button" not in str(refused) or time.perf_counter() > deadline:
                raise
        person.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(person.changed.wait(), 1.0)


# --- loads -------------------------------------------------------------------------------------


@dataclass
class Phase:
    """The outcome of one load on one bot."""

    load: str
    bot: str
    offered: float | None  # updates/s, None for the closed loop
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    dropped: int = 0
    refused_calls: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    throughput: float = 0.0
    started_and_done: float = 0.0  # the closed loop's former count (see closed_loop)
    whole_cpu: dict[str, float] = field(default_factory=dict)  # over the whole phase

    def latencies(self, what: str) -> list[float]:
        return [getattr(s, what) for s in self.samples if s.ok]

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if not s.ok)


async def open_loop(people: Sequence[Person], rate: float, seconds: float, seed: int) -> Phase:
    """Poisson arrivals at ``rate``/s, each handed to an idle person, for ``seconds``."""
    phase = Phase(f"open {rate:g}/s", people[0].bot, rate, seconds)
    rng = random.Random(seed)
    idle = deque(people)
    running: set[asyncio.Task[None]] = set()

    async def take_step(person: Person) -> None:
        try:
            phase.samples.append(await person.step())
        finally:
            idle.append(person)

    start = time.perf_counter()
    arrival = start
    while (arrival := arrival + rng.expovariate(rate)) < start + seconds:
        await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
        if not idle:
            phase.dropped += 1
            continue
        task = asyncio.create_task(take_step(idle.popleft()))
        running.add(task)
        task.add_done_callback(running.discard)
    if running:
        await asyncio.wait(running, timeout=STEP_TIMEOUT + 5)
    phase.throughput = sum(1 for s in phase.samples if s.ok) / seconds
    return phase


async def closed_loop(
    people: Sequence[Person], seconds: float, warmup: float, window: Window | None = None
) -> Phase:
    """Every person steps again as soon as the last step is over; measured after ``warmup``
    for ``seconds``: the updates completed in that window (steady state: the rate), and, with
    ``window``, each process's CPU over that same window."""
    phase = Phase(f"closed N={len(people)}", people[0].bot, None, seconds)
    start = time.perf_counter()
    measured_from, stop_at = start + warmup, start + warmup + seconds

    async def keep_stepping(person: Person) -> None:
        while time.perf_counter() < stop_at:
            phase.samples.append(await person.step())

    async def meter() -> None:
        if window is None:
            return
        await asyncio.sleep(max(0.0, measured_from - time.perf_counter()))
        window.open()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        window.close()

    await asyncio.gather(meter(), *(keep_stepping(p) for p in people))
    ok = [s for s in phase.samples if s.ok]
    phase.throughput = sum(1 for s in ok if measured_from <= s.finished <= stop_at) / seconds
    # The count before 2026-12-07: updates both started and completed in the window. In a
    # closed loop of N people at a rate X, each step takes N/X, so that count is X - N/seconds:
    # it took 50 updates/s from both bots at N = 200 over 4 s, more of the slower one's share.
    phase.started_and_done = (
        sum(1 for s in ok if s.started >= measured_from and s.finished <= stop_at) / seconds
    )
    # The latencies of the steps that started in the window (the warm-up's are not steady).
    phase.samples = [s for s in phase.samples if measured_from <= s.started < stop_at]
    if window is not None:
        phase.cpu = window.shares()
    return phase


class Window:
    """Each process's CPU over a closed loop's measured window (not its warm-up, nor the
    drain after it, when fewer people are still stepping)."""

    def __init__(self, meters: dict[str, Child]) -> None:
        self.meters = meters
        self._start: tuple[float, float, float, dict[str, float]] | None = None
        self._shares: dict[str, float] = {}

    def _now(self) -> tuple[float, float, float, dict[str, float]]:
        cpu = {name: child.cpu_seconds() for name, child in self.meters.items()}
        return time.perf_counter(), time.process_time(), machine_cpu_seconds(), cpu

    def open(self) -> None:
        self._start = self._now()

    def close(self) -> None:
        assert self._start is not None
        (wall0, driver0, machine0, cpu0), (wall1, driver1, machine1, cpu1) = (
            self._start,
            self._now(),
        )
        wall = wall1 - wall0
        shares = {name: (cpu1[name] - cpu0[name]) / wall for name in cpu0}
        shares["driver"] = (driver1 - driver0) / wall
        # Whatever else the machine ran meanwhile (the other bot idles), in shares of one core.
        shares["others"] = (machine1 - machine0) / wall - sum(shares.values())
        self._shares = shares

    def shares(self) -> dict[str, float]:
        return dict(self._shares)


async def saturate(
    people: Sequence[Person], setup: Setup, number: int, window: Window | None = None
) -> Phase:
    """One round of the closed loop (the rounds of the two bots alternate)."""
    phase = await closed_loop(people, setup.saturation_seconds, setup.warmup, window)
    phase.load += f" #{number + 1}" if setup.rounds > 1 else ""
    return phase


async def measured(
    run: Callable[[Window], Awaitable[Phase]], driver: Driver, meters: dict[str, Child]
) -> Phase:
    """Run one phase and add the CPU used by each process and the calls the server refused:
    over the whole phase, or over its measured window if the phase has one (the closed loop)."""
    before_stats = await driver.stats()
    whole = Window(meters)
    whole.open()
    phase = await run(Window(meters))
    whole.close()
    phase.whole_cpu = whole.shares()
    phase.cpu = phase.cpu or phase.whole_cpu
    phase.refused_calls = (await driver.stats())["errors"] - before_stats["errors"]
    return phase


# --- report ------------------------------------------------------------------------------------

HEADER = (
    f"{'load':<16}{'bot':<6}{'upd/s':>8}{'dropped':>8}{'failed':>7}{'refused':>8}"
    f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'done p95':>9}{'bot CPU/upd':>12}"
    "  CPU sandbox/bot/driver/others"
)


def row(phase: Phase) -> str:
    reply, done = phase.latencies("reply"), phase.latencies("done")
    ms = [percentile(reply, p) * 1000 for p in (0.50, 0.95, 0.99)]
    meters = ("sandbox", "bot", "driver", "others")
    cpu = "/".join(f"{phase.cpu.get(name, 0) * 100:.0f}%" for name in meters)
    return (
        f"{phase.load:<16}{phase.bot:<6}{phase.throughput:>8.1f}{phase.dropped:>8}"
        f"{phase.failed:>7}{phase.refused_calls:>8}{ms[0]:>8.1f}{ms[1]:>8.1f}{ms[2]:>8.1f}"
        f"{percentile(done, 0.95) * 1000:>9.1f}{cpu_per_update(phase) * 1000:>9.2f} ms  {cpu}"
    )


def cpu_per_update(phase: Phase) -> float:
    """CPU seconds the bot spent per update: what the ratio is about, and unlike throughput,
    hardly changed by whatever else the machine runs meanwhile."""
    return phase.cpu.get("bot", 0.0) / phase.throughput if phase.throughput else float("nan")


def verdict(phases: Sequence[Phase]) -> list[str]:
    """The ratio and the p95 at fixed loads below saturation, against the targets; the
    saturation figures are medians over the rounds (ours and echo take turns)."""
    ours = [p for p in phases if p.bot == "ours" and p.offered is None]
    echo = [p for p in phases if p.bot == "echo" and p.offered is None]
    ours_rate = statistics.median(p.throughput for p in ours)
    echo_rate = statistics.median(p.throughput for p in echo)
    ratio = ours_rate / max(echo_rate, 1e-9)
    pairs = zip(ours, echo, strict=True)
    rounds = ", ".join(f"{o.throughput / max(e.throughput, 1e-9):.2f}" for o, e in pairs)
    ours_cpu = statistics.median(cpu_per_update(p) for p in ours)
    echo_cpu = statistics.median(cpu_per_update(p) for p in echo)
    lines = [
        f"saturation (median of {len(ours)} rounds): ours {ours_rate:.1f} updates/s, echo "
        f"{echo_rate:.1f} updates/s, ratio {ratio:.2f} (rounds: {rounds}; "
        f"target >= {RATIO_TARGET}: {'met' if ratio >= RATIO_TARGET else 'MISSED'})",
        f"bot CPU per update at saturation: ours {ours_cpu * 1000:.2f} ms, echo "
        f"{echo_cpu * 1000:.2f} ms (echo/ours {echo_cpu / ours_cpu:.2f})",
        former_count(ours, echo),
    ]
    for phase in phases:
        if phase.bot != "ours" or phase.offered is None:
            continue
        below = phase.offered < ours_rate and not phase.dropped
        p95 = percentile(phase.latencies("reply"), 0.95)
        judged = f"; target < {P95_TARGET * 1000:.0f} ms: {'met' if p95 < P95_TARGET else 'MISSED'}"
        lines.append(
            f"{phase.load}: ours p95 {p95 * 1000:.1f} ms "
            + (f"(below saturation{judged})" if below else "(at/above saturation, not judged)")
        )
        lines.append(f"  slowest steps (p95 ms): {slowest_steps(phase, our_script())}")
    busiest = max(p.cpu.get("others", 0.0) for p in phases)
    if busiest > 0.2:
        lines.append(
            f"note: other processes used up to {busiest * 100:.0f}% of a core during a phase; "
            "throughput and latency suffer from that, CPU per update much less: rerun on a "
            "quiet machine for figures to publish"
        )
    return lines


def former_count(ours: Sequence[Phase], echo: Sequence[Phase]) -> str:
    """The saturation medians as counted before 2026-12-07 (updates started and completed in
    the window), for comparison with the figures recorded until then."""
    ours_rate = statistics.median(p.started_and_done for p in ours)
    echo_rate = statistics.median(p.started_and_done for p in echo)

    def cpu(phases: Sequence[Phase]) -> float:  # the whole phase's CPU share, per such update
        per = [
            p.whole_cpu.get("bot", 0.0) / p.started_and_done for p in phases if p.started_and_done
        ]
        return statistics.median(per) * 1000 if per else float("nan")

    return (
        f"  counted as before 2026-12-07 (started and completed in the window; CPU over the whole "
        f"phase): ours {ours_rate:.1f}, echo {echo_rate:.1f} updates/s, ratio "
        f"{ours_rate / max(echo_rate, 1e-9):.2f}; bot CPU per update ours {cpu(ours):.2f} ms, "
        f"echo {cpu(echo):.2f} ms"
    )


def slowest_steps(phase: Phase, script: Sequence[Step], most: int = 4) -> str:
    """The steps whose replies were slowest in ``phase``, by their p95."""
    by_step: dict[int, list[float]] = {}
    for sample in phase.samples:
        if sample.ok:
            by_step.setdefault(sample.position, []).append(sample.reply)
    ranked = sorted(by_step.items(), key=lambda item: -percentile(item[1], 0.95))[:most]
    return ", ".join(
        f"{step_name(script[position])} {percentile(replies, 0.95) * 1000:.0f} ({len(replies)})"
        for position, replies in ranked
    )


def step_name(step: Step) -> str:
    words = str(next(iter(step.body.values()), step.action))
    return repr(words if len(words) <= 24 else words[:23] + "…")


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Setup:
    """What the command line asked for."""

    users: int
    rates: list[float]
    seconds: float
    saturation_seconds: float
    rounds: int
    warmup: float
    echo_concurrency: int
    echo_loop: str
    profile_bot: Path | None
    bot_script: Path | None
    seed: int


def parse_args(argv: Sequence[str] | None = None) -> Setup:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200, help="simulated people per bot")
    parser.add_argument("--quick", action="store_true", help="short phases, two fixed loads")
    parser.add_argument(
        "--rates", default=None, help="fixed loads in updates/s, e.g. 10,25,50,100 ('' for none)"
    )
    parser.add_argument("--seconds", type=float, default=None, help="length of a fixed load")
    parser.add_argument(
        "--saturation-seconds",
        type=float,
        default=None,
        help="length of a saturation round's measured window (default: --seconds); with "
        "--rates '' a saturation-only run, e.g. to attach a profiler to the bot (its pid is "
        "printed)",
    )
    parser.add_argument(
        "--echo-concurrency",
        type=int,
        default=0,
        help="concurrent updates of the echo bot (0 = PTB's default, one)",
    )
    parser.add_argument(
        "--echo-loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the echo bot's event loop (asyncio's, the reference the targets are set against)",
    )
    parser.add_argument(
        "--profile-bot",
        type=Path,
        default=None,
        help="run our bot under cProfile and write the stats to this file",
    )
    parser.add_argument(
        "--bot-script",
        type=Path,
        default=None,
        help="run this Python file instead of `python -m bot` (e.g. a wrapper "
        "that tries a change); it gets the same environment",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="saturation rounds per bot, taking turns (default 3; --quick 1)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rates = args.rates if args.rates is not None else ("10,50" if args.quick else "10,25,50,100")
    seconds = args.seconds or (4.0 if args.quick else 12.0)
    return Setup(
        users=args.users,
        rates=[float(r) for r in rates.split(",") if r.strip()],
        seconds=seconds,
        saturation_seconds=args.saturation_seconds or seconds,
        rounds=args.rounds if args.rounds is not None else (1 if args.quick else 3),
        warmup=1.0 if args.quick else 3.0,
        echo_concurrency=args.echo_concurrency,
        echo_loop=args.echo_loop,
        profile_bot=args.profile_bot,
        bot_script=args.bot_script,
        seed=args.seed,
    )


async def start_bots(
    procs: Processes, setup: Setup, workdir: Path
) -> tuple[str, Child, Child, Child]:
    """The sandbox (its URL and process), our bot and the echo bot, each its own process."""
    our_token, echo_token = new_token(), new_token()
    sandbox, url = await start_sandbox(procs, {our_token: OUR_BOT, echo_token: ECHO_BOT})
    profile = []
    if setup.profile_bot is not None:
        profile = ["-m", "cProfile", "-o", str(setup.profile_bot.resolve())]
    program = [str(setup.bot_script.resolve())] if setup.bot_script else ["-m", "bot"]
    ours = await procs.start("bot", [*profile, *program], our_bot_env(our_token, url, workdir))
    echo = await procs.start("echo", ["benchmarks/echo_bot.py"], {
        "BOT_TOKEN": echo_token, "TELEGRAM_API_URL": url,
        "ECHO_CONCURRENCY": str(setup.echo_concurrency), "ECHO_LOOP": setup.echo_loop,
    })  # fmt: skip
    return url, sandbox, ours, echo


async def people_for(driver: Driver, bot: str, script: Sequence[Step], count: int) -> list[Person]:
    """Calibrate the script on one person, then make ``count`` people with accounts."""
    probe = Person(driver, bot, 0, script)
    expected = await calibrate(probe)
    people = [Person(driver, bot, n + 1, script) for n in range(count)]
    for person in people:
        person.expected = expected
    await asyncio.gather(*(p.new_account() for p in people))
    await spread(people, random.Random(count))
    return people


async def spread(people: Sequence[Person], rng: random.Random) -> None:
    """Walk each person, unmeasured, to a step of the script drawn at random: a phase then
    sees the script's steps in their proportions, not 200 people's first steps (a short
    phase at 50/s gives each person two or three steps: /start and the language only)."""

    async def walk(person: Person, steps: int) -> None:
        for _ in range(steps):
            await person.step()

    await asyncio.gather(*(walk(p, rng.randrange(len(p.script))) for p in people))


async def benchmark(setup: Setup, workdir: Path) -> list[Phase]:
    procs = Processes(workdir)
    try:
        url, sandbox, ours, echo = await start_bots(procs, setup, workdir)
        driver = Driver(url, connections=2 * setup.users + 16)
        try:
            return await run_phases(setup, driver, sandbox, {"ours": ours, "echo": echo})
        finally:
            await driver.close()
    finally:
        await procs.stop_all()
        report_tracebacks(procs.children)


def loop_of(bot: Child) -> str:
    """The event loop a bot says it runs on (ours: "is running on", the echo bot: "polling
    ... on"), or "?"."""
    said = bot.log_path.read_text(errors="replace")
    found = re.search(r"(?:is running|polling \S+) on (\w+)", said)
    return found.group(1) if found else "?"


def report_tracebacks(children: Sequence[Child]) -> None:
    """Show the first traceback any process logged (the logs go with the temporary directory)."""
    for child in children:
        log = child.log_path.read_text(errors="replace")
        count = log.count("Traceback")
        if count:
            first = log[log.index("Traceback") :].splitlines()[:25]
            print(f"{child.name} logged {count} tracebacks; the first:", *first, sep="\n  ")


async def run_phases(
    setup: Setup, driver: Driver, sandbox: Child, bots: dict[str, Child]
) -> list[Phase]:
    driver.listen()
    await asyncio.wait_for(driver.connected.wait(), 10)
    try:
        await driver.wait_polling([OUR_BOT, ECHO_BOT])
    except RuntimeError as late:
        logs = "\n".join(f"--- {c.name}:\n{c.log_tail(8)}" for c in bots.values())
        raise RuntimeError(f"{late}\n{logs}") from None
    script = our_script()
    crowds = {
        "ours": await people_for(driver, OUR_BOT, script, setup.users),
        "echo": await people_for(driver, ECHO_BOT, echo_script(len(script)), setup.users),
    }
    print(machine_line())
    print(f"{setup.users} people per bot, {len(script)} updates per walk; times in ms")
    print(f"event loops: ours {loop_of(bots['ours'])}, echo bot {loop_of(bots['echo'])}")
    print(f"pids: ours {bots['ours'].pid}, echo bot {bots['echo'].pid}", flush=True)
    print(HEADER)
    phases: list[Phase] = []

    async def run(name: str, make: Callable[[Sequence[Person], Window], Awaitable[Phase]]) -> None:
        meters = {"sandbox": sandbox, "bot": bots[name]}
        phase = await measured(lambda window: make(crowds[name], window), driver, meters)
        phase.bot = name
        phases.append(phase)
        print(row(phase), flush=True)
        await asyncio.sleep(1.0)  # let the last answers drain

    for number, rate in enumerate(setup.rates):
        seed = setup.seed + number
        for name in crowds:
            await run(name, lambda c, _, r=rate, s=seed: open_loop(c, r, setup.seconds, s))
    for number in range(setup.rounds):
        for name in crowds:
            await run(name, lambda c, w, n=number: saturate(c, setup, n, w))
    return phases


def main(argv: Sequence[str] | None = None) -> None:
    setup = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-interactive-") as workdir:
        phases = asyncio.run(benchmark(setup, Path(workdir)))
    print()
    for line in verdict(phases):
        print(line)
    if any(math.isnan(percentile(p.latencies("reply"), 0.5)) for p in phases):
        print("some phases completed no update: see the failed column")


if __name__ == "__main__":
    main()
