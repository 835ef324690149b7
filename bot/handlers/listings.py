"""Showing one listing: its card for the reader (owner's actions or visitor's), from a deep
link ``t.me/<bot>?start=l<id>`` or from an "open" button (:data:`bot.buttons.OPEN_LISTING`)
of a result page, a match or a digest.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot.buttons import ID, OPEN_LISTING, parse
from bot.context import BotContext, CommunityApplication, before_sending, reply, shown_too
from bot.storage import Listing
from bot.views import cards

DEEP_LINK = re.compile(r"^/start l([0-9]{1,19})$")


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            # A shared listing link opens the listing whatever dialog the person is in.
            CommandHandler("start", deep_link, filters=filters.Regex(DEEP_LINK)),
            OPEN_LISTING.handler(open_button),
        ]
    )


async def send_card(update: Update, context: BotContext, listing: Listing) -> None:
    """Send the listing's card to the chat: a photo with caption when it has a photo."""
    assert update.effective_user is not None and update.effective_chat is not None
    viewer = update.effective_user.id
    may_manage = await context.storage.manageable_listing(listing.id, viewer) is not None
    if listing.status == "hidden" and not may_manage:
        await not_available(update, context)
        return
    if (
        not may_manage
        and listing.owner_id != viewer
        and listing.status == "open"
        and await context.storage.unattended(listing.id)
    ):  # not a door nobody answers (its former author sees the card, and why it is not theirs)
        await reply(update, cards.unattended_notice(context.i18n, listing.author_name or ""))
        return
    if not may_manage:
        await context.storage.record_view(listing.id, viewer, context.now())
    await post_card(update, context, listing, may_manage=may_manage)
    if listing.owner_id == viewer and not may_manage and listing.municipality_id is not None:
        await update.effective_chat.send_message(cards.left_notice(context.i18n))


async def post_card(
    update: Update,
    context: BotContext,
    listing: Listing,
    *,
    may_manage: bool,
    preview: InlineKeyboardMarkup | None = None,
) -> None:
    """The listing's card, in the chat, for a viewer already checked: a photo with caption
    when it has a photo; with the owner's buttons when ``may_manage``. With ``preview`` (the
    posting dialog's buttons), the card of a listing not yet published, as a question of the
    dialog: its photo counts as shown by the step (:func:`shown_too`)."""
    assert update.effective_chat is not None
    card = cards.listing_card(
        context.i18n,
        listing,
        may_manage=may_manage,
        now=context.now(),
        bot_username=context.bot.username,
        preview=preview is not None,
    )
    keyboard = card.keyboard if preview is None else preview
    if card.photo_file_id:
        await before_sending()
        await shown_too(
            await update.effective_chat.send_photo(
                card.photo_file_id, caption=card.text, reply_markup=keyboard
            )
        )
    else:
        await reply(update, card.text, reply_markup=keyboard)


async def not_available(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("This listing does not exist or is no longer available."))


async def open_by_id(update: Update, context: BotContext, listing_id: int) -> None:
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        await not_available(update, context)
        return
    await send_card(update, context, listing)


async def deep_link(update: Update, context: BotContext) -> None:
    """``/start l<id>``: a shared link opens the listing, for newcomers too."""
    assert update.message is not None and update.message.text is not None
    match = DEEP_LINK.match(update.message.text)
    assert match is not None  # the handler's filter guarantees it
    listing_id = parse(match.group(1), ID)
    if listing_id is None:
        await not_available(update, context)
    else:
        await open_by_id(update, context, listing_id)
    if context.member is None or not context.member.onboarded:
        _ = context.i18n.gettext
        await reply(update, _("Send /start to set up your profile and answer or post listings."))


async def open_button(update: Update, context: BotContext, listing_id: int) -> None:
    """The open button of a result line, a match or a digest."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await open_by_id(update, context, listing_id)
