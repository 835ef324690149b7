"""The web chat: a Telegram-like page in the browser, served by the sandbox server.

Routes:

* ``GET /chat`` - the page (``static/index.html``); ``GET /`` sends browsers there and answers
  everyone else with the JSON summary of the server.
* ``GET /chat/<file>`` - the page's scripts, styles and map, only files of ``static/``.
* ``GET /sandbox/api/demo`` - the demo world: status, generation, its people.
* ``POST /sandbox/api/demo/reset`` - rebuild the demo world (when ``python -m bot`` runs it).

The page drives the bot only through the user API (:mod:`.user_http`), the same one the tests
use, and never needs the bot token. Everything it shows is built with DOM text nodes.

Every page and ``/sandbox/api`` answer carries a strict Content-Security-Policy (no inline
script, nothing from elsewhere) and requests whose ``Host`` is not a loopback name are refused,
so a web site cannot reach the sandbox through DNS rebinding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .wire import json_answer

if TYPE_CHECKING:
    from .server import BotApiServer

STATIC = Path(__file__).with_name("static")
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
GUARDED_PREFIXES = ("/chat", "/sandbox/")


def _host_name(host: str) -> str:
    """The name part of a Host header ('127.0.0.1:8081' → '127.0.0.1', '[::1]:80' → '[::1]')."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def security_middleware(server: BotApiServer) -> Middleware:
    """Refuse non-loopback Host headers on the page and the user API; add security headers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        guarded = request.path == "/" or request.path.startswith(GUARDED_PREFIXES)
        if (
            guarded
            and not server.allow_remote
            and _host_name(request.host or "") not in LOOPBACK_NAMES
        ):
            return web.Response(status=403, text="the sandbox answers on 127.0.0.1 only")
        response = await handler(request)
        if guarded and not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    return middleware


def add_webchat_routes(app: web.Application, server: BotApiServer) -> None:
    """Register the page, its files and the demo routes of ``server`` on ``app``."""
    files = {path.name: path for path in STATIC.iterdir() if path.is_file()}

    async def index(request: web.Request) -> web.StreamResponse:
        if "text/html" in request.headers.get("Accept", ""):
            raise web.HTTPFound("/chat")
        return json_answer(
            {
                "ok": True,
                "result": {
                    "sandbox": "Telegram Bot API sandbox",
                    "spec": server.spec.version,
                    "bots": [b.username for b in server.state.bots.values()],
                    "web_chat": "/chat",
                },
            }
        )

    async def page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def static_file(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["name"])  # a fixed set: no path traversal
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def demo(request: web.Request) -> web.Response:
        world = server.demo
        if world is None:
            return json_answer(
                {
                    "ok": True,
                    "result": {
                        "status": "none",
                        "generation": 0,
                        "people": [],
                        "problems": [],
                        "bot_languages": [],
                    },
                }
            )
        return json_answer({"ok": True, "result": world.to_json()})

    async def demo_reset(request: web.Request) -> web.Response:
        world = server.demo
        if world is None:
            return json_answer(
                {
                    "ok": False,
                    "error": "no demo world here: the demo runs "
                    "with `python -m bot` and no BOT_TOKEN",
                },
                501,
            )
        world.request_reset()
        return json_answer({"ok": True, "result": world.to_json()})

    app.router.add_get("/", index)
    app.router.add_get("/chat", page)
    app.router.add_get("/chat/", page)
    app.router.add_get("/chat/{name}", static_file)
    app.router.add_get("/sandbox/api/demo", demo)
    app.router.add_post("/sandbox/api/demo/reset", demo_reset)
