"""Every call is validated against the Bot API spec, whatever the body encoding."""

from __future__ import annotations

import json

import httpx

from bot.sandbox import BotApiServer, SandboxUser
from bot.sandbox.media import tiny_png
from bot.sandbox.spec import load_spec

TOKEN = "123456:TEST-token_abc"


async def started_user(server: BotApiServer) -> SandboxUser:
    user = server.create_user("Ada")
    await user.send_text("hello")
    return user


async def test_unknown_token_and_method(http: httpx.AsyncClient) -> None:
    response = await http.post("/bot999:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await http.post("/botnot-a-token/getMe")
    assert response.status_code == 404
    response = await http.post(f"/bot{TOKEN}/sendMessages")
    assert response.status_code == 404
    assert response.json()["description"] == "Not Found"


async def test_method_names_are_case_insensitive(http: httpx.AsyncClient) -> None:
    for name in ("getMe", "getme", "GETME"):
        response = await http.get(f"/bot{TOKEN}/{name}")
        assert response.status_code == 200
        assert response.json()["result"]["username"] == "community_sharing_bot"


async def test_required_unknown_and_wrong_type(api, server: BotApiServer) -> None:
    user = await started_user(server)
    status, body = await api("sendMessage", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is required")
    # Like Telegram, unknown parameters are ignored (PTB relies on it), but kept in the record.
    status, body = await api("sendMessage", chat_id=user.id, text="x", colour="red")
    assert (status, body["result"]["text"]) == (200, "x")
    assert server.calls[-1].params["colour"] == "red"
    status, body = await api("sendMessage", chat_id=user.id, text="x", disable_notification="maybe")
    assert status == 400
    assert body["description"] == 'Bad Request: parameter "disable_notification" must be of ' \
                                  "type Boolean"
    status, body = await api("sendMessage", chat_id=user.id, text="x",
                             reply_markup={"inline_keyboard": [[{"callback_data": "a"}]]})
    assert status == 400 and "can't parse reply_markup JSON object" in body["description"]
    assert '"text"' in body["description"]
    assert body["ok"] is False and body["error_code"] == 400


async def test_form_body_values_are_coerced(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    response = await http.post(f"/bot{TOKEN}/sendMessage", data={
        "chat_id": str(user.id), "text": "123", "disable_notification": "true",
        "reply_markup": markup, "parse_mode": "HTML",
    })
    body = response.json()
    assert response.status_code == 200, body
    assert body["result"]["text"] == "123"  # a String field stays a string
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"


async def test_query_string_and_get(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    response = await http.get(f"/bot{TOKEN}/sendMessage",
                              params={"chat_id": user.id, "text": "via GET"})
    assert response.status_code == 200
    assert user.last_bot_message is not None and user.last_bot_message.text == "via GET"


async def test_multipart_upload(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    png = tiny_png(4, 4)
    response = await http.post(
        f"/bot{TOKEN}/sendPhoto", data={"chat_id": str(user.id), "caption": "pic"},
        files={"photo": ("pic.png", png, "image/png")})
    body = response.json()
    assert response.status_code == 200, body
    assert body["result"]["photo"][0]["width"] == 4
    assert server.file_bytes(body["result"]["photo"][0]["file_id"]) == png
    assert "bytes" in server.calls[-1].params["photo"]  # the record does not keep the bytes


async def test_bad_json_body(http: httpx.AsyncClient) -> None:
    response = await http.post(f"/bot{TOKEN}/getMe", content=b"{nope",
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: can't parse JSON body"


async def test_unimplemented_methods_answer_501(api, server: BotApiServer) -> None:
    user = await started_user(server)
    status, body = await api("sendDice", chat_id=user.id)
    assert status == 501
    assert body["description"] == "Not Implemented: sendDice is not supported by the sandbox"
    # ...but only after validation.
    status, body = await api("sendDice")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is required")


async def test_results_conform_to_the_spec(api, server: BotApiServer) -> None:
    spec = load_spec()
    user = await started_user(server)
    calls = [
        ("getMe", {}),
        ("sendMessage", {"chat_id": user.id, "text": "<b>x</b> /help https://example.org",
                         "parse_mode": "HTML",
                         "reply_markup": {"inline_keyboard": [[{"text": "A",
                                                                "callback_data": "a"}]]}}),
        ("sendLocation", {"chat_id": user.id, "latitude": 1.5, "longitude": 2}),
        ("getChat", {"chat_id": user.id}),
        ("getWebhookInfo", {}),
        ("getMyCommands", {}),
        ("getMyName", {}),
        ("getChatMenuButton", {}),
        ("getUpdates", {}),
    ]
    for method, params in calls:
        status, body = await api(method, **params)
        assert status == 200, (method, body)
        problems = spec.result_problems(body["result"], spec.methods[method].returns)
        assert problems == [], (method, problems)


async def test_every_call_is_recorded(api, server: BotApiServer) -> None:
    await api("getMe")
    await api("sendMessage", chat_id=1, text="x")
    record = server.calls[-1]
    assert (record.method, record.status, record.description) == (
        "sendMessage", 400, "Bad Request: chat not found")
    assert record.token == TOKEN and record.params == {"chat_id": 1, "text": "x"}
    assert server.errors() == [record]
    assert server.stats()["calls"] == 2
