"""The event loop the bot's process runs on: uvloop where it is installed, else asyncio's own.

Most of the bot's CPU per update is spent by the event loop itself (docs/BENCHMARKS.md, "Issue
19"): polling the sockets, waking up for aiosqlite's and the embedding thread's answers
(``call_soon_threadsafe``) and writing to the sockets. uvloop does these in libuv, in C, and
runs everything asyncio's loop runs (aiohttp's client and listener, APScheduler, aiosqlite,
signal handlers). It is not built for Windows; there, or wherever it cannot be imported, the
bot runs on asyncio's loop, unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

Result = TypeVar("Result")


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, Result]) -> Result:
    """Run ``main`` to the end on a new event loop (uvloop's if it can), as asyncio.run does."""
    with asyncio.Runner(loop_factory=_uvloop_factory()) as runner:
        return runner.run(main)


def loop_name() -> str:
    """What runs the current event loop, to say so in the log: "uvloop" or "asyncio"."""
    loop = asyncio.get_running_loop()
    return loop.__class__.__module__.split(".", 1)[0]
