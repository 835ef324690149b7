"""Start-up troubles through the real process (``python -m bot``): an unreachable Bot API
server is retried with back-off until it answers (or SIGTERM), a refused token or a wrong
TELEGRAM_API_URL and a webhook port in use end start-up with one line and a non-zero exit,
never a traceback."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from bot.sandbox.server import BotApiServer
from tests.conftest import BOT_USERNAME, TOKEN
from tests.processes import BotProcess, free_port
from tests.talk import says

UNKNOWN_TOKEN = "1111111111:" + "X" * 35


def environment(api_url: str, tmp_path: Path, token: str = TOKEN, **more: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "SEND_RATE_LIMIT": "0",
        **more,
    }


async def wait_for_log(bot: BotProcess, fragment: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while fragment not in bot.log():
        assert time.monotonic() < deadline, f"{fragment!r} not logged:\n{bot.log()}"
        assert bot.process is not None and bot.process.returncode is None, bot.log()
        await asyncio.sleep(0.05)


async def exit_code(bot: BotProcess) -> int:
    assert bot.process is not None
    return await asyncio.wait_for(bot.process.wait(), 60)


def one_line_without_traceback(log: str) -> str:
    lines = log.strip().splitlines()
    assert len(lines) == 1, log
    assert "Traceback" not in log
    return lines[0]


async def test_an_unreachable_server_is_retried_until_it_answers(tmp_path):
    port = free_port()
    bot = BotProcess(environment(f"http://127.0.0.1:{port}", tmp_path), tmp_path / "bot.log")
    await bot.start()
    server = BotApiServer(port=port)
    try:
        await wait_for_log(bot, f"cannot reach the Bot API server at http://127.0.0.1:{port}")
        await wait_for_log(bot, "retrying in 2 s")  # the second attempt waited longer
        server.add_bot(TOKEN, BOT_USERNAME)
        await server.start()
        user = server.create_user("Lena", language_code="de")
        assert "Willkommen" in (await says(user, "/start", timeout=30)).text
        assert await bot.terminate() == 0
        assert "Traceback" not in bot.log() and TOKEN not in bot.log()
    finally:
        if bot.process and bot.process.returncode is None:
            await bot.kill()
        await server.stop()


async def test_sigterm_while_waiting_for_the_server_stops_at_once(tmp_path):
    port = free_port()
    bot = BotProcess(environment(f"http://127.0.0.1:{port}", tmp_path), tmp_path / "bot.log")
    await bot.start()
    await wait_for_log(bot, "cannot reach the Bot API server")
    assert await bot.terminate(timeout=10) == 0
    assert bot.log().rstrip().endswith("stopped") and "Traceback" not in bot.log()


async def test_a_refused_token_is_one_line_and_exit_2(server, tmp_path):
    env = environment(server.url, tmp_path, token=UNKNOWN_TOKEN)
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    assert await exit_code(bot) == 2
    line = one_line_without_traceback(bot.log())
    assert f"the Bot API server at {server.url} refused BOT_TOKEN (Unauthorized)" in line
    assert UNKNOWN_TOKEN not in bot.log() and UNKNOWN_TOKEN.split(":")[1] not in bot.log()


async def test_a_wrong_api_url_is_one_line_and_exit_2(server, tmp_path):
    bot = BotProcess(environment(f"{server.url}/not-the-api", tmp_path), tmp_path / "bot.log")
    await bot.start()
    assert await exit_code(bot) == 2
    line = one_line_without_traceback(bot.log())
    assert f"TELEGRAM_API_URL={server.url}/not-the-api does not answer like a Bot API" in line
    assert "(getMe: Not Found (404), not JSON)" in line
    assert TOKEN not in bot.log()


async def test_a_webhook_port_in_use_is_one_line_naming_the_setting(server, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(
            server.url, tmp_path, WEBHOOK_URL=f"http://127.0.0.1:{port}", WEBHOOK_PORT=str(port)
        )
        bot = BotProcess(env, tmp_path / "bot.log")
        await bot.start()
        assert await exit_code(bot) == 2
    line = one_line_without_traceback(bot.log())
    assert f"WEBHOOK_PORT={port}: port {port} on 127.0.0.1 is already in use" in line
    assert "choose a free port in WEBHOOK_PORT" in line
    assert server.bot().webhook is None  # Telegram was not told about a webhook nobody serves


async def test_a_sandbox_port_in_use_is_one_line_naming_the_setting(server, tmp_path):
    port = int(server.url.rsplit(":", 1)[1])
    env = {"BOT_TOKEN": "", "SANDBOX_PORT": str(port), "DATABASE_PATH": str(tmp_path / "db")}
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    assert await exit_code(bot) == 2
    line = one_line_without_traceback(bot.log())
    assert f"SANDBOX_PORT={port}: port {port} on 127.0.0.1 is already in use" in line
