"""Waiting for what the bot does in the background (the outbox, jobs): a condition polled until
it holds, and the outbox with nothing left to send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from bot.storage import Storage


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Until ``await predicate()`` holds; fails the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def settled(storage: Storage) -> bool:
    """Nothing in the outbox waits to be sent or is being sent."""
    counts = await storage.outbox_counts()
    return not counts.get("pending") and not counts.get("sending")
