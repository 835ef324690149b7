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
    """PTB's error handler. It never raises: an error raised here would only reach PTB's own
    log as a second traceback, and the person would still be waiting."""
    try:
        await _handle(update, context)
    except TelegramError as refused:  # the apology (or marking a blocked user) was refused
        log.warning("could not tell the user about the error: %s", refused)
    except Exception:
        log.exception("the error handler failed too")


async def _handle(update: object, context: BotContext) -> None:
    if isinstance(update, Update) and isinstance(context.error, Forbidden):
        # The user blocked the bot while we were answering: remember it, nothing to say.
        if update.effective_user is not None:
            await context.storage.mark_blocked(update.effective_user.id)
        log.info("user %s blocked the bot", update.effective_user and update.effective_user.id)
        return
    log.error("exception while handling an update: %s", _describe(update), exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # PTB builds a fresh context for the error handler: find the reader's language again.
    _ = (await reader_language(update, context)).gettext
    # A pressed button is not answered here: the handler may have answered it before failing
    # (a second answer is a 400), and the apology below is what the person needs.
    await update.effective_chat.send_message(
        _(
            "Sorry, something went wrong on our side. Please try again; if it keeps "
            "happening, send /cancel and start again."
        )
    )


def _describe(update: object) -> str:
    if isinstance(update, Update):
        return json.dumps(update.to_dict(), ensure_ascii=False, default=repr)
    return repr(update)
