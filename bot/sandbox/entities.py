"""Message entities: UTF-16 offsets, ordering, trimming, auto-detection and HTML rendering.

Telegram measures ``offset`` and ``length`` of entities in UTF-16 code units, so an emoji outside
the Basic Multilingual Plane counts as 2. Text limits (4096 for messages, 1024 for captions) are
counted the same way.
"""

from __future__ import annotations

import html as _html
import re
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

# Entities that auto-detected ones (url, mention, ...) may not overlap.
_OPAQUE = frozenset(
    {
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "url",
        "email",
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "phone_number",
    }
)

_DETECTORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("url", re.compile(r"(?<![\w@])(?:https?|tg)://[^\s<>\"']+")),
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])"),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{2,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}(?![\w#])")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w$])")),
)
_URL_TRAILING = ".,;:!?)]}'\""


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


def detect_entities(text: str, existing: list[Entity] | None = None) -> list[Entity]:
    """Find the entities Telegram adds by itself: URLs, /commands, @mentions, #hashtags, $CASHTAGS.

    Only URLs with a scheme are detected (Telegram also links bare domain names). Matches that
    overlap ``existing`` code/link-like entities, or each other, are skipped.
    """
    offsets = utf16_offsets(text)
    taken = [
        (e["offset"], e["offset"] + e["length"]) for e in existing or () if e["type"] in _OPAQUE
    ]
    found: list[Entity] = []
    for kind, pattern in _DETECTORS:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if kind == "url":
                while end > start and text[end - 1] in _URL_TRAILING:
                    end -= 1
            lo, hi = offsets[start], offsets[end]
            if hi <= lo or any(lo < t_hi and t_lo < hi for t_lo, t_hi in taken):
                continue
            taken.append((lo, hi))
            found.append({"type": kind, "offset": lo, "length": hi - lo})
    return found


def with_detected(text: str, entities: list[Entity]) -> list[Entity]:
    """``entities`` plus the auto-detected ones, in Telegram's order."""
    return sort_entities(entities + detect_entities(text, entities))


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
