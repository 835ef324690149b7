"""Message content rules: parse modes, text and caption limits, reply markup checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .entities import Entity, sort_entities, strip_text, utf16_len, with_detected
from .errors import bad_request
from .html import EntityParseError, parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .spec import load_spec

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100

_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
# Every InlineKeyboardButton field except these is an "action": exactly one must be used.
_INLINE_NON_ACTIONS = frozenset({"text", "icon_custom_emoji_id", "style"})
_REQUEST_FIELDS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "request_managed_bot",
    "web_app",
)


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[Entity] | None,
    *,
    strict_ampersand: bool = True,
) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (or explicit ``entities``), trim, add auto-detected entities."""
    if entities is not None:
        plain, found = text, [_clip(e, utf16_len(text)) for e in entities]
        found = [e for e in found if e["length"] > 0]
    elif parse_mode:
        parser = _PARSERS.get(parse_mode.lower())
        if parser is None:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        try:
            if parser is parse_html:
                plain, found = parse_html(text, strict_ampersand=strict_ampersand)
            else:
                plain, found = parser(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    else:
        plain, found = text, []
    plain, found = strip_text(plain, sort_entities(found))
    return plain, with_detected(plain, found)


def _clip(entity: Entity, total: int) -> Entity:
    offset = max(0, min(entity["offset"], total))
    end = max(offset, min(entity["offset"] + entity["length"], total))
    return {**entity, "offset": offset, "length": end - offset}


def message_text(
    params: dict[str, Any], *, strict_ampersand: bool = True
) -> tuple[str, list[Entity]]:
    """The ``text`` of sendMessage/editMessageText after parsing, with Telegram's limits."""
    text, entities = format_text(
        params.get("text", ""),
        params.get("parse_mode"),
        params.get("entities"),
        strict_ampersand=strict_ampersand,
    )
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


def caption_text(
    params: dict[str, Any], *, strict_ampersand: bool = True
) -> tuple[str | None, list[Entity]]:
    """The ``caption`` of a media message (None when absent or empty)."""
    if params.get("caption") is None:
        return None, []
    text, entities = format_text(
        params["caption"],
        params.get("parse_mode"),
        params.get("caption_entities"),
        strict_ampersand=strict_ampersand,
    )
    if utf16_len(text) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")
    return (text or None), entities


def is_valid_button_url(url: str) -> bool:
    """http(s) URLs with a host, or tg:// links, as Telegram accepts on buttons."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname) and " " not in url
    return parts.scheme == "tg" and bool(parts.netloc or parts.path)


def check_reply_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Enforce Telegram's button rules on an already type-checked reply_markup."""
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
    return markup


def _check_inline_keyboard(rows: list[list[dict[str, Any]]]) -> None:
    actions_allowed = set(load_spec().types["InlineKeyboardButton"].fields) - _INLINE_NON_ACTIONS
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not button.get("text", "").strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [k for k in button if k in actions_allowed and button[k] is not False]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if len(actions) > 1:
                raise bad_request(
                    "can't parse inline keyboard button: exactly one of the "
                    f"action fields must be used, got {', '.join(actions)}"
                )
            if "callback_data" in button:
                size = len(button["callback_data"].encode("utf-8"))
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not is_valid_button_url(button["url"]):
                raise bad_request("BUTTON_URL_INVALID")


def _check_reply_keyboard(rows: list[list[Any]]) -> None:
    for row in rows:
        for button in row:
            label = button if isinstance(button, str) else button.get("text", "")
            if not label.strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            if isinstance(button, dict):
                requests = [k for k in _REQUEST_FIELDS if button.get(k) not in (None, False)]
                if len(requests) > 1:
                    raise bad_request(
                        "can't parse keyboard button: only one of "
                        f"{', '.join(requests)} may be used"
                    )
