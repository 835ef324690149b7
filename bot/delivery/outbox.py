"""Delivering the outbox: paced, durable, never twice.

A JobQueue job (:func:`deliver_job`, every second) sends due rows one at a time:

- each row is *claimed* (committed as 'sending') before it leaves, and marked 'sent' right after
  Telegram answers, so a crash can never make it go out twice (see bot/storage/outbox.py);
- the pace is the shared :class:`~bot.delivery.pacing.SendBudget`, keeping one token back for people
  using the bot right now, and at most one message a second to each chat;
- 429 pauses the outbox alone for ``retry_after`` (the row waits, nothing is lost); 403 (blocked,
  deactivated) and "chat not found" mark the recipient and settle all their rows; network errors
  and 5xx are retried with back-off, a few times.

Quiet hours are decided here, at send time, for every row, so no feature can forget them: a due
row whose recipient is in their quiet hours (from /settings, in their time zone) is held until
they end, unless it is urgent. Held rows, and rows that waited for the per-chat limit, go out
as one bundled message (:mod:`bot.delivery.bundles`) rather than a burst.

What a row says is decided when it is sent, by the renderer of its kind, in the recipient's
language at that moment. Each feature adds the renderers of its kinds when it registers
(:meth:`OutboxSender.add_renderer`); a row of a kind nobody renders is marked failed. A renderer
returning None means the notification no longer makes sense (e.g. the listing was closed):
the row is cancelled.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, Job

from bot.delivery.bundles import bundle
from bot.delivery.pacing import OUTBOX, SendBudget, run_every
from bot.delivery.timing import after_quiet_hours
from bot.i18n import N_, Translator, translator
from bot.logs import Tally, counted
from bot.storage import Storage
from bot.storage.members import Member
from bot.storage.outbox import NOTICE, Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Rendered:
    """What a notification looks like for one reader."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    photo_file_id: str | None = None
    alone: bool = False  # never part of a bundle (an announcement's photo must be seen)


Renderer = Callable[[Storage, Notification, Translator, int], Awaitable[Rendered | None]]
# Under a notice about a moderator's decision, the reason they gave (their words, as typed).
REASON_GIVEN = N_("The moderator's reason:")


async def render_notice(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """A plain message: payload ``{"msgid": <English source>, "params": {...}}``; the msgid
    must be marked with N_ where it is enqueued, and params are escaped (a ``title`` also quoted
    in the reader's quotation marks). A ``reason`` (a moderator's words) goes under it. A
    notice that speaks to one ``side`` (of a municipality, or of a listing) is dropped when its
    reader is no longer on it (they left, moved or were revoked while it waited)."""
    side = notification.payload.get("side")
    if side is not None and not await storage.still_on_side(notification.user_id, side):
        return None
    params = {
        key: html.escape(str(value))
        for key, value in notification.payload.get("params", {}).items()
    }
    if "title" in params:
        params["title"] = t.quote(params["title"])
    # Through a variable: pybabel would otherwise extract the literal "msgid" as a message.
    # Notices queued before titles were quoted by the reader's language carry “{title}”.
    source = notification.payload["msgid"].replace("“{title}”", "{title}")
    text = t.gettext(source).format(**params)
    reason = notification.payload.get("reason")
    if reason:
        text += f"\n\n{t.gettext(REASON_GIVEN)}\n<blockquote>{html.escape(reason)}</blockquote>"
    return Rendered(text)


async def post(
    application: Application,  # type: ignore[type-arg]
    chat_id: int,
    shown: Rendered,
    **kwargs: Any,
) -> Message:
    """Send a rendered message: a photo with its caption, else a text (the outbox's rows, and
    an admin's preview of a broadcast exactly as its recipients will see it)."""
    bot: Bot = application.bot
    if shown.photo_file_id:
        return await bot.send_photo(
            chat_id, shown.photo_file_id, caption=shown.text, reply_markup=shown.keyboard, **kwargs
        )
    return await bot.send_message(chat_id, shown.text, reply_markup=shown.keyboard, **kwargs)


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
        self.sent_alone: set[str] = set()

    def add_renderer(self, kind: str, render: Renderer, *, bundled: bool = True) -> None:
        """Show notifications of ``kind`` with ``render`` (each feature adds its own);
        ``bundled=False`` for kinds never put in a bundle (rendering one has effects)."""
        if kind in self.renderers:
            raise ValueError(f"two renderers for notifications of kind {kind!r}")
        self.renderers[kind] = render
        if not bundled:
            self.sent_alone.add(kind)

    def wake(self) -> None:
        """Deliver now rather than at the next tick (after enqueueing something urgent)."""
        if self.job is not None and self.job.job is not None:
            self.job.job.modify(next_run_time=datetime.now(self.job.job.next_run_time.tzinfo))

    def _cooling(self, chat_id: int) -> bool:
        return self.budget.chat_wait(chat_id) > 0

    async def deliver(self, window: float = 0.95) -> int:
        """Send what is due for up to ``window`` seconds; returns how many rows went out."""
        started = self.clock()
        sent = 0
        while self.clock() - started < window and self.clock() >= self.paused_until:
            due = await self.storage.due_notifications(self.now(), limit=50)
            if not due:
                break
            still_due = await self._hold(due)
            ready = [n for n in still_due if not self._cooling(n.user_id)]
            if not ready:
                if len(still_due) < len(due):
                    continue  # some were held until their quiet hours end: the next ones
                break
            for user_id, rows in _by_recipient(ready):
                wait = self.budget.wait_time(reserve=1.0)
                if self.clock() + wait - started >= window or self.clock() < self.paused_until:
                    return sent
                if wait:
                    await asyncio.sleep(wait)
                if self._cooling(user_id):
                    continue  # held at the next look, with whatever else waits for this chat
                sent += await self._send_next(rows)
        return sent

    async def _hold(self, due: list[Notification]) -> list[Notification]:
        """Hold the rows of recipients in their quiet hours until those end; mark the rows of
        chats that got a message less than a second ago as held too (they go together when
        the chat may have the next one); returns the rows not held until later."""
        now = self.now()
        quiet = {n.user_id for n in due if not n.urgent}
        prefs = await self.storage.preferences_of(quiet, blocked_too=True)
        until: dict[int, list[int]] = {}
        ready = []
        for notification in due:
            wanted = None if notification.urgent else prefs.get(notification.user_id)
            end = after_quiet_hours(now, wanted) if wanted is not None else now
            if end > now:
                until.setdefault(end, []).append(notification.id)
                continue
            if self._cooling(notification.user_id) and not notification.held:
                until.setdefault(now, []).append(notification.id)
                notification = dataclasses.replace(notification, held=True)
            ready.append(notification)
        for end, ids in until.items():
            await self.storage.hold(ids, end)
        return ready

    async def _send_next(self, rows: list[Notification]) -> int:
        """One message to a recipient: the bundle of what waited for them, if more than one
        row did, else the first row. Returns how many rows went out."""
        waited = [n for n in rows if n.held and n.kind not in self.sent_alone]
        if len(waited) > 1:
            return await self.send_bundle(waited)
        return int(await self.send(rows[0]))

    async def send(self, notification: Notification) -> bool:
        """Claim, render and send one row; True if it went out."""
        if not await self.storage.claim(notification.id, self.now()):
            return False  # someone else took it, or it is no longer due (paused)
        member = await self._recipient([notification])
        if member is None:
            return False
        shown = await self._render(notification, translator(member.language))
        if shown is None:
            return False
        return await self._deliver([notification], shown)

    async def send_bundle(self, waited: list[Notification]) -> int:
        """The rows that waited for one recipient, as one message (as many as fit; the others
        wait for the next one). Returns how many rows went out."""
        member = await self._recipient(waited)
        if member is None:
            return 0
        t = translator(member.language)
        items: list[tuple[Notification, Rendered]] = []
        alone: list[Notification] = []
        for notification in waited:
            shown = await self._render(notification, t)
            if shown is not None and shown.alone:
                alone.append(notification)
            elif shown is not None:
                items.append((notification, shown))
        if len(items) < 2:  # nothing to bundle after all: the first that is left, by itself
            first = [n for n, _shown in items] + alone
            return int(await self.send(first[0])) if first else 0
        made = bundle(t, [(shown.text, shown.keyboard) for _n, shown in items])
        chosen = [n for n, _shown in items[: made.count]]
        claimed = set(await self.storage.claim_all([n.id for n in chosen], self.now()))
        if claimed != {n.id for n in chosen}:  # another sender took some: the rest next time
            await self.storage.release_claims(sorted(claimed))
            return 0
        # One item alone (as long as a message may be) goes as it is.
        shown = items[0][1] if made.count == 1 else Rendered(made.text, made.keyboard)
        return len(chosen) if await self._deliver(chosen, shown) else 0

    async def _recipient(self, rows: list[Notification]) -> Member | None:
        """The member the rows are for, or None (the rows settled) if gone or blocked."""
        user_id = rows[0].user_id
        member = await self.storage.get_member(user_id)
        if member is None:
            for notification in rows:
                await self.storage.mark_cancelled(notification.id, "no such member")
            return None
        if member.blocked:  # they blocked the bot since this was queued: do not even try
            await self.storage.recipient_gone(member.id, "blocked the bot")
            return None
        return member

    async def _render(self, notification: Notification, t: Translator) -> Rendered | None:
        """What the row says now; None (the row settled) if it cannot or need not be said."""
        render = self.renderers.get(notification.kind)
        if render is None:
            await self.storage.mark_failed(notification.id, f"no renderer for {notification.kind}")
            return None
        try:
            shown = await render(self.storage, notification, t, self.now())
        except Exception as bug:  # a renderer's bug must not leave the row claimed forever
            log.exception("outbox row %s could not be rendered", notification.id)
            await self.storage.mark_failed(notification.id, f"render: {bug!r}")
            return None
        if shown is None:
            await self.storage.mark_cancelled(notification.id, "no longer relevant")
        return shown

    async def _deliver(self, rows: list[Notification], shown: Rendered) -> bool:
        """Send claimed rows as one message and settle them by Telegram's answer."""
        user_id = rows[0].user_id
        self.budget.take()
        try:
            message = await post(self.application, user_id, shown, rate_limit_args=OUTBOX)
        except RetryAfter as too_many:
            await self._pause(rows, too_many)
            return False
        except Forbidden as gone:
            await self.storage.recipient_gone(user_id, gone.message)
            return False
        except BadRequest as refused:
            if "chat not found" in refused.message.lower():
                await self.storage.recipient_gone(user_id, refused.message)
            else:  # our message is wrong (it would fail again): keep it for the logs
                log.error("outbox rows %s refused: %s", [n.id for n in rows], refused.message)
                for notification in rows:
                    await self.storage.mark_failed(notification.id, refused.message)
            return False
        except (NetworkError, TelegramError) as trouble:
            for notification in rows:
                await self._retry(notification, trouble)
            return False
        self.budget.sent_to(user_id)
        for notification in rows:
            await self.storage.mark_sent(notification.id, message.message_id, self.now())
        return True

    async def _pause(self, rows: list[Notification], too_many: RetryAfter) -> None:
        delay = too_many.retry_after
        seconds = delay if isinstance(delay, int | float) else delay.total_seconds()
        self.paused_until = self.clock() + seconds
        log.warning("outbox paused %.0f s after a 429", seconds)
        for notification in rows:
            await self.storage.retry_later(notification.id, self.now() + math.ceil(seconds), "429")

    async def _retry(self, notification: Notification, trouble: TelegramError) -> None:
        if notification.attempts + 1 >= MAX_ATTEMPTS:
            await self.storage.mark_failed(notification.id, str(trouble))
            return
        backoff = min(600, 2 ** (notification.attempts + 1))
        log.info("outbox row %s: %s; retrying in %s s", notification.id, trouble, backoff)
        await self.storage.retry_later(notification.id, self.now() + backoff, str(trouble))


def _by_recipient(rows: list[Notification]) -> list[tuple[int, list[Notification]]]:
    """The rows grouped by recipient, in the order each recipient first comes."""
    groups: dict[int, list[Notification]] = {}
    for notification in rows:
        groups.setdefault(notification.user_id, []).append(notification)
    return list(groups.items())


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue job: deliver what is due."""
    sender: OutboxSender = context.application.outbox  # type: ignore[attr-defined]
    sender.delivered.add(await sender.deliver())


def schedule(application: Application, sender: OutboxSender) -> None:  # type: ignore[type-arg]
    """Run delivery every second; one run at a time (a slow run delays the next one)."""
    sender.job = run_every(application, deliver_job, 1, first=0.2, name="outbox")
