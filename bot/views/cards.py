"""Listing cards: how one listing reads, for its owner or for anyone else, within Telegram's
limits, and the compact lines of a result page.

A card is HTML; every field a person typed is escaped. Telegram counts a message's length
after entity parsing in UTF-16 code units (4096 for a text, 1024 for a photo caption), so the
description is shortened, never the rest, until the visible text fits.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import taxonomy
from bot.buttons import (
    ASK_CLOSE,
    ASK_FULFILLED,
    ASK_RENEWAL,
    EDIT_LISTING,
    REPORT_LISTING,
    WRITE_TO_AUTHOR,
)
from bot.i18n import N_, Translator
from bot.places.names import place_name
from bot.storage import Listing, ListingRefused
from bot.views.html import CAPTION_LIMIT, TEXT_LIMIT, shorten, visible_length
from bot.views.texts import place_line_of

KIND_LABELS = {"offer": N_("Offer"), "request": N_("Request")}
KIND_MARKS = {"offer": "🟢", "request": "🔴"}
REACH_LABELS = {
    "municipality": N_("within the municipality"),
    "region": N_("within the region"),
    "country": N_("across the country"),
    "europe": N_("anywhere in Europe"),
}
# How long a listing stays open (the keys of taxonomy.DURATIONS), and how a need was met.
DURATION_LABELS = {
    "1w": N_("1 week"),
    "1m": N_("1 month"),
    "3m": N_("3 months"),
    "6m": N_("6 months"),
}
OUTCOME_LABELS = {
    "platform": N_("🤝 Thanks to Community Sharing"),
    "elsewhere": N_("✔️ Another way"),
}
STATE_NAMES = {
    "open": N_("open"),
    "expired": N_("expired"),
    "fulfilled": N_("fulfilled"),
    "closed": N_("closed"),
    "hidden": N_("hidden"),
}
STATE_LABELS = {
    "expired": N_("⌛ Expired"),
    "hidden": N_("🚫 Hidden by a moderator"),
}
# A listing that ended, and when: on its card, and as the answer to any of its buttons.
ENDED_LABELS = {
    "fulfilled": N_("✅ Fulfilled on {date}"),
    "closed": N_("✖️ Closed on {date}"),
}
ENDED_NOTICES = {
    "fulfilled": N_("This listing was fulfilled on {date}."),
    "closed": N_("This listing was closed on {date}."),
}


def category_label(t: Translator, key: str) -> str:
    found = taxonomy.category(key)
    return f"{found.emoji} {t.gettext(found.name)}" if found else key


def tag_labels(t: Translator, tags: tuple[str, ...] | list[str]) -> str:
    return " · ".join(
        t.gettext(taxonomy.TAG_NAMES[tag]) for tag in tags if tag in taxonomy.TAG_NAMES
    )


def author_line(t: Translator, listing: Listing) -> str:
    _ = t.gettext
    if listing.author_role == "municipality" and listing.author_name:
        badge = " ✅" if listing.author_verified else ""
        return f"🏛 {html.escape(listing.author_name)}{badge}"
    if listing.author_role == "organisation" and listing.author_name:
        return f"💼 {html.escape(listing.author_name)}"
    return "🤝 " + _("A volunteer")


def age(t: Translator, listing: Listing, now: int) -> str:
    """'3 days ago' in the reader's language; 'just now' for the first minute."""
    if now - listing.published_at < 60:
        return t.gettext("just now")
    return t.timedelta(timedelta(seconds=listing.published_at - now), direction=True)


def expiry_date(t: Translator, listing: Listing) -> str:
    return t.date(datetime.fromtimestamp(listing.expires_at, UTC))


def ended(t: Translator, status: str, at: int) -> str:
    """Why a button of a fulfilled or closed listing does nothing: it ended, on that day."""
    day = t.date(datetime.fromtimestamp(at, UTC))
    return t.sentence(t.gettext(ENDED_NOTICES[status]), date=day)


def listing_refusal(t: Translator, refused: ListingRefused) -> str:
    """Why the person may not act on a listing, in their words."""
    _ = t.gettext
    if refused.reason == "gone":
        return _("This listing does not exist or is no longer available.")
    if refused.reason in ENDED_NOTICES and refused.at is not None:
        return ended(t, refused.reason, refused.at)
    if refused.reason == "left":
        return left_notice(t)
    return _("You cannot change this listing.")


def left_notice(t: Translator) -> str:
    """Why the author of a municipality's listing no longer has its buttons: they no longer
    represent it (left, moved or revoked), and the listing stayed with it (short enough for
    a button's alert, 200 characters)."""
    return t.gettext(
        "You no longer represent the municipality of this listing: it stays with the "
        "municipality, and its verified officials manage it."
    )


def unattended_notice(t: Translator, municipality: str) -> str:
    """Why a shared link to a municipality's listing shows no card: its author no longer
    represents the municipality, and nobody else does yet, so no one would answer."""
    return t.gettext(
        "Nobody can answer for this listing at the moment: its author no longer represents "
        "{municipality}, which has no verified official. It will be shown again once the "
        "municipality has one."
    ).format(municipality=html.escape(municipality))


@dataclass(frozen=True)
class Card:
    text: str
    keyboard: InlineKeyboardMarkup | None
    photo_file_id: str | None


def deep_link(bot_username: str, listing_id: int) -> str:
    """The link that opens this listing in the bot: ``t.me/<bot>?start=l<id>``."""
    return f"https://t.me/{bot_username}?start=l{listing_id}"


def when_line(t: Translator, listing: Listing, now: int, *, preview: bool) -> str:
    """When it was published and until when it is open; a preview is not published yet, so it
    says that, and how long the listing will stay open once it is."""
    _ = t.gettext
    if preview:
        return _("🕒 Not published yet · open for {duration} once published").format(
            duration=t.timedelta(timedelta(seconds=listing.expires_at - listing.published_at))
        )
    if listing.state(now) in ("open", "expired"):
        return _("🕒 Posted {age} · open until {date}").format(
            age=age(t, listing, now), date=expiry_date(t, listing)
        )
    # It no longer has an end date ahead of it.
    return _("🕒 Posted {age}").format(age=age(t, listing, now))


def listing_text(
    t: Translator,
    listing: Listing,
    *,
    now: int,
    for_owner: bool,
    limit: int = TEXT_LIMIT,
    preview: bool = False,
) -> str:
    """The card's text, at most ``limit`` visible characters (``preview``: before it is
    published)."""
    _ = t.gettext
    tail = [""]
    if listing.tags:
        tail.append("🏷 " + tag_labels(t, listing.tags))
    tail.append(f"📍 {place_line_of(t, listing)} · {_(REACH_LABELS[listing.reach])}")
    if listing.distance_km is not None:
        tail.append(_("📏 {distance} away").format(distance=t.kilometres(listing.distance_km)))
    tail.append(author_line(t, listing))
    tail.append(_("🗣 Written in {language}").format(language=t.language_name(listing.language)))
    tail.append(when_line(t, listing, now, preview=preview))
    state = listing.state(now)
    if state in STATE_LABELS:
        tail.append(f"<b>{_(STATE_LABELS[state])}</b>")
    elif state in ENDED_LABELS:
        when = t.date(datetime.fromtimestamp(listing.status_changed_at, UTC))
        tail.append(f"<b>{_(ENDED_LABELS[state]).format(date=when)}</b>")
    if for_owner:
        tail.append(audience_line(t, listing))
    before = "\n".join([*headline(t, listing), "", ""])
    return with_description(before, listing.description, "\n" + "\n".join(tail), limit)


def headline(t: Translator, listing: Listing) -> list[str]:
    """A card's first lines: the listing's kind and category, then its title in bold."""
    return [
        f"{KIND_MARKS[listing.kind]} <b>{t.gettext(KIND_LABELS[listing.kind])}</b> · "
        f"{category_label(t, listing.category)}",
        f"<b>{html.escape(listing.title)}</b>",
    ]


def with_description(
    before: str, description: str, after: str, limit: int, most: int = TEXT_LIMIT
) -> str:
    """``before`` + the description (escaped, cut to ``most`` and to the room left) +
    ``after``: at most ``limit`` visible characters, as Telegram counts them. Only the
    description is ever cut."""
    room = min(limit - visible_length(before + after), most)
    return before + html.escape(shorten(description, max(room, 1))) + after


def audience_line(t: Translator, listing: Listing) -> str:
    """'👁 12 views · 💬 1 contact': what the owner's listing drew, each count in its plural."""
    views = t.ngettext("👁 {count} view", "👁 {count} views", listing.views)
    contacts = t.ngettext("💬 {count} contact", "💬 {count} contacts", listing.contacts)
    return (
        views.format(count=t.number(listing.views))
        + " · "
        + contacts.format(count=t.number(listing.contacts))
    )


def owner_keyboard(t: Translator, listing: Listing, now: int) -> InlineKeyboardMarkup | None:
    _ = t.gettext
    state = listing.state(now)
    rows: list[list[InlineKeyboardButton]] = []
    if state == "open":
        rows.append(
            [
                InlineKeyboardButton(_("✏️ Edit"), callback_data=EDIT_LISTING.data(listing.id)),
                InlineKeyboardButton(_("🔁 Renew"), callback_data=ASK_RENEWAL.data(listing.id)),
            ]
        )
    elif state == "expired":
        rows.append(
            [InlineKeyboardButton(_("🔁 Renew"), callback_data=ASK_RENEWAL.data(listing.id))]
        )
    if state in ("open", "expired"):
        rows.append(
            [
                InlineKeyboardButton(
                    _("✅ Fulfilled"), callback_data=ASK_FULFILLED.data(listing.id)
                ),
                InlineKeyboardButton(_("✖️ Close"), callback_data=ASK_CLOSE.data(listing.id)),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


CONTACT_LABELS = {"request": N_("🙋 I can help"), "offer": N_("🙋 I'm interested")}


def visitor_keyboard(t: Translator, listing: Listing, bot_username: str) -> InlineKeyboardMarkup:
    """Write to the author and report (open listings only; checked again when pressed),
    share."""
    _ = t.gettext
    link = deep_link(bot_username, listing.id)
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(listing.title)}"
    if listing.status != "open":
        return InlineKeyboardMarkup([[InlineKeyboardButton(_("📤 Share"), url=share)]])
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _(CONTACT_LABELS[listing.kind]), callback_data=WRITE_TO_AUTHOR.data(listing.id)
                )
            ],
            [
                InlineKeyboardButton(_("📤 Share"), url=share),
                InlineKeyboardButton(_("🚩 Report"), callback_data=REPORT_LISTING.data(listing.id)),
            ],
        ]
    )


def length_limit(listing: Listing) -> int:
    """How long a message about ``listing`` may be: a caption under its photo, else a text."""
    return CAPTION_LIMIT if listing.photo_file_id else TEXT_LIMIT


def listing_card(
    t: Translator,
    listing: Listing,
    *,
    may_manage: bool,
    now: int,
    bot_username: str,
    preview: bool = False,
) -> Card:
    """The whole card for one reader: text (a caption if there is a photo) and buttons (none
    for a listing not published yet: a preview)."""
    text = listing_text(
        t, listing, now=now, for_owner=may_manage, limit=length_limit(listing), preview=preview
    )
    keyboard: InlineKeyboardMarkup | None = None
    if not listing.id:
        pass
    elif may_manage:
        keyboard = owner_keyboard(t, listing, now)
    else:
        keyboard = visitor_keyboard(t, listing, bot_username)
    return Card(text, keyboard, listing.photo_file_id)


def with_distance(listing: Listing, away: float | None) -> Listing:
    """The listing with its distance from the reader, for :func:`result_line`."""
    return listing if away is None else replace(listing, distance_km=away)


def numbered_title(listing: Listing, number: int, units: int) -> str:
    """The first line of an entry in a numbered list: number, kind, the title in bold (cut to
    ``units``)."""
    return (
        f"{number}. {KIND_MARKS[listing.kind]} <b>{html.escape(shorten(listing.title, units))}</b>"
    )


def result_line(t: Translator, listing: Listing, number: int, now: int) -> str:
    """One entry of a result page: number, kind, title, category, place, age, and the
    language it was written in (a search finds listings in every language)."""
    where = html.escape(
        place_name(t.language, listing.place_key, listing.place) or t.country(listing.country)
    )
    distance = ""
    if listing.distance_km is not None:
        distance = f" · {t.kilometres(listing.distance_km)}"
    written = html.escape(t.language_name(listing.language))
    return (
        f"{numbered_title(listing, number, 80)}\n"
        f"    {category_label(t, listing.category)} · {where}{distance} · {age(t, listing, now)}"
        f" · 🗣 {written}"
    )
