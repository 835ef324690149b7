"""Checking HTML that a person wrote (an admin's announcement) before Telegram sees it.

Telegram's HTML parse mode accepts only a few tags (b/strong, i/em, u/ins, s/strike/del,
span class="tg-spoiler", tg-spoiler, a href, code, pre, blockquote, tg-emoji); any other tag
makes the whole message fail with 400 "can't parse entities". It decodes &lt; &gt; &amp; &quot;
and &#NNN; and keeps an "&" that starts none of them as text ("Q&A"), as the local Bot API
server does (:func:`bot.sandbox.html.decode_entity` follows tdlib). :func:`check_html` finds a
mistake at composing time, with where it is, and measures the text as Telegram counts it
(visible characters, in UTF-16 units).
The composer also sends a preview to the admin, which Telegram itself checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.sandbox.html import decode_entity

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
_ATTRIBUTE = re.compile(r"""\s*([^\s=>]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")


class MarkupError(ValueError):
    """The HTML would be refused; the message says what and where (in English)."""


@dataclass(frozen=True)
class Checked:
    visible: str  # the text as readers see it, tags gone and entities decoded

    @property
    def length(self) -> int:
        """Length as Telegram counts it (UTF-16 code units), leading/trailing space excluded."""
        return len(self.visible.strip().encode("utf-16-le")) // 2


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


def check_html(text: str) -> Checked:
    """The visible text of ``text``, or :class:`MarkupError` saying why Telegram would refuse."""
    visible: list[str] = []
    open_tags: list[tuple[str, int]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "&":
            decoded, pos = _entity(text, pos)
            visible.append(decoded)
            continue
        if char != "<":
            visible.append(char)
            pos += 1
            continue
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
        pos = match.end()
    if open_tags:
        name, at = open_tags[-1]
        raise MarkupError(f"<{name}> at character {at + 1} is never closed")
    return Checked("".join(visible))
