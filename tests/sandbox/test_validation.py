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
    status, body = await api("sendMessage", chat_id=user.id, text="x", colour="red")
    assert (status, body["description"]) == (400, "Bad Request: unknown parameter colour")
    # The send options clients add to every message method are ignored where they do not apply
    # (kept in the record).
    status, body = await api(
        "editMessageReplyMarkup",
        chat_id=user.id,
        message_id=1,
        parse_mode="HTML",
        disable_notification=True,
    )
    assert body["description"] == "Bad Request: message can't be edited"  # got past validation
    assert server.calls[-1].params["parse_mode"] == "HTML"
    server.strict_params = False  # Telegram's own leniency
    status, body = await api("sendMessage", chat_id=user.id, text="x", colour="red")
    assert (status, body["result"]["text"]) == (200, "x")
    server.strict_params = True
    status, body = await api("sendMessage", chat_id=user.id, text="x", disable_notification="maybe")
    assert status == 400
    assert (
        body["description"] == 'Bad Request: parameter "disable_notification" must be of '
        "type Boolean"
    )
    status, body = await api(
        "sendMessage",
        chat_id=user.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"callback_data": "a"}]]},
    )
    assert status == 400 and "can't parse reply_markup JSON object" in body["description"]
    assert '"text"' in body["description"]
    assert body["ok"] is False and body["error_code"] == 400


async def test_form_body_values_are_coerced(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    response = await http.post(
        f"/bot{TOKEN}/sendMessage",
        data={
            "chat_id": str(user.id),
            "text": "123",
            "disable_notification": "true",
            "reply_markup": markup,
            "parse_mode": "HTML",
        },
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["result"]["text"] == "123"  # a String field stays a string
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"


async def test_query_string_and_get(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    response = await http.get(
        f"/bot{TOKEN}/sendMessage", params={"chat_id": user.id, "text": "via GET"}
    )
    assert response.status_code == 200
    assert user.last_bot_message is not None and user.last_bot_message.text == "via GET"


async def test_multipart_upload(http: httpx.AsyncClient, server: BotApiServer) -> None:
    user = await started_user(server)
    png = tiny_png(4, 4)
    response = await http.post(
        f"/bot{TOKEN}/sendPhoto",
        data={"chat_id": str(user.id), "caption": "pic"},
        files={"photo": ("pic.png", png, "image/png")},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["result"]["photo"][0]["width"] == 4
    assert server.file_bytes(body["result"]["photo"][0]["file_id"]) == png
    assert "bytes" in server.calls[-1].params["photo"]  # the record does not keep the bytes


async def test_bad_json_body(http: httpx.AsyncClient) -> None:
    response = await http.post(
        f"/bot{TOKEN}/getMe", content=b"{nope", headers={"Content-Type": "application/json"}
    )
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
        (
            "sendMessage",
            {
                "chat_id": user.id,
                "text": "<b>x</b> /help https://example.org",
                "parse_mode": "HTML",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            },
        ),
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
        "sendMessage",
        400,
        "Bad Request: chat not found",
    )
    assert record.token == TOKEN and record.params == {"chat_id": 1, "text": "x"}
    assert server.errors() == [record]
    assert server.stats()["calls"] == 2


async def test_media_results_and_updates_conform(
    api, http: httpx.AsyncClient, server: BotApiServer
) -> None:
    spec = load_spec()

    def check(value: object, type_name: str) -> None:
        assert spec.result_problems(value, [type_name]) == [], (type_name, value)

    user = await started_user(server)
    photo = await http.post(
        f"/bot{TOKEN}/sendPhoto",
        data={"chat_id": str(user.id)},
        files={"photo": ("p.png", tiny_png(), "image/png")},
    )
    check(photo.json()["result"], "Message")
    document = await http.post(
        f"/bot{TOKEN}/sendDocument",
        data={"chat_id": str(user.id)},
        files={"document": ("a.txt", b"abc", "text/plain")},
    )
    check(document.json()["result"], "Message")
    file_id = document.json()["result"]["document"]["file_id"]
    check((await api("getFile", file_id=file_id))[1]["result"], "File")
    _, text = await api("sendMessage", chat_id=user.id, text="before")
    _, edited = await api(
        "editMessageText", chat_id=user.id, message_id=text["result"]["message_id"], text="after"
    )
    check(edited["result"], "Message")
    check(
        (await api("forwardMessage", chat_id=user.id, from_chat_id=user.id, message_id=1))[1][
            "result"
        ],
        "Message",
    )
    check(
        (await api("copyMessage", chat_id=user.id, from_chat_id=user.id, message_id=1))[1][
            "result"
        ],
        "MessageId",
    )
    await user.edit_text(1, "hello again")
    await user.press_data(2, "x")
    await user.press_data(999, "y")
    await user.send_location(1.0, 2.0)
    await user.send_contact()
    user.block_bot()
    user.unblock_bot()
    _, body = await api("getUpdates")
    kinds = [next(k for k in update if k != "update_id") for update in body["result"]]
    assert kinds == [
        "message",
        "edited_message",
        "callback_query",
        "callback_query",
        "message",
        "message",
        "my_chat_member",
        "my_chat_member",
    ]
    for update in body["result"]:
        check(update, "Update")


async def test_an_empty_reply_markup_is_refused(http: httpx.AsyncClient, server: BotApiServer):
    """``reply_markup: {}`` (what python-telegram-bot sends for an InlineKeyboardMarkup without
    rows) is no keyboard of any kind: Telegram answers 400, for a new message and an edit alike,
    as JSON or as a form."""
    user = await started_user(server)
    sent = await http.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": user.id, "text": "x"})
    message_id = sent.json()["result"]["message_id"]
    calls = (
        ("sendMessage", {"chat_id": user.id, "text": "x"}),
        ("editMessageText", {"chat_id": user.id, "message_id": message_id, "text": "y"}),
        ("editMessageReplyMarkup", {"chat_id": user.id, "message_id": message_id}),
    )
    for method, params in calls:
        for body in (
            {"json": {**params, "reply_markup": {}}},
            {"data": {**params, "reply_markup": "{}"}},
        ):
            response = await http.post(f"/bot{TOKEN}/{method}", **body)
            assert response.status_code == 400, (method, body)
            assert "can't parse reply_markup JSON object" in response.json()["description"]
