"""``python -m bot.sandbox`` and the embedding helpers."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.sandbox import BotApiServer, running_server

TOKEN = "777:SECRET-token-value"
ROOT = Path(__file__).resolve().parents[2]


async def test_standalone_process_prints_url_but_not_token() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--port",
        "0",
        "--token",
        f"{TOKEN}=standalone_bot",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SANDBOX_BOT_TOKENS": ""},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        assert "SECRET" not in line and "@standalone_bot" in line
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        async with httpx.AsyncClient() as client:
            me = (await client.get(f"{match.group(0)}/bot{TOKEN}/getMe")).json()
        assert me["result"]["username"] == "standalone_bot"
    finally:
        process.send_signal(signal.SIGTERM)
        output, errors = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, errors
    assert b"SECRET" not in output + errors


def test_lints_are_opt_in() -> None:
    from bot.sandbox.__main__ import _parse_args

    plain = _parse_args([])
    assert (plain.strict_html, plain.strict_params) == (False, False)  # as Telegram
    linted = _parse_args(["--strict-html", "--strict-params"])
    assert (linted.strict_html, linted.strict_params) == (True, True)
    old = _parse_args(["--lenient-html", "--lenient-params"])  # still accepted: the default now
    assert (old.strict_html, old.strict_params) == (False, False)


async def test_standalone_refuses_public_host() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.sandbox",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 2 and b"allow_remote" in errors


def test_public_host_needs_a_flag() -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        BotApiServer(host="0.0.0.0")


async def test_running_server_context_manager() -> None:
    async with running_server(bots=[(TOKEN, "ctx_bot")]) as server:
        assert server.url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as client:
            me = (await client.post(f"{server.base_url}{TOKEN}/getMe")).json()
        assert me["result"]["id"] == 777
    with pytest.raises(ValueError, match="token"):
        server.add_bot("not-a-token", "x")


async def test_restart_keeps_state() -> None:
    server = BotApiServer(keep_calls=3)
    server.add_bot(TOKEN, "restart_bot")
    await server.start()
    marie = server.create_user("Marie")
    await marie.send_text("before")
    await server.stop()
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url + TOKEN) as client:
            for _ in range(7):
                await client.get("/getMe")
            updates = (await client.post("/getUpdates", json={"timeout": 1})).json()["result"]
        assert [u["message"]["text"] for u in updates] == ["before"]
        assert 3 <= len(server.calls) <= 6  # bounded record
    finally:
        await server.stop()


async def test_sandbox_bug_is_a_visible_500(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.sandbox import registry

    async def broken(ctx: object, params: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.HANDLERS, "getMe", broken)
    async with running_server(bots=[(TOKEN, "bug_bot")]) as server:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{server.base_url}{TOKEN}/getMe")
        assert response.status_code == 500
        assert "boom" in server.errors()[0].description
