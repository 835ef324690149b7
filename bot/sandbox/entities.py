"""Message entities: UTF-16 offsets, ordering, trimming and HTML rendering.

What Telegram detects by itself (links, commands, mentions...) is in :mod:`.autodetect`.

Telegram measures ``offset`` and ``length`` of entities in UTF-16 code units, so an emoji outside
the Basic Multilingual Plane counts as 2. Text limits (4096 for messages, 1024 for captions) are
counted the same way.
"""

from __future__ import annotations

import html as _html
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

Entity = dict[str, Any]

# tdlib's ordering priorities (MessageEntity::get_type_priority): among entities with the same
# offset and length, the lower number comes first.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's unit for lengths and offsets)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def utf16_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-16 offset of ``text[i]``; the last item is the total length."""
    offsets = [0] * (len(text) + 1)
    pos = 0
    for i, ch in enumerate(text):
        offsets[i] = pos
        pos += 2 if ord(ch) > 0xFFFF else 1
    offsets[len(text)] = pos
    return offsets


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` covered by an entity (``offset``/``length`` in UTF-16 units)."""
    raw = text.encode("utf-16-le")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities like Telegram: by offset, longer first, then by type priority."""
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)),
    )


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim leading/trailing whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            out.append({**entity, "offset": start, "length": end - start})
    return stripped, out


@dataclass
class _Span:
    start: int
    end: int
    open: str
    close: str


def _tags(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "pre":
        if entity.get("language"):
            lang = _html.escape(entity["language"], quote=True)
            return f'<pre><code class="language-{lang}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{_html.escape(entity.get("url", ""), quote=True)}">', "</a>"
    if kind == "text_mention":
        user_id = (entity.get("user") or {}).get("id", 0)
        return f'<a href="tg://user?id={user_id}">', "</a>"
    if kind == "custom_emoji":
        emoji_id = _html.escape(str(entity.get("custom_emoji_id", "")), quote=True)
        return f'<tg-emoji emoji-id="{emoji_id}">', "</tg-emoji>"
    return None  # url, mention, bot_command, hashtag, ...: shown as plain text


def render_html(text: str, entities: list[Entity] | None) -> str:
    """Render ``text`` + ``entities`` back to Telegram HTML (text escaped, tags well nested)."""
    offsets = utf16_offsets(text)
    index_of = {off: i for i, off in enumerate(offsets)}
    starts: dict[int, list[_Span]] = defaultdict(list)
    for entity in sort_entities(list(entities or ())):
        tags = _tags(entity)
        start = index_of.get(entity["offset"])
        end = index_of.get(entity["offset"] + entity["length"])
        if tags is None or start is None or end is None or end <= start:
            continue
        starts[start].append(_Span(start, end, *tags))
    out: list[str] = []
    stack: list[_Span] = []
    for i in range(len(text) + 1):
        if any(span.end == i for span in stack):
            reopen: list[_Span] = []
            while any(span.end == i for span in stack):
                span = stack.pop()
                out.append(span.close)
                if span.end != i:
                    reopen.append(span)
            for span in reversed(reopen):
                out.append(span.open)
                stack.append(span)
        for span in starts.get(i, ()):
            out.append(span.open)
            stack.append(span)
        if i < len(text):
            out.append(_html.escape(text[i], quote=False))
    return "".join(out)
