"""getUpdates long polling, offsets and conflicts; webhook delivery; several bots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from aiohttp import web
from telegram.error import BadRequest, Conflict
from telegram.ext import Application

from bot.sandbox import BotApiServer

OTHER_TOKEN = "654321:OTHER-token_xyz"


async def test_long_poll_returns_when_an_update_arrives(
    ptb: Application, server: BotApiServer
) -> None:
    marie = server.create_user("Marie")
    started = time.monotonic()
    poll = asyncio.create_task(ptb.bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await marie.send_text("hello")
    updates = await poll
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["hello"]


async def test_long_poll_times_out_empty(ptb: Application) -> None:
    started = time.monotonic()
    assert await ptb.bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3


async def test_offset_confirms_updates(ptb: Application, server: BotApiServer) -> None:
    marie = server.create_user("Marie")
    for text in ("one", "two", "three"):
        await marie.send_text(text)
    first = await ptb.bot.get_updates()
    assert [u.update_id for u in first] == [1, 2, 3]
    assert [u.message.message_id for u in first] == [1, 2, 3]
    again = await ptb.bot.get_updates()  # nothing confirmed yet
    assert len(again) == 3
    rest = await ptb.bot.get_updates(offset=first[1].update_id + 1)
    assert [u.message.text for u in rest] == ["three"]
    assert [u.message.text for u in await ptb.bot.get_updates(limit=5)] == ["three"]
    assert await ptb.bot.get_updates(offset=-1, limit=1) != ()
    assert await ptb.bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_second_get_updates_terminates_the_first(ptb: Application, api) -> None:
    # PTB's own getUpdates connection pool holds one request, so the first poller is plain HTTP
    # (as if a second copy of the bot were running).
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    assert await ptb.bot.get_updates(timeout=0) == ()
    status, body = await first
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
    )
    second = asyncio.create_task(ptb.bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await api("getUpdates", timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await second


async def test_allowed_updates(ptb: Application, server: BotApiServer) -> None:
    marie = server.create_user("Marie")
    await ptb.bot.get_updates(allowed_updates=["callback_query"])
    await marie.send_text("ignored")
    await marie.press_data(1, "data")
    updates = await ptb.bot.get_updates()
    assert [u.callback_query.data for u in updates] == ["data"]
    # The text is in the chat (message 1), only its update was filtered out.
    assert updates[0].callback_query.message.message_id == 1


async def test_forged_press_on_missing_message(ptb: Application, server: BotApiServer) -> None:
    marie = server.create_user("Marie")
    await marie.press_data(77, "stale")
    query = (await ptb.bot.get_updates())[0].callback_query
    assert query.data == "stale" and query.message.message_id == 77
    assert not query.message.is_accessible


@dataclass
class Hook:
    """A tiny webhook receiver on 127.0.0.1."""

    statuses: list[int] = field(default_factory=list)  # answers to give, then 200
    reply: dict | None = None
    form_replies: list[dict[str, str]] = field(default_factory=list)  # given first, as forms
    received: list[dict] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.form_replies:
            body = urlencode(self.form_replies.pop(0))
            return web.Response(body=body, content_type="application/x-www-form-urlencoded")
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    receiver = Hook()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()


async def wait_for(predicate, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_webhook_delivery_with_secret(
    ptb: Application, server: BotApiServer, hook: Hook
) -> None:
    assert await ptb.bot.set_webhook(hook.url, secret_token="s3cret")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await ptb.bot.get_updates()
    marie = server.create_user("Marie")
    await marie.send_text("via webhook")
    await asyncio.wait_for(hook.arrived.wait(), 5)
    assert hook.received[0]["message"]["text"] == "via webhook"
    assert hook.secrets == ["s3cret"]
    await wait_for(lambda: server.bot().updates.pending_count == 0)
    info = await ptb.bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_date) == (hook.url, 0, None)
    assert await ptb.bot.delete_webhook()
    assert (await ptb.bot.get_webhook_info()).url == ""


async def test_webhook_retries_after_failure(
    ptb: Application, server: BotApiServer, hook: Hook
) -> None:
    hook.statuses = [500, 502]
    await ptb.bot.set_webhook(hook.url)
    marie = server.create_user("Marie")
    await marie.send_text("again")
    await wait_for(lambda: len(hook.received) == 3)
    assert [u["update_id"] for u in hook.received] == [1, 1, 1]
    await wait_for(lambda: server.bot().updates.pending_count == 0)
    info = await ptb.bot.get_webhook_info()
    assert "502" in (info.last_error_message or "") and info.last_error_date is not None


async def test_webhook_reply_in_response(
    ptb: Application, server: BotApiServer, hook: Hook
) -> None:
    marie = server.create_user("Marie")
    hook.reply = {"method": "sendMessage", "chat_id": marie.id, "text": "pong"}
    await ptb.bot.set_webhook(hook.url)
    await marie.send_text("ping")
    reply = await marie.wait_for_bot_message()
    assert reply.text == "pong"
    assert server.calls[-1].source == "webhook-reply"


async def test_webhook_replies_as_forms_and_methods_telegram_does_not_run_there(
    ptb: Application, server: BotApiServer, hook: Hook
) -> None:
    marie = server.create_user("Marie")
    hook.form_replies = [
        {"method": "deleteWebhook"},  # not run from a webhook answer, as by Telegram
        {"method": "getMe"},  # nor any getX
        {"method": "SENDMESSAGE", "chat_id": str(marie.id), "text": "form pong"},
    ]
    await ptb.bot.set_webhook(hook.url)
    for text in ("one", "two", "three"):
        await marie.send_text(text)
    reply = await marie.wait_for_bot_message()
    assert reply.text == "form pong"
    assert [(c.method, c.source) for c in server.calls if c.source == "webhook-reply"] == [
        ("SENDMESSAGE", "webhook-reply")
    ]
    assert (await ptb.bot.get_webhook_info()).url == hook.url


async def test_webhook_rules(ptb: Application, server: BotApiServer, hook: Hook) -> None:
    with pytest.raises(BadRequest, match=r"(?i)bad webhook"):
        await ptb.bot.set_webhook("https://example.org/hook")
    marie = server.create_user("Marie")
    await marie.send_text("old")
    assert (await ptb.bot.get_webhook_info()).pending_update_count == 1
    hook.statuses = [500] * 1000  # never accepts
    await ptb.bot.set_webhook(hook.url, drop_pending_updates=True)
    assert (await ptb.bot.get_webhook_info()).pending_update_count == 0
    await marie.send_text("new")
    await wait_for(lambda: len(hook.received) >= 1)
    assert (await ptb.bot.get_webhook_info()).pending_update_count == 1
    await ptb.bot.delete_webhook(drop_pending_updates=True)
    assert await ptb.bot.get_updates() == ()
    # Telegram clamps max_connections to 1..100 and checks the secret token.
    await ptb.bot.set_webhook(hook.url, max_connections=1000)
    assert (await ptb.bot.get_webhook_info()).max_connections == 100
    with pytest.raises(BadRequest, match=r"(?i)secret token is too long"):
        await ptb.bot.set_webhook(hook.url, secret_token="s" * 257)
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await ptb.bot.set_webhook(hook.url, secret_token="not secret!")
    # setWebhook without a URL removes the webhook, as deleteWebhook does.
    assert await ptb.bot.set_webhook("")
    assert (await ptb.bot.get_webhook_info()).url == ""


async def test_set_webhook_ends_a_waiting_get_updates(
    ptb: Application, server: BotApiServer, api, hook: Hook
) -> None:
    waiting = asyncio.create_task(api("getUpdates", timeout=5))
    await wait_for(lambda: server.bot().updates.polled)
    await ptb.bot.set_webhook(hook.url)
    status, body = await waiting
    assert (status, body["description"]) == (409, "Conflict: terminated by setWebhook request")


async def test_two_bots_on_one_server(server: BotApiServer, make_app) -> None:
    server.add_bot(OTHER_TOKEN, "echo_bot", "Echo")
    marie = server.create_user("Marie")
    echo_side = marie.with_bot("@echo_bot")
    await marie.send_text("to main")
    await echo_side.send_text("to echo")
    await echo_side.send_text("to echo again")
    main_app, echo_app = make_app(), make_app(OTHER_TOKEN)
    async with main_app, echo_app:
        main_updates = await main_app.bot.get_updates()
        echo_updates = await echo_app.bot.get_updates()
        assert [u.update_id for u in main_updates] == [1]
        assert [(u.update_id, u.message.message_id) for u in echo_updates] == [(1, 1), (2, 2)]
        await echo_app.bot.send_message(marie.id, "echo: to echo")
    assert [m.text for m in marie.messages] == ["to main"]
    assert [m.text for m in echo_side.messages] == ["to echo", "to echo again", "echo: to echo"]
