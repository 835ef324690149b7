"""The user side and the controls over HTTP (JSON), under ``/sandbox/api/``.

For a browser UI and for driving a sandbox running in another process. Every answer is
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` (400 impossible action,
404 unknown user/bot/file, 408 wait timed out). ``bot`` (query or body) picks the bot by
@username or id; it defaults to the first bot.

=======  ==========================================  ========================================
Method   Path                                        Body / query
=======  ==========================================  ========================================
GET      /sandbox/api/bots                           -
POST     /sandbox/api/bots                           token, username, first_name
GET      /sandbox/api/users                          -
POST     /sandbox/api/users                          first_name, language_code, last_name,
                                                     username, user_id, phone_number, bot
GET      /sandbox/api/users/{id}/chat                ?bot=&since=  (messages + events > since)
GET      /sandbox/api/users/{id}/wait                ?bot=&since=&timeout=&include_edits=
POST     /sandbox/api/users/{id}/send_text           text, reply_to  (alias: .../messages)
POST     /sandbox/api/users/{id}/send_location       latitude, longitude
POST     /sandbox/api/users/{id}/send_photo          data_base64, caption (or multipart
                                                     ``photo`` file + ``caption`` field)
POST     /sandbox/api/users/{id}/send_document       data_base64, file_name, caption
                                                     (or multipart ``document``)
POST     /sandbox/api/users/{id}/send_contact        phone_number
POST     /sandbox/api/users/{id}/press               label
POST     /sandbox/api/users/{id}/press_data          message_id, data
POST     /sandbox/api/users/{id}/tap_reply_button    label, latitude, longitude, phone_number
POST     /sandbox/api/users/{id}/edit_text           message_id, text
POST     /sandbox/api/users/{id}/block|unblock|deactivate
GET      /sandbox/api/files/{file_id}                raw bytes
GET      /sandbox/api/calls                          ?since=<index>  (Bot API call record)
GET      /sandbox/api/errors                         ?include_injected=1
GET      /sandbox/api/stats                          -
POST     /sandbox/api/rate_limits                    global_per_second, per_chat_per_second,
                                                     per_chat_burst
POST     /sandbox/api/faults                         error_rate, hang_rate, hang_seconds,
                                                     too_many_rate, retry_after, methods, seed
POST     /sandbox/api/reset                          -
GET      /sandbox/api/events                         ?since=  Server-Sent Events, one per
                                                     chat event
=======  ==========================================  ========================================

Action answers carry ``cursor``: pass it as ``since`` to ``/wait`` to get the bot's reply.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import SandboxUserError
from .state import Account, Chat, ChatEvent
from .users import SandboxUser
from .wire import dumps, json_answer

if TYPE_CHECKING:
    from .server import BotApiServer

PREFIX = "/sandbox/api"
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _ok(result: Any, **extra: Any) -> web.Response:
    return json_answer({"ok": True, "result": result, **extra})


def _fail(status: int, message: str) -> web.Response:
    return json_answer({"ok": False, "error": message}, status)


def _guard(handler: Route) -> Route:
    """Turn user-side exceptions into JSON errors."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (SandboxUserError, ValueError, KeyError, TypeError) as exc:
            return _fail(400, str(exc) if not isinstance(exc, KeyError) else f"missing {exc}")
        except LookupError as exc:
            return _fail(404, str(exc))
        except TimeoutError as exc:
            return _fail(408, str(exc))

    return guarded


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    if request.content_type == "multipart/form-data":
        form = await request.post()
        out: dict[str, Any] = {}
        for key, value in form.items():
            out[key] = value.file.read() if isinstance(value, web.FileField) else value
            if isinstance(value, web.FileField):
                out.setdefault("file_name", value.filename)
        return out
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def account_json(account: Account) -> dict[str, Any]:
    """A person for the HTTP API."""
    return {
        "id": account.id,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "username": account.username,
        "language_code": account.language_code,
        "deactivated": account.deactivated,
    }


def event_json(chat: Chat, event: ChatEvent) -> dict[str, Any]:
    """A chat event for the HTTP API and the event stream."""
    return {
        "seq": event.seq,
        "bot": chat.bot.username,
        "user_id": chat.account.id,
        "kind": event.kind,
        "message_id": event.message_id,
        "from_bot": event.from_bot,
        "data": event.data,
    }


def _bytes(body: dict[str, Any], field: str) -> bytes:
    value = body.get(field)
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(body["data_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data_base64 is not valid base64") from None


async def _act(user: SandboxUser, action: str, body: dict[str, Any]) -> Any:
    if action in ("send_text", "messages"):  # "messages": alias used in early docs
        return await user.send_text(body["text"], reply_to=body.get("reply_to"))
    if action == "send_location":
        return await user.send_location(float(body["latitude"]), float(body["longitude"]))
    if action == "send_photo":
        return await user.send_photo(_bytes(body, "photo"), body.get("caption"))
    if action == "send_document":
        return await user.send_document(
            _bytes(body, "document"), body["file_name"], body.get("caption"), body.get("mime_type")
        )
    if action == "send_contact":
        return await user.send_contact(body.get("phone_number"))
    if action == "press":
        return {"callback_query_id": await user.press(body["label"])}
    if action == "press_data":
        return {
            "callback_query_id": await user.press_data(int(body["message_id"]), str(body["data"]))
        }
    if action == "tap_reply_button":
        location = None
        if body.get("latitude") is not None:
            location = (float(body["latitude"]), float(body["longitude"]))
        return await user.tap_reply_button(
            body["label"], location=location, phone_number=body.get("phone_number")
        )
    if action == "edit_text":
        return await user.edit_text(int(body["message_id"]), body["text"])
    if action in ("block", "unblock", "deactivate"):
        {"block": user.block_bot, "unblock": user.unblock_bot, "deactivate": user.deactivate}[
            action
        ]()
        return True
    raise LookupError(f"unknown action {action!r}")


def add_user_routes(app: web.Application, server: BotApiServer) -> None:
    """Register the ``/sandbox/api`` routes of ``server`` on ``app``."""

    def user_of(request: web.Request, body: dict[str, Any] | None = None) -> SandboxUser:
        bot = request.query.get("bot") or (body or {}).get("bot")
        return server.user(int(request.match_info["user_id"]), bot)

    async def list_bots(request: web.Request) -> web.Response:
        return _ok(
            [
                {"id": b.id, "username": b.username, "first_name": b.first_name}
                for b in server.state.bots.values()
            ]
        )

    async def add_bot(request: web.Request) -> web.Response:
        body = await _body(request)
        bot = server.add_bot(body["token"], body["username"], body.get("first_name"))
        return _ok({"id": bot.id, "username": bot.username, "first_name": bot.first_name})

    async def list_users(request: web.Request) -> web.Response:
        return _ok([account_json(a) for a in server.users()])

    async def create_user(request: web.Request) -> web.Response:
        body = await _body(request)
        user = server.create_user(
            body["first_name"],
            body.get("language_code", "en"),
            body.get("last_name"),
            body.get("username"),
            body.get("user_id"),
            body.get("bot"),
            body.get("phone_number"),
        )
        return _ok(account_json(user.account))

    async def chat(request: web.Request) -> web.Response:
        user = user_of(request)
        since = int(request.query.get("since", 0))
        return _ok(
            {
                "user": account_json(user.account),
                "bot": user.bot.username,
                "blocked": user.chat.blocked,
                "messages": [m.to_json() for m in user.messages],
                "events": [event_json(user.chat, e) for e in user.chat.events_after(since)],
                "reply_keyboard": user.reply_keyboard,
                "last_chat_action": user.last_chat_action,
                "callback_answers": [a.__dict__ for a in user.callback_answers],
                "commands": user.visible_commands(),
            },
            cursor=server.state.last_seq,
        )

    async def wait(request: web.Request) -> web.Response:
        user = user_of(request)
        since = int(request.query.get("since", server.state.last_seq))
        message = await user.wait_for_bot_message(
            timeout=float(request.query.get("timeout", 5)),
            after=since,
            include_edits=request.query.get("include_edits", "") in ("1", "true"),
        )
        return _ok(message.to_json(), cursor=user.mark())

    async def act(request: web.Request) -> web.Response:
        body = await _body(request)
        user = user_of(request, body)
        result = await _act(user, request.match_info["action"], body)
        if hasattr(result, "to_json"):
            result = result.to_json()
        return _ok(result, cursor=server.state.last_seq)

    async def file(request: web.Request) -> web.Response:
        record = server.state.files.get(request.match_info["file_id"])
        if record is None:
            raise LookupError("no such file")
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )

    async def calls(request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        return _ok([c.to_json() for c in server.calls[since:]], next=len(server.calls))

    async def errors(request: web.Request) -> web.Response:
        include = request.query.get("include_injected", "") in ("1", "true")
        return _ok([c.to_json() for c in server.errors(include_injected=include)])

    async def stats(request: web.Request) -> web.Response:
        return _ok(server.stats())

    async def rate_limits(request: web.Request) -> web.Response:
        body = await _body(request)
        server.set_rate_limits(
            body.get("global_per_second"),
            body.get("per_chat_per_second"),
            int(body.get("per_chat_burst", 3)),
            body.get("global_burst"),
        )
        return _ok(True)

    async def faults(request: web.Request) -> web.Response:
        body = await _body(request)
        allowed = {
            "error_rate",
            "hang_rate",
            "hang_seconds",
            "too_many_rate",
            "retry_after",
            "methods",
            "seed",
        }
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        server.faults.configure(**body)
        return _ok(True)

    async def reset(request: web.Request) -> web.Response:
        server.reset()
        return _ok(True)

    async def events(request: web.Request) -> web.StreamResponse:
        cursor = int(request.query.get("since", server.state.last_seq))
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            while True:
                for chat_, event in server.state.events_since(cursor):
                    cursor = event.seq
                    data = dumps(event_json(chat_, event))
                    await response.write(f"id: {event.seq}\ndata: {data}\n\n".encode())
                if not await server.state.changed.wait(15):
                    await response.write(b": keep-alive\n\n")
        return response

    routes = [
        ("GET", "/bots", list_bots),
        ("POST", "/bots", add_bot),
        ("GET", "/users", list_users),
        ("POST", "/users", create_user),
        ("GET", "/users/{user_id}/chat", chat),
        ("GET", "/users/{user_id}/wait", wait),
        ("POST", "/users/{user_id}/{action}", act),
        ("GET", "/files/{file_id}", file),
        ("GET", "/calls", calls),
        ("GET", "/errors", errors),
        ("GET", "/stats", stats),
        ("POST", "/rate_limits", rate_limits),
        ("POST", "/faults", faults),
        ("POST", "/reset", reset),
        ("GET", "/events", events),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, PREFIX + path, _guard(handler))
