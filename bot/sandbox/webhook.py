"""Webhook delivery: POST each pending update to the bot's URL, in order, retrying on failure.

Only loopback URLs are accepted (the sandbox never calls out of the machine); plain ``http`` is
allowed for them. When a secret token is set it is sent in ``X-Telegram-Bot-Api-Secret-Token``.
A ``2xx`` answer confirms the update; any other answer or a connection error is recorded in
``last_error_date`` / ``last_error_message`` (as getWebhookInfo shows) and the update is retried
after a growing delay.

A ``2xx`` answer may carry a Bot API call, as Telegram allows for replies in the webhook
response (telegram-bot-api's WebhookActor): its body is read like a request, JSON, a form or
``multipart/form-data`` with files, and a ``method`` other than getX, setWebhook,
deleteWebhook, close and logOut is executed with the rest as its parameters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

from bot.config import is_loopback

from .spec import Upload
from .updates import UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_RETRY_DELAYS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)

ReplyHandler = Callable[[str, dict[str, Any], dict[str, Upload]], Awaitable[None]]
_NOT_IN_REPLIES = frozenset({"setwebhook", "deletewebhook", "close", "logout"})


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is localhost or a loopback address."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    return is_loopback(host)


@dataclass
class Webhook:
    """A webhook set by setWebhook, with its delivery task."""

    url: str
    queue: UpdateQueue
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS
    on_reply: ReplyHandler | None = None
    wall_clock: Callable[[], float] = time.time
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def info(self) -> dict[str, Any]:
        """The ``WebhookInfo`` object."""
        out: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self.queue.pending_count,
            "max_connections": self.max_connections,
        }
        if self.ip_address:
            out["ip_address"] = self.ip_address
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message or ""
        if self.allowed_updates:
            out["allowed_updates"] = list(self.allowed_updates)
        return out

    def start(self) -> None:
        """Start delivering in the background."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop delivering (pending updates stay queued)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        if task is not asyncio.current_task():  # a webhook reply may remove its own webhook
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            failures = 0
            while True:
                await self.queue.wait_pending()
                update = self.queue.first()
                if update is None:  # queue closed and empty
                    await asyncio.sleep(self.retry_delays[0])
                    continue
                error = await self._deliver(session, update)
                if error is None:
                    failures = 0
                    continue
                self.last_error_date = int(self.wall_clock())
                self.last_error_message = error
                await asyncio.sleep(self.retry_delays[min(failures, len(self.retry_delays) - 1)])
                failures += 1

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> str | None:
        headers = {SECRET_HEADER: self.secret_token} if self.secret_token else {}
        try:
            async with session.post(self.url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    return f"Wrong response from the webhook: {response.status} {response.reason}"
                params, uploads = await read_reply(response)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            return f"Connection failed: {exc.__class__.__name__}: {exc}"
        self.queue.confirm(update["update_id"] + 1)
        self.delivered += 1
        method = str(params.pop("method", ""))
        if self.on_reply is not None and is_reply_method(method):
            await self.on_reply(method, params, uploads)
        return None


def is_reply_method(method: str) -> bool:
    """Whether Telegram runs ``method`` when a webhook answers with it."""
    name = method.lower()
    return bool(name) and name not in _NOT_IN_REPLIES and not name.startswith("get")


async def read_reply(response: aiohttp.ClientResponse) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The parameters and files in a webhook's answer, read like a request's."""
    params: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    if response.content_type == "multipart/form-data":
        async for part in aiohttp.MultipartReader.from_response(response):
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename is None:
                params[part.name] = await part.text()
            else:
                content_type = part.headers.get("Content-Type", "")
                uploads[part.name] = Upload(part.filename, content_type, await part.read())
        return params, uploads
    body = await response.read()
    if response.content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True)), uploads
    try:
        payload = json.loads(body) if body.strip() else {}
    except ValueError:
        payload = {}
    return (payload if isinstance(payload, dict) else {}), uploads
