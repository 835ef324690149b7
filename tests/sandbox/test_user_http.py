"""The user side and the controls over HTTP (/sandbox/api), as another process would use them."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx

from bot.sandbox import BotApiServer
from bot.sandbox.media import tiny_png

TOKEN = "123456:TEST-token_abc"
A = "/sandbox/api"


async def test_conversation_over_http(http: httpx.AsyncClient, api) -> None:
    created = (
        await http.post(f"{A}/users", json={"first_name": "Marie", "language_code": "fr"})
    ).json()
    assert created["ok"]
    user_id = created["result"]["id"]
    sent = (await http.post(f"{A}/users/{user_id}/send_text", json={"text": "/start"})).json()
    assert sent["result"]["entities"][0]["type"] == "bot_command"
    cursor = sent["cursor"]

    waiting = asyncio.create_task(
        http.get(f"{A}/users/{user_id}/wait", params={"since": cursor, "timeout": 5})
    )
    await asyncio.sleep(0.05)
    status, _ = await api(
        "sendMessage",
        chat_id=user_id,
        text="<b>Pick</b>",
        parse_mode="HTML",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    assert status == 200
    reply = (await waiting).json()
    assert reply["result"]["html"] == "<b>Pick</b>"
    assert reply["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"

    pressed = (await http.post(f"{A}/users/{user_id}/press", json={"label": "A"})).json()
    query_id = pressed["result"]["callback_query_id"]
    _, updates = await api("getUpdates")
    assert updates["result"][-1]["callback_query"]["id"] == query_id
    await api("answerCallbackQuery", callback_query_id=query_id, text="Thanks")

    chat = (await http.get(f"{A}/users/{user_id}/chat", params={"since": cursor})).json()
    result = chat["result"]
    assert [m["from_bot"] for m in result["messages"]] == [False, True]
    assert [e["kind"] for e in result["events"]] == ["new", "callback_query", "callback_answer"]
    assert result["callback_answers"][0]["text"] == "Thanks"
    assert chat["cursor"] >= result["events"][-1]["seq"]


async def test_media_and_files_over_http(
    http: httpx.AsyncClient, api, server: BotApiServer
) -> None:
    user_id = (await http.post(f"{A}/users", json={"first_name": "Paul"})).json()["result"]["id"]
    png = tiny_png(6, 4)
    sent = (
        await http.post(
            f"{A}/users/{user_id}/send_photo",
            json={"data_base64": base64.b64encode(png).decode(), "caption": "mine"},
        )
    ).json()
    file_id = sent["result"]["photo"][-1]
    assert (await http.get(f"{A}/files/{file_id}")).content == png
    multipart = await http.post(
        f"{A}/users/{user_id}/send_document",
        files={"document": ("notes.txt", b"hello", "text/plain")},
        data={"caption": "doc"},
    )
    assert multipart.json()["result"]["document"]["file_name"] == "notes.txt"
    located = await http.post(
        f"{A}/users/{user_id}/send_location", json={"latitude": 50.85, "longitude": 4.35}
    )
    assert located.json()["result"]["location"]["latitude"] == 50.85
    _, updates = await api("getUpdates")
    assert [("photo" in u["message"], "document" in u["message"]) for u in updates["result"]] == [
        (True, False),
        (False, True),
        (False, False),
    ]


async def test_errors_and_controls(http: httpx.AsyncClient, api, server: BotApiServer) -> None:
    assert (await http.get(f"{A}/users/5/chat")).status_code == 404
    user_id = (await http.post(f"{A}/users", json={"first_name": "Zoe"})).json()["result"]["id"]
    missing = await http.post(f"{A}/users/{user_id}/press", json={"label": "Nope"})
    assert missing.status_code == 400 and "no inline button" in missing.json()["error"]
    waited = await http.get(f"{A}/users/{user_id}/wait", params={"timeout": 0.1})
    assert waited.status_code == 408
    await http.post(f"{A}/users/{user_id}/send_text", json={"text": "hi"})
    assert (await http.post(f"{A}/users/{user_id}/block")).json()["result"] is True
    status, body = await api("sendMessage", chat_id=user_id, text="x")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    errors = (await http.get(f"{A}/errors")).json()["result"]
    assert [e["status"] for e in errors] == [403] and "token" not in errors[0]
    calls = (await http.get(f"{A}/calls", params={"since": 0})).json()
    assert calls["next"] == len(server.calls)

    assert (
        await http.post(f"{A}/rate_limits", json={"per_chat_per_second": 1, "per_chat_burst": 1})
    ).json()["ok"]
    await http.post(f"{A}/users/{user_id}/unblock")
    assert (await api("sendMessage", chat_id=user_id, text="1"))[0] == 200
    assert (await api("sendMessage", chat_id=user_id, text="2"))[0] == 429
    assert (await http.get(f"{A}/stats")).json()["result"]["rate_limited"] == 1
    bad = await http.post(f"{A}/faults", json={"error_rate": 2})
    assert bad.status_code == 400
    assert (await http.post(f"{A}/faults", json={"error_rate": 1, "seed": 1})).json()["ok"]
    assert (await api("getMe"))[0] == 500
    assert (await http.post(f"{A}/reset")).json()["ok"]
    assert (await api("getMe"))[0] == 200
    assert (await http.get(f"{A}/users")).json()["result"] == []
    bots = (await http.get(f"{A}/bots")).json()["result"]
    assert [b["username"] for b in bots] == ["community_sharing_bot"]


async def test_event_stream(http: httpx.AsyncClient, server: BotApiServer) -> None:
    marie = server.create_user("Marie")
    async with http.stream("GET", f"{A}/events") as stream:
        lines = stream.aiter_lines()
        await marie.send_text("hello")
        data = None
        async for line in lines:
            if line.startswith("data: "):
                data = json.loads(line[len("data: ") :])
                break
    assert data is not None
    assert (data["kind"], data["user_id"], data["from_bot"]) == ("new", marie.id, False)
