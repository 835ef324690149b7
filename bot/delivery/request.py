"""PTB's HTTP layer on aiohttp: :class:`AiohttpRequest`, a :class:`telegram.request.BaseRequest`.

PTB's own :class:`~telegram.request.HTTPXRequest` spends most of the bot's CPU under load in
httpx and httpcore (the pool checks every pooled connection on each request, and every call
goes through anyio's stream layers: see docs/BENCHMARKS.md). aiohttp, already here for the
sandbox, keeps its idle connections in a queue and writes straight to the transport; the
interactive benchmark measured the bot's throughput 0.47 -> 0.72 of a bare echo bot with it.

It does what ``HTTPXRequest`` does: a bounded connection pool, the four timeouts with
per-call overrides, uploads as ``multipart/form-data``, and errors mapped to PTB's:
:class:`~telegram.error.TimedOut` for a timeout (with "not sent" when no connection could be
had), :class:`~telegram.error.NetworkError` for anything else on the wire. Other calls go as
one JSON object, which Telegram reads as it reads a form, at a third of the CPU (see
:func:`_body`). HTTP statuses (429, 5xx...) are left to :class:`BaseRequest`, which maps
them. The JSON both ways is orjson's (several times faster than the json module, in C), with
the json module for what orjson refuses (see :func:`_json` and :meth:`parse_json_payload`).

aiohttp has no timeout for writing a request body; an upload's body write and the wait for the
answer share one budget instead (``read_timeout`` + ``media_write_timeout``), so a large photo
on a slow link is not cut at the read timeout.
"""

from __future__ import annotations

import asyncio
import functools
import json

import aiohttp
import orjson
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON = "application/json"


def _plus(*parts: float | None) -> float | None:
    """The sum of timeouts, or None (no limit) if any of them is None."""
    return None if any(part is None for part in parts) else sum(parts)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=64)
def _client_timeout(read: float | None, connect: float | None) -> aiohttp.ClientTimeout:
    # ``sock_read`` bounds each wait for the server's bytes; ``connect`` opening a connection
    # (the pool is never waited for inside aiohttp: see AiohttpRequest._slot).
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read)


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session; create the session with :meth:`initialize`."""

    __slots__ = (
        "_connect", "_media_write", "_pool", "_pool_size", "_read", "_session", "_slots",
    )  # fmt: skip

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read = read_timeout
        # aiohttp cannot time a body's write apart: a form of a few hundred bytes goes within
        # the read timeout, an upload's write and answer share read + media_write timeouts.
        del write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        # PTB's pool timeout is the wait for a free connection, before anything is sent. aiohttp
        # counts that wait into its connect timeout, so the pool is this semaphore instead, and
        # aiohttp's own limit, as large, is never reached.
        self._slots = asyncio.Semaphore(connection_pool_size)

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout; PTB adds getUpdates' long-polling time to it."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (inside the running event loop, as aiohttp wants); a first call
        opens it too, as PTB's own request class works uninitialised."""
        if self._session is None or self._session.closed:
            self._session = self._open()

    def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            headers={"User-Agent": self.USER_AGENT},
            raise_for_status=False,
            # The Bot API sets no cookies: no jar to filter on every request.
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def shutdown(self) -> None:
        """Close the session and its connections; a later :meth:`initialize` opens a new one."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One call: its HTTP status and body; raises TimedOut or NetworkError."""
        if self._session is None:
            self._session = self._open()
        if self._session.closed:
            raise RuntimeError("This AiohttpRequest is shut down: initialize() it again")
        uploading = request_data is not None and request_data.contains_files
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        if uploading:
            write = self._media_write if isinstance(write_timeout, DefaultValue) else write_timeout
            read = _plus(read, write)
        timeout = _client_timeout(
            read, self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        body, headers = _body(request_data)
        await self._slot(self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout)
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as err:
            raise TimedOut(
                "Connect timeout: the Bot API server did not accept a connection in time. "
                "The request was *not* sent."
            ) from err
        except TimeoutError as err:  # aiohttp's read timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        finally:
            self._slots.release()

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """A Bot API answer, parsed by orjson. What orjson refuses goes to PTB's own parser:
        invalid UTF-8 (PTB replaces the bad bytes), an integer beyond 64 bits, or no JSON at all
        (PTB logs it and raises "Invalid server response")."""
        try:
            parsed: JSONDict = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return BaseRequest.parse_json_payload(payload)
        return parsed

    async def _slot(self, timeout: float | None) -> None:  # noqa: ASYNC109
        """Take a connection slot, waiting at most ``timeout`` seconds for one to be free."""
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except TimeoutError as err:
            raise TimedOut(
                "Pool timeout: every connection is busy. The request was *not* sent. Consider "
                "a larger connection pool or a longer pool timeout."
            ) from err


def _body(
    request_data: RequestData | None,
) -> tuple[aiohttp.FormData | bytes | None, dict[str, str]]:
    """A multipart body when there are files, else the parameters as one JSON object.

    JSON rather than the form httpx sends: a form encodes each nested value (a keyboard, say)
    as JSON first, then percent-encodes it byte by byte in Python, three times the CPU of one
    ``json.dumps`` of the whole for a keyboard of 40 buttons, in a body twice the size."""
    if request_data is None:
        return None, {}
    if not request_data.contains_files:
        return _json(request_data.parameters), {"Content-Type": JSON}
    form = aiohttp.FormData()
    for name, value in request_data.parameters.items():  # a form field is a string or JSON
        form.add_field(name, value if isinstance(value, str) else _json(value).decode())
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form, {}


def _json(value: object) -> bytes:
    """``value`` as compact UTF-8 JSON, by orjson; what orjson refuses (an integer beyond 64
    bits, a mapping with keys that are not strings), as the json module writes it."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
