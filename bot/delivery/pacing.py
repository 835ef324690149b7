"""Staying under Telegram's sending limits without making people wait.

Telegram allows a bot about 30 messages a second across all chats (``SEND_RATE_LIMIT``) and
about one a second in each chat, and answers 429 with ``retry_after`` beyond that. Two kinds of
traffic share that budget: replies to people who are using the bot right now, and the outbox
(notifications, digests, broadcasts), which can wait.

:class:`SendBudget` is one token bucket for both. A reply takes a token as soon as one is there;
the outbox only takes one while another stays in reserve, so a reply never queues behind a
broadcast. :class:`PriorityRateLimiter` plugs the budget into python-telegram-bot: replies are
paced and, on a 429, only the reply that got it waits and retries. Calls made by the outbox
(``rate_limit_args=OUTBOX``) pass straight through: the outbox paces itself and answers a 429 by
pausing itself alone.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import Application, BaseRateLimiter, ContextTypes, Job

log = logging.getLogger(__name__)

#: Pass as ``rate_limit_args`` on calls made by the outbox.
OUTBOX = "outbox"

#: A repeating job's settings: one run at a time (a slow run delays the next), runs missed
#: meanwhile made up by one, however late.
ONE_RUN_AT_A_TIME = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


class OnTheGrid(IntervalTrigger):  # type: ignore[misc]
    """Runs every ``interval`` on one grid of times (``start_date`` + k·interval), which a run
    brought forward (a job woken: :meth:`bot.delivery.outbox.OutboxSender.wake`) does not
    move: the next run is at the next point of the grid, as it would have been.

    Every repeating job starts on a whole second and keeps to whole seconds, so the jobs due in
    the same second (the outbox's and the broadcasts' each second, the matching pass's every
    other) run in one wake-up of the process: an idle run's own work costs less CPU than
    waking the process for it (docs/BENCHMARKS.md, "Issue 19: the idle bot's ticks").
    APScheduler's own interval trigger counts the next run from the last one, so a job once
    woken left the others' second for good."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            first: datetime | None = super().get_next_fire_time(None, now)
            return first
        start, length = self.start_date.timestamp(), self.interval_length
        # The slack: a run on the grid is not taken for one a float's error before it.
        steps = math.floor((previous_fire_time.timestamp() - start) / length + 1e-6) + 1
        return datetime.fromtimestamp(start + steps * length, tz=self.timezone)


def run_every(
    application: Application,  # type: ignore[type-arg]
    callback: Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]],
    every: float | timedelta,
    *,
    first: float,
    name: str,
) -> Job:  # type: ignore[type-arg]
    """Run ``callback`` every ``every`` (whole seconds, or a timedelta of them), one run at a
    time, the first at the first whole second at least ``first`` seconds from now (see
    :class:`OnTheGrid`)."""
    assert application.job_queue is not None
    seconds = every.total_seconds() if isinstance(every, timedelta) else float(every)
    start = datetime.fromtimestamp(math.ceil(time.time() + first), tz=UTC)
    trigger = OnTheGrid(seconds=seconds, start_date=start, timezone=UTC)
    return application.job_queue.run_custom(
        callback, job_kwargs={"trigger": trigger, **ONE_RUN_AT_A_TIME}, name=name
    )


# Methods that put a new message in a chat: these are what Telegram's limits count.
_NOT_SENDING = {"sendChatAction"}


def counts_as_message(endpoint: str) -> bool:
    return (endpoint.startswith("send") and endpoint not in _NOT_SENDING) or endpoint in (
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )


class SendBudget:
    """A token bucket of messages per second shared by replies and the outbox.

    ``rate`` 0 means no limit. The bucket holds at most one second's worth of tokens.
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        per_chat_interval: float = 1.0,
    ) -> None:
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self._clock = clock
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._updated = clock()
        self._last_sent: dict[int, float] = {}

    def sent_to(self, chat_id: int) -> None:
        """Note a message to a chat (replies and outbox alike), for per-chat pacing."""
        now = self._clock()
        if len(self._last_sent) > 10_000:  # keep only chats that still matter
            horizon = now - self.per_chat_interval
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > horizon}
        self._last_sent[chat_id] = now

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may get another message from the outbox."""
        last = self._last_sent.get(chat_id)
        if last is None:
            return 0.0
        return max(0.0, last + self.per_chat_interval - self._clock())

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait_time(self, *, reserve: float = 0.0) -> float:
        """Seconds until a token is free while keeping ``reserve`` tokens back (0 = now)."""
        if self.rate <= 0:
            return 0.0
        self._refill()
        missing = 1.0 + reserve - self._tokens
        return max(0.0, missing / self.rate)

    def take(self) -> None:
        if self.rate > 0:
            self._refill()
            self._tokens -= 1.0

    async def acquire(self, *, reserve: float = 0.0) -> None:
        """Wait for a token (keeping ``reserve`` back) and take it."""
        # A token bucket waits for time to pass, not for an event.
        while (delay := self.wait_time(reserve=reserve)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)
        self.take()


class PriorityRateLimiter(BaseRateLimiter[str]):
    """PTB rate limiter: paced replies with their own retries; outbox calls untouched.

    A reply that meets a 429, a 5xx, a timeout or a dropped connection is sent again a few
    times (a reply lost to a passing fault would leave the person waiting): four retries
    backing off from 0.1 to 0.8 s, 1.5 s in all, so that only an outage, not a run of bad
    luck, loses one (at one call in ten failing, one reply in 100,000). getUpdates never
    comes here: PTB's updater retries it itself."""

    def __init__(self, budget: SendBudget, max_retries: int = 4) -> None:
        self.budget = budget
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if rate_limit_args == OUTBOX:
            return await callback(*args, **kwargs)
        paced = counts_as_message(endpoint)
        for attempt in range(self.max_retries + 1):
            if paced:
                await self.budget.acquire()
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as too_many:
                if attempt == self.max_retries:
                    raise
                delay = too_many.retry_after
                seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
                log.info("%s: 429, retrying this reply in %.1f s", endpoint, seconds)
                await asyncio.sleep(seconds)
                continue
            except BadRequest:
                raise  # our request is wrong: sending it again would fail again
            except NetworkError as trouble:  # 5xx, a timeout, a dropped connection
                if attempt == self.max_retries:
                    raise
                seconds = 0.1 * 2**attempt
                log.info("%s: %s, retrying this reply in %.2f s", endpoint, trouble, seconds)
                await asyncio.sleep(seconds)
                continue
            if paced and isinstance(data.get("chat_id"), int):
                self.budget.sent_to(data["chat_id"])
            return result
        raise AssertionError("unreachable")
