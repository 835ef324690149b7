"""Token-bucket rate limits like Telegram's flood control for sending messages.

Telegram lets a bot send about 30 messages per second overall and about one per second to the
same chat (short bursts tolerated); beyond that it answers ``429 Too Many Requests: retry after
N``. The sandbox makes both limits configurable and off by default. The ``clock`` is injectable
so tests can move time by hand.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(self, rate: float, capacity: float, now: float):
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        """Use one token (may go below zero only if the caller skipped :meth:`wait_time`)."""
        self._refill(now)
        self.tokens -= 1


@dataclass(frozen=True)
class RateLimits:
    """The limits of a bot's sending; ``None`` rates mean unlimited, and ``global_burst``
    defaults to the global rate rounded up (at least 1). Checked when made."""

    global_per_second: float | None = None
    per_chat_per_second: float | None = None
    per_chat_burst: int = 3
    global_burst: int | None = None

    def __post_init__(self) -> None:
        for value in (self.global_per_second, self.per_chat_per_second):
            if value is not None and value <= 0:
                raise ValueError("rates must be positive (or None for unlimited)")
        if self.per_chat_burst < 1:
            raise ValueError("per_chat_burst must be at least 1")

    @property
    def enabled(self) -> bool:
        """True when any limit is set."""
        return self.global_per_second is not None or self.per_chat_per_second is not None


class RateLimiter:
    """A global bucket plus one bucket per chat, as :class:`RateLimits` sets them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.limits = RateLimits()
        self._global: TokenBucket | None = None
        self._chats: dict[Hashable, TokenBucket] = {}

    def configure(self, limits: RateLimits) -> None:
        """Set the limits and start with full buckets."""
        self.limits = limits
        self._global = None
        self._chats.clear()
        if limits.global_per_second is not None:
            capacity = limits.global_burst or max(1, math.ceil(limits.global_per_second))
            self._global = TokenBucket(limits.global_per_second, capacity, self.clock())

    @property
    def enabled(self) -> bool:
        """True when any limit is set."""
        return self.limits.enabled

    def _chat_bucket(self, chat: Hashable, now: float) -> TokenBucket | None:
        rate = self.limits.per_chat_per_second
        if rate is None:
            return None
        bucket = self._chats.get(chat)
        if bucket is None:
            bucket = TokenBucket(rate, self.limits.per_chat_burst, now)
            self._chats[chat] = bucket
        return bucket

    def check(self, chat: Hashable) -> int | None:
        """None if a message to ``chat`` may go now, else the whole seconds to wait (>= 1)."""
        if not self.enabled:
            return None
        now = self.clock()
        waits = [
            bucket.wait_time(now)
            for bucket in (self._global, self._chat_bucket(chat, now))
            if bucket
        ]
        wait = max(waits, default=0.0)
        return None if wait <= 0 else max(1, math.ceil(wait))

    def consume(self, chat: Hashable) -> None:
        """Count one message sent to ``chat``."""
        if not self.enabled:
            return
        now = self.clock()
        for bucket in (self._global, self._chat_bucket(chat, now)):
            if bucket:
                bucket.take(now)
