"""Run the Community Sharing Bot: ``python -m bot`` (or ``make run``).

- With ``BOT_TOKEN`` set, the bot talks to Telegram (or to the Bot API server at
  ``TELEGRAM_API_URL``): long polling, or a webhook when ``WEBHOOK_URL`` is set.
- Without a token, it starts the local Bot API server (``bot.sandbox``) on
  127.0.0.1:``SANDBOX_PORT`` with a sandbox token, connects to it, and prints how to talk to it.

Settings come from the environment and ``.env`` (see README). A malformed setting stops
start-up with one line saying which and how to fix it. Ctrl-C or SIGTERM stops cleanly.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import running
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import CatalogMissing

log = logging.getLogger("bot")

SANDBOX_BOT_USERNAME = "community_sharing_bot"


@asynccontextmanager
async def sandbox(settings: Settings) -> AsyncIterator[Settings]:
    """Start the local Bot API server with a fresh sandbox token; yield settings pointing at it."""
    from bot.sandbox.server import BotApiServer  # only the sandbox needs the server's code

    token = f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(32)}"
    server = BotApiServer(host="127.0.0.1", port=settings.sandbox_port)
    await server.start()
    server.add_bot(token=token, username=SANDBOX_BOT_USERNAME, first_name="Community Sharing")
    try:
        print(
            f"Sandbox: no BOT_TOKEN set, so the bot runs against the local Bot API server at "
            f"{server.url} (127.0.0.1 only).\n"
            f"Talk to it as a user with the user API, for example:\n"
            f"  curl -s -X POST {server.url}/sandbox/api/users "
            f'-d \'{{"first_name": "Marie", "language_code": "fr"}}\'\n'
            f"  curl -s -X POST {server.url}/sandbox/api/users/<id>/messages "
            f'-d \'{{"text": "/start"}}\'\n'
            f"  curl -s {server.url}/sandbox/api/users/<id>/chat\n"
            f"Set BOT_TOKEN to talk to Telegram instead.",
            flush=True,
        )
        yield dataclasses.replace(settings, bot_token=token, api_url=server.url)
    finally:
        await server.stop()


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    if settings.bot_token:
        async with running(settings) as application:
            log.info("@%s is running; Ctrl-C to stop", application.bot.username)
            await stop.wait()
    else:
        async with sandbox(settings) as sandboxed, running(sandboxed) as application:
            log.info("@%s is running in the sandbox; Ctrl-C to stop", application.bot.username)
            await stop.wait()
    log.info("stopped")


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as problem:
        print(f"Configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request at INFO, with the URL, which contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(settings))
    except (OSError, CatalogMissing) as problem:  # e.g. the sandbox port is taken
        print(f"Could not start: {problem}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
