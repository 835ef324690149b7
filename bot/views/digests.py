"""How digests read: the daily one grouped by the listing or alert each entry is for, the weekly
one as a week's summary (how many per category, then the best few). Each entry is a result
line with its place, distance and age; the caller drops entries from the end until the text
fits Telegram's 4096 characters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import OPEN_LISTING
from bot.i18n import Translator
from bot.storage import Listing
from bot.views import cards
from bot.views.texts import rows


@dataclass(frozen=True)
class DigestEntry:
    """One listing in a digest, and what it is there for."""

    item_id: int
    listing: Listing  # with its distance from the reader's listing or place, when known
    group: tuple[str, int]  # ('match', the reader's listing) or ('alert', the alert)
    heading: str  # the group's heading (HTML, user text escaped)
    note: str  # the short line under it in the weekly summary (HTML)
    reason: str = ""  # what matched, for a match (HTML)
    score: float = 0.0


def _entry_text(t: Translator, entry: DigestEntry, number: int, now: int, note: str) -> str:
    line = cards.result_line(t, entry.listing, number, now)
    return f"{line}\n    {note}" if note else line


def daily_text(t: Translator, entries: list[DigestEntry], left: int, now: int) -> str:
    """'📬 Your digest: 3 new listings for you', then each group under its heading."""
    heading = t.ngettext(
        "📬 <b>Your digest</b>: {count} new listing for you",
        "📬 <b>Your digest</b>: {count} new listings for you",
        len(entries),
    )
    parts: list[str] = []
    group: tuple[str, int] | None = None
    for number, entry in enumerate(entries, start=1):
        if entry.group != group:
            group = entry.group
            parts.append(entry.heading)
        reason = f"💡 {entry.reason}" if entry.reason else ""
        parts[-1] += "\n" + _entry_text(t, entry, number, now, reason)
    if left:
        parts.append(
            t.ngettext(
                "…and {count} more in your next digest.",
                "…and {count} more in your next digest.",
                left,
            ).format(count=t.number(left))
        )
    return _framed(t, heading, len(entries), parts)


def best_of_week(entries: list[DigestEntry]) -> list[DigestEntry]:
    """The best matches first (score), then the newest."""
    return sorted(entries, key=lambda e: (-e.score, -e.listing.published_at, e.listing.id))


def weekly_text(t: Translator, entries: list[DigestEntry], shown: int, now: int) -> str:
    """'🗓 Your week: 23 new listings for you', how many in each category, then the best
    ``shown`` entries (``entries`` already in :func:`best_of_week` order)."""
    _ = t.gettext
    heading = t.ngettext(
        "🗓 <b>Your week</b>: {count} new listing for you",
        "🗓 <b>Your week</b>: {count} new listings for you",
        len(entries),
    )
    counts = Counter(entry.listing.category for entry in entries)
    parts = [
        "\n".join(
            # Translators: a line of the weekly summary, e.g. "🚒 Equipment and machinery: 12".
            _("{category}: {count}").format(
                category=cards.category_label(t, key), count=t.number(count)
            )
            for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
    ]
    best = [
        _entry_text(t, entry, number, now, entry.note)
        for number, entry in enumerate(entries[:shown], start=1)
    ]
    parts.append(_("⭐ <b>The best of the week</b>") + "\n" + "\n".join(best))
    return _framed(t, heading, len(entries), parts)


def _framed(t: Translator, heading: str, count: int, parts: list[str]) -> str:
    """A digest's text: its ``heading`` with how many listings it has (``{count}``), its
    ``parts``, and how to open what it lists."""
    _ = t.gettext
    return "\n\n".join(
        [heading.format(count=t.number(count)), *parts, _("Tap a number to open it.")]
    )


def open_buttons(entries: list[DigestEntry]) -> InlineKeyboardMarkup:
    """A numbered button opening each entry shown, five a row."""
    buttons = [
        InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(entry.listing.id))
        for number, entry in enumerate(entries, start=1)
    ]
    return InlineKeyboardMarkup(rows(buttons, 5))
