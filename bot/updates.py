"""Processing updates of different people concurrently, and each person's in order, with
PTB's data written to the database as soon as an update is done.

PTB processes updates one at a time by default. Our callbacks mostly wait on SQLite and HTTP,
so serving users concurrently multiplies throughput; but one person's updates must stay in
order (a dialog's answers, two taps on Publish). :class:`PerUserUpdateProcessor` gives each
user (or chat, for updates without a user) a lock, and lets different users run side by side.

PTB writes its data (``user_data``, conversation states) every ``update_interval`` seconds;
the processor has it written right after each update instead (``after_each``, the
application's ``update_persistence``), so what a person was shown is on disk within
milliseconds. Dialog steps do not wait even for that: see :mod:`bot.dialogs.dialog`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across users, sequential within one user's updates."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}
        # Run after every update (the application sets it: a persistence flush).
        self.after_each: Callable[[], Awaitable[None]] | None = None

    @staticmethod
    def _owner(update: object) -> int:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return update.effective_user.id
            if update.effective_chat is not None:
                return update.effective_chat.id
        return 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        owner = self._owner(update)
        lock = self._locks.setdefault(owner, asyncio.Lock())
        self._waiting[owner] = self._waiting.get(owner, 0) + 1
        try:
            async with lock:
                try:
                    await coroutine
                finally:
                    if self.after_each is not None:
                        await self.after_each()
        finally:
            # Forget the lock once nobody holds or waits for it, so the table stays small.
            self._waiting[owner] -= 1
            if not self._waiting[owner]:
                del self._waiting[owner]
                del self._locks[owner]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
