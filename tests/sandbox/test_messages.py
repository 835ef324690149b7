"""Message rules through the real PTB client: every error Telegram would answer."""

from __future__ import annotations

import re

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application

from bot.sandbox import BotApiServer, SandboxUser
from bot.sandbox.media import tiny_png

NOT_MODIFIED = (
    "Message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


@pytest.fixture
async def marie(server: BotApiServer) -> SandboxUser:
    user = server.create_user("Marie", language_code="fr")
    await user.send_text("hi")
    return user


def raises(error: type[Exception], text: str) -> pytest.RaisesExc:
    """Expect ``error`` whose message contains ``text`` (PTB re-capitalizes messages)."""
    return pytest.raises(error, match="(?i)" + re.escape(text))


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


async def test_send_message_is_seen_by_the_user(ptb: Application, marie: SandboxUser) -> None:
    sent = await ptb.bot.send_message(
        marie.id, "<b>Bonjour</b> &amp; 😀 <i>toi</i>", parse_mode="HTML"
    )
    assert sent.text == "Bonjour & 😀 toi"
    assert sent.chat.id == marie.id and sent.from_user.is_bot
    # "toi" starts after the emoji, which counts as 2 UTF-16 code units.
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 7),
        ("italic", 13, 3),
    ]
    seen = marie.last_bot_message
    assert seen is not None and seen.id == sent.message_id == 2
    assert seen.html == "<b>Bonjour</b> &amp; 😀 <i>toi</i>"


async def test_text_length_rules(ptb: Application, marie: SandboxUser) -> None:
    with raises(BadRequest, "Message text is empty"):
        await ptb.bot.send_message(marie.id, "")
    # Text that only spaces or markup made is empty after trimming: tdlib's words.
    with raises(BadRequest, "Text must be non-empty"):
        await ptb.bot.send_message(marie.id, "   ")
    with raises(BadRequest, "Text must be non-empty"):
        await ptb.bot.send_message(marie.id, "<b> </b>", parse_mode="HTML")
    with raises(BadRequest, "Text is too long"):  # over 32768 bytes before parsing
        await ptb.bot.send_message(marie.id, "<b></b>" * 5000, parse_mode="HTML")
    await ptb.bot.send_message(marie.id, "x" * 4096)
    with raises(BadRequest, "Message is too long"):
        await ptb.bot.send_message(marie.id, "x" * 4097)
    # 2048 emoji are 4096 UTF-16 code units: fine; one more character is too long.
    await ptb.bot.send_message(marie.id, "😀" * 2048)
    with raises(BadRequest, "Message is too long"):
        await ptb.bot.send_message(marie.id, "😀" * 2048 + "x")
    # The limit applies after entity parsing: markup does not count.
    await ptb.bot.send_message(marie.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")


async def test_html_errors(ptb: Application, marie: SandboxUser) -> None:
    with raises(BadRequest, 'Unsupported start tag "img" at byte offset 5'):
        await ptb.bot.send_message(marie.id, "Hello<img>", parse_mode="HTML")
    with raises(BadRequest, 'Can\'t find end tag corresponding to start tag "b"'):
        await ptb.bot.send_message(marie.id, "<b>bold", parse_mode="HTML")
    with raises(BadRequest, "can't parse entities: Unmatched end tag"):
        await ptb.bot.send_message(marie.id, "<b>x</i>", parse_mode="HTML")
    with raises(BadRequest, 'Unsupported start tag "" at byte offset 2'):
        await ptb.bot.send_message(marie.id, "1 < 2", parse_mode="HTML")
    assert len(marie.messages) == 1  # nothing was sent


async def test_markdown_v2_reserved_character(ptb: Application, marie: SandboxUser) -> None:
    with raises(BadRequest, "Character '.' is reserved"):
        await ptb.bot.send_message(marie.id, "End.", parse_mode="MarkdownV2")
    sent = await ptb.bot.send_message(marie.id, r"*Bold* end\.", parse_mode="MarkdownV2")
    assert sent.text == "Bold end." and sent.entities[0].type == "bold"


async def test_explicit_entities_are_accepted(ptb: Application, marie: SandboxUser) -> None:
    from telegram import MessageEntity

    sent = await ptb.bot.send_message(
        marie.id, "plain bold", entities=[MessageEntity("bold", 6, 4)]
    )
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 6, 4)]


async def test_caption_rules(ptb: Application, marie: SandboxUser) -> None:
    png = tiny_png()
    with raises(BadRequest, "Message caption is too long"):
        await ptb.bot.send_photo(marie.id, png, caption="c" * 1025)
    sent = await ptb.bot.send_photo(marie.id, png, caption="<i>nice</i>", parse_mode="HTML")
    assert sent.caption == "nice" and sent.caption_entities[0].type == "italic"
    with raises(BadRequest, "IMAGE_PROCESS_FAILED"):
        await ptb.bot.send_photo(marie.id, b"not an image")


async def test_inline_keyboard_rules(ptb: Application, marie: SandboxUser) -> None:
    send = ptb.bot.send_message
    button = InlineKeyboardButton
    with raises(BadRequest, "BUTTON_DATA_INVALID"):  # 66 bytes in UTF-8
        await send(marie.id, "x", reply_markup=keyboard(button("a", callback_data="é" * 33)))
    unallowed = "Can't parse inline keyboard button: Text buttons are unallowed"
    with raises(BadRequest, unallowed):  # empty callback data counts as none
        await send(marie.id, "x", reply_markup=keyboard(button("a", callback_data="")))
    with raises(BadRequest, unallowed):
        await send(marie.id, "x", reply_markup={"inline_keyboard": [[{"text": "a"}]]})
    with raises(BadRequest, "BUTTON_URL_INVALID"):
        await send(marie.id, "x", reply_markup=keyboard(button("a", url="ftp://x.org")))
    with raises(BadRequest, "BUTTON_TEXT_INVALID"):
        await send(marie.id, "x", reply_markup=keyboard(button(" ", callback_data="a")))
    with raises(BadRequest, "Can't parse inline keyboard button: Can't find field \"text\""):
        await send(marie.id, "x", reply_markup={"inline_keyboard": [[{"callback_data": "a"}]]})
    # Telegram drops a button without text, and the keyboard with it when none is left.
    bare = await send(marie.id, "x", reply_markup=keyboard(button("", callback_data="a")))
    assert bare.reply_markup is None
    # Two actions: Telegram keeps the first in its order (url before callback_data).
    both = {"text": "a", "callback_data": "a", "url": "https://example.org"}
    sent = await send(marie.id, "x", reply_markup={"inline_keyboard": [[both]]})
    assert marie.last_bot_message is not None
    assert marie.last_bot_message.inline_keyboard == [[{"text": "a", "url": "https://example.org"}]]
    assert sent.reply_markup.inline_keyboard[0][0].callback_data is None
    ok = await send(
        marie.id,
        "x",
        reply_markup=keyboard(
            InlineKeyboardButton("a", callback_data="é" * 32),
            InlineKeyboardButton("site", url="https://example.org/p?q=1"),
            InlineKeyboardButton("me", url="tg://user?id=1"),
        ),
    )
    assert len(ok.reply_markup.inline_keyboard[0]) == 3


async def test_edit_rules(ptb: Application, marie: SandboxUser) -> None:
    bot = ptb.bot
    markup = keyboard(InlineKeyboardButton("a", callback_data="a"))
    sent = await bot.send_message(marie.id, "<b>one</b>", parse_mode="HTML", reply_markup=markup)
    with raises(BadRequest, NOT_MODIFIED):
        await bot.edit_message_text(
            "<b>one</b>", marie.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    with raises(BadRequest, NOT_MODIFIED):
        await bot.edit_message_reply_markup(marie.id, sent.message_id, reply_markup=markup)
    # Same text, different formatting: modified.
    edited = await bot.edit_message_text("one", marie.id, sent.message_id, reply_markup=markup)
    assert edited.text == "one" and edited.entities == () and edited.edit_date is not None
    # Without reply_markup the keyboard is removed.
    edited = await bot.edit_message_text("two", marie.id, sent.message_id)
    assert edited.reply_markup is None
    with raises(BadRequest, "Message to edit not found"):
        await bot.edit_message_text("x", marie.id, 999)
    with raises(BadRequest, "Message can't be edited"):
        await bot.edit_message_text("x", marie.id, 1)  # Marie's own "hi"
    photo = await bot.send_photo(marie.id, tiny_png(), caption="cap")
    with raises(BadRequest, "There is no text in the message to edit"):
        await bot.edit_message_text("x", marie.id, photo.message_id)
    with raises(BadRequest, NOT_MODIFIED):
        await bot.edit_message_caption(marie.id, photo.message_id, caption="cap")
    recaptioned = await bot.edit_message_caption(marie.id, photo.message_id, caption="new")
    assert recaptioned.caption == "new"
    with raises(BadRequest, "There is no caption in the message to edit"):
        await bot.edit_message_caption(marie.id, sent.message_id, caption="c")
    assert [m.text or m.caption for m in marie.messages] == ["hi", "two", "new"]


async def test_delete_rules(ptb: Application, marie: SandboxUser) -> None:
    sent = await ptb.bot.send_message(marie.id, "bye")
    assert await ptb.bot.delete_message(marie.id, sent.message_id)
    with raises(BadRequest, "Message to delete not found"):
        await ptb.bot.delete_message(marie.id, sent.message_id)
    more = [(await ptb.bot.send_message(marie.id, str(i))).message_id for i in range(3)]
    assert await ptb.bot.delete_messages(marie.id, [*more, 12345])
    assert [m.text for m in marie.messages] == ["hi"]


async def test_chat_not_found_blocked_deactivated(
    ptb: Application, server: BotApiServer, marie: SandboxUser
) -> None:
    with raises(BadRequest, "Chat not found"):
        await ptb.bot.send_message(424242, "x")
    silent = server.create_user("Silent")  # exists, but never wrote to the bot
    with raises(BadRequest, "Chat not found"):
        await ptb.bot.send_message(silent.id, "x")
    marie.block_bot()
    with raises(Forbidden, "bot was blocked by the user"):
        await ptb.bot.send_message(marie.id, "x")
    marie.unblock_bot()
    await ptb.bot.send_message(marie.id, "back")
    marie.deactivate()
    with raises(Forbidden, "user is deactivated"):
        await ptb.bot.send_message(marie.id, "x")


async def test_answer_callback_query_rules(ptb: Application, marie: SandboxUser) -> None:
    sent = await ptb.bot.send_message(
        marie.id, "q", reply_markup=keyboard(InlineKeyboardButton("Go", callback_data="go"))
    )
    query_id = await marie.press("Go")
    with raises(BadRequest, "MESSAGE_TOO_LONG"):
        await ptb.bot.answer_callback_query(query_id, text="t" * 201)
    assert await ptb.bot.answer_callback_query(query_id, text="ok", show_alert=True)
    with raises(BadRequest, "Query is too old"):
        await ptb.bot.answer_callback_query(query_id)
    with raises(BadRequest, "Query is too old"):
        await ptb.bot.answer_callback_query("123")
    answers = marie.callback_answers
    assert [(a.text, a.show_alert, a.message_id) for a in answers] == [
        ("ok", True, sent.message_id)
    ]


async def test_photo_upload_get_file_download(ptb: Application, marie: SandboxUser) -> None:
    png = tiny_png(3, 2)
    sent = await ptb.bot.send_photo(marie.id, png)
    size = sent.photo[-1]
    assert (size.width, size.height, size.file_size) == (3, 2, len(png))
    file = await ptb.bot.get_file(size.file_id)
    assert file.file_path and "/photos/" in file.file_path
    assert bytes(await file.download_as_bytearray()) == png
    # The file_id can be sent again without uploading.
    again = await ptb.bot.send_photo(marie.id, size.file_id)
    assert again.photo[-1].file_unique_id == size.file_unique_id
    with raises(BadRequest, "wrong file identifier"):
        await ptb.bot.send_photo(marie.id, "AgACnope")
    assert marie.last_bot_message is not None and marie.last_bot_message.photo == (size.file_id,)
    other_png = tiny_png(2, 3, (0, 0, 255))
    other = (await ptb.bot.send_photo(marie.id, other_png)).photo[-1]
    other_file = await ptb.bot.get_file(other.file_id)
    assert other_file.file_path != file.file_path
    assert bytes(await other_file.download_as_bytearray()) == other_png


async def test_user_photo_reaches_the_bot(
    ptb: Application, server: BotApiServer, marie: SandboxUser
) -> None:
    png = tiny_png(5, 5)
    await marie.send_photo(png, caption="look")
    updates = await ptb.bot.get_updates()
    photo_message = updates[-1].message
    assert photo_message.caption == "look"
    file = await photo_message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == png


async def test_document_location_chat_action(ptb: Application, marie: SandboxUser) -> None:
    doc = await ptb.bot.send_document(marie.id, b"a,b\n1,2\n", filename="table.csv", caption="data")
    assert doc.document.file_name == "table.csv" and doc.document.mime_type == "text/csv"
    file = await ptb.bot.get_file(doc.document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"a,b\n1,2\n"
    loc = await ptb.bot.send_location(marie.id, 48.85, 2.35)
    assert (loc.location.latitude, loc.location.longitude) == (48.85, 2.35)
    assert await ptb.bot.send_chat_action(marie.id, "typing")
    assert marie.last_chat_action == "typing"
    with raises(BadRequest, "wrong parameter action"):
        await ptb.bot.send_chat_action(marie.id, "dancing")


async def test_reply_copy_forward(
    ptb: Application, server: BotApiServer, marie: SandboxUser
) -> None:
    reply = await ptb.bot.send_message(marie.id, "re", reply_parameters=ReplyParameters(1))
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "hi"
    with raises(BadRequest, "Message to be replied not found"):
        await ptb.bot.send_message(marie.id, "re", reply_parameters=ReplyParameters(99))
    paul = server.create_user("Paul")
    await paul.send_text("hello")
    copied = await ptb.bot.copy_message(paul.id, marie.id, 1)
    assert paul.messages[-1].text == "hi" and paul.messages[-1].id == copied.message_id
    forwarded = await ptb.bot.forward_message(paul.id, marie.id, 1)
    assert forwarded.forward_origin.sender_user.id == marie.id
    with raises(BadRequest, "Message to copy not found"):
        await ptb.bot.copy_message(paul.id, marie.id, 77)


async def test_reply_keyboard_and_location_request(ptb: Application, marie: SandboxUser) -> None:
    markup = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)], ["Skip"]],
        one_time_keyboard=True,
    )
    sent = await ptb.bot.send_message(marie.id, "Where are you?", reply_markup=markup)
    assert sent.reply_markup is None  # only inline keyboards come back on messages
    assert marie.reply_keyboard is not None
    await marie.tap_reply_button("Share location", location=(48.85, 2.35))
    assert marie.messages[-1].location == {"latitude": 48.85, "longitude": 2.35}
    assert marie.reply_keyboard is None  # one-time keyboard hidden after use
    updates = await ptb.bot.get_updates()
    assert updates[-1].message.location.latitude == 48.85


async def test_ptb_defaults_on_edit_methods(server: BotApiServer, marie: SandboxUser) -> None:
    """PTB with Defaults sends parse_mode etc. to editMessageReplyMarkup: accepted."""
    from telegram.ext import ApplicationBuilder, Defaults

    app = (
        ApplicationBuilder()
        .token("123456:TEST-token_abc")
        .base_url(server.base_url)
        .defaults(Defaults(parse_mode="HTML", disable_notification=True, protect_content=False))
        .build()
    )
    async with app:
        sent = await app.bot.send_message(
            marie.id,
            "<b>x</b>",
            reply_markup=keyboard(InlineKeyboardButton("a", callback_data="a")),
        )
        edited = await app.bot.edit_message_reply_markup(marie.id, sent.message_id)
        assert edited.reply_markup is None
        await app.bot.edit_message_text("<i>y</i>", marie.id, sent.message_id)
    assert marie.last_bot_message is not None and marie.last_bot_message.html == "<i>y</i>"
    assert server.errors() == []
