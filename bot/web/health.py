"""``GET /healthz`` for hosts that probe: 200 while the bot can do its job, 503 otherwise.

The bot is healthy when updates come in (the polling loop or the webhook listener runs), the
scheduler runs (matching, delivery, reminders) and the database answers a trivial query.
The answer is JSON naming each check, so a failing probe says which part is down.

In webhook mode ``/healthz`` is served on the webhook listener (bot/web/webhook.py); with
``HEALTH_PORT`` set it is also served on a listener of its own (``HEALTH_LISTEN``, 127.0.0.1
by default), which is how polling mode offers it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from apscheduler.schedulers.base import STATE_RUNNING  # type: ignore[import-untyped]
from telegram.ext import Application

from bot.config import HEALTH_PATH, ConfigError
from bot.storage import Storage

log = logging.getLogger(__name__)

# A database that takes longer than this to answer SELECT 1 is not answering.
DATABASE_TIMEOUT = 2.0


class ListenerError(ConfigError):
    """A listener could not open its address (the port is taken, the address is not ours);
    the message names the setting to change."""


class Health:
    """The checks behind ``/healthz`` for one running bot."""

    def __init__(self, application: Application, storage: Storage) -> None:  # type: ignore[type-arg]
        self.application = application
        self.storage = storage
        # Whether updates come in: set to ask the polling loop or the webhook listener,
        # whichever the bot uses, once it is started.
        self.receiving: Callable[[], bool] = lambda: False

    async def checks(self) -> dict[str, bool]:
        return {
            "updates": self.application.running and self.receiving(),
            "scheduler": self._scheduler_runs(),
            "database": await self._database_answers(),
        }

    def _scheduler_runs(self) -> bool:
        job_queue = self.application.job_queue
        return job_queue is not None and job_queue.scheduler.state == STATE_RUNNING

    async def _database_answers(self) -> bool:
        try:
            await asyncio.wait_for(self.storage.ping(), DATABASE_TIMEOUT)
        except Exception as trouble:  # closed, locked, gone: the probe says so, no traceback
            log.warning("health check: the database does not answer: %r", trouble)
            return False
        return True

    async def answer(self, request: web.Request) -> web.Response:
        """The ``GET /healthz`` handler."""
        checks = await self.checks()
        healthy = all(checks.values())
        return web.json_response(
            {"status": "ok" if healthy else "unavailable", "checks": checks},
            status=200 if healthy else 503,
        )

    def add_route(self, app: web.Application) -> None:
        app.router.add_get(HEALTH_PATH, self.answer)


@asynccontextmanager
async def listening(
    app: web.Application, host: str, port: int, settings: tuple[str, str]
) -> AsyncIterator[web.AppRunner]:
    """Serve ``app`` on host:port until the block ends. ``settings`` names the two settings
    behind the address (e.g. WEBHOOK_LISTEN, WEBHOOK_PORT) for the message when it cannot be
    opened."""
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as problem:
            raise ListenerError(cannot_listen(problem, host, port, settings)) from None
        yield runner
    finally:
        await runner.cleanup()


def cannot_listen(problem: OSError, host: str, port: int, settings: tuple[str, str]) -> str:
    """One line for an address that cannot be listened on, naming the setting to change."""
    host_setting, port_setting = settings
    if problem.errno == errno.EADDRINUSE:
        return (
            f"{port_setting}={port}: port {port} on {host} is already in use by another "
            f"program; stop that program or choose a free port in {port_setting}."
        )
    if problem.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{port_setting}={port}: not allowed to listen on port {port} (ports below 1024 "
            f"need privileges); choose a port above 1024 in {port_setting}."
        )
    return (
        f"{host_setting}={host}: cannot listen there ({problem.strerror or problem}); give an "
        f"address of this machine, such as 127.0.0.1 or 0.0.0.0, in {host_setting}."
    )


@asynccontextmanager
async def health_listener(health: Health, host: str, port: int | None) -> AsyncIterator[None]:
    """The ``/healthz``-only listener of HEALTH_PORT, when it is set."""
    if port is None:
        yield
        return
    app = web.Application()
    health.add_route(app)
    async with listening(app, host, port, ("HEALTH_LISTEN", "HEALTH_PORT")):
        log.info("health checks on http://%s:%d%s", host, port, HEALTH_PATH)
        yield
