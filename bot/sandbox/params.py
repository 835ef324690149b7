"""Call parameters read the way the Bot API server reads them (telegram-bot-api's Client.cpp).

Every parameter arrives as text (a JSON body's numbers, booleans and objects as their JSON text)
and Telegram is lenient with it:

* a parameter the method does not have is ignored; an empty one counts as absent;
* Integer: the leading whole number, else 0 (``to_integer``); Float: the leading number, else 0;
  Boolean: true for "true", "yes" or "1" in any case, else false; a chat id starting with "@"
  is a username, anything else a number;
* a JSON parameter (reply_markup, entities, scope...) that does not decode is refused with the
  method's own text, or ignored where Telegram ignores it (entities, allowed_updates); what it
  holds is read by the method itself, field by field (see :mod:`.tgjson`);
* a missing required parameter is answered with Telegram's text for it
  (``there is no photo in the request``, ``latitude is empty``...) here, or by the method where
  Telegram checks it later (``message text is empty`` comes before ``chat_id is empty``), and
  not at all where Telegram goes on without it (setWebhook without url removes the webhook,
  setMyCommands without commands sets none).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import bad_request
from .spec import FieldSpec, MethodSpec, Upload

_LEADING_INT = re.compile(r"-?\d+")
_LEADING_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE_WORDS = frozenset({"true", "yes", "1"})

# What Telegram answers for a JSON parameter that does not decode; None: it ignores the value.
_UNDECODABLE: dict[str, str | None] = {
    "reply_markup": "Can't parse reply keyboard markup JSON object",
    "reply_parameters": "Can't parse reply parameters JSON object",
    "link_preview_options": "Can't parse link preview options JSON object",
    "commands": "Can't parse commands JSON object",
    "scope": "Can't parse BotCommandScope JSON object",
    "menu_button": "Can't parse menu button JSON object",
    "entities": None,
    "caption_entities": None,
    "allowed_updates": None,
}

# Telegram's answer when a parameter the documentation requires is missing, by parameter and
# (where it differs) by method. None: the method checks it (text: "message text is empty") or
# Telegram goes on without it.
_MISSING: dict[str, str | None] = {
    "chat_id": None,  # "chat_id is empty", once the method has checked the content
    "deleteMessage.chat_id": "Chat identifier is not specified",
    "from_chat_id": 'Parameter "from_chat_id" is required',
    "message_id": "Message identifier is not specified",
    "copyMessage.message_id": "message to copy not found",
    "forwardMessage.message_id": "message to forward not found",
    "message_ids": "Message identifiers are not specified",
    "photo": "There is no photo in the request",
    "document": "There is no document in the request",
    "latitude": "latitude is empty",
    "longitude": "longitude is empty",
    "action": "Wrong parameter action in request",
    "callback_query_id": "query is too old and response timeout expired or query ID is invalid",
    "file_id": "file_id not specified",
    "text": None,
    "url": None,
    "commands": None,
}
_SCALARS = frozenset({"Integer", "Float", "Boolean", "String", "InputFile", "True"})


def as_text(value: Any) -> str:
    """A value as the Bot API server sees it: JSON values other than strings as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_integer(text: str) -> int:
    """tdlib's ``to_integer``: the leading whole number, 0 when there is none."""
    match = _LEADING_INT.match(text)
    return int(match.group()) if match else 0


def to_float(text: str) -> float:
    """The leading decimal number, 0.0 when there is none."""
    match = _LEADING_FLOAT.match(text.strip())
    return float(match.group()) if match else 0.0


def to_bool(text: str) -> bool:
    """The Bot API server's ``to_bool``."""
    return text.strip().lower() in _TRUE_WORDS


def is_empty(value: Any) -> bool:
    """Telegram does not tell an empty parameter from a missing one."""
    return value is None or value == ""


def scalar(field: FieldSpec, value: Any) -> Any:
    """A scalar parameter read like Telegram; never an error."""
    if isinstance(value, Upload):
        return value
    text = as_text(value)
    types = set(field.types)
    if "Integer" in types and "String" in types:  # chat ids: "@username" or a number
        return text if text.startswith("@") else to_integer(text)
    if types & {"Boolean", "True"}:
        return to_bool(text)
    if "Integer" in types:
        return to_integer(text)
    if "Float" in types:
        return to_float(text)
    return text


def decoded(field: FieldSpec, value: Any) -> Any:
    """A JSON parameter decoded (None: ignored, as Telegram ignores it)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        message = _UNDECODABLE.get(field.name, f"Can't parse {field.name} JSON object")
        if message is None:
            return None
        raise bad_request(message) from None


def read_as_telegram(
    method: MethodSpec, values: dict[str, Any], uploads: dict[str, Upload]
) -> dict[str, Any]:
    """The parameters of one call as Telegram reads them (see the module doc)."""
    out: dict[str, Any] = {}
    for name, value in {**values, **uploads}.items():
        field = method.fields.get(name)
        if field is None or is_empty(value):
            continue
        if all(t in _SCALARS for t in field.types):
            out[name] = scalar(field, value)
        else:
            value = decoded(field, value)
            if value is not None:
                out[name] = value
    check_required(method, out)
    return out


def check_required(method: MethodSpec, params: dict[str, Any]) -> None:
    """Answer a missing required parameter as Telegram does."""
    for field in method.fields.values():
        if field.required and field.name not in params:
            message = missing_message(method, field.name)
            if message is not None:
                raise bad_request(message)


def missing_message(method: MethodSpec, name: str) -> str | None:
    """Telegram's text for a missing ``name`` (None: Telegram does not require it)."""
    key = f"{method.name}.{name}"
    return _MISSING[key] if key in _MISSING else _MISSING.get(name, f"{name} is empty")
