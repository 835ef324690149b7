"""Commands and buttons that work anywhere: identify the reader, /help, /language, /profile,
the main menu, and polite answers to buttons and messages nothing else understood.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from bot import views
from bot.command_menu import set_chat_menu
from bot.context import BotContext, CommunityApplication
from bot.i18n import LANGUAGES, Translator, best_language, translator
from bot.storage.ptb import handled_already

# Dialogs register a function here that shows their current step again, so that /start,
# /help or a change of language in the middle of a dialog leads back to where the user was.
# A resumer answers True when it found its dialog in progress and showed the step.
Resumer = Callable[[Update, BotContext], Awaitable[bool]]
RESUMERS: dict[str, Resumer] = {}


async def identify(update: Update, context: BotContext) -> None:
    """Load (or register on first contact) the person behind the update, and their language.

    Runs before every other handler (group -2; banned members are stopped next, in -1).
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
    if update.callback_query is not None and await _stale_press(update, context):
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
    context.member = member
    context.i18n = translator(member.language)


async def _stale_press(update: Update, context: BotContext) -> bool:
    """A press on a message the bot can no longer see, or whose buttons a handler already
    took away: answer it as stale, change nothing, edit nothing."""
    query = update.callback_query
    assert query is not None
    message = query.message
    gone = message is None or not message.is_accessible
    if not gone:
        assert message is not None
        application: CommunityApplication = context.application  # type: ignore[assignment]
        gone = application.buttons_closed(message.chat.id, message.message_id)
    if gone:
        context.i18n = await reader_language(update, context)
        await stale_button(update, context)
    return gone


def close_message(context: BotContext, update: Update) -> None:
    """Mark the message of the pressed button as done with (see _stale_press)."""
    query = update.callback_query
    if query is not None and query.message is not None:
        context.close_message(query.message.chat.id, query.message.message_id)


async def drop_buttons(query: CallbackQuery) -> None:
    """Remove the keyboard of the message pressed (gone or forged messages have none)."""
    if query.message is not None and query.message.is_accessible:
        # "message is not modified" when it has none left: nothing to remove then.
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(None)


async def reader_language(update: Update, context: BotContext) -> Translator:
    """The language to answer an update in, without registering anyone."""
    user = update.effective_user
    if user is None:
        return translator(context.settings.default_locale)
    member = await context.storage.get_member(user.id)
    if member is not None:
        return translator(member.language)
    return translator(best_language(user.language_code, context.settings.default_locale))


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Send a message to the chat the update came from, whether it was a message or a button.

    Button handlers answer their callback query themselves, exactly once (a second answer is
    an error at Telegram).
    """
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text, **kwargs)  # type: ignore[arg-type]


async def show_menu(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("What would you like to do?"), reply_markup=views.main_menu(context.i18n))


async def help_command(update: Update, context: BotContext) -> None:
    await reply(update, views.help_text(context.i18n))
    await resume_dialogs(update, context)


async def language_command(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Choose your language:"),
        reply_markup=views.language_keyboard("lang:", context.i18n.language),
    )


async def language_chosen(update: Update, context: BotContext) -> None:
    """Store the chosen language (``lang:<code>``); it wins over Telegram's from now on."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    code = query.data.removeprefix("lang:")
    if code not in LANGUAGES:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return
    await context.storage.set_language(update.effective_user.id, code)
    context.i18n = translator(code)
    _ = context.i18n.gettext
    await query.answer()
    close_message(context, update)
    # The replies follow the chosen language from now on, whatever the app's: so does the
    # chat's command menu (set before the answer, so that the answer finds it changed).
    assert update.effective_chat is not None
    await set_chat_menu(context.bot, update.effective_chat.id, code)
    await query.edit_message_text(
        _("Language set: {language}.").format(language=views.autonym(code))
    )
    await resume_dialogs(update, context)


async def resume_dialogs(update: Update, context: BotContext) -> None:
    """Show the step of any dialog the user is in the middle of, in their current language."""
    for resume in RESUMERS.values():
        if await resume(update, context):
            return


async def profile_command(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    assert member is not None
    buttons = [[InlineKeyboardButton(_("✏️ Edit profile"), callback_data="prof:edit")]]
    await reply(
        update,
        views.profile_card(context.i18n, member),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def menu_button(update: Update, context: BotContext) -> None:
    """The main menu's buttons (``menu:<item>``)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    item = query.data.removeprefix("menu:")
    screens = {"profile": profile_command, "language": language_command, "help": help_command}
    if item not in screens:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return
    await query.answer()
    await screens[item](update, context)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button from an old message, of a finished dialog, or with forged data: change nothing."""
    query = update.callback_query
    assert query is not None
    await query.answer(
        context.i18n.gettext("This button is no longer active. Send /start to see the menu."),
        show_alert=True,
    )


async def not_understood(update: Update, context: BotContext) -> None:
    """Anything outside a dialog that no command claims: say what the bot can do."""
    _ = context.i18n.gettext
    if context.member is None or not context.member.onboarded:
        await reply(update, _("Welcome! Send /start to set up your profile."))
        return
    await reply(
        update,
        _("I did not understand that. Here is what you can do:"),
        reply_markup=views.main_menu(context.i18n),
    )


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update, _("There is nothing to cancel."), reply_markup=views.main_menu(context.i18n)
    )


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """Telegram tells the bot when a user blocks it (kicked) or unblocks it: remember, so that
    scheduled messages skip them instead of failing again and again."""
    change = update.my_chat_member
    assert change is not None
    if change.new_chat_member.status == ChatMember.BANNED:
        await context.storage.mark_blocked(change.from_user.id)
