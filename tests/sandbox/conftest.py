"""Fixtures for the sandbox Bot API server tests: a started server, a bot, PTB clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from telegram.ext import Application, ApplicationBuilder

from bot.sandbox import BotApiServer

TOKEN = "123456:TEST-token_abc"
OTHER_TOKEN = "654321:OTHER-token_xyz"


class FakeClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[BotApiServer]:
    srv = BotApiServer(port=0, clock=clock, webhook_retry_delays=(0.01, 0.02, 0.05))
    srv.add_bot(TOKEN, "community_sharing_bot", "Community Sharing")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def http(server: BotApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> Callable[..., object]:
    """``await api("sendMessage", chat_id=1, text="x")`` -> (status, body) via JSON POST."""

    async def call(method: str, token: str = TOKEN, **params: object) -> tuple[int, dict]:
        response = await http.post(f"/bot{token}/{method}", json=params)
        return response.status_code, response.json()

    return call


def build_app(server: BotApiServer, token: str = TOKEN) -> Application:
    """A PTB Application pointed at the sandbox."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )


@pytest.fixture
def make_app(server: BotApiServer) -> Callable[..., Application]:
    """``make_app(token=TOKEN)`` builds a PTB Application pointed at the sandbox."""
    return lambda token=TOKEN: build_app(server, token)


@pytest.fixture
async def ptb(server: BotApiServer) -> AsyncIterator[Application]:
    """An initialized (not polling) PTB Application for the default bot."""
    app = build_app(server)
    await app.initialize()
    try:
        yield app
    finally:
        await app.shutdown()
