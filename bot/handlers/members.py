"""Who is writing: every update is first matched to the stored person and their language;
banned members are stopped; blocking the bot is remembered; and an error is answered in the
person's language.

Handler groups run in order, each to the first handler that takes the update. Identifying
runs in :data:`IDENTIFY`, before any feature; stopping banned members in :data:`GUARD`, next.
A ban does not take away the rights over one's own data: /mydata and /deleteme (and the
buttons of /deleteme) still work. Telegram's notices about the chat (blocking the bot) pass
too: they are not the member acting.
"""

from __future__ import annotations

import json
import logging

from telegram import ChatMember, Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop, ChatMemberHandler, TypeHandler

from bot.buttons import PRIVACY, refuse_stale
from bot.context import BotContext, CommunityApplication, reply
from bot.i18n import Translator, best_language, translator
from bot.storage import Member
from bot.storage.ptb import handled_already

log = logging.getLogger(__name__)

IDENTIFY, GUARD = -4, -3  # handler groups, before every dialog's and feature's (-2, -1, 0)

ALLOWED_COMMANDS = ("/mydata", "/deleteme")
ALLOWED_BUTTONS = (PRIVACY.name + ":",)


def register(application: CommunityApplication) -> None:
    application.add_handler(TypeHandler(Update, identify), group=IDENTIFY)
    application.add_handler(TypeHandler(Update, stop_banned), group=GUARD)
    application.add_handler(
        ChatMemberHandler(chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_error_handler(on_error)


async def identify(update: Update, context: BotContext) -> None:
    """Load (or register on first contact) the person behind the update, and their language.

    Writes only when something changed, so the common case is one indexed read (the member
    and the last update handled for them together).
    """
    user = update.effective_user
    if user is None:
        return
    member, handled = await context.storage.member_for_update(user.id)
    if handled_already(handled, update.update_id, context.now()):
        # Handed out again after a crash, but it already moved a dialog on: skip it whole.
        raise ApplicationHandlerStop
    if update.callback_query is not None and await _stale_press(update, context, member):
        raise ApplicationHandlerStop
    default = context.settings.default_locale
    telegram_language = best_language(user.language_code, default)
    if (
        member is None
        or member.blocked
        or member.first_name != user.first_name
        or member.username != user.username
    ):
        member = await context.storage.register_member(
            user.id,
            user.first_name,
            telegram_language,
            last_name=user.last_name,
            username=user.username,
        )
    if not member.language_chosen and member.language != telegram_language:
        # Until they choose, follow Telegram's language, and remember it for scheduled messages.
        await context.storage.set_language(user.id, telegram_language, chosen=False)
        member = await context.storage.get_member(user.id)
        assert member is not None  # registered above
    context.member = member
    context.i18n = translator(member.language)


async def _stale_press(update: Update, context: BotContext, member: Member | None) -> bool:
    """A press on a message the bot can no longer see, or whose buttons a handler already
    took away: answer it as stale (in ``member``'s language, just read), change nothing,
    edit nothing."""
    query = update.callback_query
    assert query is not None
    message = query.message
    gone = message is None or not message.is_accessible
    if not gone:
        assert message is not None
        gone = (message.chat.id, message.message_id) in context.community.closed
    if gone:
        context.i18n = _language(update.effective_user, member, context.settings.default_locale)
        await refuse_stale(update, context)
    return gone


async def reader_language(update: Update, context: BotContext) -> Translator:
    """The language to answer an update in, without registering anyone."""
    user = update.effective_user
    member = await context.storage.get_member(user.id) if user is not None else None
    return _language(user, member, context.settings.default_locale)


def _language(user: User | None, member: Member | None, default: str) -> Translator:
    """The member's language; else their Telegram app's, if we have its catalog."""
    if member is not None:
        return translator(member.language)
    if user is None:
        return translator(default)
    return translator(best_language(user.language_code, default))


async def onboarded_member(update: Update, context: BotContext) -> Member | None:
    """The person behind a command or a menu button, if they have set up their profile; else
    None, and they are told to. A button's press is answered either way."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    member = context.member
    if member is None or not member.onboarded:
        await reply(update, context.i18n.gettext("Please set up your profile first: send /start."))
        return None
    return member


# --- banned members ------------------------------------------------------------------------


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


# --- blocking the bot, and errors ----------------------------------------------------------


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """Telegram tells the bot when a user blocks it (kicked) or unblocks it: remember, so that
    scheduled messages skip them instead of failing again and again."""
    change = update.my_chat_member
    assert change is not None
    if change.new_chat_member.status == ChatMember.BANNED:
        await context.storage.mark_blocked(change.from_user.id)


async def on_error(update: object, context: BotContext) -> None:
    """PTB's error handler: log every exception with the update that caused it, and tell the
    person, in their language, that something went wrong, without leaking internals. It never
    raises: an error raised here would only reach PTB's own log as a second traceback, and the
    person would still be waiting."""
    try:
        await _handle_error(update, context)
    except TelegramError as refused:  # the apology (or marking a blocked user) was refused
        log.warning("could not tell the user about the error: %s", refused)
    except Exception:
        log.exception("the error handler failed too")


async def _handle_error(update: object, context: BotContext) -> None:
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
