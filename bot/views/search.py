"""The texts of a search (browse, ``/search``, near a location): the filters chosen, in words,
above each screen, and the results page every search shares. The search is the browse
dialog's answers (:mod:`bot.dialogs.search`): ``kind``, ``category`` (None: any, absent: not
chosen yet), ``area`` with ``country``/``region`` or ``radius``, ``words``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from bot.i18n import N_, Translator
from bot.places.countries import flag
from bot.storage import Listing
from bot.storage.listings import COUNT_CAP
from bot.views import cards
from bot.views.html import shorten
from bot.views.texts import place_line

PAGE_SIZE = 5

KIND_FILTERS = {"offer": N_("🟢 Offers"), "request": N_("🔴 Requests")}

Search = Mapping[str, Any]


def filters_line(t: Translator, search: Search) -> str:
    """The filters chosen so far, in words: '🟢 Offers · 🚒 Equipment · 🇫🇷 France'."""
    _ = t.gettext
    parts = []
    if search.get("words"):
        words = escape(shorten(search["words"], 60))
        parts.append("🔎 " + t.quote(words))
    if "kind" in search:
        kind = search["kind"]
        parts.append(_(KIND_FILTERS[kind]) if kind else _("🟢🔴 Offers and requests"))
    if "category" in search:
        category = search["category"]
        parts.append(cards.category_label(t, category) if category else _("All categories"))
    area = search.get("area")
    if area == "europe":
        parts.append(_("🇪🇺 All of Europe"))
    elif area == "country":
        parts.append(f"{flag(search['country'])} {escape(t.country(search['country']))}")
    elif area == "region":
        parts.append("📍 " + place_line(t, None, search["region"], search["country"]))
    elif area == "near":
        radius = t.kilometres(search["radius"])
        parts.append(_("📍 within {radius} of your location").format(radius=radius))
    return " · ".join(parts)


def heading(t: Translator, search: Search, question: str) -> str:
    """A step of choosing the filters: the title, the filters so far, the question."""
    lines = ["🔎 <b>" + t.gettext("Browse offers and requests") + "</b>"]
    chosen = filters_line(t, search)
    if chosen:
        lines.append(chosen)
    return "\n".join([*lines, "", question])


def results_count(t: Translator, total: int) -> str:
    """'23 results', or '1,000+ results' past the count's cap (the reader's number format)."""
    shown = t.number(min(total, COUNT_CAP)) + ("+" if total > COUNT_CAP else "")
    return t.ngettext("{count} result", "{count} results", min(total, COUNT_CAP)).format(
        count=shown
    )


def pages(total: int) -> int:
    """How many pages the count shows (the count stops at its cap)."""
    return math.ceil(min(total, COUNT_CAP) / PAGE_SIZE)


def results_text(t: Translator, search: Search, found: list[Listing], total: int, now: int) -> str:
    """A page of results, numbered from the page's first (the buttons open them by number),
    or "nothing found" (the buttons then offer wider searches)."""
    _ = t.gettext
    if total:
        page = search["page"]
        last = t.number(pages(total)) + ("+" if total > COUNT_CAP else "")
        head = f"🔎 <b>{results_count(t, total)}</b> · " + _("page {page} of {pages}").format(
            page=t.number(page + 1), pages=last
        )
        lines = [
            cards.result_line(t, listing, number, now)
            for number, listing in enumerate(found, start=page * PAGE_SIZE + 1)
        ]
        body = "\n\n".join([*lines, _("Tap a number to open the listing.")])
    else:
        head = "🔎 <b>" + _("Nothing found") + "</b>"
        body = _("Nothing matches this search right now. Try a wider one:")
    return "\n".join([head, filters_line(t, search), "", body])
