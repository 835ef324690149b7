"""Searching: ``/browse`` (kind → category → area → results), ``/search <words>`` (or
``/search`` then the words), and a location shared outside any other dialog (what is near
it; Browse's "near me" asks for one and keeps the filters chosen).

One search is one message: choosing filters, paging, changing the radius and widening an empty
search all edit it (the framework's one live message per step), so the chat is not flooded.
The search is the dialog's answers; its buttons carry its short random id (the prefix's scope,
``br:<search>:<action>[:<arg>]``), never the words typed. A button of an older search, or of
another message, is answered "no longer active"; a forged argument, or a button of another
step, "no longer valid"; neither changes anything. A new search leaves the older one's message
as it was: its numbers still open listings.

The dialog never ends by itself on its results (their buttons work until the next search, a
restart included) and lets any message it does not expect go on to the catch-alls, so nothing
typed later is trapped in a forgotten search. Only the words and the location are waited for,
and not for long (:data:`WAIT_SECONDS`, on the bot's clock, so that it holds across a
restart: PTB's ``conversation_timeout`` is a job in memory, lost at a restart, and would end
the results too). The dialog is not among those /start and /help show again.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot import taxonomy
from bot.buttons import (
    BROWSE,
    NEW_SEARCH,
    OPEN_LISTING,
    Button,
    InvalidButton,
    Number,
    OneOf,
    refuse_invalid,
    refuse_stale,
)
from bot.context import BotContext, reply
from bot.dialogs.dialog import TEXT, Ask, Dialog, Handler, Question, Step, questions
from bot.dialogs.steps import TypedText, clean_line
from bot.handlers import menu
from bot.i18n import N_
from bot.places.countries import flag
from bot.places.names import region_name
from bot.semantic import search as semantic_search
from bot.storage import Listing, SearchQuery
from bot.storage.listings import COUNT_CAP, fts_query, page_key
from bot.views import cards
from bot.views.search import KIND_FILTERS, PAGE_SIZE, heading, pages, results_text
from bot.views.texts import tick

# Persisted as numbers (conversation states): append new steps, never reorder.
(
    CHOOSING_KIND,
    CHOOSING_CATEGORY,
    CHOOSING_AREA,
    SHARING_LOCATION,
    TYPING_WORDS,
    RESULTS,
) = range(6)

RADII = (10, 50, 200)
DEFAULT_RADIUS = 50
MAX_WORDS = 200  # characters; more is not a search but a pasted text
# "/search" alone and "near me" wait this long for the words or the location; an answer
# much later is more likely meant as something else.
WAIT_SECONDS = 15 * 60
WAITING = (TYPING_WORDS, SHARING_LOCATION)

KIND_BUTTONS = {**KIND_FILTERS, "all": N_("🟢🔴 Both")}
AREAS = ("region", "country", "europe", "near")
# What widening an empty search may loosen, and how (in the order its buttons are offered).
LOOSENED: dict[str, dict[str, Any]] = {
    "cat": {"category": None},
    "kind": {"kind": None},
    "country": {"area": "country", "region": None},
    "europe": {"area": "europe", "country": None, "region": None, "near": None},
    "words": {"words": None},
}
WIDENINGS = tuple(LOOSENED)
# The filters chosen again by "Change filters" (the words are kept).
FILTERS = ("kind", "category", "area", "country", "region", "near", "radius")


async def not_forgotten(update: Update, context: BotContext) -> bool:
    """False when the words or the location were asked for too long ago: the dialog ends
    (the dialog's guard), and what came is answered as it would be outside it."""
    record = DIALOG.question(context)
    if record is None or record.get("state") not in WAITING or waiting(context):
        return True
    if update.callback_query is not None:
        await no_longer_active(update, context)
    elif update.message is not None and (update.message.text or "").startswith("/"):
        await menu.nothing_to_cancel(update, context)  # /cancel: the only command it takes
    else:
        await menu.not_understood(update, context)
    return False


DIALOG = Dialog("browse", BROWSE, navigation=False, guard=not_forgotten)


def scoped(action: str, *fields: OneOf | Number) -> Button[Any]:
    """One of the search's buttons: its data carries the search's id first."""
    declared: Button[Any] = BROWSE.scoped(action, *fields)
    DIALOG.buttons.append(declared)
    return declared


KIND = scoped("k", OneOf(KIND_BUTTONS))
CATEGORY = scoped("c", OneOf([*taxonomy.BY_KEY, "all"]))
AREA = scoped("a", OneOf(AREAS))
BACK = scoped("b")
PAGE = scoped("p", Number(0, 9999))
RADIUS = scoped("r", OneOf(str(km) for km in RADII))
WIDEN = scoped("w", OneOf(WIDENINGS))
CHANGE_FILTERS = scoped("f")


# --- the search: its id, its message, its results ------------------------------------------


def search_of(context: BotContext) -> dict[str, Any]:
    return DIALOG.answers(context)


async def fresh(update: Update, context: BotContext, state: int, **given: Any) -> int:
    """A new search at ``state``, with a new id: every button of the previous one becomes
    stale. Its message is left as it is (its numbers still open listings)."""
    questions(context).pop(DIALOG.name, None)
    return await DIALOG.begin(update, context, state, sid=secrets.token_hex(3), page=0, **given)


def waiting(context: BotContext) -> bool:
    """Whether the words or the location asked for may still come."""
    asked_at: int = search_of(context).get("asked_at", 0)
    return context.now() - asked_at <= WAIT_SECONDS


def waiting_for(context: BotContext, state: int) -> bool:
    record = DIALOG.question(context)
    return record is not None and record.get("state") == state and waiting(context)


def this_search(update: Update, context: BotContext, sid: str) -> bool:
    """Whether a button of search ``sid`` was pressed on the current search's message."""
    query = update.callback_query
    record = DIALOG.question(context)
    return (
        DIALOG.in_progress(context)
        and sid == search_of(context).get("sid")
        and query is not None
        and query.message is not None
        and record is not None
        and query.message.message_id == record.get("message")
    )


async def no_longer_active(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This search is no longer active. Send /browse to start a new one."),
        show_alert=True,
    )


Pressed = Callable[..., Awaitable[int | None]]


def of_this_search(callback: Pressed) -> Callable[[Update, BotContext, Any], Awaitable[int | None]]:
    """A button's callback, run only for the current search's message; gets the button's
    argument, if it has one."""

    async def pressed(update: Update, context: BotContext, value: Any) -> int | None:
        sid, *argument = (value,) if isinstance(value, str) else value
        if not this_search(update, context, sid):
            await no_longer_active(update, context)
            return None
        return await callback(update, context, *argument)

    pressed.__name__ = callback.__name__
    return pressed


async def elsewhere(update: Update, context: BotContext) -> None:
    """Any other data under the prefix: a button of the search not on its step now (no longer
    valid), of an older search (no longer active), or of no button at all (stale)."""
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    if not any(button.matches(data) for button in DIALOG.buttons):
        await refuse_stale(update, context)
    elif this_search(update, context, data.split(":")[1]):
        await refuse_invalid(update, context)
    else:
        await no_longer_active(update, context)


def query_of(search: dict[str, Any]) -> SearchQuery:
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


async def fetch(context: BotContext, page: int) -> tuple[list[Listing], int] | None:
    """One page of the search's results; None when there is no such page (any more).

    Newest-first pages after the first start where the previous one ended (its last
    listing's date and id, kept in the search as ``ends``), read from an index, however deep
    the page; a page whose previous one was never shown has no start (a forged button).
    Words are searched by meaning in every language as well as exactly, their ranking
    computed once and paged by position (bot/semantic/search.py)."""
    search = search_of(context)
    ends: list[list[int]] = search.setdefault("ends", [])
    after = None
    if page > 0:
        if page > len(ends):
            return None
        after = (ends[page - 1][0], ends[page - 1][1])
    found, total = await semantic_search.search(
        context.storage,
        context.meaning,
        query_of(search),
        now=context.now(),
        offset=page * PAGE_SIZE,
        limit=PAGE_SIZE,
        after=after,
    )
    if not found and page > 0:
        return None
    del ends[page:]
    if found:
        ends.append(list(page_key(found[-1])))
    return found, total


# The page a button's handler fetched (to check it exists), shown by the results step.
FETCHED: ContextVar[tuple[list[Listing], int] | None] = ContextVar("fetched", default=None)


@contextmanager
def fetched(results: tuple[list[Listing], int]) -> Iterator[None]:
    token = FETCHED.set(results)
    try:
        yield
    finally:
        FETCHED.reset(token)


def button(
    label: str, kind: Button[Any], search: dict[str, Any], *argument: object
) -> InlineKeyboardButton:
    """A button of the search (its id first, then the button's argument, if any)."""
    data = kind.data((search["sid"], *argument) if argument else search["sid"])
    return InlineKeyboardButton(label, callback_data=data)


# --- choosing the filters: kind, category, area ---------------------------------------------


async def ask_kind(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    search = search_of(context)
    buttons = [button(_(label), KIND, search, kind) for kind, label in KIND_BUTTONS.items()]
    text = heading(context.i18n, search, _("What are you looking for?"))
    await reply(update, text, reply_markup=InlineKeyboardMarkup([buttons[:2], buttons[2:]]))


async def kind_chosen(update: Update, context: BotContext, kind: str) -> int:
    return await DIALOG.answered(
        update, context, CHOOSING_CATEGORY, kind=None if kind == "all" else kind
    )


async def ask_category(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    search = search_of(context)
    # One category a row: the names are long, and cut names are hard to tell apart.
    rows = [
        [button(cards.category_label(context.i18n, category.key), CATEGORY, search, category.key)]
        for category in taxonomy.CATEGORIES
    ]
    rows.append([button(_("All categories"), CATEGORY, search, "all")])
    rows.append([button(_("◀ Back"), BACK, search)])
    text = heading(context.i18n, search, _("Which category?"))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def category_chosen(update: Update, context: BotContext, key: str) -> int:
    return await DIALOG.answered(
        update, context, CHOOSING_AREA, category=None if key == "all" else key
    )


def area_choices(context: BotContext) -> list[str]:
    """The areas this reader may choose: their region and country only when known."""
    home = context.member.home_areas if context.member is not None else []
    return [*home, "europe", "near"]


async def ask_area(update: Update, context: BotContext) -> None:
    t = context.i18n
    _ = t.gettext
    search, member = search_of(context), context.member
    labels = {"europe": _("🇪🇺 All of Europe"), "near": _("📡 Near me")}
    if member is not None and member.country:
        labels["country"] = f"{flag(member.country)} {t.country(member.country)}"
        labels["region"] = f"📍 {region_name(t.language, member.region)}"
    rows = [[button(labels[area], AREA, search, area)] for area in area_choices(context)]
    rows.append([button(_("◀ Back"), BACK, search)])
    await reply(update, heading(t, search, _("Where?")), reply_markup=InlineKeyboardMarkup(rows))


async def area_chosen(update: Update, context: BotContext, area: str) -> int:
    """The results, or the question for a location ("near me")."""
    if area not in area_choices(context):
        raise InvalidButton(area)
    if area == "near":
        return await DIALOG.answered(update, context, SHARING_LOCATION)
    member = context.member
    return await DIALOG.answered(
        update,
        context,
        RESULTS,
        area=area,
        country=member.country if member and area in ("country", "region") else None,
        region=member.region if member and area == "region" else None,
        page=0,
    )


def back_to(state: int) -> Pressed:
    """Back, one step of the choices: the answer of that step is chosen again."""
    forgotten_answer = {CHOOSING_KIND: "kind", CHOOSING_CATEGORY: "category"}[state]

    async def back(update: Update, context: BotContext) -> int:
        search_of(context).pop(forgotten_answer, None)
        return await DIALOG.answered(update, context, state)

    return back


def choosing(ask: Ask, chosen: Button[Any], callback: Pressed, back: int | None = None) -> Step:
    """A step of choosing the filters: its buttons and Back (but on the first). No hint: a
    browse left on a choice does not trap what is typed later."""
    handlers: list[Handler] = [chosen.handler(of_this_search(callback))]
    if back is not None:
        handlers.append(BACK.handler(of_this_search(back_to(back))))
    return Question(ask, *handlers, hint=None)


DIALOG.add(CHOOSING_KIND, choosing(ask_kind, KIND, kind_chosen))
DIALOG.add(CHOOSING_CATEGORY, choosing(ask_category, CATEGORY, category_chosen, CHOOSING_KIND))
DIALOG.add(CHOOSING_AREA, choosing(ask_area, AREA, area_chosen, CHOOSING_CATEGORY))


# --- near me: a location -----------------------------------------------------------------------


async def ask_location(update: Update, context: BotContext) -> None:
    """Close the choices, and ask for a location with a reply keyboard button (an inline
    keyboard cannot request one)."""
    _ = context.i18n.gettext
    search = search_of(context)
    search["asked_at"] = context.now()
    await reply(update, heading(context.i18n, search, _("📡 Near you")))
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


async def location_shared(update: Update, context: BotContext) -> int:
    """A location: what is near it - with Browse's filters when "near me" asked for it."""
    _ = context.i18n.gettext
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    kept: dict[str, Any] = {}
    if DIALOG.in_progress(context) and waiting_for(context, SHARING_LOCATION):
        search = search_of(context)
        kept = {key: search[key] for key in ("kind", "category", "words") if key in search}
        # The location keyboard served its purpose; only a new message can remove it.
        await reply(
            update, _("📍 Looking around this location…"), reply_markup=ReplyKeyboardRemove()
        )
    return await fresh(
        update,
        context,
        RESULTS,
        area="near",
        near=[point.latitude, point.longitude],
        radius=DEFAULT_RADIUS,
        **kept,
    )


async def typed_instead(update: Update, context: BotContext) -> int | None:
    """A text while a location is asked for: its keyboard's Cancel, or a hint."""
    _ = context.i18n.gettext
    assert update.message is not None
    if update.message.text == _("✖️ Cancel"):
        return await cancel(update, context)
    await reply(update, _("Please share a location with the button below, or send /cancel."))
    return None


async def cancel(update: Update, context: BotContext) -> int:
    """``/cancel`` (or the location keyboard's Cancel) while words or a location are asked."""
    _ = context.i18n.gettext
    return await DIALOG.cancelled(
        update, context, _("Search cancelled."), reply_markup=ReplyKeyboardRemove()
    )


DIALOG.add(
    SHARING_LOCATION,
    Question(
        ask_location,
        CommandHandler("cancel", cancel),
        MessageHandler(TEXT, typed_instead),
        hint=N_("Please share a location with the button below, or send /cancel."),
    ),
)


# --- /search: the words ----------------------------------------------------------------------


async def search_command(update: Update, context: BotContext) -> int:
    """``/search <words>``: results in all of Europe; ``/search`` alone asks for the words."""
    words = clean_line(" ".join(context.args or []))[:MAX_WORDS]
    if not words:
        return await fresh(update, context, TYPING_WORDS)
    if fts_query(words) is None:
        return await fresh(update, context, TYPING_WORDS, unsearchable=True)
    return await fresh(update, context, RESULTS, words=words, area="europe")


async def ask_words(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    search = search_of(context)
    search["asked_at"] = context.now()
    if search.pop("unsearchable", False):
        await reply(update, _("Please type at least one word with letters or digits."))
        return
    await reply(
        update,
        _(
            "What are you looking for? Type a few words in any language, for example "
            "<i>fire pump</i>. Send /cancel to stop."
        ),
    )


async def words_typed(update: Update, context: BotContext, words: str) -> int | None:
    words = words[:MAX_WORDS]
    if fts_query(words) is None:
        # Nothing searchable (punctuation, emoji): asked again, the search keeps waiting.
        return await DIALOG.answered(update, context, TYPING_WORDS, unsearchable=True)
    return await DIALOG.answered(update, context, RESULTS, words=words, area="europe")


DIALOG.add(
    TYPING_WORDS,
    TypedText(ask_words, answered=words_typed, also=[CommandHandler("cancel", cancel)]),
)


# --- the results: one page, and the ways to change it ----------------------------------------


def result_buttons(
    context: BotContext, found: list[Listing], total: int
) -> list[list[InlineKeyboardButton]]:
    """The numbers that open the listings, and the pages before and after."""
    _ = context.i18n.gettext
    search = search_of(context)
    page = search["page"]
    first = page * PAGE_SIZE + 1
    numbers = [
        InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(listing.id))
        for number, listing in enumerate(found, start=first)
    ]
    paging = []
    if page > 0:
        paging.append(button(_("◀ Previous"), PAGE, search, page - 1))
    if page + 1 < pages(total) or (total > COUNT_CAP and len(found) == PAGE_SIZE):
        paging.append(button(_("Next ▶"), PAGE, search, page + 1))
    return [numbers, paging]


def loosenable(search: dict[str, Any]) -> list[str]:
    """The widenings a search may take (the filters it has set), in the order offered."""
    area = search.get("area")
    can = {
        "cat": bool(search.get("category")),
        "kind": bool(search.get("kind")),
        "country": area == "region",
        "europe": area in ("region", "country", "near"),
        "words": bool(search.get("words")),
    }
    return [which for which in WIDENINGS if can[which]]


def widenings(context: BotContext) -> list[list[InlineKeyboardButton]]:
    """Buttons that loosen one filter of a search that found nothing."""
    t = context.i18n
    _ = t.gettext
    search = search_of(context)
    labels = {
        "cat": _("All categories"),
        "kind": _("🟢🔴 Offers and requests"),
        "europe": _("🇪🇺 All of Europe"),
        "words": _("Without the words"),
    }
    if search.get("country"):
        labels["country"] = f"{flag(search['country'])} {t.country(search['country'])}"
    return [[button(labels[which], WIDEN, search, which)] for which in loosenable(search)]


async def ask_results(update: Update, context: BotContext) -> None:
    """The search's page (the one a button's handler fetched, or fetched now)."""
    _ = context.i18n.gettext
    search = search_of(context)
    results = FETCHED.get() or await fetch(context, search["page"])
    if results is None:  # the page is gone since (listings expired): the first one
        search["page"] = 0
        results = await fetch(context, 0)
        assert results is not None  # the first page always exists, if only to say "nothing"
    found, total = results
    rows = result_buttons(context, found, total) if total else widenings(context)
    if search.get("area") == "near":
        radius = search["radius"]
        kilometres = context.i18n.kilometres
        rows.append(
            [button(tick(kilometres(km), km == radius), RADIUS, search, str(km)) for km in RADII]
        )
    rows.append([button(_("🔧 Change filters"), CHANGE_FILTERS, search)])
    text = results_text(context.i18n, search, found, total, context.now())
    await reply(update, text, reply_markup=InlineKeyboardMarkup([row for row in rows if row]))


async def page_chosen(update: Update, context: BotContext, page: int) -> int | None:
    """Another page, in the same message; the page shown already (a double tap): nothing."""
    if page == search_of(context)["page"]:
        assert update.callback_query is not None
        await update.callback_query.answer()
        return None
    results = await fetch(context, page)
    if results is None:
        raise InvalidButton(str(page))
    with fetched(results):
        return await DIALOG.answered(update, context, RESULTS, page=page)


async def radius_chosen(update: Update, context: BotContext, km: str) -> int | None:
    """Another radius around the same point; the current one (a double tap): nothing."""
    search = search_of(context)
    if search.get("area") != "near":
        raise InvalidButton(km)
    if int(km) == search["radius"]:
        assert update.callback_query is not None
        await update.callback_query.answer()
        return None
    return await DIALOG.answered(update, context, RESULTS, radius=int(km), page=0)


def widen(search: dict[str, Any], which: str) -> bool:
    """Loosen one filter; False when that filter is not set (a forged or stale button)."""
    if which not in loosenable(search):
        return False
    search.update(LOOSENED[which])
    return True


async def widened(update: Update, context: BotContext, which: str) -> int:
    """Drop or loosen one filter of a search that found nothing."""
    if not widen(search_of(context), which):
        raise InvalidButton(which)
    return await DIALOG.answered(update, context, RESULTS, page=0)


async def change_filters(update: Update, context: BotContext) -> int:
    """Choose the filters again in the same message; the words are kept. A new id: the
    result buttons of this message, pressed twice, are then stale."""
    search = search_of(context)
    for key in FILTERS:
        search.pop(key, None)
    return await DIALOG.answered(
        update, context, CHOOSING_KIND, sid=secrets.token_hex(3), page=0, ends=[]
    )


DIALOG.add(
    RESULTS,
    Question(
        ask_results,
        PAGE.handler(of_this_search(page_chosen)),
        RADIUS.handler(of_this_search(radius_chosen)),
        WIDEN.handler(of_this_search(widened)),
        CHANGE_FILTERS.handler(of_this_search(change_filters)),
        hint=None,
    ),
)


# --- beginning ---------------------------------------------------------------------------------


async def browse_command(update: Update, context: BotContext) -> int:
    """``/browse``: a new search, starting with offers or requests."""
    return await fresh(update, context, CHOOSING_KIND)


async def browse_button(update: Update, context: BotContext, _none: None) -> int:
    """The menu's Browse button: the same as ``/browse``, in a new message."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await browse_command(update, context)


def conversation() -> Handler:
    """Any of the ways to begin starts a new search, whatever step the last one is on."""
    return DIALOG.conversation(
        entry_points=[
            CommandHandler("browse", browse_command),
            NEW_SEARCH.handler(browse_button),
            CommandHandler("search", search_command),
            MessageHandler(f.UpdateType.MESSAGE & f.LOCATION, location_shared),
        ],
        fallbacks=[CallbackQueryHandler(elsewhere, pattern=BROWSE.any())],
        allow_reentry=True,
    )
