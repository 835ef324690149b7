"""Delivering the outbox: paced, durable, never twice.

A JobQueue job (:func:`deliver_job`, every second) sends due rows one at a time:

- each row is *claimed* (committed as 'sending') before it leaves, and marked 'sent' right after
  Telegram answers, so a crash can never make it go out twice (see bot/storage/outbox.py);
- the pace is the shared :class:`~bot.delivery.pacing.SendBudget`, keeping one token back for people
  using the bot right now, and at most one message a second to each chat;
- 429 pauses the outbox alone for ``retry_after`` (the row waits, nothing is lost); 403 (blocked,
  deactivated) and "chat not found" mark the recipient and settle all their rows; network errors
  and 5xx are retried with back-off, a few times.

What a row says is decided when it is sent, by the renderer of its kind, in the recipient's
language at that moment. Each feature adds the renderers of its kinds when it registers
(:meth:`OutboxSender.add_renderer`); a row of a kind nobody renders is marked failed. A renderer
returning None means the notification no longer makes sense (e.g. the listing was closed):
the row is cancelled.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, Job

from bot.delivery.pacing import OUTBOX, SendBudget
from bot.i18n import Translator, translator
from bot.logs import Tally, counted
from bot.storage import Enqueued, Storage
from bot.storage.outbox import Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Rendered:
    """What a notification looks like for one reader."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    photo_file_id: str | None = None


Renderer = Callable[[Storage, Notification, Translator, int], Awaitable[Rendered | None]]
NOTICE = "notice"


async def render_notice(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """A plain message: payload ``{"msgid": <English source>, "params": {...}}``; the msgid
    must be marked with N_ where it is enqueued, and params are escaped (a ``title`` also quoted
    in the reader's quotation marks)."""
    params = {
        key: html.escape(str(value))
        for key, value in notification.payload.get("params", {}).items()
    }
    if "title" in params:
        params["title"] = t.quote(params["title"])
    # Through a variable: pybabel would otherwise extract the literal "msgid" as a message.
    # Notices queued before titles were quoted by the reader's language carry “{title}”.
    source = notification.payload["msgid"].replace("“{title}”", "{title}")
    return Rendered(t.gettext(source).format(**params))


class OutboxSender:
    """Sends due outbox rows for one application."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        storage: Storage,
        budget: SendBudget,
        now: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.application = application
        self.storage = storage
        self.budget = budget
        self.now = now
        self.clock = clock
        self.paused_until = 0.0
        self.job: Job | None = None  # type: ignore[type-arg]
        self.delivered = Tally(log, lambda n: f"delivered {counted(n, 'notification')}")
        self.renderers: dict[str, Renderer] = {NOTICE: render_notice}

    def add_renderer(self, kind: str, render: Renderer) -> None:
        """Show notifications of ``kind`` with ``render`` (each feature adds its own)."""
        if kind in self.renderers:
            raise ValueError(f"two renderers for notifications of kind {kind!r}")
        self.renderers[kind] = render

    async def queue(self, notifications: list[Enqueued], *, now: int) -> int:
        """Put notifications in the outbox (once each: their keys) and deliver them now rather
        than at the next tick; returns how many were new."""
        queued = await self.storage.enqueue(notifications, now=now)
        self.wake()
        return queued

    async def notice(
        self, to: list[int], key: str, msgid: str, *, now: int, **params: object
    ) -> int:
        """A plain notice for each of ``to``, once each (``key``): ``msgid`` (marked with N_)
        is translated into each recipient's language when sent, with ``params`` escaped."""
        payload = {"msgid": msgid, "params": params}
        return await self.queue(
            [Enqueued(user, NOTICE, f"{key}:{user}", payload, now) for user in to], now=now
        )

    def wake(self) -> None:
        """Deliver now rather than at the next tick (after enqueueing something urgent)."""
        if self.job is not None and self.job.job is not None:
            self.job.job.modify(next_run_time=datetime.now(self.job.job.next_run_time.tzinfo))

    def _cooling(self, chat_id: int) -> bool:
        return self.budget.chat_wait(chat_id) > 0

    async def deliver(self, window: float = 0.95) -> int:
        """Send what is due for up to ``window`` seconds; returns how many were sent."""
        started = self.clock()
        sent = 0
        while self.clock() - started < window and self.clock() >= self.paused_until:
            due = await self.storage.due_notifications(self.now(), limit=50)
            ready = [n for n in due if not self._cooling(n.user_id)]
            if not ready:
                break
            for notification in ready:
                wait = self.budget.wait_time(reserve=1.0)
                if self.clock() + wait - started >= window or self.clock() < self.paused_until:
                    return sent
                if wait:
                    await asyncio.sleep(wait)
                if self._cooling(notification.user_id):
                    continue
                if await self.send(notification):
                    sent += 1
        return sent

    async def send(self, notification: Notification) -> bool:
        """Claim, render and send one row; True if it went out."""
        if not await self.storage.claim(notification.id):
            return False  # someone else took it
        member = await self.storage.get_member(notification.user_id)
        if member is None:
            await self.storage.mark_cancelled(notification.id, "no such member")
            return False
        if member.blocked:  # they blocked the bot since this was queued: do not even try
            await self.storage.recipient_gone(member.id, "blocked the bot")
            return False
        render = self.renderers.get(notification.kind)
        if render is None:
            await self.storage.mark_failed(notification.id, f"no renderer for {notification.kind}")
            return False
        try:
            shown = await render(
                self.storage, notification, translator(member.language), self.now()
            )
        except Exception as bug:  # a renderer's bug must not leave the row claimed forever
            log.exception("outbox row %s could not be rendered", notification.id)
            await self.storage.mark_failed(notification.id, f"render: {bug!r}")
            return False
        if shown is None:
            await self.storage.mark_cancelled(notification.id, "no longer relevant")
            return False
        self.budget.take()
        try:
            message = await self._post(notification.user_id, shown)
        except RetryAfter as too_many:
            await self._pause(notification, too_many)
            return False
        except Forbidden as gone:
            await self.storage.recipient_gone(notification.user_id, gone.message)
            return False
        except BadRequest as refused:
            if "chat not found" in refused.message.lower():
                await self.storage.recipient_gone(notification.user_id, refused.message)
            else:  # our message is wrong (it would fail again): keep it for the logs
                log.error("outbox row %s refused: %s", notification.id, refused.message)
                await self.storage.mark_failed(notification.id, refused.message)
            return False
        except (NetworkError, TelegramError) as trouble:
            await self._retry(notification, trouble)
            return False
        self.budget.sent_to(notification.user_id)
        await self.storage.mark_sent(notification.id, message.message_id, self.now())
        return True

    async def _post(self, chat_id: int, shown: Rendered):  # type: ignore[no-untyped-def]
        bot = self.application.bot
        if shown.photo_file_id:
            return await bot.send_photo(
                chat_id,
                shown.photo_file_id,
                caption=shown.text,
                reply_markup=shown.keyboard,
                rate_limit_args=OUTBOX,
            )
        return await bot.send_message(
            chat_id, shown.text, reply_markup=shown.keyboard, rate_limit_args=OUTBOX
        )

    async def _pause(self, notification: Notification, too_many: RetryAfter) -> None:
        delay = too_many.retry_after
        seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
        self.paused_until = self.clock() + seconds
        log.warning("outbox paused %.0f s after a 429", seconds)
        await self.storage.retry_later(notification.id, self.now() + math.ceil(seconds), "429")

    async def _retry(self, notification: Notification, trouble: TelegramError) -> None:
        if notification.attempts + 1 >= MAX_ATTEMPTS:
            await self.storage.mark_failed(notification.id, str(trouble))
            return
        backoff = min(600, 2 ** (notification.attempts + 1))
        log.info("outbox row %s: %s; retrying in %s s", notification.id, trouble, backoff)
        await self.storage.retry_later(notification.id, self.now() + backoff, str(trouble))


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue job: deliver what is due."""
    sender: OutboxSender = context.application.outbox  # type: ignore[attr-defined]
    sender.delivered.add(await sender.deliver())


def schedule(application: Application, sender: OutboxSender) -> None:  # type: ignore[type-arg]
    """Run delivery every second; one run at a time (a slow run delays the next one)."""
    assert application.job_queue is not None
    sender.job = application.job_queue.run_repeating(
        deliver_job,
        interval=timedelta(seconds=1),
        first=0.2,
        name="outbox",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )
