"""``/mylistings`` and the owner's buttons on a listing card: fulfilled (with how), close,
renew. Editing a field is a dialog of its own (:mod:`bot.dialogs.editing`).

Callback data names the listing (``ls:<action>:<id>``); who may act is checked in storage on
every press (the owner, or another official of the listing's municipality), so a forged or
replayed button changes nothing.
"""

from __future__ import annotations

import html

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import cards, taxonomy
from bot.context import BotContext
from bot.handlers.common import reply
from bot.i18n import N_
from bot.storage import Listing

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
    lines = [
        t.ngettext(
            "<b>Your listings</b> (and your municipality's): {count}",
            "<b>Your listings</b> (and your municipality's): {count}",
            len(listings),
        ).format(count=t.number(len(listings))),
        "",
    ]
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


def _page_keyboard(context: BotContext, listings: list[Listing], page: int) -> InlineKeyboardMarkup:
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
    return InlineKeyboardMarkup([row for row in (*rows, paging) if row])


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
    page = query.data.removeprefix("my:p:")
    if not page.isdigit() or int(page) * PAGE_SIZE >= max(len(listings), 1):
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return
    await query.answer()
    await query.edit_message_text(
        _page_text(context, listings, int(page)),
        reply_markup=_page_keyboard(context, listings, int(page)),
    )


# --- the owner's buttons on a card ---------------------------------------------------------


def _listing_id(query: CallbackQuery, prefix: str) -> int | None:
    assert query.data is not None
    number = query.data.removeprefix(prefix).split(":", 1)[0]
    return int(number) if number.isdigit() else None


async def _managed(update: Update, context: BotContext, prefix: str) -> Listing | None:
    """The listing a button names, if the person pressing may manage it; else refuse."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    listing_id = _listing_id(query, prefix)
    listing = None
    if listing_id is not None:
        listing = await context.storage.manageable_listing(listing_id, update.effective_user.id)
    if listing is None:
        await query.answer(context.i18n.gettext("You cannot change this listing."), show_alert=True)
    return listing


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
    listing = await _managed(update, context, "ls:done:")
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
    listing = await _managed(update, context, "ls:ful:")
    outcome = query.data.rsplit(":", 1)[-1]
    if listing is None:
        return
    if outcome not in OUTCOMES:
        await query.answer(_("This button is no longer valid."))
        return
    closed = await context.storage.close_listing(
        listing.id, update.effective_user.id, fulfilled=True, outcome=outcome, now=context.now()
    )
    await _conclude(update, context, closed, _("Marked as fulfilled. Thank you for sharing!"))


async def ask_close(update: Update, context: BotContext) -> None:
    """``ls:close:<id>``: confirm before closing a listing that did not lead anywhere."""
    _ = context.i18n.gettext
    listing = await _managed(update, context, "ls:close:")
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
    listing = await _managed(update, context, "ls:cls:")
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
    listing = await _managed(update, context, "ls:renew:")
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
    listing = await _managed(update, context, "ls:rnw:")
    duration = query.data.rsplit(":", 1)[-1]
    if listing is None:
        return
    if duration not in taxonomy.DURATIONS:
        await query.answer(_("This button is no longer valid."))
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
        _("Renewed: open until {date}.").format(date=cards.expiry_date(context.i18n, renewed)),
    )


async def _conclude(
    update: Update, context: BotContext, listing: Listing | None, done: str
) -> None:
    """Replace the question with the result, or say the listing can no longer change."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    if listing is None:
        await query.answer(_("This listing can no longer be changed."), show_alert=True)
        await query.edit_message_reply_markup(None)
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
