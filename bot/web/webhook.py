"""Webhook mode: Telegram posts updates to us instead of being polled.

PTB's own ``Updater.start_webhook`` serves only the webhook route and logs refusals at DEBUG;
we need ``/healthz`` on the same listener and refusals an operator sees, so this is PTB's
documented extension point for custom webhook servers (its ``customwebhookbot`` examples): our
own aiohttp application feeding ``application.update_queue``, and ``setWebhook`` called by us.

- Telegram posts to ``WEBHOOK_URL`` + the webhook path (``WEBHOOK_PATH``, or one derived from
  the token); a reverse proxy with the TLS certificate forwards to WEBHOOK_LISTEN:WEBHOOK_PORT.
- Every update must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to the secret given to
  setWebhook (``WEBHOOK_SECRET``, or derived from the token). Anything else is refused with
  403 before its body is read, and logged (at most a line a minute, with the count), so a
  forged update claiming to come from an admin changes nothing.
- ``GET /healthz`` answers as bot/web/health.py says.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from aiohttp import web
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, ExtBot

from bot.config import ConfigError, Settings
from bot.logs import Tally, counted
from bot.web.health import Health, listening

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a bigger body is not one of them.
MAX_UPDATE_BYTES = 1024 * 1024


class WebhookRefused(ConfigError):
    """Telegram (or the Bot API server) refused our setWebhook: WEBHOOK_URL needs fixing."""


class WebhookReceiver:
    """The listener's handlers: updates in, forgeries out."""

    def __init__(self, application: Application, secret: str) -> None:  # type: ignore[type-arg]
        self.application = application
        self._secret = secret.encode()
        self.running = False
        self.received = 0
        self.last_refused_from = ""
        self.refusals = Tally(
            log,
            lambda n: (
                f"refused {counted(n, 'webhook request')} without the right {SECRET_HEADER} "
                f"header (403), the latest from {self.last_refused_from}"
            ),
            level=logging.WARNING,
        )

    async def receive(self, request: web.Request) -> web.Response:
        """``POST <webhook path>``: check the secret, then queue the update for PTB."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.last_refused_from = _sender(request)
            self.refusals.add(1)
            return web.Response(status=403, text="Forbidden")
        try:
            update = Update.de_json(orjson.loads(await request.read()), self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as unreadable:
            log.warning("webhook: refused a body that is not an update (400): %r", unreadable)
            return web.Response(status=400, text="Bad Request")
        if isinstance(self.application.bot, ExtBot):
            self.application.bot.insert_callback_data(update)
        self.received += 1
        await self.application.update_queue.put(update)
        return web.Response()


def _sender(request: web.Request) -> str:
    forwarded = request.headers.get("X-Forwarded-For")
    return f"{request.remote} (for {forwarded})" if forwarded else str(request.remote)


@asynccontextmanager
async def receiving_by_webhook(
    application: Application,  # type: ignore[type-arg]
    settings: Settings,
    health: Health,
) -> AsyncIterator[WebhookReceiver]:
    """Listen, then tell Telegram where to post; stop listening at the end of the block.

    The webhook stays registered when the bot stops: Telegram keeps the updates until the
    bot is back (a restart loses nothing)."""
    receiver = WebhookReceiver(application, settings.webhook_secret_token)
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(settings.webhook_path_or_default, receiver.receive)
    health.add_route(app)
    address = ("WEBHOOK_LISTEN", "WEBHOOK_PORT")
    async with listening(app, settings.webhook_listen, settings.webhook_port, address):
        receiver.running = True
        try:
            await register(application, settings)
            log.info(
                "receiving updates by webhook at %s/… (listening on %s:%d)",
                settings.webhook_url,
                settings.webhook_listen,
                settings.webhook_port,
            )
            yield receiver
        finally:
            receiver.running = False


async def register(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """setWebhook with our URL and secret, for every kind of update, one at a time."""
    try:
        await application.bot.set_webhook(
            url=settings.webhook_endpoint,
            secret_token=settings.webhook_secret_token,
            allowed_updates=Update.ALL_TYPES,
            # One delivery at a time keeps each person's updates in order, as polling does: a
            # dialog step must not see a later message first (and an older update arriving
            # after a newer one would be taken for a re-delivery, see handlers/members.py).
            # Each delivery only queues the update, so one connection keeps up.
            max_connections=1,
        )
    except BadRequest as refused:
        # The message never includes the path: it is part of what keeps the webhook private.
        raise WebhookRefused(
            f"WEBHOOK_URL={settings.webhook_url}: the Bot API server refused the webhook "
            f"({refused.message}); give the public https address of the reverse proxy."
        ) from None
