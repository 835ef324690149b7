"""Writing to someone through the bot, as a persistent conversation of one question.

``ct:ask:<listing>`` ("I can help" on a request, "I'm interested" on an offer, on a card or a
match) → the message → sent: a contact is opened and relayed to the listing's owner and the
officials of its municipality, who Accept or Decline. ``ct:msg:<contact>`` (Reply) → a
follow-up message on a pending contact, relayed to the other side. Nobody's identity is in
any of it: that comes only with an Accept (:mod:`bot.handlers.contacts`).

Who may write is checked when the button is pressed and again, in the same transaction as the
insert, when the message is sent (limits, duplicates, a contact decided meanwhile).

This dialog comes before the others in group 0, so that the message goes here even when the
person was in the middle of posting; anything else they do meanwhile (a command, another
button) ends it and is handed on, as if this dialog had not been there.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)
from telegram.ext import filters as f

from bot.callback_data import id_of
from bot.context import BotContext
from bot.dialogs.steps import (
    END,
    answers,
    checkpoint,
    clean_block,
    current_step,
    finish,
    has_letter,
)
from bot.handlers.common import RESUMERS, reply, resume_dialogs
from bot.handlers.contacts import notify_relay, refusal, refusal_for, too_long
from bot.storage import ContactRefused
from bot.storage.contacts import MESSAGE_MAX

DIALOG = "contact"
TYPING = 0

# Updates that leave this dialog alone: help and languages show the question again after.
_KEEPS_DIALOG = ("lang:", "menu:help", "menu:language")
_KEEPS_DIALOG_COMMANDS = ("/help", "/language")
_HANDLER: list[BaseHandler] = []  # this dialog's handler, skipped when handing updates on


async def ask_message(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    title = context.i18n.quote(escape(given.get("title", "")))
    if "contact" in given:
        text = _(
            "Type your message about {title} (up to {maximum} characters). The bot relays it; "
            "names stay hidden until the contact is accepted."
        )
    elif given.get("kind") == "request":
        text = _(
            "You can help with {title}: write a short message to its author (up to {maximum} "
            "characters): who you are, what you can offer, when. Your name and contact stay "
            "hidden until they accept."
        )
    else:
        text = _(
            "You are interested in {title}: write a short message to its author (up to "
            "{maximum} characters): who you are, what you need, when. Your name and contact "
            "stay hidden until they accept."
        )
    cancel = InlineKeyboardButton(_("✖️ Cancel"), callback_data="ct:cancel")
    await reply(
        update,
        text.format(title=title, maximum=context.i18n.number(MESSAGE_MAX)),
        reply_markup=InlineKeyboardMarkup([[cancel]]),
    )


async def resume(update: Update, context: BotContext) -> bool:
    if current_step(context, DIALOG) is None:
        return False
    await ask_message(update, context)
    return True


RESUMERS[DIALOG] = resume


async def _begin(update: Update, context: BotContext, **given: object) -> int:
    answers(context, DIALOG).clear()
    answers(context, DIALOG).update(given)
    await checkpoint(update, context, DIALOG, TYPING)
    await ask_message(update, context)
    return TYPING


async def _refuse(update: Update, text: str) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer(text, show_alert=True)
    return END


async def ask(update: Update, context: BotContext) -> int:
    """``ct:ask:<listing>``: may this person write to the author? Then ask for the message."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    listing_id = id_of(query.data, "ct:ask:")
    if listing_id is None:
        return await _refuse(update, context.i18n.gettext("This button is no longer valid."))
    try:
        await context.storage.check_contact(update.effective_user.id, listing_id, context.now())
    except ContactRefused as refused:
        return await _refuse(update, await refusal_for(context, refused))
    listing = await context.storage.get_listing(listing_id)
    assert listing is not None
    await query.answer()
    return await _begin(update, context, listing=listing_id, title=listing.title, kind=listing.kind)


async def write(update: Update, context: BotContext) -> int:
    """``ct:msg:<contact>``: a follow-up message, by someone who is part of the contact."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    contact_id = id_of(query.data, "ct:msg:")
    if contact_id is None:
        return await _refuse(update, context.i18n.gettext("This button is no longer valid."))
    contact = await context.storage.get_contact(contact_id)
    if contact is None or not await context.storage.contact_side(contact, update.effective_user.id):
        return await _refuse(update, refusal(context.i18n, ContactRefused("not_party")))
    if contact.status != "pending":
        return await _refuse(update, refusal(context.i18n, ContactRefused("decided")))
    await query.answer()
    return await _begin(update, context, contact=contact.id, title=contact.listing_title)


async def typed(update: Update, context: BotContext) -> int | None:
    """The message: checked, stored and relayed (through the outbox), then the dialog ends."""
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    assert update.effective_user is not None
    text = clean_block(update.message.text)
    if len(text) > MESSAGE_MAX:
        await reply(update, too_long(context.i18n, len(text)))
        return None
    if not has_letter(text):
        await reply(update, _("Please write a few words."))
        return None
    given = answers(context, DIALOG)
    me, now = update.effective_user.id, context.now()
    try:
        if "contact" in given:
            message, recipients = await context.storage.add_contact_message(
                int(given["contact"]), me, text, now
            )
            kind, key, ids = "contact_message", f"ct:m:{message.id}", {"message": message.id}
        else:
            contact, recipients = await context.storage.open_contact(
                me, int(given["listing"]), text, now
            )
            kind, key, ids = "contact_request", f"ct:req:{contact.id}", {"contact": contact.id}
    except ContactRefused as refused:
        await reply(update, await refusal_for(context, refused))
        if refused.reason == "duplicate":
            return None  # they may write another message
        await finish(update, context, DIALOG)
        return END
    await finish(update, context, DIALOG)
    await notify_relay(context, kind, key, ids, recipients)
    await reply(
        update,
        _("✉️ Sent! You will be told here when they answer. Your contacts: /contacts"),
    )
    await resume_dialogs(update, context)
    return END


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await finish(update, context, DIALOG)
    await reply(update, _("Cancelled: nothing was sent."))
    await resume_dialogs(update, context)
    return END


async def not_text(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("Please type your message as text, or send /cancel."))


async def elsewhere(update: Update, context: BotContext) -> int | None:
    """A command or a button that is not this dialog's: hand it on to whichever handler of
    group 0 would have taken it. Help and language keep the dialog; anything else ends it,
    so that the next text goes where the person now is."""
    keeps = (
        update.callback_query is not None
        and (update.callback_query.data or "").startswith(_KEEPS_DIALOG)
    ) or (
        update.message is not None
        and (update.message.text or "").split(" ", 1)[0].split("@", 1)[0] in _KEEPS_DIALOG_COMMANDS
    )
    if not keeps:
        await finish(update, context, DIALOG)
    for handler in context.application.handlers.get(0, []):
        if handler in _HANDLER:
            continue
        check = handler.check_update(update)
        if check is not None and check is not False:
            await handler.handle_update(update, context.application, check, context)
            break
    return None if keeps else END


def build() -> ConversationHandler:  # type: ignore[type-arg]
    message = f.UpdateType.MESSAGE
    handler: ConversationHandler = ConversationHandler(  # type: ignore[type-arg]
        name=DIALOG,
        persistent=True,
        allow_reentry=True,
        entry_points=[
            CallbackQueryHandler(ask, pattern=r"^ct:ask:"),
            CallbackQueryHandler(write, pattern=r"^ct:msg:"),
        ],
        states={TYPING: [MessageHandler(message & f.TEXT & ~f.COMMAND, typed)]},
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^ct:cancel$"),
            MessageHandler(message & f.COMMAND, elsewhere),
            CallbackQueryHandler(elsewhere),
            MessageHandler(message, not_text),
        ],
    )
    _HANDLER[:] = [handler]
    return handler
