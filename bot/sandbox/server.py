"""The sandbox Bot API server: an aiohttp application speaking Telegram's Bot API on loopback.

Routes:

* ``GET|POST /bot<token>/<method>`` - a Bot API call (method names are case-insensitive).
* ``GET /file/bot<token>/<file_path>`` - download a file after getFile.
* ``/sandbox/api/...`` - the user side and the controls, see :mod:`bot.sandbox.user_http`.
* ``/`` and ``/chat`` - the web chat page, see :mod:`bot.sandbox.webchat`.

Each call goes through the same pipeline: token check (401), method lookup (404 ``Not Found``, as
Telegram answers an unknown method; also for the methods the sandbox does not implement), fault
injection (if enabled), the parameters read as Telegram reads them (:mod:`.params`; with
``strict_params`` also held to the documentation, :meth:`.spec.BotApiSpec.lint_params`), the
rate limit for message-sending methods (429), then the method itself. Every call is appended to
:attr:`BotApiServer.calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import api_bot, api_messages, api_updates  # noqa: F401  (they register the methods)
from .errors import ApiError
from .faults import ERROR, HANG, TOO_MANY, FaultInjector
from .params import read_as_telegram
from .ratelimit import RateLimiter, RateLimits
from .records import CLIENT_GONE, CallRecord
from .registry import HANDLERS, RATE_LIMITED, CallContext
from .spec import Upload, load_spec
from .state import Account, BotRecord, SandboxState
from .users import SandboxUser
from .webhook import DEFAULT_RETRY_DELAYS
from .wire import describe_params, error_answer, json_answer, read_params

if TYPE_CHECKING:
    from .demo import DemoWorld

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY_BYTES = 64 * 1024 * 1024


class BotApiServer:
    """A local Telegram Bot API server with a scriptable user side.

    ``clock`` (monotonic seconds) drives the rate limiter and ``wall_clock`` (Unix time) the
    message dates, so tests can control both. ``keep_calls`` bounds the call record to the newest
    N calls (for long benchmarks); None keeps every call.

    By default the server is as strict as Telegram and no stricter. Two opt-in lints hold a bot
    to the documentation where Telegram is lenient: ``strict_html`` refuses a bare ``&`` in
    HTML (see :mod:`bot.sandbox.html`) and ``strict_params`` refuses unknown parameters and
    object fields and values of the wrong type (:meth:`bot.sandbox.spec.BotApiSpec.lint_params`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_remote: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int = 0,
        strict_html: bool = False,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int = 3,
        keep_calls: int | None = None,
        strict_params: bool = False,
    ):
        if host not in LOOPBACK_HOSTS and not allow_remote:
            raise ValueError(
                f"refusing to listen on {host!r}: pass allow_remote=True to expose "
                "the sandbox beyond this machine"
            )
        self.host = host
        self.allow_remote = allow_remote
        self._requested_port = port
        self.port: int | None = None
        self.clock = clock
        self.strict_html = strict_html
        self.strict_params = strict_params
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.state = SandboxState(wall_clock)
        self.spec = load_spec()
        self.faults = FaultInjector(seed)
        self.calls: list[CallRecord] = []
        self.keep_calls = keep_calls
        self._rate_limits = RateLimits()
        self.set_rate_limits(global_per_second, per_chat_per_second, per_chat_burst)
        self.demo: DemoWorld | None = None  # set by python -m bot, which seeds and resets it
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    def _build_app(self) -> web.Application:
        from .user_http import add_user_routes
        from .webchat import add_webchat_routes, security_middleware

        app = web.Application(
            client_max_size=MAX_BODY_BYTES, middlewares=[security_middleware(self)]
        )
        app.router.add_route("*", "/bot{token}/{method}", self._handle_call)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        add_user_routes(app, self)
        add_webchat_routes(app, self)
        return app

    async def start(self) -> BotApiServer:
        """Start listening; with ``port=0`` a free port is picked (see :attr:`url`)."""
        if self._runner is not None:
            return self
        for bot in self.state.bots.values():
            bot.updates.reopen()
            if bot.webhook is not None:  # stopped by stop(): deliver again
                bot.webhook.start()
        runner = web.AppRunner(
            self.app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Stop webhooks, release long polls and close the listener."""
        for bot in self.state.bots.values():
            if bot.webhook is not None:
                await bot.webhook.stop()
            bot.updates.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The Bot API root, e.g. ``http://127.0.0.1:8081`` (PTB base_url = url + "/bot")."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give PTB's ``ApplicationBuilder().base_url``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to give PTB's ``ApplicationBuilder().base_file_url``."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ bots and people

    def add_bot(self, token: str, username: str, first_name: str | None = None) -> BotRecord:
        """Register a bot (its id is the number before ``:`` in the token, as in Telegram)."""
        if not TOKEN_RE.match(token):
            raise ValueError("a bot token looks like 123456:ABC-DEF_ghi")
        if token in self.state.bots:
            raise ValueError("this bot is already registered")
        limiter = RateLimiter(self.clock)
        limiter.configure(self._rate_limits)
        bot = BotRecord(token, username.lstrip("@"), first_name or username.lstrip("@"), limiter)
        self.state.bots[token] = bot
        return bot

    def bot(self, ref: str | int | None = None) -> BotRecord:
        """A bot by token, @username or id; None means the only/first registered bot."""
        bots = self.state.bots
        if ref is None:
            if not bots:
                raise LookupError("no bot registered: call add_bot() first")
            return next(iter(bots.values()))
        found = bots.get(ref) if isinstance(ref, str) else None
        if found is None:
            found = self.state.bot_by_name(str(ref))
        if found is None:
            raise LookupError(f"no such bot: {ref!r}")
        return found

    def create_user(
        self,
        first_name: str,
        language_code: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
        user_id: int | None = None,
        bot_token: str | None = None,
        phone_number: str | None = None,
    ) -> SandboxUser:
        """Create a person; the handle talks to ``bot_token`` (default: the first bot)."""
        bot = self.bot(bot_token)
        if user_id is None:
            user_id = self.state.new_user_id()
        elif user_id in self.state.accounts:
            raise ValueError(f"user {user_id} already exists")
        if user_id <= 0:
            raise ValueError("user ids are positive")
        account = Account(
            user_id, first_name, last_name, username, language_code, phone_number=phone_number
        )
        self.state.accounts[user_id] = account
        return SandboxUser(self, account, bot)

    def user(self, user_id: int, bot: str | int | None = None) -> SandboxUser:
        """A handle on an existing person talking to ``bot`` (default: the first bot)."""
        account = self.state.accounts.get(user_id)
        if account is None:
            raise LookupError(f"no user {user_id}")
        return SandboxUser(self, account, self.bot(bot))

    def users(self) -> list[Account]:
        """Every person of the sandbox."""
        return list(self.state.accounts.values())

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored file."""
        return self.state.files[file_id].data

    # ------------------------------------------------------------------ controls

    def set_rate_limits(
        self,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int = 3,
        global_burst: int | None = None,
    ) -> None:
        """Limit message-sending calls per bot (None = unlimited, the default)."""
        # Checked when made, before any bot changes.
        limits = RateLimits(global_per_second, per_chat_per_second, per_chat_burst, global_burst)
        self._rate_limits = limits
        for bot in self.state.bots.values():
            bot.limiter.configure(limits)

    def errors(self, *, include_injected: bool = False) -> list[CallRecord]:
        """Calls answered with 4xx/5xx; injected faults only with ``include_injected``."""
        return [
            c
            for c in self.calls
            if c.status >= 400 and c.status != CLIENT_GONE and (include_injected or c.fault is None)
        ]

    def stats(self) -> dict[str, int]:
        """Counters: calls, errors, 429 answers, injected faults."""
        return {
            "calls": len(self.calls),
            "errors": len(self.errors()),
            "rate_limited": sum(1 for c in self.calls if c.status == 429),
            "faults": sum(1 for c in self.calls if c.fault is not None),
        }

    def reset(self) -> None:
        """Forget people, chats, files, updates, calls, limits and faults; keep the bots."""
        self.state.reset()
        self.calls.clear()
        self.set_rate_limits()
        self.faults.configure()

    # ------------------------------------------------------------------ Bot API calls

    def _record(self, record: CallRecord) -> None:
        self.calls.append(record)
        if self.keep_calls is not None and len(self.calls) > 2 * self.keep_calls:
            del self.calls[: len(self.calls) - self.keep_calls]

    async def _handle_call(self, request: web.Request) -> web.Response:
        token, name = request.match_info["token"], request.match_info["method"]
        bot = self.state.bots.get(token)
        record = CallRecord(self.state.wall_clock(), token, bot.username if bot else None, name, {})
        self._record(record)
        started = time.monotonic()
        try:
            status, payload = await self._serve(bot, name, request, record)
        except asyncio.CancelledError:
            record.status, record.description = CLIENT_GONE, "client closed the connection"
            raise
        finally:
            record.duration = time.monotonic() - started
        return json_answer(payload, status)

    async def _serve(
        self, bot: BotRecord | None, name: str, request: web.Request, record: CallRecord
    ) -> tuple[int, dict[str, Any]]:
        try:
            if bot is None:
                if TOKEN_RE.match(record.token):
                    raise ApiError(401, "Unauthorized")
                raise ApiError(404, "Not Found")
            method = self.spec.method(name)
            if method is None or method.name not in HANDLERS:
                raise ApiError(404, "Not Found")
            record.method = method.name
            raw, uploads = await read_params(request, strict=self.strict_params)
            record.params = describe_params(raw, uploads)
            fault = self.faults.decide(method.name)
            if fault is not None:
                record.fault = fault
                await self._inject(fault)
            result = await self.execute(bot, method.name, raw, uploads)
        except web.HTTPException as exc:  # e.g. 413 from aiohttp's body size limit
            error = ApiError(exc.status, exc.reason)
        except ApiError as exc:
            error = exc
        except Exception as exc:  # a sandbox bug: answer 500 and make it visible in errors()
            log.exception("sandbox failure in %s", record.method)
            error = ApiError(500, f"Internal Server Error: sandbox failure: {exc!r}")
        else:
            record.status, record.result = 200, result
            return 200, {"ok": True, "result": result}
        record.status, record.description = error.status, error.description
        return error.status, error.to_payload()

    async def _inject(self, fault: str) -> None:
        config = self.faults.config
        if fault == ERROR:
            raise ApiError(500, "Internal Server Error")
        if fault == TOO_MANY:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {config.retry_after}",
                {"retry_after": config.retry_after},
            )
        if fault == HANG:
            await asyncio.sleep(config.hang_seconds)
            raise ApiError(502, "Bad Gateway")

    async def execute(
        self,
        bot: BotRecord,
        method: str,
        raw: dict[str, Any],
        uploads: dict[str, Upload] | None = None,
    ) -> Any:
        """Validate and run one call for ``bot`` (no HTTP, no record); raises ApiError."""
        spec = self.spec.method(method)
        handler = HANDLERS.get(spec.name) if spec is not None else None
        if spec is None or handler is None:
            raise ApiError(404, "Not Found")
        params = read_as_telegram(spec, raw, uploads or {})
        if self.strict_params:
            self.spec.lint_params(spec, raw, uploads)
        limited = spec.name in RATE_LIMITED and isinstance(params.get("chat_id"), int)
        if limited:
            retry_after = bot.limiter.check(params["chat_id"])
            if retry_after is not None:
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        result = await handler(CallContext(self, bot, spec.name, dict(uploads or {})), params)
        if limited:
            bot.limiter.consume(params["chat_id"])
        return result

    async def run_webhook_reply(
        self, bot: BotRecord, method: str, params: dict[str, Any], uploads: dict[str, Upload]
    ) -> None:
        """Run a method given in a webhook's answer, recording it like a call."""
        record = CallRecord(
            self.state.wall_clock(),
            bot.token,
            bot.username,
            method,
            describe_params(params, uploads),
            source="webhook-reply",
        )
        self._record(record)
        try:
            record.result = await self.execute(bot, method, params, uploads)
            record.status = 200
        except ApiError as error:
            record.status, record.description = error.status, error.description

    # ------------------------------------------------------------------ files

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        bot = self.state.bots.get(request.match_info["token"])
        if bot is None:
            return error_answer(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for record in self.state.files.values():
            if record.bot_id == bot.id and record.file_path == path:
                content_type = record.mime_type or "application/octet-stream"
                return web.Response(body=record.data, content_type=content_type)
        return error_answer(ApiError(404, "Not Found"))


async def start_server(
    host: str = "127.0.0.1", port: int = 0, bots: Sequence[tuple[str, str]] = (), **options: Any
) -> BotApiServer:
    """Create, start and return a server with ``bots`` given as (token, username) pairs."""
    server = BotApiServer(host, port, **options)
    for token, username in bots:
        server.add_bot(token, username)
    return await server.start()


@contextlib.asynccontextmanager
async def running_server(
    host: str = "127.0.0.1", port: int = 0, bots: Sequence[tuple[str, str]] = (), **options: Any
) -> AsyncIterator[BotApiServer]:
    """``async with running_server(bots=[(token, "my_bot")]) as server: ...``"""
    server = await start_server(host, port, bots, **options)
    try:
        yield server
    finally:
        await server.stop()
