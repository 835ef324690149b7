"""The reference for benchmarks/interactive.py: a bare python-telegram-bot echo bot.

A plain PTB ``Application`` with PTB's defaults (updates processed one at a time, no
persistence, no rate limiter): a text is answered with the same text, a button press is
answered and replied to with its data. It polls like our bot does (``poll_interval=0``,
``timeout=10``, every update type), so the two see the same server and the same load.

Run by the benchmark, or alone::

    BOT_TOKEN=123:ABC... TELEGRAM_API_URL=http://127.0.0.1:8081 python benchmarks/echo_bot.py

``ECHO_CONCURRENCY=N`` (default 0 = PTB's default, sequential) lets it process N updates at
once, for comparison; ``ECHO_LOOP=uvloop`` runs it on uvloop instead of asyncio's default loop
(the reference), for comparison too. SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import asyncio
import os
import signal

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text with the same text."""
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press, then reply with its data."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await context.bot.send_message(query.from_user.id, query.data or "(no data)")


def build(token: str, api_url: str, concurrency: int) -> Application:  # type: ignore[type-arg]
    """The echo Application, not yet initialised."""
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
    )
    if concurrency > 0:
        builder = builder.concurrent_updates(concurrency)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo_text))
    application.add_handler(CallbackQueryHandler(echo_press))
    return application


async def serve(token: str, api_url: str, concurrency: int) -> None:
    """Poll until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    application = build(token, api_url, concurrency)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES
        )
        loop = type(asyncio.get_running_loop()).__module__.split(".", 1)[0]
        print(f"echo bot @{application.bot.username} polling {api_url} on {loop}", flush=True)
        await stop.wait()
        await application.updater.stop()
        await application.stop()


def main() -> None:
    token = os.environ["BOT_TOKEN"]
    api_url = os.environ.get("TELEGRAM_API_URL", "http://127.0.0.1:8081").rstrip("/")
    concurrency = int(os.environ.get("ECHO_CONCURRENCY", "0"))
    loop_factory = None
    if os.environ.get("ECHO_LOOP", "asyncio") == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(token, api_url, concurrency))


if __name__ == "__main__":
    main()
