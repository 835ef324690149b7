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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot

from bot.config import Settings
from bot.context import BotContext, CommunityApplication
from bot.delivery import outbox
from bot.delivery.outbox import OutboxSender
from bot.delivery.pacing import OUTBOX, PriorityRateLimiter, SendBudget
from bot.delivery.request import AiohttpRequest
from bot.dialogs.dialog import ask_unconfirmed
from bot.handlers import (
    admin,
    alerts,
    announcements,
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
    relay,
    reports,
    stats,
    verification,
)
from bot.i18n import MENU_LANGUAGES, load_catalogs
from bot.logs import Tally, counted
from bot.persistence import SQLitePersistence
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import Storage
from bot.updates import PerUserUpdateProcessor
from bot.views.command_menu import menu_texts
from bot.web.health import Health, health_listener
from bot.web.webhook import receiving_by_webhook

log = logging.getLogger(__name__)

# The features, in the order their handlers are tried: within a handler group, the first
# handler that takes an update handles it (see bot/handlers/members.py for the groups).
FEATURES = (
    members,  # first, in groups of their own: who is writing, and banned members stopped
    listings,  # a shared listing link opens the listing whatever dialog one is in
    contacts,  # before the dialogs: the message being written to someone goes to it
    relay,  # the relay's Stop, outside the writing dialog; how relayed messages read
    # The dialogs next, so that a person in the middle of one keeps talking to it.
    onboarding,
    posting,
    my_listings,
    verification,
    alerts,
    broadcasts,
    announcements,  # a recipient turning a kind of announcement off, and its Undo
    stats,
    preferences,
    matches,
    followups,
    reports,
    admin,
    moderation,
    privacy,
    browse,  # after the other dialogs: a location outside them means "what is near here"
    menu,  # last: help, language, profile, and the answer to whatever nothing else took
)


def build_application(settings: Settings, storage: Storage) -> CommunityApplication:
    """The Application, wired; not yet initialised or started."""
    assert settings.bot_token, "build_application needs a bot token"
    load_catalogs()
    # One sending budget for replies and the outbox, so a broadcast never slows a reply.
    budget = SendBudget(settings.send_rate)
    processor = PerUserUpdateProcessor(max_concurrent_updates=64)
    persistence = SQLitePersistence(storage)
    builder = (
        ApplicationBuilder()
        .application_class(CommunityApplication)
        .token(settings.bot_token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .context_types(ContextTypes(context=BotContext))
        .persistence(persistence)
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
        .concurrent_updates(processor)
        .rate_limiter(PriorityRateLimiter(budget))
    )
    application: CommunityApplication = builder.build()  # type: ignore[assignment]

    async def flush() -> None:
        # Conversation states and user_data reach the disk as soon as a reply is out.
        if application.running:
            await application.update_persistence()

    processor.after_each = flush
    # A flush's copies of a person's data are checked against what they have in memory.
    persistence.watch(application.user_data)
    application.storage = storage
    application.settings = settings
    application.meaning = Meaning(Semantics(settings.embedding_model))
    application.outbox = OutboxSender(
        application, storage, budget, now=lambda: int(application.clock())
    )
    outbox.schedule(application, application.outbox)
    for feature in FEATURES:
        feature.register(application)
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
                # Before any update: a question lost to the last stop is asked first, so an
                # answer typed again meanwhile is read as written before it (issue 16, rule 10).
                asked = await ask_unconfirmed(application)
                if asked:
                    log.warning("%d questions never reached their chat: asked again", asked)
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
