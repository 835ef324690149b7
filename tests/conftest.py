"""Fixtures: the local Bot API server, and the real bot (PTB Application) talking HTTP to it.

The bot runs exactly as in production, through :func:`bot.app.running`, against the sandbox
server in the same event loop; users are driven from the server's user side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import running
from bot.config import Settings
from bot.context import CommunityApplication
from bot.sandbox.server import BotApiServer

TOKEN = "1234567890:" + "T" * 35
BOT_USERNAME = "community_sharing_bot"
ADMIN_ID = 900_000_001


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    # The bot is held to the documentation where Telegram is lenient (unknown parameters, a
    # bare "&" in HTML): what Telegram tolerates today it may refuse tomorrow.
    server = BotApiServer(host="127.0.0.1", port=0, strict_params=True, strict_html=True)
    await server.start()
    server.add_bot(token=TOKEN, username=BOT_USERNAME, first_name="Community Sharing")
    yield server
    await server.stop()


@pytest.fixture
def settings(tmp_path: Path, server: BotApiServer) -> Settings:
    return Settings(
        bot_token=TOKEN,
        api_url=server.url,
        database_path=tmp_path / "bot.sqlite3",
        admin_ids=frozenset({ADMIN_ID}),
        send_rate=0,
        # Words only: most tests are not about meaning, and embedding costs CPU the timing of
        # other tests would feel. tests/test_semantic*.py use the model (loaded once per
        # session, bot/semantic/service.py).
        embedding_model="none",
    )


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[CommunityApplication]:
    async with running(settings) as application:
        yield application


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, show the Bot API calls the server refused: usually the real cause."""
    outcome = yield
    report = outcome.get_result()
    server = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, BotApiServer):
        refused = [f"{c.method} {c.status} {c.description} {c.params}" for c in server.errors()]
        if refused:
            report.sections.append(("Bot API calls refused by the sandbox", "\n".join(refused)))
