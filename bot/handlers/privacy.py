"""The person's own data: ``/mydata`` sends everything stored about them as a JSON file;
``/deleteme`` asks for confirmation (``me:del:<time>``, valid a few minutes), then erases it.

Both work for banned members too (see :mod:`bot.handlers.guard`). Erasing also clears what
PTB keeps in memory for the person (user data, chat data, conversation states), so that the
flush after this very update does not write it back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.callback_data import parse_number
from bot.context import BotContext
from bot.handlers.common import close_message, reply

CONFIRM_WITHIN = 15 * 60  # seconds a /deleteme confirmation button stays valid


async def my_data(update: Update, context: BotContext) -> None:
    """``/mydata``: a JSON file of the profile, listings, contacts, alerts, notifications..."""
    _ = context.i18n.gettext
    assert update.effective_user is not None and update.effective_chat is not None
    data = await context.storage.export_member(update.effective_user.id)
    exported = {
        "exported_at": datetime.fromtimestamp(context.now(), UTC).isoformat(),
        "telegram_id": update.effective_user.id,
        **data,
    }
    content = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await update.effective_chat.send_document(
        InputFile(content, filename="community-sharing-my-data.json"),
        caption=_("Everything Community Sharing stores about you. /deleteme erases it."),
    )


async def delete_me(update: Update, context: BotContext) -> None:
    """``/deleteme``: say what erasing means, and ask to confirm."""
    _ = context.i18n.gettext
    buttons = [
        [
            InlineKeyboardButton(
                _("🗑 Yes, erase everything"), callback_data=f"me:del:{context.now()}"
            )
        ],
        [InlineKeyboardButton(_("Keep my data"), callback_data="me:keep")],
    ]
    await reply(
        update,
        _(
            "This erases your profile, your listings, your messages, alerts and everything else "
            "stored about you. People you were put in touch with keep what they already "
            "received; your contacts with them stay, without your name. This cannot be undone."
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


def _forget_in_memory(context: BotContext, user_id: int, chat_id: int) -> None:
    """Drop PTB's copies of the person's data, and their conversation states, so that the
    persistence flush deletes them instead of writing them back."""
    application = context.application
    application.drop_user_data(user_id)
    application.drop_chat_data(chat_id)
    # PTB exposes no public way to end a persistent conversation for someone else's handler;
    # popping the key from its tracked states makes the next flush delete it.
    conversations = application._conversation_handler_conversations
    for states in conversations.values():
        for key in [key for key in states if user_id in key or chat_id in key]:
            states.pop(key)


async def confirmed(update: Update, context: BotContext) -> None:
    """``me:del:<time>``: erase, if confirmed within a few minutes."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None
    assert update.effective_user is not None and update.effective_chat is not None
    asked = parse_number(query.data.removeprefix("me:del:"))
    now = context.now()
    if asked is None or not 0 <= now - asked <= CONFIRM_WITHIN:
        await query.answer(
            _("This button has expired. Send /deleteme again if you want to erase your data."),
            show_alert=True,
        )
        return
    user_id = update.effective_user.id
    close_message(context, update)  # a second tap already in flight is stale
    await context.storage.erase_member(user_id, now)
    context.member = None
    await query.answer()
    await query.edit_message_text(
        _("Your data is erased. Goodbye! If you come back one day, /start sets you up afresh.")
    )
    # Last, with no await after it: PTB marks this update's user for the persistence flush
    # right after the handler returns, in the same step as this drop, so that no flush in
    # between (after another user's update) can write the user's data back.
    _forget_in_memory(context, user_id, update.effective_chat.id)


async def kept(update: Update, context: BotContext) -> None:
    """``me:keep``."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(context.i18n.gettext("Nothing was erased."))
