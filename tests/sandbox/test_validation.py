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


async def refused_in_telegrams_words(api, cases: list[tuple[str, dict, str]]) -> None:
    """Each (method, parameters) is answered 400 with "Bad Request: <its text>"."""
    for method, params, description in cases:
        status, body = await api(method, **params)
        assert (status, body["description"]) == (400, f"Bad Request: {description}"), method


async def test_missing_parameters_get_telegrams_answers(api, server: BotApiServer) -> None:
    user = await started_user(server)
    expected = [
        ("sendMessage", {"text": "x"}, "chat_id is empty"),
        ("sendMessage", {"chat_id": user.id}, "message text is empty"),
        ("sendMessage", {"chat_id": user.id, "text": ""}, "message text is empty"),
        ("sendPhoto", {"chat_id": user.id}, "there is no photo in the request"),
        ("sendDocument", {"chat_id": user.id}, "there is no document in the request"),
        ("sendLocation", {"chat_id": user.id, "longitude": 1}, "latitude is empty"),
        ("sendChatAction", {"chat_id": user.id}, "wrong parameter action in request"),
        ("deleteMessage", {"message_id": 1}, "chat identifier is not specified"),
        ("deleteMessage", {"chat_id": user.id}, "message identifier is not specified"),
        ("deleteMessages", {"chat_id": user.id}, "message identifiers are not specified"),
        (
            "copyMessage",
            {"chat_id": user.id, "message_id": 1},
            'parameter "from_chat_id" is required',
        ),
        ("copyMessage", {"chat_id": user.id, "from_chat_id": user.id}, "message to copy not found"),
        ("editMessageText", {"text": "x"}, "message identifier is not specified"),
        ("editMessageText", {"text": "x", "message_id": 1}, "chat_id is empty"),
        ("editMessageText", {"text": "x", "chat_id": user.id}, "message to edit not found"),
        ("getFile", {}, "file_id not specified"),
        ("getChat", {}, "chat_id is empty"),
    ]
    await refused_in_telegrams_words(api, expected)


async def test_unknown_parameters_and_fields_are_ignored_like_telegram(
    api, server: BotApiServer
) -> None:
    user = await started_user(server)
    button = {"text": "A", "callback_data": "a", "colour": "red"}
    status, body = await api(
        "sendMessage",
        chat_id=user.id,
        text="x",
        colour="red",
        reply_markup={"inline_keyboard": [[button]], "shape": "round"},
        link_preview_options={"is_disabled": True, "size": 3},
    )
    assert status == 200, body
    assert body["result"]["reply_markup"] == {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}]]
    }
    assert server.calls[-1].params["colour"] == "red"  # the record keeps what was sent


async def test_scalars_are_read_like_telegram(api, server: BotApiServer) -> None:
    user = await started_user(server)
    # Booleans: "true", "yes", "1" in any case; anything else is false, never an error.
    status, body = await api("sendMessage", chat_id=user.id, text="x", protect_content="YES")
    assert body["result"]["has_protected_content"] is True
    status, body = await api("sendMessage", chat_id=user.id, text="x", protect_content="maybe")
    assert status == 200 and "has_protected_content" not in body["result"]
    # Integers: the leading number ("12abc" is 12, "abc" is 0).
    status, body = await api("sendMessage", chat_id=f"{user.id}abc", text="leading digits")
    assert status == 200 and body["result"]["chat"]["id"] == user.id
    status, body = await api("deleteMessage", chat_id=user.id, message_id="abc")
    assert (status, body["description"]) == (
        400,
        "Bad Request: message identifier is not specified",
    )
    # A chat id starting with "@" is a username (none resolves in the sandbox).
    status, body = await api("sendMessage", chat_id="@nobody", text="x")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_strict_params_lint(api, server: BotApiServer) -> None:
    """The opt-in lint holds a call to the documentation where Telegram is lenient."""
    server.strict_params = True
    user = await started_user(server)
    status, body = await api("sendMessage", chat_id=user.id, text="x", colour="red")
    assert (status, body["description"]) == (400, "Bad Request: unknown parameter colour")
    status, body = await api(
        "sendMessage",
        chat_id=user.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a", "colour": 1}]]},
    )
    assert status == 400 and 'unknown field "colour"' in body["description"]
    # The send options clients add to every message method pass where they do not apply
    # (kept in the record).
    status, body = await api(
        "editMessageReplyMarkup",
        chat_id=user.id,
        message_id=1,
        parse_mode="HTML",
        disable_notification=True,
    )
    assert body["description"] == "Bad Request: message can't be edited"  # got past the lint
    assert server.calls[-1].params["parse_mode"] == "HTML"
    status, body = await api("sendMessage", chat_id=user.id, text="x", disable_notification="maybe")
    assert status == 400
    assert (
        body["description"] == 'Bad Request: parameter "disable_notification" must be of '
        "type Boolean"
    )
    server.strict_params = False
    status, body = await api("sendMessage", chat_id=user.id, text="x", disable_notification="maybe")
    assert status == 200


async def test_json_parameters_that_do_not_decode(api, server: BotApiServer) -> None:
    user = await started_user(server)
    cases = [
        ("reply_markup", "can't parse reply keyboard markup JSON object"),
        ("link_preview_options", "can't parse link preview options JSON object"),
        ("reply_parameters", "can't parse reply parameters JSON object"),
    ]
    for name, description in cases:
        status, body = await api("sendMessage", chat_id=user.id, text="x", **{name: "{nope"})
        assert (status, body["description"]) == (400, f"Bad Request: {description}"), name
    # Entities that do not decode are ignored by Telegram.
    status, body = await api("sendMessage", chat_id=user.id, text="plain", entities="[nope")
    assert status == 200 and "entities" not in body["result"]


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


async def test_bad_json_body(http: httpx.AsyncClient, server: BotApiServer) -> None:
    # Telegram reads any body that is not a form as JSON and ignores one that does not parse.
    for content_type in ("application/json", "text/plain"):
        response = await http.post(
            f"/bot{TOKEN}/getMe", content=b"{nope", headers={"Content-Type": content_type}
        )
        assert response.status_code == 200
    response = await http.post(
        f"/bot{TOKEN}/sendMessage", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert response.json()["description"] == "Bad Request: message text is empty"
    server.strict_params = True
    response = await http.post(
        f"/bot{TOKEN}/getMe", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "not a JSON object" in response.json()["description"]


async def test_unimplemented_methods_answer_404_like_unknown_ones(
    api, server: BotApiServer
) -> None:
    user = await started_user(server)
    for params in ({"chat_id": user.id}, {}):
        status, body = await api("sendDice", **params)
        assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert server.calls[-1].method == "sendDice" and server.calls[-1].status == 404


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


async def test_telegrams_words_for_what_it_refuses(api, server: BotApiServer) -> None:
    """Each text as the Bot API server or tdlib writes it (telegram-bot-api's Client.cpp)."""
    user = await started_user(server)
    chat = {"chat_id": user.id}
    reply_keyboard = {"keyboard": [["Yes"]]}
    mine = (await api("sendMessage", **chat, text="the bot's"))[1]["result"]["message_id"]
    cases = [
        ("sendMessage", {**chat, "text": "x", "parse_mode": "BBCode"}, "unsupported parse_mode"),
        (
            "sendMessage",
            {**chat, "text": "x", "entities": [{"type": "shout", "offset": 0, "length": 1}]},
            "can't parse MessageEntity: Unsupported type specified",
        ),
        (
            "sendMessage",
            {**chat, "text": "x", "entities": [{"type": "bold", "offset": "a", "length": 1}]},
            'can\'t parse MessageEntity: Field "offset" must be a valid Number',
        ),
        (
            "sendMessage",
            {**chat, "text": "x", "reply_markup": []},
            "object expected as reply markup",
        ),
        (
            "sendMessage",
            {**chat, "text": "x", "reply_markup": {"inline_keyboard": [{"text": "a"}]}},
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
        ),
        (
            "sendMessage",
            {**chat, "text": "x", "reply_parameters": {"quote": "x"}},
            'can\'t find field "message_id"',
        ),
        ("sendLocation", {**chat, "latitude": 91, "longitude": 0}, "invalid location specified"),
        ("sendChatAction", {**chat, "action": "dancing"}, "wrong parameter action in request"),
        ("deleteMessages", {**chat, "message_ids": [0]}, "invalid message identifier specified"),
        (
            "deleteMessages",
            {**chat, "message_ids": list(range(1, 102))},
            "too many message identifiers specified",
        ),
        (
            "editMessageText",
            {**chat, "message_id": mine, "text": "x", "reply_markup": reply_keyboard},
            "inline keyboard expected",
        ),
        (
            "editMessageText",
            {"inline_message_id": "x", "text": "y"},
            "invalid inline message identifier specified",
        ),
        (
            "setMyCommands",
            {"commands": [{"command": "a", "description": "b"}], "scope": {"type": "everyone"}},
            "can't parse BotCommandScope: Unsupported type specified",
        ),
        (
            "setMyCommands",
            {"commands": [], "scope": {"type": "chat_member", "chat_id": user.id, "user_id": 1}},
            "can't use specified scope in private chats",
        ),
        (
            "setChatMenuButton",
            {"menu_button": {"type": "app"}},
            "can't parse menu button: MenuButton has unsupported type",
        ),
        ("getMyCommands", {"language_code": "EN"}, "invalid language code specified"),
        ("getFile", {"file_id": "nope"}, "invalid file_id"),
    ]
    await refused_in_telegrams_words(api, cases)


async def test_what_telegram_accepts_that_the_documentation_does_not_say(
    api, server: BotApiServer
) -> None:
    user = await started_user(server)
    # Chat actions in any case, with their older names; "cancel" clears the action.
    for action in ("TYPING", "record_audio", "pick_up_location"):
        assert (await api("sendChatAction", chat_id=user.id, action=action))[0] == 200
    assert user.last_chat_action == "find_location"
    await api("sendChatAction", chat_id=user.id, action="cancel")
    assert user.last_chat_action is None
    # Of a reply button's requests the first in Telegram's order counts; strings are buttons.
    markup = {
        "keyboard": [[{"text": "Here", "request_location": True, "request_contact": True}, "No"]],
        "one_time_keyboard": True,
    }
    status, _ = await api("sendMessage", chat_id=user.id, text="Where?", reply_markup=markup)
    assert status == 200
    assert user.reply_keyboard == [[{"text": "Here", "request_contact": True}, {"text": "No"}]]
    # An empty list of message ids to delete, or a list of ids as strings.
    sent = (await api("sendMessage", chat_id=user.id, text="gone soon"))[1]["result"]
    status, body = await api(
        "deleteMessages", chat_id=user.id, message_ids=[str(sent["message_id"])]
    )
    assert (status, body["result"]) == (200, True)
