"""A small bot built on aiogram 3 against the sandbox, by long polling and by webhook.

python-telegram-bot is not the only client the sandbox must satisfy: aiogram sends every call as
multipart/form-data, checks every answer against its pydantic models of the Bot API types, and
answers webhooks with a multipart body naming the next call. What only PTB tolerates fails here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.sandbox import BotApiServer, SandboxUser
from bot.sandbox.media import tiny_png

WELCOME = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="An offer", callback_data="offer"),
            InlineKeyboardButton(text="Our site", url="https://example.org/about"),
        ]
    ]
)
AGAIN = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Again", callback_data="again")]]
)


def small_bot(problems: list[str]) -> Dispatcher:
    """A bot answering /start with HTML and buttons, a button press, /photo and "ping"."""
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> None:
        # A bare "&": Telegram keeps it as text (the documentation asks for "&amp;").
        await message.answer("<b>Hello</b> & welcome, choose:", reply_markup=WELCOME)

    @router.callback_query(F.data == "offer")
    async def offer(query: CallbackQuery) -> None:
        await query.answer("Noted")
        assert isinstance(query.message, Message)
        edited = await query.message.edit_text("<i>You chose</i> an offer", reply_markup=AGAIN)
        assert isinstance(edited, Message) and edited.edit_date is not None

    @router.message(Command("photo"))
    async def photo(message: Message) -> None:
        sent = await message.answer_photo(
            BufferedInputFile(tiny_png(6, 4), filename="map.png"), caption="<b>The</b> map"
        )
        assert sent.photo is not None and sent.photo[-1].width == 6

    @router.message(F.text == "ping")
    async def ping(message: Message) -> SendMessage:
        # Returned, not awaited: by webhook aiogram puts the call in its answer to the update.
        return message.answer("<b>pong</b>")

    @router.errors()
    async def record(event: ErrorEvent) -> None:
        problems.append(repr(event.exception))

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


class _Problems(logging.Handler):
    """aiogram's own errors (a refused getUpdates, an answer that does not parse...)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.problems = problems

    def emit(self, record: logging.LogRecord) -> None:
        self.problems.append(record.getMessage())


@pytest.fixture
def problems() -> Any:
    found: list[str] = []
    handler = _Problems(found)
    logger = logging.getLogger("aiogram")
    logger.addHandler(handler)
    yield found
    logger.removeHandler(handler)


@pytest.fixture
async def aiogram_bot(server: BotApiServer) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    html = DefaultBotProperties(parse_mode=ParseMode.HTML)
    bot = Bot(server.bot().token, session=session, default=html)
    yield bot
    await bot.session.close()


async def converse(user: SandboxUser) -> None:
    """What a person does and sees, whichever way the bot gets its updates."""
    await user.send_text("/start")
    hello = await user.wait_for_bot_message()
    assert hello.text == "Hello & welcome, choose:"
    assert [(e["type"], e["offset"], e["length"]) for e in hello.entities] == [("bold", 0, 5)]
    assert hello.inline_keyboard == [
        [
            {"text": "An offer", "callback_data": "offer"},
            {"text": "Our site", "url": "https://example.org/about"},
        ]
    ]
    mark = user.mark()
    query_id = await user.press("An offer")
    assert (await user.wait_for_callback_answer(query_id)).text == "Noted"
    chosen = await user.wait_for_bot_message(include_edits=True, after=mark)
    assert (chosen.id, chosen.text) == (hello.id, "You chose an offer")
    assert chosen.button_labels == ["Again"] and chosen.edited
    await user.send_text("/photo")
    photo = await user.wait_for_bot_message()
    assert len(photo.photo) == 1 and photo.caption == "The map"
    assert photo.caption_entities == ({"type": "bold", "offset": 0, "length": 3},)
    await user.send_text("ping")
    pong = await user.wait_for_bot_message()
    assert pong.text == "pong" and pong.entities == ({"type": "bold", "offset": 0, "length": 4},)


async def run_until(work: Callable[[], Awaitable[None]], background: asyncio.Task[Any]) -> None:
    """Run ``work`` while ``background`` runs; fail with its error if it stops first."""
    done, _ = await asyncio.wait(
        {asyncio.ensure_future(work()), background},
        timeout=10,
        return_when=asyncio.FIRST_COMPLETED,
    )
    assert done, "the conversation did not finish in time"
    for task in done:
        task.result()
    assert background not in done, "the bot stopped"


async def test_long_polling(server: BotApiServer, aiogram_bot: Bot, problems: list[str]) -> None:
    dispatcher = small_bot(problems)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            aiogram_bot, handle_signals=False, close_bot_session=False, polling_timeout=1
        )
    )
    try:
        await run_until(lambda: converse(server.create_user("Marie")), polling)
    finally:
        await dispatcher.stop_polling()
        await polling
    assert problems == []
    assert server.errors() == []
    assert {c.method for c in server.calls} >= {
        "getMe",
        "getUpdates",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
        "sendPhoto",
    }


async def test_webhook(server: BotApiServer, aiogram_bot: Bot, problems: list[str]) -> None:
    dispatcher = small_bot(problems)
    app = web.Application()
    SimpleRequestHandler(
        dispatcher, aiogram_bot, handle_in_background=False, secret_token="s3cret"
    ).register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        assert await aiogram_bot.set_webhook(url, secret_token="s3cret", allowed_updates=[])
        info = await aiogram_bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        await asyncio.wait_for(converse(server.create_user("Marie")), timeout=10)
        assert await aiogram_bot.delete_webhook()
    finally:
        await runner.cleanup()
    assert problems == []
    assert server.errors() == []
    replies = [c for c in server.calls if c.source == "webhook-reply"]
    assert [(c.method, c.status, c.params["text"]) for c in replies] == [
        ("sendMessage", 200, "<b>pong</b>")
    ]
