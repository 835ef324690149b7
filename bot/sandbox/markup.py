"""``reply_markup`` read the way Telegram reads it, and kept the way Telegram keeps it.

The Bot API server (``Client::get_reply_markup``) takes what it understands and ignores the rest:

* a non-empty ``keyboard`` wins over ``inline_keyboard``, which wins over ``remove_keyboard``,
  then ``force_reply``; markup with none of them (``{}``, ``{"inline_keyboard": []}``) is none;
* a button with several actions keeps the first in Telegram's order (``url``, then
  ``callback_data``...; an empty ``url`` or ``callback_data`` counts as absent), and the message
  then shows only that one; an inline button with none is refused with
  ``can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard``;
* a reply-keyboard button is a string or an object; of its requests (contact, location,
  poll...) the first in Telegram's order counts;
* a button without text (nor icon) is dropped, then a row left empty, then a keyboard left
  empty (tdlib's ReplyMarkup.cpp).

Telegram's servers then check what tdlib does not: button texts, 1-64 bytes of callback data,
button URLs, at most 100 buttons.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request
from .tgjson import (
    FieldError,
    array_field,
    bool_field,
    int_field,
    object_field,
    string_field,
)

JSON = dict[str, Any]
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100

# The actions of an inline button in Telegram's order: the first one present counts.
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
_STRING_ACTIONS = frozenset({"switch_inline_query", "switch_inline_query_current_chat"})
# Object actions and the field each must have.
_OBJECT_ACTIONS = {
    "switch_inline_query_chosen_chat": None,
    "login_url": "url",
    "web_app": "url",
    "copy_text": "text",
}
# Requests of a reply-keyboard button that are objects, in Telegram's order after contact and
# location; the field each must have.
_REQUESTS = (
    ("request_poll", None),
    ("web_app", "url"),
    ("request_users", "request_id"),
    ("request_user", "request_id"),
    ("request_chat", "request_id"),
    ("request_managed_bot", "request_id"),
)


def parse_reply_markup(value: Any) -> JSON | None:
    """The markup as Telegram keeps it, or None; raises ApiError (400) in Telegram's words."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("Object expected as reply markup")
    try:
        markup = _markup(value)
    except FieldError as exc:
        raise bad_request(str(exc)) from None
    if markup is not None and "inline_keyboard" in markup:
        _check_inline_buttons(markup["inline_keyboard"])
    return markup


def _markup(value: JSON) -> JSON | None:
    rows = _rows(value, "keyboard", _keyboard_button, "keyboard button")
    inline_rows = _rows(value, "inline_keyboard", _inline_button, "inline keyboard button")
    selective = bool_field(value, "selective") or bool_field(value, "personal_keyboard")
    remove = bool_field(value, "remove_keyboard") or bool_field(value, "hide_keyboard")
    force_reply = bool_field(value, "force_reply") or bool_field(value, "force_reply_keyboard")
    placeholder = string_field(value, "input_field_placeholder")
    options: JSON = {"selective": True} if selective else {}
    if rows:
        for flag in ("resize_keyboard", "one_time_keyboard", "is_persistent"):
            if bool_field(value, flag):
                options[flag] = True
        if placeholder:
            options["input_field_placeholder"] = placeholder
        return {"keyboard": rows, **options}
    if inline_rows:
        return {"inline_keyboard": inline_rows}
    if remove:
        return {"remove_keyboard": True, **options}
    if force_reply:
        extra = {"input_field_placeholder": placeholder} if placeholder else {}
        return {"force_reply": True, **options, **extra}
    return None


def _rows(value: JSON, name: str, parse: Any, what: str) -> list[list[JSON]]:
    rows = array_field(value, name)
    out: list[list[JSON]] = []
    for row in rows or ():
        if not isinstance(row, list):
            of = " of the InlineKeyboardMarkup" if name == "inline_keyboard" else ""
            raise FieldError(f'Field "{name}"{of} must be an Array of Arrays')
        try:
            buttons = [parse(button) for button in row]
        except FieldError as exc:
            raise FieldError(f"Can't parse {what}: {exc}") from None
        # tdlib drops buttons without text or icon, then rows left empty.
        shown = [b for b in buttons if b["text"] or "icon_custom_emoji_id" in b]
        if shown:
            out.append(shown)
    return out


def _common(button: JSON) -> JSON:
    out: JSON = {"text": string_field(button, "text", required=True)}
    emoji = int_field(button, "icon_custom_emoji_id")
    if emoji is not None:
        out["icon_custom_emoji_id"] = str(emoji)
    style = (string_field(button, "style") or "").lower()
    if style not in ("", "default", "primary", "danger", "success"):
        raise FieldError("invalid button style specified")
    if style:
        out["style"] = style
    return out


def _inline_button(button: Any) -> JSON:
    if not isinstance(button, dict):
        raise FieldError("InlineKeyboardButton must be an Object")
    out = _common(button)
    for name in _INLINE_ACTIONS[:2]:
        value = string_field(button, name)
        if value:  # an empty url or callback_data counts as absent
            return {**out, name: value}
    for name in _INLINE_ACTIONS[2:]:
        if name in button:
            return {**out, name: _inline_action(button, name)}
    raise FieldError("Text buttons are unallowed in the inline keyboard")


def _inline_action(button: JSON, name: str) -> Any:
    if name == "callback_game":
        return {}
    if name == "pay":
        return True
    if name in _STRING_ACTIONS:
        return string_field(button, name, required=True)
    value = object_field(button, name, required=True)
    assert value is not None  # required
    needed = _OBJECT_ACTIONS[name]
    if needed is not None:
        string_field(value, needed, required=True)
    return value


def _keyboard_button(button: Any) -> JSON:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        raise FieldError("KeyboardButton must be a String or an Object")
    out = _common(button)
    if bool_field(button, "request_phone_number") or bool_field(button, "request_contact"):
        return {**out, "request_contact": True}
    if bool_field(button, "request_location"):
        return {**out, "request_location": True}
    for name, needed in _REQUESTS:
        if name in button:
            value = object_field(button, name, required=True)
            assert value is not None  # required
            if needed == "request_id":
                int_field(value, needed, required=True)
            elif needed is not None:
                string_field(value, needed, required=True)
            return {**out, "request_users" if name == "request_user" else name: value}
    return out


def is_valid_button_url(url: str) -> bool:
    """http(s) URLs with a host, or tg:// links, as Telegram accepts on buttons."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname) and " " not in url
    return parts.scheme == "tg" and bool(parts.netloc or parts.path)


def _check_inline_buttons(rows: list[list[JSON]]) -> None:
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    for button in (button for row in rows for button in row):
        if not button["text"].strip():
            raise bad_request("BUTTON_TEXT_INVALID")
        if len(button.get("callback_data", "").encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button and not is_valid_button_url(button["url"]):
            raise bad_request("BUTTON_URL_INVALID")
