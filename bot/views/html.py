"""Telegram's HTML: checking what a person wrote (an admin's announcement) before Telegram
sees it, and measuring a message the way Telegram counts it.

Telegram's HTML parse mode accepts only a few tags (b/strong, i/em, u/ins, s/strike/del,
span class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote, tg-emoji); any other tag
makes the whole message fail with 400 "can't parse entities". It decodes &lt; &gt; &amp; &quot;
and &#NNN; and keeps an "&" that starts none of them as text ("Q&A"), as tdlib does
(:func:`decode_entity`, which the local Bot API server uses too). :func:`check_html` finds a
mistake at composing time, with where it is, and measures the text as Telegram counts it
(visible characters, in UTF-16 units).
The composer also sends a preview to the admin, which Telegram itself checks.

:func:`visible_length` is the one measure of a message's length: cards, digests and the
composer all use it (a lenient reading of the same parser, for HTML the bot itself builds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Telegram's limits on a message's visible length, in UTF-16 units.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG = re.compile(r"<(/?)([^\s>]*)([^>]*)>")
_SPECIAL = re.compile(r"[<&]")
_ATTRIBUTE = re.compile(r"""\s*([^\s=>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#x([0-9a-fA-F]*)|#(\d*)|([a-zA-Z]*))")
_MAX_NUMERIC_ENTITY = 9  # tdlib reads at most "&#" and 7 digits


class MarkupError(ValueError):
    """The HTML would be refused; the message says what and where (in English)."""


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram limit."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Checked:
    visible: str  # the text as readers see it, tags gone and entities decoded

    @property
    def length(self) -> int:
        """Length as Telegram counts it (UTF-16 code units), leading/trailing space excluded."""
        return utf16_length(self.visible.strip())


def decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity starting at ``text[pos] == "&"``: (character, next position).

    As tdlib does: the ``;`` is optional, names are case-sensitive, a numeric entity has at most
    7 digits and a value in 1..0x10FFFE. None when there is no entity: the ``&`` is text.
    """
    match = _ENTITY_RE.match(text, pos)
    assert match is not None  # every part may be empty
    hexa, decimal, name = match.groups()
    if name is not None:
        char = _NAMED.get(name)
    elif match.end() - pos > _MAX_NUMERIC_ENTITY:
        char = None
    else:
        digits = hexa if hexa is not None else decimal
        code = int(digits, 16 if hexa is not None else 10) if digits else 0
        valid = 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        char = chr(code) if valid else None
    if char is None:
        return None
    end = match.end()
    return char, end + 1 if text.startswith(";", end) else end


def _entity(text: str, pos: int) -> tuple[str, int]:
    """The character the "&" at ``pos`` stands for, and where the text goes on."""
    return decode_entity(text, pos) or ("&", pos + 1)


def _attributes(raw: str) -> dict[str, str]:
    found = {}
    for match in _ATTRIBUTE.finditer(raw):
        value = match.group(2) or ""
        if value[:1] in "\"'":
            value = value[1:-1]
        found[match.group(1).lower()] = value
    return found


def _start_tag(name: str, raw_attributes: str, pos: int) -> None:
    if name not in TAGS:
        raise MarkupError(f"<{name}> at character {pos + 1} is not a tag Telegram supports")
    attributes = _attributes(raw_attributes)
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise MarkupError(f'<span> at character {pos + 1} needs class="tg-spoiler"')
    if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
        raise MarkupError(f"<tg-emoji> at character {pos + 1} needs a numeric emoji-id")


def _tag(text: str, pos: int, open_tags: list[tuple[str, int]]) -> int:
    """Read the tag at ``pos`` (checking it and its nesting); returns where it ends."""
    match = _TAG.match(text, pos)
    if match is None or not (match.group(1) or match.group(2)):
        raise MarkupError(f'"<" at character {pos + 1} opens no tag: write &lt; for "<"')
    closing, name, attributes = match.group(1), match.group(2).lower(), match.group(3)
    if closing:
        if attributes.strip():
            raise MarkupError(f"the end tag at character {pos + 1} is malformed")
        if not open_tags:
            raise MarkupError(f"</{name}> at character {pos + 1} closes nothing")
        expected, _ = open_tags.pop()
        if name and name != expected:
            raise MarkupError(f"</{name}> at character {pos + 1} should be </{expected}>")
    else:
        _start_tag(name, attributes, pos)
        open_tags.append((name, pos))
    return match.end()


def _read(text: str, *, strict: bool) -> Checked:
    """The visible text. Strict: :class:`MarkupError` for anything Telegram would refuse.
    Lenient: a "<" or "&" that starts no tag or entity is read as the character itself."""
    visible: list[str] = []
    open_tags: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        special = _SPECIAL.search(text, pos)
        end = special.start() if special else len(text)
        visible.append(text[pos:end])
        if special is None:
            break
        try:
            if text[end] == "&":
                decoded, pos = _entity(text, end)
                visible.append(decoded)
            else:
                pos = _tag(text, end, open_tags)
        except MarkupError:
            if strict:
                raise
            visible.append(text[end])
            pos = end + 1
    if open_tags and strict:
        name, at = open_tags[-1]
        raise MarkupError(f"<{name}> at character {at + 1} is never closed")
    return Checked("".join(visible))


def check_html(text: str) -> Checked:
    """The visible text of ``text``, or :class:`MarkupError` saying why Telegram would refuse."""
    return _read(text, strict=True)


def visible_length(markup: str) -> int:
    """The length Telegram counts for an HTML message: tags removed, entities decoded, in
    UTF-16 units."""
    return _read(markup, strict=False).length


def shorten(text: str, units: int) -> str:
    """``text`` cut to at most ``units`` UTF-16 code units, ending with an ellipsis if cut."""
    if utf16_length(text) <= units:
        return text
    kept: list[str] = []
    used = 0
    for ch in text:
        size = utf16_length(ch)
        if used + size > units - 1:
            break
        kept.append(ch)
        used += size
    return "".join(kept).rstrip() + "…"
