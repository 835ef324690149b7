"""``/mylistings`` and the owner's buttons on a listing card: fulfilled (with how), close,
renew. Editing a field is a dialog of its own (:mod:`bot.dialogs.editing`).

Callback data names the listing (``ls:<action>:<id>``); who may act is checked in storage on
every press (the owner, or a verified official of the listing's municipality), so a forged or
replayed button changes nothing.
"""

from __future__ import annotations

import html

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import cards, taxonomy
from bot.callback_data import id_and_choice, id_of, parse_number
from bot.context import BotContext
from bot.handlers.common import close_message, drop_buttons, reply
from bot.i18n import N_, Translator
from bot.storage import Listing, ListingRefused

PAGE_SIZE = 8
STATE_NAMES = {
    "open": N_("open"),
    "expired": N_("expired"),
    "fulfilled": N_("fulfilled"),
    "closed": N_("closed"),
    "hidden": N_("hidden"),
}
OUTCOMES = {
    "platform": N_("🤝 Thanks to Community Sharing"),
    "elsewhere": N_("✔️ Another way"),
}
DURATION_LABELS = {
    "1w": N_("1 week"),
    "1m": N_("1 month"),
    "3m": N_("3 months"),
    "6m": N_("6 months"),
}


def _page_text(context: BotContext, listings: list[Listing], page: int) -> str:
    t = context.i18n
    _ = t.gettext
    now = context.now()
    first = page * PAGE_SIZE
    member = context.member
    # Only a municipality's verified official sees its listings here (storage.listings_of).
    if member is not None and member.municipality_id is not None and member.verified:
        heading = t.ngettext(
            "<b>Your listings</b> (and your municipality's): {count}",
            "<b>Your listings</b> (and your municipality's): {count}",
            len(listings),
        )
    else:  # an organisation's, a volunteer's, an unverified official's: their own alone
        heading = t.ngettext(
            "<b>Your listings</b>: {count}", "<b>Your listings</b>: {count}", len(listings)
        )
    lines = [heading.format(count=t.number(len(listings))), ""]
    for number, listing in enumerate(listings[first : first + PAGE_SIZE], start=first + 1):
        lines.append(
            f"{number}. {cards.KIND_MARKS[listing.kind]} "
            f"<b>{html.escape(cards.shorten(listing.title, 70))}</b>\n"
            "    "
            + _("{state} · 👁 {views} · 💬 {contacts}").format(
                state=_(STATE_NAMES[listing.state(now)]),
                views=t.number(listing.views),
                contacts=t.number(listing.contacts),
            )
        )
    return "\n".join(lines)


def _page_keyboard(
    context: BotContext, listings: list[Listing], page: int
) -> InlineKeyboardMarkup | None:
    """The page's buttons; None when there are none (an InlineKeyboardMarkup without rows is
    sent as ``{}``, which Telegram refuses)."""
    _ = context.i18n.gettext
    first = page * PAGE_SIZE
    shown = listings[first : first + PAGE_SIZE]
    numbers = [
        InlineKeyboardButton(str(number), callback_data=f"lo:{listing.id}")
        for number, listing in enumerate(shown, start=first + 1)
    ]
    rows = [numbers[:4], numbers[4:]]
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton(_("◀ Previous"), callback_data=f"my:p:{page - 1}"))
    if first + PAGE_SIZE < len(listings):
        paging.append(InlineKeyboardButton(_("Next ▶"), callback_data=f"my:p:{page + 1}"))
    kept = [row for row in (*rows, paging) if row]
    return InlineKeyboardMarkup(kept) if kept else None


async def my_listings(update: Update, context: BotContext) -> None:
    """``/mylistings``: the person's and their municipality's listings, with their state."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listings = await context.storage.listings_of(update.effective_user.id)
    if not listings:
        await reply(update, _("You have no listings yet. Send /post to publish one."))
        return
    await reply(
        update, _page_text(context, listings, 0), reply_markup=_page_keyboard(context, listings, 0)
    )


async def my_listings_button(update: Update, context: BotContext) -> None:
    """The main menu's "My listings" button (``my:list``)."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await my_listings(update, context)


async def my_listings_page(update: Update, context: BotContext) -> None:
    """``my:p:<page>``: another page of the same list, in the same message."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    listings = await context.storage.listings_of(update.effective_user.id)
    pages = -(-len(listings) // PAGE_SIZE)
    page = parse_number(query.data.removeprefix("my:p:"), at_least=0, at_most=pages - 1)
    if page is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return
    await query.answer()
    await query.edit_message_text(
        _page_text(context, listings, page), reply_markup=_page_keyboard(context, listings, page)
    )


# --- the owner's buttons on a card ---------------------------------------------------------


def refusal(t: Translator, refused: ListingRefused) -> str:
    """Why the person may not act on a listing, in their words."""
    _ = t.gettext
    if refused.reason == "gone":
        return _("This listing does not exist or is no longer available.")
    if refused.reason in cards.ENDED_NOTICES and refused.at is not None:
        return cards.ended(t, refused.reason, refused.at)
    return _("You cannot change this listing.")


def _data(update: Update) -> str | None:
    return update.callback_query.data if update.callback_query is not None else None


async def _managed(update: Update, context: BotContext, listing_id: int | None) -> Listing | None:
    """The listing a button names (None: malformed data), if the person pressing may manage
    it; else refuse."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if listing_id is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return None
    try:
        return await context.storage.listing_to_manage(listing_id, update.effective_user.id)
    except ListingRefused as refused:
        await query.answer(refusal(context.i18n, refused), show_alert=True)
        return None


def quoted(context: BotContext, listing: Listing) -> str:
    """The listing's title, escaped, in the reader's quotation marks."""
    return context.i18n.quote(html.escape(listing.title))


async def _ask(query: CallbackQuery, text: str, buttons: list[list[InlineKeyboardButton]]) -> None:
    """Ask a follow-up question under the card, keeping the card itself unchanged."""
    await query.answer()
    assert query.message is not None
    await query.message.chat.send_message(text, reply_markup=InlineKeyboardMarkup(buttons))


async def ask_how_fulfilled(update: Update, context: BotContext) -> None:
    """``ls:done:<id>``: how was the need met (the listing's outcome)?"""
    _ = context.i18n.gettext
    listing = await _managed(update, context, id_of(_data(update), "ls:done:"))
    if listing is None:
        return
    assert update.callback_query is not None
    buttons = [
        [InlineKeyboardButton(_(label), callback_data=f"ls:ful:{listing.id}:{key}")]
        for key, label in OUTCOMES.items()
    ]
    await _ask(
        update.callback_query,
        _("Wonderful! How did {title} come about?").format(title=quoted(context, listing)),
        buttons,
    )


async def mark_fulfilled(update: Update, context: BotContext) -> None:
    """``ls:ful:<id>:<outcome>``: close the listing as fulfilled, recording how."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    listing_id, outcome = id_and_choice(query.data, "ls:ful:") or (None, "")
    if outcome not in OUTCOMES:
        listing_id = None
    listing = await _managed(update, context, listing_id)
    if listing is None:
        return
    closed = await context.storage.close_listing(
        listing.id, update.effective_user.id, fulfilled=True, outcome=outcome, now=context.now()
    )
    await _conclude(update, context, closed, _("Marked as fulfilled. Thank you for sharing!"))


async def ask_close(update: Update, context: BotContext) -> None:
    """``ls:close:<id>``: confirm before closing a listing that did not lead anywhere."""
    _ = context.i18n.gettext
    listing = await _managed(update, context, id_of(_data(update), "ls:close:"))
    if listing is None:
        return
    assert update.callback_query is not None
    await _ask(
        update.callback_query,
        _("Close {title}? It will no longer be shown.").format(title=quoted(context, listing)),
        [[InlineKeyboardButton(_("✖️ Yes, close it"), callback_data=f"ls:cls:{listing.id}")]],
    )


async def close(update: Update, context: BotContext) -> None:
    """``ls:cls:<id>``: close the listing (no longer needed)."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listing = await _managed(update, context, id_of(_data(update), "ls:cls:"))
    if listing is None:
        return
    closed = await context.storage.close_listing(
        listing.id,
        update.effective_user.id,
        fulfilled=False,
        outcome="withdrawn",
        now=context.now(),
    )
    await _conclude(update, context, closed, _("The listing is closed."))


async def ask_renewal(update: Update, context: BotContext) -> None:
    """``ls:renew:<id>``: for how long should the listing stay open from now?"""
    _ = context.i18n.gettext
    listing = await _managed(update, context, id_of(_data(update), "ls:renew:"))
    if listing is None:
        return
    assert update.callback_query is not None
    buttons = [
        [
            InlineKeyboardButton(_(label), callback_data=f"ls:rnw:{listing.id}:{key}")
            for key, label in DURATION_LABELS.items()
        ]
    ]
    await _ask(
        update.callback_query,
        _("Keep {title} open for how long from today?").format(title=quoted(context, listing)),
        buttons,
    )


async def renew(update: Update, context: BotContext) -> None:
    """``ls:rnw:<id>:<duration>``: keep the listing open longer (also reopens an expired one)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    listing_id, duration = id_and_choice(query.data, "ls:rnw:") or (None, "")
    if duration not in taxonomy.DURATIONS:
        listing_id = None
    listing = await _managed(update, context, listing_id)
    if listing is None:
        return
    renewed = await context.storage.renew_listing(
        listing.id,
        update.effective_user.id,
        days=taxonomy.DURATIONS[duration],
        now=context.now(),
    )
    if renewed is None:
        await _conclude(update, context, None, "")
        return
    await _conclude(
        update,
        context,
        renewed,
        context.i18n.sentence(
            _("Renewed: open until {date}."), date=cards.expiry_date(context.i18n, renewed)
        ),
    )


async def _conclude(
    update: Update, context: BotContext, listing: Listing | None, done: str
) -> None:
    """Replace the question with the result, or say the listing can no longer change."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    close_message(context, update)  # a second tap already in flight is answered as stale
    if listing is None:
        await query.answer(_("This listing can no longer be changed."), show_alert=True)
        await drop_buttons(query)
        return
    await query.answer()
    await query.edit_message_text(done)
    card = cards.listing_card(
        context.i18n,
        listing,
        may_manage=True,
        now=context.now(),
        bot_username=context.bot.username,
    )
    if card.photo_file_id:
        await query.message.chat.send_photo(  # type: ignore[union-attr]
            card.photo_file_id, caption=card.text, reply_markup=card.keyboard
        )
    else:
        await query.message.chat.send_message(  # type: ignore[union-attr]
            card.text, reply_markup=card.keyboard
        )
