"""Browsing: ``/browse`` (kind → category → area → results) and the result pages that every
search shares (``/search`` and a shared location live in :mod:`bot.dialogs.search`).

One search is one message: choosing filters, paging, changing the radius and widening an empty
search all edit it, so the chat is not flooded. The search itself lives in
``user_data["browse"]`` under a short random id; buttons carry only that id, an action and a
small argument (``br:<id>:<action>[:<arg>]``). Typed words never travel in callback data, and
a button of an older search, of another message, or with a forged argument changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from html import escape
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import taxonomy
from bot.buttons import OPEN_LISTING, Number, parse
from bot.context import BotContext, CommunityApplication, reply
from bot.i18n import N_, Translator
from bot.places.countries import flag
from bot.places.names import region_name
from bot.semantic import search as semantic_search
from bot.storage import Listing, SearchQuery
from bot.storage.listings import COUNT_CAP, page_key
from bot.views import cards
from bot.views.html import shorten
from bot.views.texts import place_line, tick

STATE = "browse"
PAGE_SIZE = 5
PAGE_NUMBER = Number(0, 9999)  # a page of results, as its button writes it
RADII = (10, 50, 200)
DEFAULT_RADIUS = 50
# "/search" alone and "near me" wait this long for the words or the location; an answer
# much later is more likely meant as something else.
WAIT_SECONDS = 15 * 60

KIND_BUTTONS = {"offer": N_("🟢 Offers"), "request": N_("🔴 Requests"), "all": N_("🟢🔴 Both")}
KIND_FILTERS = {"offer": N_("🟢 Offers"), "request": N_("🔴 Requests")}

Search = dict[str, Any]


def register(application: CommunityApplication) -> None:
    from bot.dialogs import search

    application.add_handlers(
        [
            # /cancel first comes here: it stops a search waiting for words or a location,
            # and hands over to nothing_to_cancel otherwise.
            CommandHandler("cancel", search.cancel),
            CommandHandler("browse", browse_command),
            CommandHandler("search", search.search_command),
            CallbackQueryHandler(browse_button, pattern=r"^br:new$"),
            CallbackQueryHandler(kind_chosen, pattern=r"^br:\w+:k:"),
            CallbackQueryHandler(category_chosen, pattern=r"^br:\w+:c:"),
            CallbackQueryHandler(area_chosen, pattern=r"^br:\w+:a:"),
            CallbackQueryHandler(back, pattern=r"^br:\w+:b$"),
            CallbackQueryHandler(page_chosen, pattern=r"^br:\w+:p:"),
            CallbackQueryHandler(radius_chosen, pattern=r"^br:\w+:r:"),
            CallbackQueryHandler(widened, pattern=r"^br:\w+:w:"),
            CallbackQueryHandler(change_filters, pattern=r"^br:\w+:f$"),
            # Outside any dialog: a location means "what is near here", a text may be the
            # words /search asked for (else it goes on to not_understood).
            MessageHandler(filters.UpdateType.MESSAGE & filters.LOCATION, search.location_shared),
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, search.text_typed
            ),
        ]
    )


# --- the search kept for the reader --------------------------------------------------------


def new_search(context: BotContext, **filters: Any) -> Search:
    """Start a search with a fresh id: every button of the previous one becomes stale."""
    assert context.user_data is not None
    search: Search = {"sid": secrets.token_hex(3), "message_id": None, "page": 0, **filters}
    context.user_data[STATE] = search
    return search


def current(context: BotContext) -> Search | None:
    assert context.user_data is not None
    return context.user_data.get(STATE)


def waiting_for(context: BotContext, step: str) -> Search | None:
    """The search, if it is waiting for the reader's words or location and not for too long."""
    search = current(context)
    if search is None or search.get("step") != step:
        return None
    if context.now() - search.get("asked_at", 0) > WAIT_SECONDS:
        return None
    return search


def search_query(search: Search) -> SearchQuery:
    near = search.get("near")
    return SearchQuery(
        kind=search.get("kind"),
        category=search.get("category"),
        country=search.get("country"),
        region=search.get("region"),
        words=search.get("words"),
        near=(near[0], near[1]) if near else None,
        radius_km=search.get("radius", DEFAULT_RADIUS),
    )


def _digest(text: str, markup: InlineKeyboardMarkup | None) -> str:
    shown = json.dumps([text, markup.to_dict() if markup else None], sort_keys=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


async def show(
    update: Update,
    context: BotContext,
    search: Search,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit the search's message when a button of it was pressed, else send a new one.

    Telegram refuses an edit to identical content, so the last shown content is remembered
    and an edit that would change nothing (a double tap) is skipped.
    """
    digest = _digest(text, markup)
    query = update.callback_query
    message = query.message if query is not None else None
    if message is not None and message.message_id == search.get("message_id"):
        if digest != search.get("shown"):
            await query.edit_message_text(text, reply_markup=markup)  # type: ignore[union-attr]
    else:
        assert update.effective_chat is not None
        sent = await update.effective_chat.send_message(text, reply_markup=markup)
        search["message_id"] = sent.message_id
    search["shown"] = digest


def _button(search: Search, label: str, action: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=f"br:{search['sid']}:{action}")


# --- rendering -----------------------------------------------------------------------------


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
        radius = t.kilometres(search.get("radius", DEFAULT_RADIUS))
        parts.append(_("📍 within {radius} of your location").format(radius=radius))
    return " · ".join(parts)


def _heading(t: Translator, search: Search, question: str) -> str:
    lines = ["🔎 <b>" + t.gettext("Browse offers and requests") + "</b>"]
    chosen = filters_line(t, search)
    if chosen:
        lines.append(chosen)
    return "\n".join([*lines, "", question])


def kind_screen(t: Translator, search: Search) -> tuple[str, InlineKeyboardMarkup]:
    _ = t.gettext
    buttons = [_button(search, _(label), f"k:{kind}") for kind, label in KIND_BUTTONS.items()]
    text = _heading(t, search, _("What are you looking for?"))
    return text, InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def category_screen(t: Translator, search: Search) -> tuple[str, InlineKeyboardMarkup]:
    _ = t.gettext
    # One category a row: the names are long, and cut names are hard to tell apart.
    rows = [
        [_button(search, cards.category_label(t, category.key), f"c:{category.key}")]
        for category in taxonomy.CATEGORIES
    ]
    rows.append([_button(search, _("All categories"), "c:all")])
    rows.append([_button(search, _("◀ Back"), "b")])
    return _heading(t, search, _("Which category?")), InlineKeyboardMarkup(rows)


def area_choices(context: BotContext) -> list[str]:
    """The areas this reader may choose: their region and country only when known."""
    home = context.member.home_areas if context.member is not None else []
    return [*home, "europe", "near"]


def area_screen(context: BotContext, search: Search) -> tuple[str, InlineKeyboardMarkup]:
    t = context.i18n
    _ = t.gettext
    member = context.member
    labels = {"europe": _("🇪🇺 All of Europe"), "near": _("📡 Near me")}
    if member is not None and member.country:
        labels["country"] = f"{flag(member.country)} {t.country(member.country)}"
        labels["region"] = f"📍 {region_name(t.language, member.region)}"
    rows = [[_button(search, labels[area], f"a:{area}")] for area in area_choices(context)]
    rows.append([_button(search, _("◀ Back"), "b")])
    return _heading(t, search, _("Where?")), InlineKeyboardMarkup(rows)


def _widenings(t: Translator, search: Search) -> list[InlineKeyboardButton]:
    """Buttons that loosen one filter of a search that found nothing."""
    _ = t.gettext
    buttons = []
    if search.get("category"):
        buttons.append(_button(search, _("All categories"), "w:cat"))
    if search.get("kind"):
        buttons.append(_button(search, _("🟢🔴 Offers and requests"), "w:kind"))
    if search.get("area") == "region":
        label = f"{flag(search['country'])} {t.country(search['country'])}"
        buttons.append(_button(search, label, "w:country"))
    if search.get("area") in ("region", "country", "near"):
        buttons.append(_button(search, _("🇪🇺 All of Europe"), "w:europe"))
    if search.get("words"):
        buttons.append(_button(search, _("Without the words"), "w:words"))
    return buttons


def results_screen(
    context: BotContext, search: Search, found: list[Listing], total: int
) -> tuple[str, InlineKeyboardMarkup]:
    t = context.i18n
    _ = t.gettext
    page = search["page"]
    rows: list[list[InlineKeyboardButton]] = []
    if total:
        pages = math.ceil(min(total, COUNT_CAP) / PAGE_SIZE)
        head = f"🔎 <b>{results_count(t, total)}</b> · " + _("page {page} of {pages}").format(
            page=t.number(page + 1), pages=t.number(pages) + ("+" if total > COUNT_CAP else "")
        )
        first = page * PAGE_SIZE + 1
        lines = [
            cards.result_line(t, listing, number, context.now())
            for number, listing in enumerate(found, start=first)
        ]
        body = "\n\n".join([*lines, _("Tap a number to open the listing.")])
        rows.append(
            [
                InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(listing.id))
                for number, listing in enumerate(found, start=first)
            ]
        )
        paging = []
        if page > 0:
            paging.append(_button(search, _("◀ Previous"), f"p:{page - 1}"))
        if page + 1 < pages or (total > COUNT_CAP and len(found) == PAGE_SIZE):
            paging.append(_button(search, _("Next ▶"), f"p:{page + 1}"))
        rows.append(paging)
    else:
        head = "🔎 <b>" + _("Nothing found") + "</b>"
        body = _("Nothing matches this search right now. Try a wider one:")
        rows.extend([button] for button in _widenings(t, search))
    if search.get("area") == "near":
        radius = search.get("radius", DEFAULT_RADIUS)
        rows.append(
            [_button(search, tick(t.kilometres(km), km == radius), f"r:{km}") for km in RADII]
        )
    rows.append([_button(search, _("🔧 Change filters"), "f")])
    text = "\n".join([head, filters_line(t, search), "", body])
    return text, InlineKeyboardMarkup([row for row in rows if row])


def results_count(t: Translator, total: int) -> str:
    """'23 results', or '1,000+ results' past the count's cap (the reader's number format)."""
    shown = t.number(min(total, COUNT_CAP)) + ("+" if total > COUNT_CAP else "")
    return t.ngettext("{count} result", "{count} results", min(total, COUNT_CAP)).format(
        count=shown
    )


# --- showing a page ------------------------------------------------------------------------


async def fetch(context: BotContext, search: Search, page: int) -> tuple[list[Listing], int] | None:
    """One page of the search's results; None when there is no such page (any more).

    Newest-first pages after the first start where the previous one ended (its last
    listing's date and id, kept in the search as ``ends``), read from an index, however deep
    the page; a page whose previous one was never shown has no start (a forged button).
    Words are searched by meaning in every language as well as exactly, their ranking
    computed once and paged by position (bot/semantic/search.py)."""
    ends: list[list[int]] = search.setdefault("ends", [])
    after = None
    if page > 0:
        if page > len(ends):
            return None
        after = (ends[page - 1][0], ends[page - 1][1])
    found, total = await semantic_search.search(
        context.storage,
        context.meaning,
        search_query(search),
        now=context.now(),
        offset=page * PAGE_SIZE,
        limit=PAGE_SIZE,
        after=after,
    )
    if not found and page > 0:
        return None
    if found:
        del ends[page:]
        ends.append(list(page_key(found[-1])))
    return found, total


async def show_results(update: Update, context: BotContext, search: Search) -> None:
    """Show the first page of the search's results, in its message."""
    results = await fetch(context, search, 0)
    assert results is not None  # the first page always exists, if only to say "nothing"
    search.update(step="results", page=0)
    await show(update, context, search, *results_screen(context, search, *results))


# --- /browse and its buttons ---------------------------------------------------------------


async def browse_command(update: Update, context: BotContext) -> None:
    """``/browse``: a new search, starting with offers or requests."""
    search = new_search(context, step="kind")
    await show(update, context, search, *kind_screen(context.i18n, search))


async def browse_button(update: Update, context: BotContext) -> None:
    """``br:new``, the menu's Browse button: the same as ``/browse``, in a new message."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await browse_command(update, context)


async def _pressed(update: Update, context: BotContext, *steps: str) -> tuple[Search, str] | None:
    """The search a button belongs to and the button's argument, if the button is of the
    current search's message and fits the step it is on; otherwise answer and return None."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":", 3)
    search = current(context)
    if (
        search is None
        or len(parts) < 3
        or parts[1] != search["sid"]
        or query.message is None
        or query.message.message_id != search.get("message_id")
    ):
        await query.answer(
            _("This search is no longer active. Send /browse to start a new one."),
            show_alert=True,
        )
        return None
    if search.get("step") not in steps:
        await query.answer(_("This button is no longer valid."))
        return None
    return search, parts[3] if len(parts) > 3 else ""


async def _refuse(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.i18n.gettext("This button is no longer valid."))


async def kind_chosen(update: Update, context: BotContext) -> None:
    """``br:<id>:k:<offer|request|all>``"""
    pressed = await _pressed(update, context, "kind")
    if pressed is None:
        return
    search, kind = pressed
    if kind not in KIND_BUTTONS:
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    search.update(step="category", kind=None if kind == "all" else kind)
    await show(update, context, search, *category_screen(context.i18n, search))


async def category_chosen(update: Update, context: BotContext) -> None:
    """``br:<id>:c:<category key|all>``"""
    pressed = await _pressed(update, context, "category")
    if pressed is None:
        return
    search, key = pressed
    if key != "all" and taxonomy.category(key) is None:
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    search.update(step="area", category=None if key == "all" else key)
    await show(update, context, search, *area_screen(context, search))


async def area_chosen(update: Update, context: BotContext) -> None:
    """``br:<id>:a:<region|country|europe|near>``: show the results, or ask for a location."""
    pressed = await _pressed(update, context, "area")
    if pressed is None:
        return
    search, area = pressed
    if area not in area_choices(context):
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    if area == "near":
        await ask_location(update, context, search)
        return
    member = context.member
    search.update(
        area=area,
        country=member.country if member and area in ("country", "region") else None,
        region=member.region if member and area == "region" else None,
    )
    await show_results(update, context, search)


async def ask_location(update: Update, context: BotContext, search: Search) -> None:
    """Near me: close the choices, and ask for a location with a reply keyboard button (an
    inline keyboard cannot request one)."""
    _ = context.i18n.gettext
    search.update(step="location", asked_at=context.now())
    await show(
        update,
        context,
        search,
        _heading(context.i18n, search, _("📡 Near you")),
        None,
    )
    keyboard = ReplyKeyboardMarkup(
        [
            [KeyboardButton(_("📍 Send my location"), request_location=True)],
            [KeyboardButton(_("✖️ Cancel"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await reply(
        update,
        _(
            "Share your location with the button below (from your phone), or send any "
            "location from the attachment menu."
        ),
        reply_markup=keyboard,
    )


async def back(update: Update, context: BotContext) -> None:
    """``br:<id>:b``: one step back in the choices."""
    pressed = await _pressed(update, context, "category", "area")
    if pressed is None:
        return
    search, _arg = pressed
    assert update.callback_query is not None
    await update.callback_query.answer()
    if search["step"] == "category":
        search.pop("kind", None)
        search["step"] = "kind"
        await show(update, context, search, *kind_screen(context.i18n, search))
    else:
        search.pop("category", None)
        search["step"] = "category"
        await show(update, context, search, *category_screen(context.i18n, search))


async def page_chosen(update: Update, context: BotContext) -> None:
    """``br:<id>:p:<page>``: another page, in the same message."""
    pressed = await _pressed(update, context, "results")
    if pressed is None:
        return
    search, page = pressed
    wanted = parse(page, PAGE_NUMBER)
    results = await fetch(context, search, wanted) if wanted is not None else None
    if results is None or wanted is None:
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    search["page"] = wanted
    await show(update, context, search, *results_screen(context, search, *results))


async def radius_chosen(update: Update, context: BotContext) -> None:
    """``br:<id>:r:<km>``: another radius around the same point."""
    pressed = await _pressed(update, context, "results")
    if pressed is None:
        return
    search, km = pressed
    if search.get("area") != "near" or km not in {str(radius) for radius in RADII}:
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    search["radius"] = int(km)
    await show_results(update, context, search)


def widen(search: Search, which: str) -> bool:
    """Loosen one filter; False when that filter is not set (a forged or stale button)."""
    area = search.get("area")
    if which == "cat" and search.get("category"):
        search["category"] = None
    elif which == "kind" and search.get("kind"):
        search["kind"] = None
    elif which == "country" and area == "region":
        search.update(area="country", region=None)
    elif which == "europe" and area in ("region", "country", "near"):
        search.update(area="europe", country=None, region=None, near=None)
    elif which == "words" and search.get("words"):
        search["words"] = None
    else:
        return False
    return True


async def widened(update: Update, context: BotContext) -> None:
    """``br:<id>:w:<filter>``: drop or loosen one filter of a search that found nothing."""
    pressed = await _pressed(update, context, "results")
    if pressed is None:
        return
    search, which = pressed
    if not widen(search, which):
        await _refuse(update, context)
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await show_results(update, context, search)


async def change_filters(update: Update, context: BotContext) -> None:
    """``br:<id>:f``: choose the filters again in the same message; the words are kept."""
    pressed = await _pressed(update, context, "results")
    if pressed is None:
        return
    search, _arg = pressed
    assert update.callback_query is not None
    await update.callback_query.answer()
    # A new id: the result buttons of this message, pressed twice, are now stale.
    search.update(sid=secrets.token_hex(3), step="kind", page=0)
    for key in ("kind", "category", "area", "country", "region", "near", "radius"):
        search.pop(key, None)
    await show(update, context, search, *kind_screen(context.i18n, search))
