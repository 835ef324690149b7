"""Builds and runs the bot: the PTB Application with our storage, persistence, context type,
update processor, handlers in their groups, and the start-up chores.

:func:`running` is the one way to run it, used alike by ``python -m bot``, the sandbox, the
tests and the benchmarks::

    async with running(settings) as application:
        await stop_event.wait()
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.context import BotContext, CommunityApplication
from bot.delivery import outbox
from bot.delivery.outbox import OutboxSender
from bot.delivery.pacing import PriorityRateLimiter, SendBudget
from bot.handlers import (
    admin,
    alerts,
    broadcasts,
    browse,
    contacts,
    followups,
    listings,
    matches,
    members,
    menu,
    moderation,
    my_listings,
    onboarding,
    posting,
    preferences,
    privacy,
    reports,
    stats,
    verification,
)
from bot.i18n import LANGUAGES, N_, load_catalogs, translator
from bot.persistence import SQLitePersistence
from bot.storage import Storage
from bot.updates import PerUserUpdateProcessor

log = logging.getLogger(__name__)

# The features, in the order their handlers are tried: within a handler group, the first
# handler that takes an update handles it (see bot/handlers/members.py for the groups).
FEATURES = (
    members,  # first, in groups of their own: who is writing, and banned members stopped
    listings,  # a shared listing link opens the listing whatever dialog one is in
    contacts,  # before the dialogs: the message being written to someone goes to it
    # The dialogs next, so that a person in the middle of one keeps talking to it.
    onboarding,
    posting,
    my_listings,
    verification,
    alerts,
    broadcasts,
    stats,
    preferences,
    matches,
    followups,
    reports,
    admin,
    moderation,
    privacy,
    browse,  # a location, or the words /search asked for, outside any dialog
    menu,  # last: help, language, profile, and the answer to whatever nothing else took
)

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


def build_application(settings: Settings, storage: Storage) -> CommunityApplication:
    """The Application, wired; not yet initialised or started."""
    assert settings.bot_token, "build_application needs a bot token"
    load_catalogs()
    # One sending budget for replies and the outbox, so a broadcast never slows a reply.
    budget = SendBudget(settings.send_rate)
    processor = PerUserUpdateProcessor(max_concurrent_updates=64)
    builder = (
        ApplicationBuilder()
        .application_class(CommunityApplication)
        .token(settings.bot_token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .context_types(ContextTypes(context=BotContext))
        .persistence(SQLitePersistence(storage))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # A small pool: httpx checks every pooled connection on each request, and with up to
        # 64 updates in flight a large pool cost a third of the bot's CPU (see BENCHMARKS.md).
        .connection_pool_size(8)
        .read_timeout(settings.http_timeout)
        .write_timeout(settings.http_timeout)
        .connect_timeout(settings.http_timeout)
        .pool_timeout(settings.http_timeout)
        .concurrent_updates(processor)
        .rate_limiter(PriorityRateLimiter(budget))
    )
    application: CommunityApplication = builder.build()  # type: ignore[assignment]

    async def flush() -> None:
        # Conversation states and user_data reach the disk as soon as a reply is out.
        if application.running:
            await application.update_persistence()

    processor.after_each = flush
    application.storage = storage
    application.settings = settings
    application.outbox = OutboxSender(
        application, storage, budget, now=lambda: int(application.clock())
    )
    outbox.schedule(application, application.outbox)
    for feature in FEATURES:
        feature.register(application)
    return application


async def publish_commands(application: CommunityApplication) -> None:
    """Register the command menu and descriptions in every language (default: English)."""
    bot = application.bot
    for language in LANGUAGES:
        _ = translator(language).gettext
        code = None if language == "en" else language
        commands = [BotCommand(name, _(description)) for name, description in COMMANDS]
        try:
            await bot.set_my_commands(commands, language_code=code)
            await bot.set_my_description(_(DESCRIPTION), language_code=code)
            await bot.set_my_short_description(_(SHORT_DESCRIPTION), language_code=code)
        except TelegramError:
            # A menu in one language is not worth refusing to start over.
            log.exception("could not publish the commands for %s", language)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[CommunityApplication]:
    """Open the database, start the bot (polling, or a webhook if configured), and on exit
    stop it cleanly: pending updates finished, persistence flushed, database closed."""
    storage = await Storage.open(settings.database_path)
    try:
        in_doubt = await storage.settle_in_doubt()
        if in_doubt:
            log.warning("%d notifications were in flight at the last stop: not resent", in_doubt)
        application = build_application(settings, storage)
        async with application:
            await publish_commands(application)
            await application.start()
            assert application.updater is not None
            if settings.webhook_url:
                await application.updater.start_webhook(
                    listen=settings.webhook_listen,
                    port=settings.webhook_port,
                    webhook_url=settings.webhook_url,
                    allowed_updates=Update.ALL_TYPES,
                )
            else:
                await application.updater.start_polling(
                    poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES
                )
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        await storage.close()
