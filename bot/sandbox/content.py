"""Message content rules: parse modes, given entities, text and caption limits, link previews.

As the Bot API server (``Client::get_formatted_text``) and tdlib do it:

* ``parse_mode`` (``HTML``, ``MarkdownV2``, ``Markdown``; ``none`` or empty for none) wins over
  ``entities``, which are read only without it; ``entities`` that are not a JSON array are
  ignored; given url, mention, hashtag... entities are dropped, Telegram finds those itself;
* text longer than 32768 bytes is refused before parsing (``text is too long``); after parsing
  and trimming, a message text counts at most 4096 characters and a caption 1024. They are
  counted in UTF-16 units: tdlib itself counts code points, but what Telegram's servers count
  is not published, so the sandbox keeps the stricter count (an emoji counts 2);
* an empty ``text`` is ``message text is empty``; a text that only markup or spaces made
  (``<b> </b>``) is ``text must be non-empty``.
"""

from __future__ import annotations

from typing import Any

from .autodetect import with_detected
from .entities import Entity, sort_entities, strip_text, utf16_len, utf16_slice
from .errors import bad_request
from .html import EntityParseError, parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .tgjson import FieldError, bool_field, int_field, object_field, string_field

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_RAW_TEXT_BYTES = 1 << 15

_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}
# Entities Telegram finds by itself: given ones are dropped.
_FOUND_BY_TELEGRAM = frozenset(
    "mention hashtag cashtag bot_command url email phone_number bank_card_number".split()  # noqa: SIM905
)
_PLAIN_TYPES = frozenset(
    "bold italic underline strikethrough spoiler code blockquote expandable_blockquote".split()  # noqa: SIM905
)
_PREVIEW_FLAGS = ("prefer_small_media", "prefer_large_media", "show_above_text")


def format_text(
    text: str,
    parse_mode: str | None,
    entities: Any,
    *,
    strict_ampersand: bool = False,
) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` (or else the given ``entities``), trim, add what Telegram finds."""
    if len(text.encode("utf-8")) > MAX_RAW_TEXT_BYTES:
        raise bad_request("Text is too long")
    mode = (parse_mode or "").lower()
    if text and mode and mode != "none":
        plain, found = _parse(text, mode, strict_ampersand)
    else:
        total = utf16_len(text)
        clipped = (_clip(e, total) for e in given_entities(entities))
        plain, found = text, [e for e in clipped if e["length"] > 0]
    plain, found = strip_text(plain, sort_entities(found))
    return plain, with_detected(plain, found)


def _parse(text: str, mode: str, strict_ampersand: bool) -> tuple[str, list[Entity]]:
    parser = _PARSERS.get(mode)
    if parser is None:
        raise bad_request("Unsupported parse_mode")
    try:
        if parser is parse_html:
            return parse_html(text, strict_ampersand=strict_ampersand)
        return parser(text)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def given_entities(value: Any) -> list[Entity]:
    """The ``entities`` a bot gave, read as Telegram reads them (see the module doc)."""
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        try:
            entity = _entity(item)
        except FieldError as exc:
            raise bad_request(f"Can't parse MessageEntity: {exc}") from None
        if entity is not None:
            out.append(entity)
    return out


def _entity(item: Any) -> Entity | None:
    if not isinstance(item, dict):
        raise FieldError("expected an Object")
    offset = int_field(item, "offset", required=True)
    length = int_field(item, "length", required=True)
    kind = string_field(item, "type", required=True)
    entity: Entity = {"type": kind, "offset": offset, "length": length}
    if not kind:
        raise FieldError("Type is not specified")
    if kind in _FOUND_BY_TELEGRAM:
        return None
    if kind in _PLAIN_TYPES:
        return entity
    if kind == "pre":
        language = string_field(item, "language")
        return {**entity, "language": language} if language else entity
    if kind == "text_link":
        return {**entity, "url": string_field(item, "url", required=True)}
    if kind == "text_mention":
        user = object_field(item, "user", required=True)
        assert user is not None  # required
        return {**entity, "user": {**user, "id": int_field(user, "id", required=True)}}
    if kind == "custom_emoji":
        emoji = int_field(item, "custom_emoji_id", required=True)
        return {**entity, "custom_emoji_id": str(emoji)}
    if kind == "date_time":
        entity["unix_time"] = int_field(item, "unix_time", required=True)
        date_format = string_field(item, "date_time_format")
        return {**entity, "date_time_format": date_format} if date_format else entity
    raise FieldError("Unsupported type specified")


def _clip(entity: Entity, total: int) -> Entity:
    offset = max(0, min(entity["offset"], total))
    end = max(offset, min(entity["offset"] + entity["length"], total))
    return {**entity, "offset": offset, "length": end - offset}


def message_text(
    params: dict[str, Any], *, strict_ampersand: bool = False
) -> tuple[str, list[Entity]]:
    """The ``text`` of sendMessage/editMessageText after parsing, with Telegram's limits."""
    raw = params.get("text") or ""
    if not raw:
        raise bad_request("message text is empty")
    text, entities = format_text(
        raw, params.get("parse_mode"), params.get("entities"), strict_ampersand=strict_ampersand
    )
    if not text:
        raise bad_request("Text must be non-empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


def caption_text(
    params: dict[str, Any], *, strict_ampersand: bool = False
) -> tuple[str | None, list[Entity]]:
    """The ``caption`` of a media message (None when absent or empty)."""
    if not params.get("caption"):
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


def link_preview_options(
    params: dict[str, Any], text: str, entities: list[Entity]
) -> dict[str, Any] | None:
    """The ``link_preview_options`` Telegram shows on the sent text message, or None.

    Telegram keeps the options a bot gave (Client::get_link_preview_options), and tdlib shows
    them on the message: ``is_disabled`` only when the text has a link that could have had a
    preview, the others whenever set. Without options nothing is shown (Telegram would have
    made a preview, which the sandbox does not fetch).
    """
    value = params.get("link_preview_options")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("Object expected as link preview options")
    try:
        shown: dict[str, Any] = {"is_disabled": bool_field(value, "is_disabled")}
        shown["url"] = string_field(value, "url")
        shown.update((flag, bool_field(value, flag)) for flag in _PREVIEW_FLAGS)
    except FieldError as exc:
        raise bad_request(str(exc)) from None
    if shown["is_disabled"] and not has_preview_link(text, entities):
        shown["is_disabled"] = False
    return {key: value for key, value in shown.items() if value} or None


def has_preview_link(text: str, entities: list[Entity]) -> bool:
    """Whether the text has a link Telegram could preview (tdlib's get_first_url): a URL with a
    path, query or fragment (a bare domain does not count) or a text link, not tg:// nor ftp."""
    for entity in entities:
        if entity["type"] == "url" and entity["length"] > 4:
            url = utf16_slice(text, entity["offset"], entity["length"])
        elif entity["type"] == "text_link":
            url = entity.get("url", "")
        else:
            continue
        if url.lower().startswith(("tg:", "ton:", "ftp:", "tonsite:")):
            continue
        if entity["type"] == "url" and not any(mark in url for mark in "/?#"):
            continue
        return True
    return False
