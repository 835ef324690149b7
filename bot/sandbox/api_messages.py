"""Bot API methods that send, edit, copy and delete messages, and answer callback queries."""

from __future__ import annotations

from typing import Any

from .content import caption_text, link_preview_options, message_text
from .errors import bad_request
from .markup import parse_reply_markup
from .media import guess_mime_type
from .registry import CallContext, api_method
from .state import Chat, StoredMessage

# The actions Telegram accepts, in any case, with their older names (Client::get_chat_action).
CHAT_ACTIONS = {
    "cancel": "cancel",
    "typing": "typing",
    "upload_photo": "upload_photo",
    "record_video": "record_video",
    "upload_video": "upload_video",
    "record_voice": "record_voice",
    "record_audio": "record_voice",
    "upload_voice": "upload_voice",
    "upload_audio": "upload_voice",
    "upload_document": "upload_document",
    "choose_sticker": "choose_sticker",
    "find_location": "find_location",
    "pick_up_location": "find_location",
    "record_video_note": "record_video_note",
    "upload_video_note": "upload_video_note",
}
MAX_CALLBACK_ANSWER = 200
MAX_DELETED_AT_ONCE = 100
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _post(ctx: CallContext, params: dict[str, Any], **content: Any) -> dict[str, Any]:
    """Post a message of the bot, checking what Telegram checks after the content: the reply
    markup, then the chat, then the message replied to."""
    markup = parse_reply_markup(params.get("reply_markup"))
    chat = ctx.chat(params.get("chat_id"))
    message = chat.add_message(
        True,
        reply_markup=markup,
        reply_to_message_id=ctx.reply_target(chat, params),
        protect_content=bool(params.get("protect_content")),
        **content,
    )
    return chat.message_dict(message)


@api_method("sendMessage")
async def send_message(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Post a text message."""
    text, entities = message_text(p, strict_ampersand=ctx.strict_ampersand)
    preview = link_preview_options(p, text, entities)
    return _post(ctx, p, text=text, entities=entities, link_preview_options=preview)


@api_method("sendPhoto")
async def send_photo(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Post a photo (a multipart upload or a photo file_id) with an optional caption."""
    record = ctx.input_file(p["photo"], "photo")
    caption, entities = caption_text(p, strict_ampersand=ctx.strict_ampersand)
    return _post(ctx, p, photo=[record.photo_size()], caption=caption, caption_entities=entities)


@api_method("sendDocument")
async def send_document(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Post a document (upload or file_id); the bytes and file name are kept."""
    record = ctx.input_file(p["document"], "document")
    if record.file_name and (record.mime_type in (None, "application/octet-stream")):
        record.mime_type = guess_mime_type(record.file_name)
    caption, entities = caption_text(p, strict_ampersand=ctx.strict_ampersand)
    return _post(ctx, p, document=record.document(), caption=caption, caption_entities=entities)


@api_method("sendLocation")
async def send_location(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Post a location."""
    latitude, longitude = p["latitude"], p["longitude"]
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise bad_request("Invalid location specified")
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if p.get("horizontal_accuracy"):
        location["horizontal_accuracy"] = p["horizontal_accuracy"]
    return _post(ctx, p, location=location)


@api_method("sendChatAction")
async def send_chat_action(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Show "typing…" and friends; the user side sees it as ``last_chat_action``."""
    action = CHAT_ACTIONS.get(p["action"].lower())
    if action is None:
        raise bad_request("Wrong parameter action in request")
    chat = ctx.chat(p.get("chat_id"))
    chat.last_action = None if action == "cancel" else action
    chat.record("action", None, True, {"action": action})
    return True


def _editable(ctx: CallContext, p: dict[str, Any]) -> tuple[Chat, StoredMessage]:
    """The bot message an edit is for, found as Telegram finds it."""
    if p.get("chat_id") is None and not p.get("message_id"):
        if p.get("inline_message_id") is None:
            raise bad_request("Message identifier is not specified")
        raise bad_request("Invalid inline message identifier specified")
    chat = ctx.chat(p.get("chat_id"))
    message = chat.messages.get(p.get("message_id") or 0)
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("Message can't be edited")
    return chat, message


def _apply_edit(
    chat: Chat, message: StoredMessage, markup: dict[str, Any] | None, **content: Any
) -> dict[str, Any]:
    current = {key: getattr(message, key) for key in content}
    if current == content and markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    for key, value in content.items():
        setattr(message, key, value)
    if markup is not None or message.inline_markup is not None:
        message.reply_markup = markup  # an edit without reply_markup removes the inline keyboard
    message.edit_date = chat.now()
    chat.record("edit", message.message_id, True)
    return chat.message_dict(message)


def _inline(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """An edit's reply_markup: only an inline keyboard may stay on a sent message."""
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("Inline keyboard expected")
    return markup


@api_method("editMessageText")
async def edit_message_text(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Replace the text (and inline keyboard) of a bot text message."""
    text, entities = message_text(p, strict_ampersand=ctx.strict_ampersand)
    markup = parse_reply_markup(p.get("reply_markup"))
    chat, message = _editable(ctx, p)
    if message.has_media or message.text is None:
        raise bad_request("There is no text in the message to edit")
    preview = link_preview_options(p, text, entities)
    return _apply_edit(
        chat, message, _inline(markup), text=text, entities=entities, link_preview_options=preview
    )


@api_method("editMessageCaption")
async def edit_message_caption(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Replace the caption (and inline keyboard) of a bot photo/document message."""
    markup = parse_reply_markup(p.get("reply_markup"))
    caption, entities = caption_text(p, strict_ampersand=ctx.strict_ampersand)
    chat, message = _editable(ctx, p)
    if not message.has_media:
        raise bad_request("There is no caption in the message to edit")
    return _apply_edit(chat, message, _inline(markup), caption=caption, caption_entities=entities)


@api_method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Replace or remove the inline keyboard of a bot message."""
    markup = parse_reply_markup(p.get("reply_markup"))
    chat, message = _editable(ctx, p)
    return _apply_edit(chat, message, _inline(markup))


@api_method("deleteMessage")
async def delete_message(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Delete a message of the private chat (the bot's or the user's)."""
    if p["message_id"] <= 0:
        raise bad_request("Message identifier is not specified")
    chat = ctx.chat(p["chat_id"], allow_blocked=True)
    if chat.messages.pop(p["message_id"], None) is None:
        raise bad_request("message to delete not found")
    chat.record("delete", p["message_id"], True)
    return True


@api_method("deleteMessages")
async def delete_messages(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Delete 1-100 messages; ids that do not exist are skipped, as Telegram does."""
    ids = _message_ids(p["message_ids"])
    chat = ctx.chat(p.get("chat_id"), allow_blocked=True)
    for message_id in ids:
        if chat.messages.pop(message_id, None) is not None:
            chat.record("delete", message_id, True)
    return True


def _message_ids(value: Any) -> list[int]:
    """``message_ids`` read as Telegram reads them (Client::get_message_ids)."""
    if not isinstance(value, list):
        raise bad_request("Expected an Array of message identifiers")
    if len(value) > MAX_DELETED_AT_ONCE:
        raise bad_request("Too many message identifiers specified")
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise bad_request("Message identifier must be a Number")
        try:
            message_id = int(str(item))
        except ValueError:
            raise bad_request("Can't parse message identifier as a Number") from None
        if message_id <= 0:
            raise bad_request("Invalid message identifier specified")
        ids.append(message_id)
    if not ids:
        raise bad_request("Message identifiers are not specified")
    return ids


def _source(ctx: CallContext, p: dict[str, Any], verb: str) -> StoredMessage:
    source_chat = ctx.chat(p.get("from_chat_id"), allow_blocked=True)
    message = source_chat.messages.get(p.get("message_id") or 0)
    if message is None:
        raise bad_request(f"message to {verb} not found")
    if message.protect_content:
        raise bad_request("message has protected content and can't be forwarded")
    return message


_CONTENT = (
    "text",
    "entities",
    "link_preview_options",
    "caption",
    "caption_entities",
    "photo",
    "document",
    "location",
    "contact",
)


@api_method("copyMessage")
async def copy_message(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Post a copy of a message (no link to the original); returns ``MessageId``."""
    source = _source(ctx, p, "copy")
    content = {key: getattr(source, key) for key in _CONTENT}
    if source.has_media and "caption" in p:
        content["caption"], content["caption_entities"] = caption_text(
            p, strict_ampersand=ctx.strict_ampersand
        )
    result = _post(ctx, p, **content)
    return {"message_id": result["message_id"]}


@api_method("forwardMessage")
async def forward_message(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Forward a message; the copy carries ``forward_origin``."""
    source = _source(ctx, p, "forward")
    source_chat = ctx.bot.chats[p["from_chat_id"]]
    sender = ctx.bot.user_dict() if source.from_bot else source_chat.account.user_dict()
    origin = {"type": "user", "date": source.date, "sender_user": sender}
    content = {key: getattr(source, key) for key in _CONTENT}
    kept = {key: p.get(key) for key in ("chat_id", "protect_content")}
    return _post(ctx, kept, forward_origin=origin, **content)


@api_method("answerCallbackQuery")
async def answer_callback_query(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Answer a callback query once; the user side records the answer."""
    query = ctx.bot.callback_queries.get(p["callback_query_id"])
    if query is None or query.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    url = p.get("url")
    if url is not None and not url.startswith(("https://t.me/", "tg://")):
        raise bad_request("URL_INVALID")
    query.answered = True
    chat = ctx.bot.chats.get(query.user_id)
    if chat is not None:
        chat.record(
            "callback_answer",
            query.message_id,
            True,
            {
                "callback_query_id": query.id,
                "text": text,
                "show_alert": bool(p.get("show_alert")),
                "url": url,
            },
        )
    return True
