"""The aiohttp HTTP client (bot/delivery/request.py) against the local Bot API server over
HTTP: uploads as the bot makes them (a photo, a CSV document, a chart), timeouts (read,
connect, pool), a 429, a 5xx, a refused connection, getUpdates' longer read timeout, and the
JSON both ways (orjson, with the json module for what orjson refuses)."""

from __future__ import annotations

import asyncio
import csv
import io
import socket
import struct
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.delivery.request import AiohttpRequest
from bot.i18n import load_catalogs, translator
from bot.sandbox.server import BotApiServer
from bot.storage import Figures, Series
from bot.views.charts import activity_chart
from tests.conftest import TOKEN


def client(**timeouts: float) -> AiohttpRequest:
    settings = {"read_timeout": 5.0, "connect_timeout": 5.0, "pool_timeout": 5.0, **timeouts}
    return AiohttpRequest(connection_pool_size=2, **settings)  # type: ignore[arg-type]


async def open_bot(base_url: str, request: AiohttpRequest, updates: AiohttpRequest) -> Bot:
    bot = Bot(
        TOKEN,
        base_url=base_url,
        base_file_url=base_url.replace("/bot", "/file/bot"),
        request=request,
        get_updates_request=updates,
    )
    await bot.initialize()
    return bot


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    api = await open_bot(server.base_url, client(), client())
    yield api
    await api.shutdown()


@pytest.fixture
async def person(server: BotApiServer) -> int:
    """A person who has opened the chat, so the bot may write to them."""
    user = server.create_user("Ana", language_code="en")
    await user.send_text("/start")
    return user.id


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def tiny_png() -> bytes:
    """A real 2x1 PNG drawn with matplotlib's Agg (no display)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(0.02, 0.01), dpi=100)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


# --- calls without files ---------------------------------------------------------------------


async def test_a_call_without_files_goes_as_one_json_object(server, bot, person):
    """Text, HTML and a keyboard arrive as sent, the keyboard as a JSON object (a form would
    have carried it as a string of JSON), non-Latin text as itself."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("🇬🇷 Ελλάδα", callback_data="c:GR")]]
        + [[InlineKeyboardButton(f"Pompe n° {n}", callback_data=f"p:{n}")] for n in range(20)]
    )
    sent = await bot.send_message(
        person, "<b>Réserve</b> · Žabljak", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.text == "Réserve · Žabljak"
    assert sent.reply_markup == keyboard
    call = next(c for c in reversed(server.calls) if c.method == "sendMessage")
    assert call.params["reply_markup"] == keyboard.to_dict()
    assert call.params["chat_id"] == person


# --- uploads ----------------------------------------------------------------------------------


async def test_photo_upload_arrives_byte_for_byte(server, bot, person):
    picture = tiny_png()
    sent = await bot.send_photo(
        person,
        InputFile(picture, filename="picture.png"),
        caption="<b>A photo</b>",
        parse_mode="HTML",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Žabljak ✓", callback_data="z")]]),
    )
    assert sent.caption == "A photo"  # the caption went as a form field beside the file
    # The keyboard too, as a field of JSON, non-Latin text and all.
    assert sent.reply_markup.inline_keyboard[0][0].text == "Žabljak ✓"
    assert server.file_bytes(sent.photo[-1].file_id) == picture


async def test_csv_document_keeps_name_bytes_and_non_ascii_text(server, bot, person):
    rows = io.StringIO()
    csv.writer(rows).writerows([["title", "place"], ["Pompe à incendie", "Žabljak"]])
    content = rows.getvalue().encode("utf-8-sig")
    sent = await bot.send_document(
        person, InputFile(content, filename="listings-30d.csv"), caption="Réserve · Ζάκυνθος"
    )
    assert sent.document.file_name == "listings-30d.csv"
    assert sent.caption == "Réserve · Ζάκυνθος"
    assert server.file_bytes(sent.document.file_id) == content


async def test_chart_png_from_stats_uploads(server, bot, person):
    load_catalogs()
    days = 7
    series = Series(start=0, bucket=86_400, offers=[1] * days, requests=[2] * days, contacts=None)
    figures = Figures(
        days=days, since=0, now=days * 86_400, users_total=3, users_new=3, users_by_role={},
        users_by_language={}, users_by_country={}, listings={("equipment", "offer"): {"open": 7}},
        outcomes={},
    )  # fmt: skip
    chart = await asyncio.to_thread(activity_chart, translator("fr"), series, figures)
    sent = await bot.send_photo(person, InputFile(chart, filename="activity-7d.png"))
    assert png_size(server.file_bytes(sent.photo[-1].file_id)) == png_size(chart)


async def test_a_refused_call_is_a_bad_request_not_a_network_error(bot, person):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(person, "<b>unclosed", parse_mode="HTML")


# --- JSON -----------------------------------------------------------------------------------


async def test_what_orjson_cannot_encode_goes_as_the_json_module_writes_it(server, person):
    """orjson takes integers up to 64 bits and mappings with string keys; a body with more
    (no Bot API field has it today) is written by the json module and arrives whole: the
    server reads it, then refuses the parameter it does not know by its name."""
    request = client()
    parameters = [
        RequestParameter.from_input("chat_id", person),
        RequestParameter.from_input("text", "Ζάκυνθος"),
        RequestParameter.from_input("x_beyond_64_bits", {"n": 2**70, "keys": {1: "one"}}),
    ]
    try:
        with pytest.raises(BadRequest, match="Unknown parameter x_beyond_64_bits"):
            await request.post(f"{server.base_url}{TOKEN}/sendMessage", RequestData(parameters))
    finally:
        await request.shutdown()
    call = next(c for c in reversed(server.calls) if c.method == "sendMessage")
    assert call.params["text"] == "Ζάκυνθος"
    assert call.params["x_beyond_64_bits"] == {"n": 2**70, "keys": {"1": "one"}}


def test_answers_are_parsed_as_ptb_parses_them_where_orjson_refuses():
    parse = AiohttpRequest.parse_json_payload
    assert parse('{"ok":true,"result":{"text":"Žabljak"}}'.encode()) == {
        "ok": True,
        "result": {"text": "Žabljak"},
    }
    assert parse(b'{"ok":true,"result":{"id":1180591620717411303424}}')["result"]["id"] == 2**70
    # Bytes that are not UTF-8 are replaced, as PTB's own parser does, not refused.
    assert parse(b'{"ok":true,"result":"caf\xe9"}')["result"] == "caf\ufffd"
    with pytest.raises(TelegramError, match="Invalid server response"):
        parse(b"<html>Bad Gateway</html>")


# --- faults -----------------------------------------------------------------------------------


async def test_read_timeout_is_timed_out(server, person):
    server.faults.configure(hang_rate=1.0, hang_seconds=3, methods=["sendMessage"])
    api = await open_bot(server.base_url, client(read_timeout=0.3), client())
    try:
        with pytest.raises(TimedOut):
            await api.send_message(person, "hello")
        # A per-call read timeout wins over the default.
        server.faults.configure(hang_rate=1.0, hang_seconds=0.6, methods=["sendMessage"])
        with pytest.raises(NetworkError, match="Bad Gateway") as waited:
            await api.send_message(person, "hello", read_timeout=3)
        assert not isinstance(waited.value, TimedOut)
    finally:
        await api.shutdown()


async def test_busy_pool_is_a_timeout_before_sending(server, person):
    server.faults.configure(hang_rate=1.0, hang_seconds=3, methods=["sendMessage"])
    request = AiohttpRequest(connection_pool_size=1, read_timeout=5, pool_timeout=0.2)
    api = await open_bot(server.base_url, request, client())
    try:
        hanging = asyncio.create_task(api.send_message(person, "takes the only connection"))
        await wait_until(lambda: any(c.method == "sendMessage" for c in server.calls))
        calls = len(server.calls)
        with pytest.raises(TimedOut, match="not\\* sent"):
            await api.get_me()
        assert len(server.calls) == calls  # the second call never reached the server
        hanging.cancel()
    finally:
        await api.shutdown()


async def test_connect_timeout_is_timed_out():
    # A listening socket whose accept queue is full: Linux drops further SYNs, so a connect
    # hangs as it would towards an unreachable host.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        request = client(connect_timeout=0.3)
        await request.initialize()
        try:
            with pytest.raises(TimedOut, match="not\\* sent"):
                await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        finally:
            await request.shutdown()
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_too_many_requests_carries_retry_after(server, bot, person):
    server.faults.configure(too_many_rate=1.0, retry_after=7, methods=["sendMessage"])
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(person, "hello")
    seconds = refused.value.retry_after
    assert (seconds if isinstance(seconds, int) else seconds.total_seconds()) == 7


async def test_server_error_is_a_network_error(server, bot, person):
    server.faults.configure(error_rate=1.0, methods=["sendMessage"])
    with pytest.raises(NetworkError, match="Internal Server Error") as failed:
        await bot.send_message(person, "hello")
    assert not isinstance(failed.value, TimedOut)
    server.faults.configure()
    assert (await bot.send_message(person, "hello again")).text == "hello again"


async def test_connection_refused_is_a_network_error():
    with socket.socket() as probe:  # a port nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = client()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="ClientConnectorError") as failed:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(failed.value, TimedOut)
    finally:
        await request.shutdown()


async def test_long_polling_waits_longer_than_the_read_timeout(server):
    """getUpdates holds the connection for its ``timeout``; PTB adds that to the getUpdates
    client's read timeout, so an empty long poll returns instead of timing out, while any
    other call that waits as long does time out."""
    api = await open_bot(server.base_url, client(read_timeout=0.3), client(read_timeout=0.3))
    try:
        assert await api.get_updates(timeout=1) == ()
        server.faults.configure(hang_rate=1.0, hang_seconds=1, methods=["getMe"])
        with pytest.raises(TimedOut):
            await api.get_me()
    finally:
        await api.shutdown()


async def test_works_uninitialised_refuses_when_shut_down_and_reopens(server):
    request = client()
    me = await request.post(f"{server.base_url}{TOKEN}/getMe")  # as PTB's own works
    assert isinstance(me, dict) and me["is_bot"]
    await request.shutdown()
    with pytest.raises(NetworkError, match="shut down"):
        await request.post(f"{server.base_url}{TOKEN}/getMe")
    await request.initialize()  # PTB may initialise again after a shutdown
    try:
        me = await request.post(f"{server.base_url}{TOKEN}/getMe")
        assert isinstance(me, dict) and me["is_bot"]
    finally:
        await request.shutdown()


async def wait_until(condition, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Until ``condition()`` holds (the server's call record has no event to wait on)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
