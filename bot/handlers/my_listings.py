"""``/mylistings`` and the owner's buttons on a listing card: fulfilled (with whom among its
accepted contacts, or someone else and how), close, renew. Editing a field is a dialog of its
own (:mod:`bot.dialogs.editing`).

Callback data names the listing (``ls:<action>:<id>``); who may act is checked in storage on
every press (the owner, or a verified official of the listing's municipality), so a forged or
replayed button changes nothing.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot import taxonomy
from bot.buttons import (
    ASK_CLOSE,
    ASK_FULFILLED,
    ASK_RENEWAL,
    ID,
    LISTINGS,
    MY_LIST,
    MY_LISTINGS,
    OPEN_LISTING,
    InvalidButton,
    Number,
    OneOf,
    close_message,
    drop_buttons,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs import editing
from bot.handlers.listings import post_card
from bot.i18n import Translator
from bot.storage import ContactRefused, Listing, ListingRefused
from bot.views import cards
from bot.views import contacts as views
from bot.views.texts import quoted_title

PAGE_SIZE = 8
PAGE = MY_LISTINGS.button("p", Number(0, 9999))
# The owner's answers under a card: with whom and how a need was met, closing confirmed, how
# long to renew.
FULFILLED_WITH = LISTINGS.button("with", ID, ID)  # the listing, one of its accepted contacts
SOMEONE_ELSE = LISTINGS.button("else", ID)
FULFILLED = LISTINGS.button("ful", ID, OneOf(taxonomy.OUTCOMES))
CLOSE = LISTINGS.button("cls", ID)
RENEW = LISTINGS.button("rnw", ID, OneOf(taxonomy.DURATIONS))


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            editing.conversation(),
            CommandHandler("mylistings", my_listings),
            MY_LIST.handler(my_listings_button),
            PAGE.handler(my_listings_page),
            ASK_FULFILLED.handler(ask_with_whom),
            FULFILLED_WITH.handler(mark_fulfilled_with),
            SOMEONE_ELSE.handler(ask_how_fulfilled),
            FULFILLED.handler(mark_fulfilled),
            ASK_CLOSE.handler(ask_close),
            CLOSE.handler(close),
            ASK_RENEWAL.handler(ask_renewal),
            RENEW.handler(renew),
        ]
    )
    application.dialogs.append(editing.DIALOG)


async def _listed(context: BotContext, user_id: int) -> tuple[list[Listing], int]:
    """What /mylistings shows: the listings the person may act on (their own, and their
    municipality's if they are its verified official), then those they posted that are no
    longer theirs (they left the municipality: its listings now); and how many are theirs."""
    listings, gone = await context.storage.listed_for(user_id)
    theirs = [listing for listing in listings if listing.id not in gone]
    return theirs + [listing for listing in listings if listing.id in gone], len(theirs)


def _page_text(context: BotContext, listings: list[Listing], theirs: int, page: int) -> str:
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
            theirs,
        )
    else:  # an organisation's, a volunteer's, an unverified official's: their own alone
        heading = t.ngettext(
            "<b>Your listings</b>: {count}", "<b>Your listings</b>: {count}", theirs
        )
    former = len(listings) - theirs
    # Posted for a municipality they no longer represent: listed, but not as theirs.
    stayed = t.ngettext(
        "<b>Posted by you, now the municipality's</b>: {count}",
        "<b>Posted by you, now the municipality's</b>: {count}",
        former,
    ).format(count=t.number(former))
    lines = [heading.format(count=t.number(theirs))] if theirs or not former else []
    if former and first >= theirs:
        lines.append(stayed)
    lines.append("")
    for number, listing in enumerate(listings[first : first + PAGE_SIZE], start=first + 1):
        if former and number == theirs + 1 and number > first + 1:
            lines += ["", stayed, ""]
        lines.append(
            cards.numbered_title(listing, number, 70)
            + "\n    "
            + _("{state} · 👁 {views} · 💬 {contacts}").format(
                state=_(cards.STATE_NAMES[listing.state(now)]),
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
        InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(listing.id))
        for number, listing in enumerate(shown, start=first + 1)
    ]
    rows = [numbers[:4], numbers[4:]]
    paging = []
    if page > 0:
        paging.append(InlineKeyboardButton(_("◀ Previous"), callback_data=PAGE.data(page - 1)))
    if first + PAGE_SIZE < len(listings):
        paging.append(InlineKeyboardButton(_("Next ▶"), callback_data=PAGE.data(page + 1)))
    kept = [row for row in (*rows, paging) if row]
    return InlineKeyboardMarkup(kept) if kept else None


async def my_listings(update: Update, context: BotContext) -> None:
    """``/mylistings``: the person's and their municipality's listings, with their state."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listings, theirs = await _listed(context, update.effective_user.id)
    if not listings:
        await reply(update, _("You have no listings yet. Send /post to publish one."))
        return
    await reply(
        update,
        _page_text(context, listings, theirs, 0),
        reply_markup=_page_keyboard(context, listings, 0),
    )


async def my_listings_button(update: Update, context: BotContext, _none: None) -> None:
    """The main menu's "My listings" button."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await my_listings(update, context)


async def my_listings_page(update: Update, context: BotContext, page: int) -> None:
    """Another page of the same list, in the same message."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    listings, theirs = await _listed(context, update.effective_user.id)
    if page * PAGE_SIZE >= len(listings):  # past the end, or an empty list
        raise InvalidButton(page)
    await query.answer()
    await query.edit_message_text(
        _page_text(context, listings, theirs, page),
        reply_markup=_page_keyboard(context, listings, page),
    )


# --- the owner's buttons on a card ---------------------------------------------------------


async def _managed(update: Update, context: BotContext, listing_id: int) -> Listing | None:
    """The listing, if the person pressing may manage it; else refuse, saying why."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        return await context.storage.listing_to_manage(listing_id, update.effective_user.id)
    except ListingRefused as refused:
        await query.answer(cards.listing_refusal(context.i18n, refused), show_alert=True)
        return None


async def _ask(
    update: Update,
    context: BotContext,
    listing_id: int,
    question: str,
    buttons: list[list[InlineKeyboardButton]],
) -> None:
    """If the person may manage the listing, ask a follow-up ``question`` (its ``{title}``
    the listing's) under the card, keeping the card itself unchanged."""
    listing = await _managed(update, context, listing_id)
    if listing is None:
        return
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.message.chat.send_message(
        question.format(title=quoted_title(context.i18n, listing.title)),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_with_whom(update: Update, context: BotContext, listing_id: int) -> None:
    """With whom, among the listing's accepted contacts, or someone else? (Straight to how,
    when it has none.)"""
    _ = context.i18n.gettext
    # Shown only to someone who may manage the listing (_ask checks, as ask_how_fulfilled).
    counterparts = await context.storage.counterparts(listing_id)
    if not counterparts:
        await ask_how_fulfilled(update, context, listing_id)
        return
    buttons = [
        [
            InlineKeyboardButton(
                views.counterpart_label(counterpart),
                callback_data=FULFILLED_WITH.data((listing_id, counterpart.contact_id)),
            )
        ]
        for counterpart in counterparts
    ]
    buttons.append(
        [InlineKeyboardButton(_("👥 Someone else"), callback_data=SOMEONE_ELSE.data(listing_id))]
    )
    await _ask(
        update, context, listing_id, _("Wonderful! With whom did {title} come about?"), buttons
    )


async def mark_fulfilled_with(
    update: Update, context: BotContext, pressed: tuple[int, int]
) -> None:
    """Close the listing as fulfilled with one of its accepted contacts: an exchange."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listing_id, contact_id = pressed
    listing = await _managed(update, context, listing_id)
    if listing is None:
        return
    try:
        closed = await context.storage.fulfil_listing(
            listing.id,
            update.effective_user.id,
            with_contact=contact_id,
            outcome="platform",
            now=context.now(),
        )
    except ContactRefused as refused:
        raise InvalidButton(contact_id) from refused  # not an accepted contact of this listing
    whom = next(
        (
            c.first_name
            for c in await context.storage.counterparts(listing.id)
            if c.contact_id == contact_id
        ),
        None,
    )
    # Erased since the question was shown: the exchange stands, naming nobody.
    done = (
        _("Marked as fulfilled. Thank you for sharing!")
        if whom is None
        else _("Marked as fulfilled with {name}. Thank you for sharing!").format(
            name=html.escape(whom)
        )
    )
    await _conclude(update, context, closed, lambda _closed: done)


async def ask_how_fulfilled(update: Update, context: BotContext, listing_id: int) -> None:
    """How was the need met (the listing's outcome), with someone who is not one of its
    accepted contacts?"""
    _ = context.i18n.gettext
    buttons = [
        [InlineKeyboardButton(_(label), callback_data=FULFILLED.data((listing_id, key)))]
        for key, label in cards.OUTCOME_LABELS.items()
    ]
    await _ask(update, context, listing_id, _("Wonderful! How did {title} come about?"), buttons)


async def mark_fulfilled(update: Update, context: BotContext, pressed: tuple[int, str]) -> None:
    """Close the listing as fulfilled, recording how."""
    listing_id, outcome = pressed
    fulfilling = partial(context.storage.fulfil_listing, with_contact=None, outcome=outcome)
    done = context.i18n.gettext("Marked as fulfilled. Thank you for sharing!")
    await _change(update, context, listing_id, fulfilling, lambda _closed: done)


async def ask_close(update: Update, context: BotContext, listing_id: int) -> None:
    """Confirm before closing a listing that did not lead anywhere."""
    _ = context.i18n.gettext
    yes = InlineKeyboardButton(_("✖️ Yes, close it"), callback_data=CLOSE.data(listing_id))
    await _ask(
        update, context, listing_id, _("Close {title}? It will no longer be shown."), [[yes]]
    )


async def close(update: Update, context: BotContext, listing_id: int) -> None:
    """Close the listing (no longer needed)."""
    closing = partial(context.storage.close_listing, fulfilled=False, outcome="withdrawn")
    done = context.i18n.gettext("The listing is closed.")
    await _change(update, context, listing_id, closing, lambda _closed: done)


async def ask_renewal(update: Update, context: BotContext, listing_id: int) -> None:
    """For how long should the listing stay open from now?"""
    _ = context.i18n.gettext
    buttons = [
        [
            InlineKeyboardButton(_(label), callback_data=RENEW.data((listing_id, key)))
            for key, label in cards.DURATION_LABELS.items()
        ]
    ]
    await _ask(
        update, context, listing_id, _("Keep {title} open for how long from today?"), buttons
    )


async def renew(update: Update, context: BotContext, pressed: tuple[int, str]) -> None:
    """Keep the listing open longer (also reopens an expired one)."""
    listing_id, duration = pressed
    renewing = partial(context.storage.renew_listing, days=taxonomy.DURATIONS[duration])
    await _change(update, context, listing_id, renewing, partial(_renewed, context.i18n))


def _renewed(t: Translator, renewed: Listing) -> str:
    return t.sentence(t.gettext("Renewed: open until {date}."), date=cards.expiry_date(t, renewed))


class _ListingChange(Protocol):
    """A storage change of a listing by one person: the listing as it is then, or None when
    they may not change it (any more)."""

    def __call__(self, listing_id: int, user_id: int, *, now: int) -> Awaitable[Listing | None]: ...


async def _change(
    update: Update,
    context: BotContext,
    listing_id: int,
    change: _ListingChange,
    done: Callable[[Listing], str],
) -> None:
    """If the person pressing may manage the listing, ``change`` it, then conclude with what
    was ``done`` to it."""
    listing = await _managed(update, context, listing_id)
    if listing is None:
        return
    assert update.effective_user is not None
    changed = await change(listing.id, update.effective_user.id, now=context.now())
    await _conclude(update, context, changed, done)


async def _conclude(
    update: Update, context: BotContext, listing: Listing | None, done: Callable[[Listing], str]
) -> None:
    """Replace the question with the result (``done`` to the listing), or say the listing can
    no longer change."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    close_message(update, context)  # a second tap already in flight is answered as stale
    if listing is None:
        await query.answer(_("This listing can no longer be changed."), show_alert=True)
        await drop_buttons(update)
        return
    await query.answer()
    await query.edit_message_text(done(listing))
    await post_card(update, context, listing, may_manage=True)
