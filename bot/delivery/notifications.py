"""How the notifications of matching are shown: a match, an alert hit, a digest, an expiry
reminder. Each is an outbox renderer (added by :mod:`bot.handlers.matches`), run when the row is
sent,
in the recipient's language of that moment; it answers None when the news is stale (a listing
closed or renewed, a match marked not relevant, an alert paused), and the row is dropped.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import (
    ASK_CLOSE,
    ASK_RENEWAL,
    NOT_RELEVANT,
    OPEN_LISTING,
    PAUSE_ALERT_FROM_NOTIFICATION,
    WRITE_TO_AUTHOR,
)
from bot.delivery.outbox import Rendered
from bot.i18n import Translator
from bot.matching import scoring as matching
from bot.storage import Listing, Storage
from bot.storage.outbox import Notification
from bot.views import cards
from bot.views.alerts import alert_summary
from bot.views.html import shorten, visible_length
from bot.views.texts import place_line, rows

DIGEST_ITEMS = 15
DESCRIPTION_SHOWN = 280


def fit(before: str, description: str, after: str, limit: int) -> str:
    """``before`` + the description (shortened to what room is left) + ``after``, at most
    ``limit`` visible characters (Telegram's count)."""
    room = limit - visible_length(before + after)
    shown = shorten(description, max(1, min(room, DESCRIPTION_SHOWN)))
    return before + html.escape(shown) + after


def compact_card(t: Translator, listing: Listing, header: str, footer: str, limit: int) -> str:
    """A listing in a few lines under ``header``, with ``footer`` under it."""
    _ = t.gettext
    before = "\n".join(
        [
            header,
            "",
            f"{cards.KIND_MARKS[listing.kind]} <b>{_(cards.KIND_LABELS[listing.kind])}</b> · "
            f"{cards.category_label(t, listing.category)}",
            f"<b>{html.escape(listing.title)}</b>",
            "",
        ]
    )
    tail = [""]
    if listing.tags:
        tail.append("🏷 " + cards.tag_labels(t, listing.tags))
    tail.append(
        f"📍 {place_line(t, listing.place, listing.region, listing.country, listing.place_key)} · "
        f"{_(cards.REACH_LABELS[listing.reach])}"
    )
    tail.append(
        cards.author_line(t, listing)
        + " · "
        + _("🗣 {language}").format(language=t.language_name(listing.language))
    )
    if footer:
        tail += ["", footer]
    return fit(before, listing.description, "\n".join(tail), limit)


def interest_label(t: Translator, listing: Listing) -> str:
    _ = t.gettext
    return _("🙋 I can help") if listing.kind == "request" else _("🙋 I'm interested")


def _limit(listing: Listing) -> int:
    return cards.CAPTION_LIMIT if listing.photo_file_id else cards.TEXT_LIMIT


async def _open_listing(storage: Storage, listing_id: object, now: int) -> Listing | None:
    if not isinstance(listing_id, int):
        return None
    listing = await storage.get_listing(listing_id)
    return listing if listing is not None and listing.state(now) == "open" else None


async def render_match(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """``{"listing": <the recipient's>, "other": <the match>}``: one card, its reasons, and
    Open / I can help / Not relevant."""
    _ = t.gettext
    mine = await _open_listing(storage, notification.payload.get("listing"), now)
    other = await _open_listing(storage, notification.payload.get("other"), now)
    if mine is None or other is None:
        return None
    match = await storage.match_between(mine.id, other.id)
    if match is None or await storage.dismissed(match.id, notification.user_id):
        return None
    title = t.quote(html.escape(shorten(mine.title, 80)))
    if mine.kind == "request":
        header = _("🤝 <b>A match for your request {title}</b>").format(title=title)
    else:
        header = _("🤝 <b>A match for your offer {title}</b>").format(title=title)
    footer = "💡 " + matching.describe(t, match.reasons)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("📄 Open"), callback_data=OPEN_LISTING.data(other.id)),
                InlineKeyboardButton(
                    interest_label(t, other), callback_data=WRITE_TO_AUTHOR.data(other.id)
                ),
            ],
            [InlineKeyboardButton(_("🚫 Not relevant"), callback_data=NOT_RELEVANT.data(match.id))],
        ]
    )
    text = compact_card(t, other, header, footer, _limit(other))
    return Rendered(text, keyboard, other.photo_file_id)


async def render_alert(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """``{"alert": <id>, "listing": <id>}``: a new listing for a saved search."""
    _ = t.gettext
    alert_id = notification.payload.get("alert")
    alert = await storage.get_alert(alert_id) if isinstance(alert_id, int) else None
    if alert is None or alert.paused or alert.user_id != notification.user_id:
        return None
    listing = await _open_listing(storage, notification.payload.get("listing"), now)
    if listing is None:
        return None
    header = _("🔔 <b>New for your alert</b>: {alert}").format(alert=alert_summary(t, alert))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("📄 Open"), callback_data=OPEN_LISTING.data(listing.id)),
                InlineKeyboardButton(
                    interest_label(t, listing), callback_data=WRITE_TO_AUTHOR.data(listing.id)
                ),
            ],
            [
                InlineKeyboardButton(
                    _("⏸ Pause this alert"),
                    callback_data=PAUSE_ALERT_FROM_NOTIFICATION.data(alert.id),
                )
            ],
        ]
    )
    text = compact_card(t, listing, header, "", _limit(listing))
    return Rendered(text, keyboard, listing.photo_file_id)


async def _digest_line(
    storage: Storage, t: Translator, user_id: int, item_kind: str, payload: dict[str, Any], now: int
) -> tuple[Listing, str] | None:
    """The listing a digest item is about, and what to say under its line."""
    _ = t.gettext
    if item_kind == "match":
        mine = await _open_listing(storage, payload.get("listing"), now)
        other = await _open_listing(storage, payload.get("other"), now)
        if mine is None or other is None:
            return None
        match = await storage.match_between(mine.id, other.id)
        if match is None or await storage.dismissed(match.id, user_id):
            return None
        why = _("🤝 for your {title}").format(title=t.quote(html.escape(shorten(mine.title, 40))))
        return other, f"{why} · {matching.describe(t, match.reasons)}"
    if item_kind == "alert":
        alert_id = payload.get("alert")
        alert = await storage.get_alert(alert_id) if isinstance(alert_id, int) else None
        listing = await _open_listing(storage, payload.get("listing"), now)
        if alert is None or alert.user_id != user_id or listing is None:
            return None
        return listing, "🔔 " + alert_summary(t, alert)
    return None


async def render_digest(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """One message for the person's waiting matches and alert hits (at most
    :data:`DIGEST_ITEMS`, within Telegram's 4096 characters), with a button to open each."""
    _ = t.gettext
    items, left = await storage.claim_digest(
        notification.user_id, notification.id, now, DIGEST_ITEMS
    )
    entries: list[tuple[int, Listing, str]] = []
    seen: set[int] = set()
    for item in items:
        entry = await _digest_line(storage, t, notification.user_id, item.kind, item.payload, now)
        if entry is not None and entry[0].id not in seen:
            seen.add(entry[0].id)
            entries.append((item.id, *entry))
    if not entries:
        return None
    lines = [
        cards.result_line(t, listing, number, now) + "\n    " + note
        for number, (_item, listing, note) in enumerate(entries, start=1)
    ]
    while True:
        count = len(lines)
        head = t.ngettext(
            "📬 <b>Your digest</b>: {count} new listing for you",
            "📬 <b>Your digest</b>: {count} new listings for you",
            count,
        ).format(count=t.number(count))
        tail = ""
        if left:
            tail = "\n\n" + t.ngettext(
                "…and {count} more in your next digest.",
                "…and {count} more in your next digest.",
                left,
            ).format(count=t.number(left))
        text = head + "\n\n" + "\n\n".join(lines) + tail + "\n\n" + _("Tap a number to open it.")
        if visible_length(text) <= cards.TEXT_LIMIT or count == 1:
            break
        lines.pop()  # no room: it goes back to wait for the next digest
        left += 1
    await storage.release_digest_items([item for item, _l, _n in entries[len(lines) :]])
    buttons = [
        InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(listing.id))
        for number, (_item, listing, _note) in enumerate(entries[: len(lines)], start=1)
    ]
    return Rendered(text, InlineKeyboardMarkup(rows(buttons, 5)))


async def render_reminder(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """``{"listing": <id>, "expires_at": <when>}``: the listing closes soon; Renew or Close.
    Dropped if it was renewed (another date), closed, or already expired."""
    _ = t.gettext
    listing = await _open_listing(storage, notification.payload.get("listing"), now)
    if listing is None or listing.expires_at != notification.payload.get("expires_at"):
        return None
    date = t.date(datetime.fromtimestamp(listing.expires_at, UTC))
    text = t.sentence(
        _(
            "⏳ Your listing <b>{title}</b> closes on {date}. Keep it open for longer, or close "
            "it if it is no longer needed?"
        ),
        title=html.escape(listing.title),
        date=date,
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("🔁 Renew"), callback_data=ASK_RENEWAL.data(listing.id)),
                InlineKeyboardButton(_("✖️ Close"), callback_data=ASK_CLOSE.data(listing.id)),
            ],
            [InlineKeyboardButton(_("📄 Open"), callback_data=OPEN_LISTING.data(listing.id))],
        ]
    )
    return Rendered(text, keyboard)
