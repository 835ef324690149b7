"""Per-bot update queue with Telegram's getUpdates semantics (long polling, offsets, conflicts)."""

from __future__ import annotations

import asyncio
from typing import Any

from .errors import conflict
from .signals import ChangeSignal

_OTHER_POLL = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
# Update kinds a bot does not receive unless it asks for them in allowed_updates.
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class UpdateQueue:
    """Pending updates of one bot.

    Updates stay queued until confirmed: getUpdates with an ``offset`` higher than their
    ``update_id`` (or a successful webhook delivery) drops them. ``allowed_updates`` applies when
    an update is created, as Telegram documents. Only one getUpdates may wait at a time: a new
    one terminates the waiting one with ``409 Conflict: terminated by other getUpdates request``.
    """

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._next_id = 1
        self.allowed_updates: list[str] | None = None
        self._signal = ChangeSignal()
        self._poller: object | None = None
        self._terminated_by = _OTHER_POLL
        self._closed = False

    @property
    def pending_count(self) -> int:
        """Number of updates not yet confirmed."""
        return len(self._pending)

    @property
    def polled(self) -> bool:
        """Whether a getUpdates is waiting."""
        return self._poller is not None

    @property
    def last_update_id(self) -> int:
        """The id of the newest update ever created (0 if none)."""
        return self._next_id - 1

    def allows(self, kind: str) -> bool:
        """Whether the bot receives updates of ``kind`` under its allowed_updates setting."""
        if not self.allowed_updates:
            return kind not in NOT_BY_DEFAULT
        return kind in self.allowed_updates

    def push(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue ``{"update_id": N, kind: payload}``; None (and nothing queued) if filtered."""
        if not self.allows(kind):
            return None
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, kind: payload})
        self._signal.notify()
        return update_id

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates ``offset``: forget updates below it (negative: keep the last N)."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def drop_all(self) -> None:
        """Forget every pending update (drop_pending_updates)."""
        self._pending.clear()

    def first(self) -> dict[str, Any] | None:
        """The oldest pending update, if any."""
        return self._pending[0] if self._pending else None

    def snapshot(self) -> list[dict[str, Any]]:
        """A copy of the pending updates (for inspection)."""
        return list(self._pending)

    async def poll(
        self,
        offset: int | None,
        limit: int,
        timeout: float,  # noqa: ASYNC109 (getUpdates')
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm ``offset``, then wait up to ``timeout`` s for updates."""
        if offset is not None:
            self.confirm(offset)
        ticket = object()
        self.terminate_poll(_OTHER_POLL)
        self._poller = ticket
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        try:
            while True:
                if self._poller is not ticket:
                    raise conflict(self._terminated_by)
                if self._pending or self._closed:
                    return self._pending[:limit]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._signal.wait(remaining)
        finally:
            if self._poller is ticket:
                self._poller = None

    def terminate_poll(self, reason: str) -> None:
        """End the waiting getUpdates, if any, with ``409 Conflict: <reason>``."""
        if self._poller is not None:
            self._terminated_by = reason
            self._poller = None
            self._signal.notify()  # the waiting poll sees it lost its ticket and gets a 409

    async def wait_pending(self) -> None:
        """Wait until at least one update is pending (used by webhook delivery)."""
        while not self._pending and not self._closed:
            await self._signal.wait(None)

    def close(self) -> None:
        """Release every waiter (server shutdown): polls return what they have."""
        self._closed = True
        self._signal.notify()

    def reopen(self) -> None:
        """Undo :meth:`close` (server restarted)."""
        self._closed = False
