"""The digest renderer (added by :mod:`bot.handlers.matches`): one message for the matches and
alert hits that waited for a person's daily or weekly digest, read from storage when it is sent,
in the reader's language of that moment.

The daily digest shows its items grouped by the person's listing or alert they are for, as
many as fit in Telegram's 4096 characters (the rest wait for the next one); the weekly digest
is a summary of the week: every item it takes is counted by category, the best few are shown.
A listing one digest showed is never shown by the other (storage drops it when claiming).
"""

from __future__ import annotations

from typing import Any

from bot.delivery.notifications import live_hit, live_match
from bot.delivery.outbox import Rendered
from bot.i18n import N_, Translator
from bot.semantic.meaning import Meaning
from bot.storage import Storage
from bot.storage.outbox import Notification
from bot.views import cards
from bot.views.alerts import alert_summary
from bot.views.digests import (
    DigestEntry,
    best_of_week,
    daily_text,
    open_buttons,
    weekly_text,
)
from bot.views.html import TEXT_LIMIT, visible_length
from bot.views.matches import distance_from, kilometres_between, reason_line
from bot.views.texts import quoted_title

DIGEST_ITEMS = 15  # at most this many in a daily digest
WEEKLY_ITEMS = 500  # a weekly digest takes every item of the week, up to this many
WEEKLY_BEST = 5  # the best few a weekly digest shows
# The heading over a digest's matches for one of the reader's listings, by its kind.
MATCH_HEADINGS = {
    "request": N_("🤝 <b>For your request {title}</b>"),
    "offer": N_("🤝 <b>For your offer {title}</b>"),
}


async def _match_entry(
    storage: Storage, t: Translator, user_id: int, item_id: int, payload: dict[str, Any], now: int
) -> DigestEntry | None:
    _ = t.gettext
    found = await live_match(storage, payload, user_id, now)
    if found is None:
        return None
    mine, other, match = found
    heading = _(MATCH_HEADINGS[mine.kind]).format(title=quoted_title(t, mine.title, 60))
    short = quoted_title(t, mine.title, 40)
    return DigestEntry(
        item_id,
        cards.with_distance(other, kilometres_between(mine, other)),
        ("match", mine.id),
        heading,
        _("🤝 for your {title}").format(title=short),
        reason_line(t, match.reasons, mine, other),
        match.score,
    )


async def _alert_entry(
    storage: Storage,
    meaning: Meaning,
    t: Translator,
    user_id: int,
    item_id: int,
    payload: dict[str, Any],
    now: int,
) -> DigestEntry | None:
    hit = await live_hit(storage, meaning, payload, user_id, now)
    if hit is None:
        return None
    alert, listing, point = hit
    summary = alert_summary(t, alert)
    return DigestEntry(
        item_id,
        cards.with_distance(listing, distance_from(point, listing)),
        ("alert", alert.id),
        t.gettext("🔔 <b>For your alert</b>: {alert}").format(alert=summary),
        "🔔 " + summary,
    )


async def _entries(
    storage: Storage,
    meaning: Meaning,
    t: Translator,
    notification: Notification,
    now: int,
    limit: int,
    freq: str,
) -> tuple[list[DigestEntry], int]:
    """The digest's items as entries, one per listing (stale ones left out), and how many due
    items are left for the next digest."""
    user = notification.user_id
    items, left = await storage.claim_digest(user, notification.id, now, limit, freq)
    entries: list[DigestEntry] = []
    seen: set[int] = set()
    for item in items:
        if item.kind == "match":
            entry = await _match_entry(storage, t, user, item.id, item.payload, now)
        elif item.kind == "alert":
            entry = await _alert_entry(storage, meaning, t, user, item.id, item.payload, now)
        else:
            entry = None
        if entry is not None and entry.listing.id not in seen:
            seen.add(entry.listing.id)
            entries.append(entry)
    return entries, left


def _grouped(entries: list[DigestEntry]) -> list[DigestEntry]:
    """Entries of one group together, groups in the order they first come."""
    order: dict[tuple[str, int], int] = {}
    for entry in entries:
        order.setdefault(entry.group, len(order))
    return sorted(entries, key=lambda e: order[e.group])


async def render_digest(
    storage: Storage,
    notification: Notification,
    t: Translator,
    now: int,
    *,
    meaning: Meaning,
) -> Rendered | None:
    """``{"due": <when>, "frequency": "daily" | "weekly"}`` (daily when not said); added
    with the application's ``meaning``, which weighs alerts' words again."""
    if notification.payload.get("frequency") == "weekly":
        return await _weekly(storage, meaning, notification, t, now)
    entries, left = await _entries(storage, meaning, t, notification, now, DIGEST_ITEMS, "daily")
    if not entries:
        return None
    entries = _grouped(entries)
    shown = len(entries)
    while True:
        text = daily_text(t, entries[:shown], left + len(entries) - shown, now)
        if visible_length(text) <= TEXT_LIMIT or shown == 1:
            break
        shown -= 1  # no room: it goes back to wait for the next digest
    await storage.release_digest_items([entry.item_id for entry in entries[shown:]])
    return Rendered(text, open_buttons(entries[:shown]))


async def _weekly(
    storage: Storage, meaning: Meaning, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    entries, _left = await _entries(storage, meaning, t, notification, now, WEEKLY_ITEMS, "weekly")
    if not entries:
        return None
    entries = best_of_week(entries)
    shown = min(WEEKLY_BEST, len(entries))
    while True:
        text = weekly_text(t, entries, shown, now)
        if visible_length(text) <= TEXT_LIMIT or shown == 1:
            break
        shown -= 1
    return Rendered(text, open_buttons(entries[:shown]))
