"""A tiny wake-everyone signal built on asyncio.Event."""

from __future__ import annotations

import asyncio


class ChangeSignal:
    """Wake every waiter on each change (an :class:`asyncio.Event` replaced after firing).

    ``notify`` is synchronous, so plain (non-async) code can signal; a waiter that checked its
    condition and then calls :meth:`wait` without awaiting in between cannot miss a change.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all current waiters."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float | None) -> bool:  # noqa: ASYNC109 (wait-or-give-up API)
        """Wait for the next change; False if ``timeout`` seconds passed first."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True
