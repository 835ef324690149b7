"""Sending a confirmed broadcast: what recipients see, the job that moves broadcasts along, and
the admin's live progress message and final report.

The outbox does the delivery (paced, durable, never twice); this module feeds it. A JobQueue
job (:func:`broadcast_job`, every second) derives everything from the database at each run, so
a restart carries on where the last process stopped:

- scheduled broadcasts whose time has come start;
- a sending broadcast's recipients go into the outbox in chunks (resumed from the stored
  cursor; the outbox's unique keys make a repeated chunk harmless);
- the admin's progress message is edited at most every few seconds, only when its text
  changed (Telegram refuses an edit to the same text);
- the admin's final report goes through the outbox too: storage queues it in the transaction
  that finishes or cancels the broadcast (:func:`render_report` says what it reads).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes, Job

from bot.buttons import CANCEL_BROADCAST, PAUSE_BROADCAST, RESUME_BROADCAST
from bot.delivery.outbox import Rendered, Renderer
from bot.delivery.pacing import run_every
from bot.i18n import Translator, translator
from bot.places.timezones import local
from bot.storage import Broadcast, Notification, Storage
from bot.views.announcements import stop_keyboard, with_sender

if TYPE_CHECKING:
    from bot.context import CommunityApplication

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds between two edits of a progress message
RATE_WINDOW = 60.0  # seconds of history the finish estimate is based on

STATE_LABELS = {
    "scheduled": "🕒",
    "sending": "📣",
    "paused": "⏸",
    "cancelled": "✖️",
    "done": "✅",
}


def announcements_sender(application: CommunityApplication) -> str:
    """Who announcements are from: ANNOUNCEMENTS_FROM, else the bot's name (from getMe)."""
    return application.settings.announcements_from or application.bot.first_name


def broadcast_message(
    broadcast: Broadcast, t: Translator, sender: str, *, buttons: bool = True
) -> Rendered | None:
    """What a reader whose language is ``t``'s gets (their text, or the fallback, under the
    sender line in their language, with the button that turns its kind off): the same for
    the admin's preview (``buttons=False``: the button of a message nobody was sent would
    refuse the admin) and for delivery."""
    text = broadcast.text_for(t.language)
    if not text:
        return None
    # A photo is the point of some announcements: those are never put in a bundle.
    return Rendered(
        with_sender(t, text, sender, broadcast.kind, urgent=broadcast.urgent),
        keyboard=stop_keyboard(t, broadcast) if buttons else None,
        photo_file_id=broadcast.photo_file_id,
        alone=broadcast.photo_file_id is not None,
    )


def broadcast_renderer(application: CommunityApplication) -> Renderer:
    """The outbox's renderer of broadcast rows, naming the application's sender."""

    async def render_broadcast(
        storage: Storage, notification: Notification, t: Translator, now: int
    ) -> Rendered | None:
        broadcast = await storage.get_broadcast(int(notification.payload["broadcast"]))
        if broadcast is None or broadcast.state == "cancelled":
            return None  # cancelled while this row was on its way: drop it
        reader = await storage.get_member(notification.user_id)
        if reader is None or reader.banned:
            return None  # banned while the row waited (quiet hours, its turn): as if not queued
        kind = broadcast.opt_out_kind
        if kind is not None and not await storage.receives_announcements(
            notification.user_id, kind
        ):
            return None  # turned off after the row was queued (it is cancelled then too)
        return broadcast_message(broadcast, t, announcements_sender(application))

    return render_broadcast


# --- what the admin sees -------------------------------------------------------------------


def when_text(t: Translator, seconds: int, timezone: str) -> str:
    """'1 May 2030, 09:30 (Paris)': the date and time in ``timezone``, named by the city CLDR
    names it after, all in the reader's language."""
    return f"{t.moment(local(seconds, timezone))} ({t.zone_city(timezone)})"


def progress_text(
    t: Translator,
    broadcast: Broadcast,
    counts: dict[str, int],
    now: int,
    rate: float | None,
) -> str:
    _ = t.gettext
    n = t.number
    states = {
        "scheduled": _("scheduled"),
        "sending": _("sending"),
        "paused": _("paused"),
        "cancelled": _("cancelled"),
        "done": _("finished"),
    }
    lines = [
        _("{icon} <b>Broadcast #{id}</b>: {state}").format(
            icon=STATE_LABELS.get(broadcast.state, "📣"),
            id=broadcast.id,
            state=states.get(broadcast.state, broadcast.state),
        )
    ]
    if broadcast.state == "scheduled" and broadcast.send_at:
        lines.append(
            _("Starts {when}.").format(when=when_text(t, broadcast.send_at, broadcast.timezone))
        )
        return "\n".join(lines)
    left = counts.get("pending", 0) + counts.get("sending", 0)
    failed = counts.get("failed", 0) + counts.get("unknown", 0)
    lines.append(
        _("Sent: {sent} · Blocked: {blocked} · Failed: {failed} · Left: {left}").format(
            sent=n(counts.get("sent", 0)),
            blocked=n(counts.get("blocked", 0)),
            failed=n(failed),
            left=n(left),
        )
    )
    if broadcast.state == "sending" and not broadcast.enqueued_all:
        lines.append(_("Still putting recipients in the queue…"))
    if counts.get("cancelled"):
        lines.append(_("Not sent (cancelled): {count}").format(count=n(counts["cancelled"])))
    lines += opted_out_line(t, counts)
    if broadcast.state == "sending" and left and rate:
        seconds = int(left / rate)
        lines.append(
            _("Estimated finish: {when} ({delta})").format(
                when=when_text(t, now + seconds, broadcast.timezone),
                delta=t.timedelta(timedelta(seconds=max(seconds, 1)), direction=True),
            )
        )
    return "\n".join(lines)


def opted_out_line(t: Translator, counts: dict[str, int]) -> list[str]:
    """The recipients who turned the broadcast's kind off while it was on its way (none were
    sent it after that), if any."""
    if not counts.get("opted_out"):
        return []
    return [
        t.gettext("Not sent (turned this kind of announcement off): {count}").format(
            count=t.number(counts["opted_out"])
        )
    ]


def progress_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup | None:
    _ = t.gettext
    cancel = InlineKeyboardButton(_("✖️ Cancel"), callback_data=CANCEL_BROADCAST.data(broadcast.id))
    if broadcast.state == "sending":
        pause = InlineKeyboardButton(_("⏸ Pause"), callback_data=PAUSE_BROADCAST.data(broadcast.id))
        return InlineKeyboardMarkup([[pause, cancel]])
    if broadcast.state == "paused":
        resume = InlineKeyboardButton(
            _("▶️ Resume"), callback_data=RESUME_BROADCAST.data(broadcast.id)
        )
        return InlineKeyboardMarkup([[resume, cancel]])
    if broadcast.state == "scheduled":
        return InlineKeyboardMarkup([[cancel]])
    return None


def report_text(t: Translator, broadcast: Broadcast, counts: dict[str, int]) -> str:
    _ = t.gettext
    n = t.number
    if broadcast.state == "cancelled":
        head = _("✖️ Broadcast #{id} was cancelled.").format(id=broadcast.id)
    else:
        head = _("✅ Broadcast #{id} is finished.").format(id=broadcast.id)
    lines = [
        head,
        t.ngettext(
            "Delivered to {count} person.", "Delivered to {count} people.", counts.get("sent", 0)
        ).format(count=n(counts.get("sent", 0))),
        _("Blocked the bot: {count}").format(count=n(counts.get("blocked", 0))),
        _("Failed: {count}").format(count=n(counts.get("failed", 0))),
    ]
    if counts.get("unknown"):
        lines.append(
            _("In flight during a restart (may or may not have arrived): {count}").format(
                count=n(counts["unknown"])
            )
        )
    if counts.get("cancelled"):
        lines.append(_("Not sent (cancelled): {count}").format(count=n(counts["cancelled"])))
    lines += opted_out_line(t, counts)
    if broadcast.started_at and broadcast.finished_at:
        took = max(1, broadcast.finished_at - broadcast.started_at)
        lines.append(_("Took {duration}.").format(duration=t.timedelta(timedelta(seconds=took))))
    return "\n".join(lines)


# --- the job -------------------------------------------------------------------------------


class Broadcaster:
    """Moves one application's broadcasts along (``application.broadcaster``)."""

    def __init__(self, application: CommunityApplication) -> None:
        self.application = application
        self.lock = asyncio.Lock()  # one edit of a progress message at a time
        self.last_edit: dict[int, float] = {}
        self.samples: dict[int, deque[tuple[float, int]]] = {}
        self.job: Job | None = None  # type: ignore[type-arg]

    @property
    def storage(self) -> Storage:
        return self.application.storage

    def now(self) -> int:
        return self.application.now()

    def wake(self) -> None:
        """Run the job now rather than at its next tick."""
        if self.job is not None and self.job.job is not None:
            zone = self.job.job.next_run_time.tzinfo
            self.job.job.modify(next_run_time=datetime.now(zone))

    async def run(self) -> None:
        for started in await self.storage.start_due_broadcasts(self.now()):
            log.info("scheduled broadcast %s starts", started)
        for broadcast in await self.storage.active_broadcasts():
            if not broadcast.enqueued_all:
                await self._enqueue(broadcast.id)
            await self.refresh(broadcast.id)

    async def _enqueue(self, broadcast_id: int) -> None:
        while not await self.storage.enqueue_broadcast_chunk(broadcast_id, self.now()):
            # Between chunks, people talking to the bot get their turn at the database.
            await asyncio.sleep(0)
            self.application.outbox.wake()
        self.application.outbox.wake()

    def _rate(self, broadcast_id: int, processed: int) -> float | None:
        """Messages a second over the last minute, measured (it is a physical rate)."""
        samples = self.samples.setdefault(broadcast_id, deque())
        now = time.monotonic()
        samples.append((now, processed))
        while len(samples) > 2 and now - samples[0][0] > RATE_WINDOW:
            samples.popleft()
        (t0, p0), (t1, p1) = samples[0], samples[-1]
        if t1 - t0 >= 2 and p1 > p0:
            return (p1 - p0) / (t1 - t0)
        configured = self.application.settings.send_rate
        return float(configured) if configured else None

    async def refresh(self, broadcast_id: int, *, force: bool = False) -> None:
        """Bring the admin's progress message up to date; finish a broadcast with nothing left."""
        async with self.lock:
            finished = await self.storage.finish_broadcast(broadcast_id, self.now())
            broadcast = await self.storage.get_broadcast(broadcast_id)
            if broadcast is None or broadcast.progress_chat is None:
                return
            counts = await self.storage.broadcast_counts(broadcast)
            processed = sum(v for k, v in counts.items() if k not in ("pending", "sending"))
            rate = self._rate(broadcast_id, processed)
            due = time.monotonic() - self.last_edit.get(broadcast_id, 0.0) >= PROGRESS_EVERY
            if force or finished or due:
                await self._edit(broadcast, counts, rate)
            if finished:  # the report is in the outbox (queued with the finishing)
                log.info("broadcast %s finished: %s", broadcast.id, counts)
                self.forget(broadcast.id)
                self.application.outbox.wake()

    async def _edit(self, broadcast: Broadcast, counts: dict[str, int], rate: float | None) -> None:
        t = await self._admin_language(broadcast)
        text = progress_text(t, broadcast, counts, self.now(), rate)
        if text == broadcast.progress_text:
            return
        self.last_edit[broadcast.id] = time.monotonic()
        try:
            await self.application.bot.edit_message_text(
                text,
                chat_id=broadcast.progress_chat,
                message_id=broadcast.progress_message,
                reply_markup=progress_keyboard(t, broadcast),
            )
        except BadRequest as refused:
            if "not modified" not in refused.message:
                log.warning("progress of broadcast %s: %s", broadcast.id, refused.message)
        except TelegramError as trouble:  # the next run tries again
            log.info("progress of broadcast %s: %s", broadcast.id, trouble)
            return
        await self.storage.set_progress_text(broadcast.id, text)

    def forget(self, broadcast_id: int) -> None:
        """A broadcast that is over: its figures are no longer needed."""
        self.samples.pop(broadcast_id, None)
        self.last_edit.pop(broadcast_id, None)

    async def _admin_language(self, broadcast: Broadcast) -> Translator:
        admin = await self.storage.get_member(broadcast.admin_id)
        return translator(admin.language if admin else "en")


async def broadcast_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.broadcaster.run()  # type: ignore[attr-defined]


def schedule(application: CommunityApplication) -> Broadcaster:
    """The application's broadcaster, its job run every second, one run at a time."""
    runner = Broadcaster(application)
    runner.job = run_every(application, broadcast_job, 1, first=0.5, name="broadcasts")
    return runner


async def render_report(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """The final report of a broadcast, with its figures as they are when it is sent (the
    admin is notified: a new message, where an edit is silent)."""
    broadcast = await storage.get_broadcast(int(notification.payload["broadcast"]))
    if broadcast is None:
        return None
    return Rendered(report_text(t, broadcast, await storage.broadcast_counts(broadcast)))
