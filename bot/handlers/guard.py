"""Banned members: after :func:`bot.handlers.common.identify`, and before any other handler,
stop every update of a banned member except reading and erasing their data.

A ban must not take away the rights over one's own data: /mydata and /deleteme (and the
buttons of /deleteme) still work. Telegram's notices about the chat (blocking the bot) pass
too: they are not the member acting.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext

ALLOWED_COMMANDS = ("/mydata", "/deleteme")
ALLOWED_BUTTONS = ("me:",)


def _allowed(update: Update) -> bool:
    if update.my_chat_member is not None:
        return True
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(ALLOWED_BUTTONS)
    if update.message is not None and update.message.text:
        command = update.message.text.split(maxsplit=1)[0].split("@", 1)[0]
        return command in ALLOWED_COMMANDS
    return False


async def stop_banned(update: Update, context: BotContext) -> None:
    member = context.member
    if member is None or not member.banned or _allowed(update):
        return
    _ = context.i18n.gettext
    text = _(
        "Your account is suspended by a moderator. You can still get your data with /mydata "
        "or erase it with /deleteme."
    )
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat is not None and update.message is not None:
        await update.effective_chat.send_message(text)
    raise ApplicationHandlerStop
