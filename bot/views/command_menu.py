"""The command menu and the bot's descriptions, in every language, and a chat's own menu.

The menu and descriptions are published for each catalog's two-letter language code at
start-up (bot.app.publish_menu), so Telegram shows them by the language the person's app is
set to. A person who chooses another language with /language (or during onboarding) gets
their chat's menu in that language too: a menu for that chat alone (BotCommandScopeChat),
which Telegram shows before any per-language one; that is also the only way Serbian in Latin
script (sr_Latn, no code of its own at Telegram) gets a menu. The descriptions cannot follow:
Telegram keeps them per language code only (setMyDescription and setMyShortDescription take no
scope), and they are shown before the chat starts, when the bot does not know the person yet.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import MENU_LANGUAGES, N_, translator

log = logging.getLogger(__name__)

# The commands shown in Telegram's menu, in this order; descriptions are translated.
COMMANDS = (
    ("start", N_("Set up your profile or open the menu")),
    ("post", N_("Post an offer or request")),
    ("mylistings", N_("Your listings and your municipality's")),
    ("browse", N_("Browse offers and requests")),
    ("search", N_("Search by words")),
    ("alerts", N_("Alerts: be told about new listings")),
    ("settings", N_("When and how you are notified")),
    ("contacts", N_("Your contacts")),
    ("verify", N_("Get verified as a municipality's representative")),
    ("profile", N_("Your profile")),
    ("language", N_("Choose your language")),
    ("mydata", N_("Download everything stored about you")),
    ("deleteme", N_("Erase your data")),
    ("help", N_("What this bot does and how")),
    ("cancel", N_("Stop what you are doing")),
)
DESCRIPTION = N_(
    "Community Sharing brings municipalities, project holders and volunteers across Europe "
    "together. Post what your community needs or what you can offer, in your own language, "
    "and you will be told when someone matches."
)
SHORT_DESCRIPTION = N_(
    "Municipalities, project holders and volunteers across Europe sharing needs and offers."
)


def menu_texts(language: str) -> tuple[list[BotCommand], str, str]:
    """The command menu, description and short description, in ``language``."""
    _ = translator(language).gettext
    commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
    return commands, _(DESCRIPTION), _(SHORT_DESCRIPTION)


def published_language(telegram_language: str | None) -> str:
    """The language of the menu Telegram shows someone whose app sends ``telegram_language``:
    the one published for its two-letter code, else the default one (English). A Serbian
    reader whose app is set to Latin script sees the Cyrillic one ("sr"): the Latin catalog
    (sr_Latn) has no code of its own at Telegram, so its menu can only be a chat's."""
    code = (telegram_language or "")[:2].lower()
    return code if code in MENU_LANGUAGES else "en"


async def set_chat_menu(bot: Bot, chat_id: int, language: str) -> None:
    """The menu of this private chat, in ``language``. A failure is logged, not raised: the
    language is changed all the same, and the per-language menu still shows."""
    commands, _description, _short = menu_texts(language)
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as failed:
        log.warning("could not set the command menu of chat %s: %s", chat_id, failed)


async def forget_chat_menu(bot: Bot, chat_id: int) -> None:
    """Remove this chat's own menu (its person erased their data): the per-language one shows
    again."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
    except TelegramError as failed:
        log.warning("could not remove the command menu of chat %s: %s", chat_id, failed)
