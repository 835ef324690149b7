"""What works anywhere: /help, /language, /profile and the main menu's buttons, showing a
person the step of the dialogs they are in again, and polite answers to whatever no feature
understood. Registered last: its catch-alls take only what every other feature left.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.buttons import (
    LANGUAGE,
    MENU,
    PROFILE_EDIT,
    close_message,
    refuse_stale,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs.dialog import resume_dialogs
from bot.i18n import autonym, translator
from bot.views import texts as views
from bot.views.command_menu import set_chat_menu


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("help", help_command),
            CommandHandler("language", language_command),
            CommandHandler("profile", profile_command),
            LANGUAGE.handler(language_chosen),
            MENU.handler(menu_button),
            # /cancel that no dialog took.
            CommandHandler("cancel", nothing_to_cancel),
            # Last: any button no feature took is stale or forged; any message, not understood.
            CallbackQueryHandler(refuse_stale),
            MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, not_understood),
            MessageHandler(filters.UpdateType.MESSAGE, not_understood),
        ]
    )


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
        reply_markup=views.language_keyboard(LANGUAGE, context.i18n.language),
    )


async def language_chosen(update: Update, context: BotContext, code: str) -> None:
    """Store the chosen language; it wins over Telegram's from now on."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await context.storage.set_language(update.effective_user.id, code)
    context.i18n = translator(code)
    _ = context.i18n.gettext
    await query.answer()
    close_message(update, context)
    # The replies follow the chosen language from now on, whatever the app's: so does the
    # chat's command menu (set before the answer, so that the answer finds it changed).
    assert update.effective_chat is not None
    await set_chat_menu(context.bot, update.effective_chat.id, code)
    await query.edit_message_text(_("Language set: {language}.").format(language=autonym(code)))
    await resume_dialogs(update, context)


async def profile_command(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    assert member is not None
    buttons = [[InlineKeyboardButton(_("✏️ Edit profile"), callback_data=PROFILE_EDIT.data(None))]]
    await reply(
        update,
        views.profile_card(context.i18n, member),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def menu_button(update: Update, context: BotContext, item: str) -> None:
    """The main menu's profile, language and help buttons."""
    screens = {"profile": profile_command, "language": language_command, "help": help_command}
    assert update.callback_query is not None
    await update.callback_query.answer()
    await screens[item](update, context)


async def not_understood(update: Update, context: BotContext) -> None:
    """Anything outside a dialog that no command claims: say what the bot can do."""
    text, keyboard = views.not_understood(context.i18n, context.member)
    await reply(update, text, reply_markup=keyboard)


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update, _("There is nothing to cancel."), reply_markup=views.main_menu(context.i18n)
    )
