"""How the notifications of matching are shown: a match, an alert hit, an expiry reminder (the
digest: :mod:`bot.delivery.digests`). Each is an outbox renderer (added by
:mod:`bot.handlers.matches`), run when the row is sent, in the recipient's language of that
moment; it answers None when the news is stale (a listing closed or renewed, a match marked not
relevant, an alert paused), and the row is dropped.
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
from bot.i18n import N_, Translator
from bot.matching.fitting import features_of
from bot.matching.matcher import alert_fits
from bot.matching.scoring import may_match
from bot.matching.types import StoredMatch
from bot.semantic.meaning import Meaning
from bot.storage import Alert, Listing, Storage
from bot.storage.outbox import Notification
from bot.views import cards
from bot.views.alerts import alert_summary
from bot.views.matches import distance_from, kilometres_between, reason_line
from bot.views.texts import place_line_of, quoted_title

DESCRIPTION_SHOWN = 280
Point = tuple[float, float]  # latitude, longitude
# A match's message names the recipient's own listing, by its kind.
MATCH_HEADERS = {
    "request": N_("🤝 <b>A match for your request {title}</b>"),
    "offer": N_("🤝 <b>A match for your offer {title}</b>"),
}


def compact_card(
    t: Translator,
    listing: Listing,
    header: str,
    footer: str,
    limit: int,
    away: float | None = None,
) -> str:
    """A listing in a few lines under ``header``, with ``footer`` under it; ``away``: how
    far it is from the reader's listing or place, in km, shown beside its place."""
    _ = t.gettext
    before = "\n".join([header, "", *cards.headline(t, listing), ""])
    tail = [""]
    if listing.tags:
        tail.append("🏷 " + cards.tag_labels(t, listing.tags))
    where = [place_line_of(t, listing)]
    if away is not None:
        where.append(t.kilometres(away))
    where.append(_(cards.REACH_LABELS[listing.reach]))
    tail.append("📍 " + " · ".join(where))
    tail.append(
        cards.author_line(t, listing)
        + " · "
        + _("🗣 {language}").format(language=t.language_name(listing.language))
    )
    if footer:
        tail += ["", footer]
    return cards.with_description(
        before, listing.description, "\n".join(tail), limit, DESCRIPTION_SHOWN
    )


def interest_label(t: Translator, listing: Listing) -> str:
    _ = t.gettext
    return _("🙋 I can help") if listing.kind == "request" else _("🙋 I'm interested")


def is_open(listing: Listing | None, now: int) -> bool:
    return listing is not None and listing.state(now) == "open"


async def live_match(
    storage: Storage, payload: dict[str, Any], user_id: int, now: int
) -> tuple[Listing, Listing, StoredMatch] | None:
    """``{"listing": <the reader's>, "other": <the match>}``: both listings and their match,
    or None when either closed, either was edited so that they no longer meet (a narrower
    reach, another place or category), the reader marked the match not relevant, the
    listing is no longer the reader's (they left the municipality it was posted for), or
    nobody answers for the other one any more (its author left, and so did every verified
    official of its municipality)."""
    mine_id, other_id = payload.get("listing"), payload.get("other")
    if not isinstance(mine_id, int) or not isinstance(other_id, int):
        return None
    found = await storage.match_at_sending(mine_id, other_id, user_id)
    mine, other, match = found.mine, found.other, found.match
    if not (is_open(mine, now) and is_open(other, now)) or not found.keeps:
        return None
    if not found.other_attended:
        return None
    assert mine is not None and other is not None
    if not may_match(features_of(mine), features_of(other)):
        return None  # edited since (reach, place, category): the two no longer meet
    if match is None or found.dismissed:
        return None
    return mine, other, match


async def live_hit(
    storage: Storage, meaning: Meaning, payload: dict[str, Any], user_id: int, now: int
) -> tuple[Alert, Listing, Point | None] | None:
    """``{"alert": <id>, "listing": <id>}``: the reader's alert, its open listing and where
    distances are measured from (:func:`alert_point`), while the alert would still be told
    of it. None when the alert was deleted or paused since the hit was queued (a paused
    alert tells nothing, now or in a digest), the reader was banned meanwhile (a ban stops
    what their alerts tell them), the listing closed, or nobody answers for it any more;
    either may have been edited since (another category, area or reach, other words), and
    the pass's rule decides again."""
    alert_id, listing_id = payload.get("alert"), payload.get("listing")
    if not isinstance(alert_id, int) or not isinstance(listing_id, int):
        return None
    found = await storage.hit_at_sending(alert_id, listing_id)
    if found is None or found.reader_banned or not is_open(found.listing, now):
        return None
    if not found.attended:
        return None  # nobody would answer: its author left, and no verified official is left
    alert, listing = found.alert, found.listing
    if alert.paused or alert.user_id != user_id:
        return None
    if not await alert_fits(storage, meaning, alert, listing):
        return None
    return alert, listing, alert_point(alert, found.home)


async def render_match(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """``{"listing": <the recipient's>, "other": <the match>}``: one card, its reasons, and
    Open / I can help / Not relevant."""
    _ = t.gettext
    found = await live_match(storage, notification.payload, notification.user_id, now)
    if found is None:
        return None
    mine, other, match = found
    header = _(MATCH_HEADERS[mine.kind]).format(title=quoted_title(t, mine.title, 80))
    footer = "💡 " + reason_line(t, match.reasons, mine, other)
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
    away = kilometres_between(mine, other)
    text = compact_card(t, other, header, footer, cards.length_limit(other), away)
    return Rendered(text, keyboard, other.photo_file_id)


async def render_alert(
    storage: Storage,
    notification: Notification,
    t: Translator,
    now: int,
    *,
    meaning: Meaning,
) -> Rendered | None:
    """``{"alert": <id>, "listing": <id>}``: a new listing for a saved search (added with
    the application's ``meaning``, which weighs the alert's words again)."""
    _ = t.gettext
    hit = await live_hit(storage, meaning, notification.payload, notification.user_id, now)
    if hit is None:
        return None
    alert, listing, point = hit
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
    away = distance_from(point, listing)
    text = compact_card(t, listing, header, "", cards.length_limit(listing), away)
    return Rendered(text, keyboard, listing.photo_file_id)


def alert_point(alert: Alert, home: Point | None) -> Point | None:
    """Where distances to an alert's listings are measured from: the alert's centre, else
    the person's place (``home``)."""
    if alert.latitude is not None and alert.longitude is not None:
        return (alert.latitude, alert.longitude)
    return home


async def render_reminder(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """``{"listing": <id>, "expires_at": <when>}``: the listing closes soon; Renew or Close.
    Dropped if it was renewed (another date), closed, or already expired, or the reader may no
    longer renew it (they left the municipality it speaks for while the reminder waited)."""
    _ = t.gettext
    listing_id = notification.payload.get("listing")
    if not isinstance(listing_id, int):
        return None
    # One read: the listing while the reader may still renew or close it.
    listing = await storage.manageable_listing(listing_id, notification.user_id)
    if listing is None or not is_open(listing, now):
        return None
    if listing.expires_at != notification.payload.get("expires_at"):
        return None  # renewed since
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
