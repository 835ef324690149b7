"""The one error handler: log every exception with the update that caused it, and tell the
user, in their language, that something went wrong, without leaking internals.
"""

from __future__ import annotations

import json
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.handlers.common import reader_language

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    if isinstance(update, Update) and isinstance(context.error, Forbidden):
        # The user blocked the bot while we were answering: remember it, nothing to say.
        if update.effective_user is not None:
            await context.storage.mark_blocked(update.effective_user.id)
        log.info("user %s blocked the bot", update.effective_user and update.effective_user.id)
        return
    described = (
        json.dumps(update.to_dict(), ensure_ascii=False)
        if isinstance(update, Update)
        else repr(update)
    )
    log.error("exception while handling an update: %s", described, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # PTB builds a fresh context for the error handler: find the reader's language again.
    _ = (await reader_language(update, context)).gettext
    # A pressed button is not answered here: the handler may have answered it before failing
    # (a second answer is a 400), and the apology below is what the person needs.
    try:
        await update.effective_chat.send_message(
            _(
                "Sorry, something went wrong on our side. Please try again; if it keeps "
                "happening, send /cancel and start again."
            )
        )
    except TelegramError:
        log.warning("could not tell the user about the error", exc_info=True)
