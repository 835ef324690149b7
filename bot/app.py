"""Builds and runs the bot: the PTB Application with our storage, persistence, context type,
update processor, handlers in their groups, and the start-up chores.

:func:`running` is the one way to run it, used alike by ``python -m bot``, the sandbox, the
tests and the benchmarks::

    async with running(settings) as application:
        await stop_event.wait()
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import broadcasting, outbox, scheduler
from bot.command_menu import menu_texts
from bot.config import Settings
from bot.context import BotContext, CommunityApplication
from bot.delivery.request import AiohttpRequest
from bot.dialogs import alerts, broadcast, editing, onboarding, posting, search
from bot.dialogs import contact as contact_dialog
from bot.dialogs import verification as verification_dialog
from bot.handlers import (
    broadcasts,
    browse,
    common,
    contacts,
    errors,
    followups,
    guard,
    listings,
    matches,
    moderation,
    my_listings,
    preferences,
    privacy,
    reports,
    stats,
    verification,
)
from bot.health import Health, health_listener
from bot.i18n import MENU_LANGUAGES, load_catalogs
from bot.logs import Tally, counted
from bot.outbox import OutboxSender
from bot.persistence import SQLitePersistence
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.sending import OUTBOX, PriorityRateLimiter, SendBudget
from bot.storage import Storage
from bot.updates import PerUserUpdateProcessor
from bot.webhook import receiving_by_webhook

log = logging.getLogger(__name__)


def build_application(settings: Settings, storage: Storage) -> CommunityApplication:
    """The Application, wired; not yet initialised or started."""
    assert settings.bot_token, "build_application needs a bot token"
    load_catalogs()
    # One sending budget for replies and the outbox, so a broadcast never slows a reply.
    budget = SendBudget(settings.send_rate)
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
        # aiohttp, not PTB's httpx: see bot/delivery/request.py and BENCHMARKS.md.
        .request(bot_api_request(settings, pool_size=8))
        # getUpdates has its own connection; PTB adds the long-polling time to its read timeout.
        .get_updates_request(bot_api_request(settings, pool_size=1))
        .concurrent_updates(PerUserUpdateProcessor(max_concurrent_updates=64))
        .rate_limiter(PriorityRateLimiter(budget))
    )
    application: CommunityApplication = builder.build()  # type: ignore[assignment]
    application.storage = storage
    application.settings = settings
    application.meaning = Meaning(Semantics(settings.embedding_model))
    application.outbox = OutboxSender(
        application, storage, budget, now=lambda: int(application.clock())
    )
    outbox.schedule(application, application.outbox)
    scheduler.schedule(application, storage)
    broadcasting.schedule(application)
    followups.schedule(application)
    add_handlers(application)
    return application


def bot_api_request(settings: Settings, pool_size: int) -> AiohttpRequest:
    """The HTTP client for Bot API calls, every timeout at ``TELEGRAM_TIMEOUT`` (uploads get
    twice as long: the body's write and the answer share the budget)."""
    timeout = settings.http_timeout
    return AiohttpRequest(
        connection_pool_size=pool_size,
        read_timeout=timeout,
        write_timeout=timeout,
        connect_timeout=timeout,
        pool_timeout=timeout,
        media_write_timeout=timeout,
    )


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    # Group -2 runs first for every update: it loads the member and their language, which
    # every later handler reads from the context. Group -1 then stops banned members (except
    # for their own data).
    application.add_handler(TypeHandler(Update, common.identify), group=-2)
    application.add_handler(TypeHandler(Update, guard.stop_banned), group=-1)

    # PTB warns that a dialog with buttons and per_message=False tracks one conversation per
    # user and chat rather than per message. That is what ours want (a dialog's step is the
    # person's, whichever of its messages they answer), so the warning is silenced here, where
    # the dialogs are built, and nowhere else.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        dialogs = [
            # Writing to someone comes before the other dialogs: see bot/dialogs/contact.py.
            contact_dialog.build(),
            onboarding.build(),
            posting.build(),
            editing.build(),
            verification_dialog.build(),
            alerts.build(),
            broadcast.build(),
        ]
    # Group 0, first match wins. Dialogs come first so that a user in the middle of one keeps
    # talking to it; commands that work anywhere come next (a dialog does not claim them, so
    # /help or /language mid-dialog reach them); the catch-alls come last.
    application.add_handlers(
        [
            # A shared listing link opens the listing whatever dialog the user is in.
            CommandHandler("start", listings.deep_link, filters=filters.Regex(listings.DEEP_LINK)),
            *dialogs,
            # Admins: broadcasts (the composer above, the progress message's buttons) and figures.
            CommandHandler("broadcasts", broadcasts.broadcasts_command),
            CallbackQueryHandler(broadcasts.control_button, pattern=r"^bc:"),
            CommandHandler("stats", stats.stats_command),
            CallbackQueryHandler(stats.stats_button, pattern=r"^st:"),
            CommandHandler("help", common.help_command),
            CommandHandler("language", common.language_command),
            CommandHandler("profile", common.profile_command),
            # Browse and search. /cancel first comes here: it stops a search waiting for
            # words or a location, and hands over to nothing_to_cancel otherwise.
            CommandHandler("cancel", search.cancel),
            CommandHandler("browse", browse.browse_command),
            CommandHandler("search", search.search_command),
            CallbackQueryHandler(browse.browse_button, pattern=r"^br:new$"),
            CallbackQueryHandler(browse.kind_chosen, pattern=r"^br:\w+:k:"),
            CallbackQueryHandler(browse.category_chosen, pattern=r"^br:\w+:c:"),
            CallbackQueryHandler(browse.area_chosen, pattern=r"^br:\w+:a:"),
            CallbackQueryHandler(browse.back, pattern=r"^br:\w+:b$"),
            CallbackQueryHandler(browse.page_chosen, pattern=r"^br:\w+:p:"),
            CallbackQueryHandler(browse.radius_chosen, pattern=r"^br:\w+:r:"),
            CallbackQueryHandler(browse.widened, pattern=r"^br:\w+:w:"),
            CallbackQueryHandler(browse.change_filters, pattern=r"^br:\w+:f$"),
            CallbackQueryHandler(common.language_chosen, pattern=r"^lang:"),
            CallbackQueryHandler(common.menu_button, pattern=r"^menu:"),
            CallbackQueryHandler(listings.open_button, pattern=r"^lo:"),
            CommandHandler("mylistings", my_listings.my_listings),
            CallbackQueryHandler(my_listings.my_listings_button, pattern=r"^my:list$"),
            CallbackQueryHandler(my_listings.my_listings_page, pattern=r"^my:p:"),
            CallbackQueryHandler(my_listings.ask_how_fulfilled, pattern=r"^ls:done:"),
            CallbackQueryHandler(my_listings.mark_fulfilled, pattern=r"^ls:ful:"),
            CallbackQueryHandler(my_listings.ask_close, pattern=r"^ls:close:"),
            CallbackQueryHandler(my_listings.close, pattern=r"^ls:cls:"),
            CallbackQueryHandler(my_listings.ask_renewal, pattern=r"^ls:renew:"),
            CallbackQueryHandler(my_listings.renew, pattern=r"^ls:rnw:"),
            # Matching: alerts, notification settings, a match card's Not relevant.
            CommandHandler("alerts", alerts.alerts_command),
            CallbackQueryHandler(alerts.alerts_command, pattern=r"^al:list$"),
            CallbackQueryHandler(alerts.alert_button, pattern=r"^al:(pa|pn|re|de|dy|ls)"),
            CommandHandler("settings", preferences.settings_command),
            CallbackQueryHandler(preferences.settings_command, pattern=r"^set:show$"),
            CallbackQueryHandler(preferences.settings_button, pattern=r"^set:"),
            CallbackQueryHandler(matches.not_relevant, pattern=r"^mt:nr:"),
            # Trust: contacts, reports, verification, moderation, the person's data.
            CallbackQueryHandler(contacts.accept, pattern=r"^ct:ok:"),
            CallbackQueryHandler(contacts.decline, pattern=r"^ct:no:"),
            CallbackQueryHandler(contacts.show, pattern=r"^ct:show:"),
            CommandHandler("contacts", contacts.contacts_command),
            CallbackQueryHandler(contacts.contacts_command, pattern=r"^ct:list$"),
            CallbackQueryHandler(followups.answered, pattern=r"^fu:"),
            CallbackQueryHandler(reports.report_button, pattern=r"^rp:\d+$"),
            CallbackQueryHandler(reports.reason_chosen, pattern=r"^rp:\d+:"),
            CallbackQueryHandler(verification.ask_leave, pattern=r"^vf:leave$"),
            CallbackQueryHandler(verification.leave, pattern=r"^vf:leave:yes$"),
            CallbackQueryHandler(verification.approve, pattern=r"^vf:ok:"),
            CallbackQueryHandler(verification.reject, pattern=r"^vf:no:"),
            CallbackQueryHandler(verification.queue, pattern=r"^ad:vq$"),
            CommandHandler("admin", moderation.admin_command),
            CallbackQueryHandler(moderation.report_queue, pattern=r"^ad:rq$"),
            CallbackQueryHandler(moderation.admin_log, pattern=r"^ad:log$"),
            CallbackQueryHandler(moderation.hide, pattern=r"^mod:hide:"),
            CallbackQueryHandler(moderation.restore, pattern=r"^mod:rest:"),
            CallbackQueryHandler(moderation.dismiss, pattern=r"^mod:dis:"),
            CallbackQueryHandler(moderation.warn, pattern=r"^mod:warn:"),
            CallbackQueryHandler(moderation.ban, pattern=r"^mod:ban:"),
            CallbackQueryHandler(moderation.unban_button, pattern=r"^mod:unban:"),
            CallbackQueryHandler(moderation.history, pattern=r"^mod:hist:"),
            CommandHandler("unban", moderation.unban_command),
            CommandHandler("makeadmin", moderation.make_admin),
            CommandHandler("unadmin", moderation.unmake_admin),
            CommandHandler("mydata", privacy.my_data),
            CommandHandler("deleteme", privacy.delete_me),
            CallbackQueryHandler(privacy.confirmed, pattern=r"^me:del:"),
            CallbackQueryHandler(privacy.kept, pattern=r"^me:keep$"),
            CallbackQueryHandler(common.stale_button),
            ChatMemberHandler(common.chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER),
            # Outside any dialog: a location means "what is near here", a text may be the
            # words /search asked for (else it goes on to not_understood).
            MessageHandler(filters.UpdateType.MESSAGE & filters.LOCATION, search.location_shared),
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, search.text_typed
            ),
            MessageHandler(filters.UpdateType.MESSAGE, common.not_understood),
        ]
    )
    application.add_error_handler(errors.on_error)  # type: ignore[arg-type]


# Seconds between attempts to publish the menu while the Bot API server refuses.
MENU_RETRY_DELAYS = (2.0, 5.0, 15.0, 60.0, 300.0)


def menu_digest() -> str:
    """A digest of everything publish_menu sends: it changes when a text or command does."""
    published = []
    for language in MENU_LANGUAGES:
        commands, description, short = menu_texts(language)
        published.append([language, [c.to_dict() for c in commands], description, short])
    return hashlib.sha256(json.dumps(published, ensure_ascii=False).encode()).hexdigest()


async def publish_language(bot: ExtBot[Any], language: str) -> None:
    """Register the menu and descriptions of one language (English is the default)."""
    code = None if language == "en" else language
    commands, description, short = menu_texts(language)
    # OUTBOX: straight to the server. These calls have their own retries (publish_menu);
    # the reply retries of the rate limiter would only repeat them against a failing server.
    await bot.set_my_commands(commands, language_code=code, rate_limit_args=OUTBOX)
    await bot.set_my_description(description, language_code=code, rate_limit_args=OUTBOX)
    await bot.set_my_short_description(short, language_code=code, rate_limit_args=OUTBOX)


async def publish_menu(application: Application, storage: Storage) -> None:  # type: ignore[type-arg]
    """Publish the menu and descriptions in every language, unless what was last published
    for this bot is the same; retry with growing pauses while the server fails (this runs
    beside the bot, never before it: see running)."""
    bot_id, digest = application.bot.id, menu_digest()
    if await storage.published_menu(bot_id) == digest:
        log.info("the command menu and descriptions are as last published")
        return
    waiting, refused = list(MENU_LANGUAGES), []
    for attempt in itertools.count():
        try:
            while waiting:
                try:
                    await publish_language(application.bot, waiting[0])
                except BadRequest as wrong:  # our text: sending it again would not help
                    log.error("the command menu in %s was refused: %s", waiting[0], wrong)
                    refused.append(waiting[0])
                waiting.pop(0)
            break
        except TelegramError as trouble:  # unreachable, 5xx, 429: the server's trouble
            delay = MENU_RETRY_DELAYS[min(attempt, len(MENU_RETRY_DELAYS) - 1)]
            log.warning(
                "could not publish the command menu in %d of %d languages (%s: %s); "
                "retrying in %.0f s",
                len(waiting),
                len(MENU_LANGUAGES),
                waiting[0],
                trouble,
                delay,
            )
            await asyncio.sleep(delay)
    if refused:  # not recorded: the next start tries again
        return
    await storage.record_published_menu(bot_id, digest, int(time.time()))
    log.info("published the command menu and descriptions in %d languages", len(MENU_LANGUAGES))


def _report_failure(task: asyncio.Task[None]) -> None:
    """A background task's unexpected failure, logged when it happens (nobody awaits it)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("publishing the command menu failed", exc_info=task.exception())


def polling_trouble() -> Callable[[TelegramError], None]:
    """PTB's updater retries a failed getUpdates with growing pauses and, by default, logs a
    traceback each time; one line a minute at most, with the count, says the same."""
    last: list[TelegramError] = []
    tally = Tally(
        log,
        lambda n: f"getUpdates failed {counted(n, 'time')} (latest: {last[-1]}); retrying",
        level=logging.WARNING,
    )

    def trouble(error: TelegramError) -> None:
        last[:] = [error]
        tally.add(1)

    return trouble


@asynccontextmanager
async def receiving(
    application: CommunityApplication, settings: Settings, health: Health
) -> AsyncIterator[None]:
    """Updates coming in, by webhook when WEBHOOK_URL is set, by long polling otherwise."""
    updater = application.updater
    assert updater is not None
    if settings.webhook_url:
        async with receiving_by_webhook(application, settings, health) as receiver:
            health.receiving = lambda: receiver.running
            yield
        return
    # Polling removes a webhook left from an earlier run in webhook mode.
    await updater.start_polling(
        poll_interval=0,
        timeout=10,
        allowed_updates=Update.ALL_TYPES,
        error_callback=polling_trouble(),
    )
    health.receiving = lambda: updater.running
    try:
        yield
    finally:
        await updater.stop()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[CommunityApplication]:
    """Open the database, start the bot (polling, or a webhook if configured), and on exit
    stop it cleanly: pending updates finished, persistence flushed, database closed.

    Updates are taken as soon as the bot is up; the menu is published in the background
    (``application.menu_published``, a task), so a slow or failing server never delays a
    reply."""
    storage = await Storage.open(settings.database_path)
    try:
        in_doubt = await storage.settle_in_doubt()
        if in_doubt:
            log.warning("%d notifications were in flight at the last stop: not resent", in_doubt)
        application = build_application(settings, storage)
        health = Health(application, storage)
        async with application:
            await application.start()
            try:
                # The health listener first: a port in use stops start-up before anything else.
                async with (
                    health_listener(health, settings.health_listen, settings.health_port),
                    receiving(application, settings, health),
                ):
                    publishing = asyncio.create_task(publish_menu(application, storage))
                    publishing.add_done_callback(_report_failure)
                    application.menu_published = publishing  # type: ignore[attr-defined]
                    try:
                        yield application
                    finally:
                        publishing.cancel()
                        await asyncio.wait([publishing])
            finally:
                await application.stop()
    finally:
        await storage.close()
