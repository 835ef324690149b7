"""Run the Community Sharing Bot: ``python -m bot`` (or ``make run``).

- With ``BOT_TOKEN`` set, the bot talks to Telegram (or to the Bot API server at
  ``TELEGRAM_API_URL``): long polling, or a webhook when ``WEBHOOK_URL`` is set.
- Without a token, it starts the local Bot API server (``bot.sandbox``) on
  127.0.0.1:``SANDBOX_PORT`` with a sandbox token, connects to it, seeds the demo world through
  the user side (:mod:`bot.sandbox.demo`) and prints the web chat's address (``/chat``).

Settings come from the environment and ``.env`` (see README). A malformed setting, a token
the server refuses or a port in use stops start-up with one line saying which setting and how
to fix it (exit 2); an unreachable Bot API server is tried again with growing pauses until it
answers. Ctrl-C or SIGTERM stops cleanly (exit 0). The event loop is uvloop where it is
installed (:mod:`bot.event_loop`); the line saying the bot is running names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import bot_api_request, running
from bot.config import DEFAULT_API_URL, ConfigError, Settings, load_settings
from bot.event_loop import loop_name, run
from bot.i18n import LANGUAGES, CatalogMissing
from bot.logs import setup_logging
from bot.memory import collect_less, limit_arenas
from bot.web.health import ListenerError, cannot_listen

if TYPE_CHECKING:
    from bot.sandbox.server import BotApiServer

log = logging.getLogger("bot")

SANDBOX_BOT_USERNAME = "community_sharing_bot"


@asynccontextmanager
async def sandbox(settings: Settings) -> AsyncIterator[tuple[BotApiServer, Settings]]:
    """Start the local Bot API server with a fresh sandbox token; yield it and settings for
    the bot pointing at it (the sandbox's own database, the demo admin among the admins)."""
    from bot.sandbox.demo import DEMO_ADMIN_ID
    from bot.sandbox.server import BotApiServer  # only the sandbox needs the server's code

    token = f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(32)}"
    server = BotApiServer(host="127.0.0.1", port=settings.sandbox_port)
    try:
        await server.start()
    except OSError as problem:  # always 127.0.0.1: only the port can be changed
        port, names = settings.sandbox_port, ("SANDBOX_PORT", "SANDBOX_PORT")
        raise ListenerError(cannot_listen(problem, "127.0.0.1", port, names)) from None
    server.add_bot(token=token, username=SANDBOX_BOT_USERNAME, first_name="Community Sharing")
    database = sandbox_database(settings.database_path)
    try:
        print(
            f"Sandbox: no BOT_TOKEN set, so the bot runs against the local Bot API server at "
            f"{server.url} (127.0.0.1 only), with demo data in {database} "
            f"(made afresh at each start).\n"
            f"  Web chat: open {server.url}/chat in a browser\n"
            f"Talk to it as a user with the user API, for example:\n"
            f"  curl -s -X POST {server.url}/sandbox/api/users "
            f'-d \'{{"first_name": "Marie", "language_code": "fr"}}\'\n'
            f"  curl -s -X POST {server.url}/sandbox/api/users/<id>/messages "
            f'-d \'{{"text": "/start"}}\'\n'
            f"  curl -s {server.url}/sandbox/api/users/<id>/chat\n"
            f"Set BOT_TOKEN to talk to Telegram instead.",
            flush=True,
        )
        yield (
            server,
            dataclasses.replace(
                settings,
                bot_token=token,
                api_url=server.url,
                database_path=database,
                admin_ids=settings.admin_ids | {DEMO_ADMIN_ID},
                webhook_url=None,  # the sandbox is polled: WEBHOOK_URL is for a real bot
            ),
        )
    finally:
        await server.stop()


def sandbox_database(database_path: Path) -> Path:
    """The sandbox's database, beside DATABASE_PATH but never it: the sandbox's people live in
    memory, so the bot's records of them start empty with every sandbox (and a real database
    is never mixed with demo data)."""
    return database_path.with_name(f"{database_path.stem}.sandbox{database_path.suffix}")


def forget_database(path: Path) -> None:
    """Delete an SQLite database with its journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def run_sandbox(settings: Settings, stop: asyncio.Event) -> None:
    """The bot against the sandbox, and the demo world seeded through the user side.

    The web chat's "Reset demo" starts everything again: the bot stops, the sandbox forgets
    its people and chats, the sandbox database is deleted, the bot starts and the demo people
    sign up once more.
    """
    from bot.sandbox.demo import DemoWorld

    async with sandbox(settings) as (server, sandboxed):
        world = DemoWorld(bot_languages=LANGUAGES)
        server.demo = world
        while True:
            world.reset_requested.clear()
            forget_database(sandboxed.database_path)
            async with running(sandboxed) as application:
                log.info(
                    "@%s is running in the sandbox on %s; Ctrl-C to stop",
                    application.bot.username,
                    loop_name(),
                )
                seeding = asyncio.create_task(world.seed(server))
                await first_of(stop.wait(), world.reset_requested.wait())
                seeding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await seeding
            if stop.is_set():
                return
            log.info("resetting the demo world")
            server.reset()
            world.generation += 1


async def first_of(*waits: Coroutine[Any, Any, Any]) -> None:
    """Wait until the first of ``waits`` is done; cancel the others."""
    tasks = [asyncio.create_task(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


# Seconds between attempts to reach an unreachable Bot API server at start-up.
CONNECT_RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class TokenRefused(Exception):
    """The Bot API server answered getMe with 401 or 404: the token or the URL is wrong."""


async def wait_for_bot_api(settings: Settings, stop: asyncio.Event) -> bool:
    """getMe until the Bot API server answers: True once it does, False if told to stop
    first. An unreachable server is one line per attempt and a growing pause; a refused token
    raises :class:`TokenRefused` (trying again would not help)."""
    assert settings.bot_token
    request = bot_api_request(settings, pool_size=1)
    bot = Bot(settings.bot_token, base_url=settings.bot_api_base_url, request=request)
    try:
        for attempt in itertools.count():
            try:
                with quiet("telegram.request"):  # a non-JSON answer is told in our line
                    await bot.get_me(read_timeout=settings.http_timeout)
                return True
            except InvalidToken as refused:  # 401 or 404; its message is without the token
                raise TokenRefused(refusal(settings, refused)) from None
            except TelegramError as trouble:  # unreachable, timed out, 5xx
                delay = CONNECT_RETRY_DELAYS[min(attempt, len(CONNECT_RETRY_DELAYS) - 1)]
                log.warning(
                    "cannot reach the Bot API server at %s (%s); check TELEGRAM_API_URL and "
                    "the network; retrying in %.0f s",
                    settings.api_url,
                    trouble,
                    delay,
                )
                if await stopped_within(stop, delay):
                    return False
        raise AssertionError("unreachable")
    finally:
        # Bot.shutdown closes nothing for a bot never initialised: close the client itself.
        await request.shutdown()


def refusal(settings: Settings, refused: InvalidToken) -> str:
    """The line for a getMe answered 401 or 404: the token, or a server that is not a Bot API
    server (its answer is not even JSON)."""
    if refused.__cause__ is not None:
        status = refused.message.split(".", 1)[0]
        return (
            f"TELEGRAM_API_URL={settings.api_url} does not answer like a Bot API server "
            f"(getMe: {status}, not JSON): give the server's root, such as {DEFAULT_API_URL}."
        )
    return (
        f"the Bot API server at {settings.api_url} refused BOT_TOKEN ({refused.message}): "
        f"check the token @BotFather gave (or TELEGRAM_API_URL, if it is not that server)."
    )


@contextlib.contextmanager
def quiet(logger: str) -> Iterator[None]:
    """Silence a library's logger for the duration of the block."""
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        target.setLevel(level)


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds``; True if ``stop`` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    stop = asyncio.Event()

    def stopping(signum: signal.Signals) -> None:
        if not stop.is_set():
            log.info("%s: stopping once the updates in hand are answered", signum.name)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping, signum)

    if settings.bot_token:
        if await wait_for_bot_api(settings, stop):
            async with running(settings) as application:
                log.info(
                    "@%s is running on %s; Ctrl-C to stop", application.bot.username, loop_name()
                )
                # Not in the sandbox's runs, which start again at each demo reset.
                collect_less()
                await stop.wait()
    else:
        await run_sandbox(settings, stop)
    log.info("stopped")


def main() -> None:
    limit_arenas()  # before any thread starts
    try:
        settings = load_settings()
    except ConfigError as problem:
        print(f"Configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2) from None
    secrets = [settings.bot_token or ""]
    if settings.bot_token and settings.webhook_url:
        secrets.append(settings.webhook_secret_token)
    setup_logging(settings.log_level, settings.log_format, secrets)
    try:
        run(serve(settings))  # on uvloop where it is installed: see bot/event_loop.py
    except (ConfigError, TokenRefused) as problem:  # e.g. WEBHOOK_PORT taken, token refused
        log.critical("could not start: %s", problem)
        raise SystemExit(2) from None
    except (OSError, CatalogMissing, NetworkError) as problem:  # e.g. the sandbox port is taken
        log.critical("could not start: %s", problem)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
