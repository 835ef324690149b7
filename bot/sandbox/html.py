"""Telegram's HTML parse mode: markup -> (plain text, entities), with Telegram's error messages.

Supported, as documented at https://core.telegram.org/bots/api#html-style: ``b``/``strong``,
``i``/``em``, ``u``/``ins``, ``s``/``strike``/``del``, ``span class="tg-spoiler"``,
``tg-spoiler``, ``a href``, ``code``, ``pre`` (optionally wrapping ``code class="language-x"``),
``blockquote`` (optionally ``expandable``) and ``tg-emoji emoji-id``; the named entities
``&lt; &gt; &amp; &quot;`` and numeric ``&#NNN;`` / ``&#xHH;``.

The scanner follows tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp) so that the error
texts match Telegram's (``Unsupported start tag "img" at byte offset 5``, ``Can't find end tag
corresponding to start tag "b"``...); byte offsets count UTF-8 bytes of the original markup,
entity offsets UTF-16 units.

A bare ``&``: the documentation says every ``&`` that is not part of an entity "must be
replaced" by ``&amp;``, but Telegram does not enforce it. tdlib's ``decode_html_entity`` reads
``&name`` / ``&#NNN`` / ``&#xHH`` (the ``;`` optional) and, where that is no entity it knows,
parse_html keeps the ``&`` as text: "Tom & Jerry" and "AT&T" are sent as they are. The sandbox
does the same. ``strict_ampersand=True`` (the server's opt-in ``strict_html`` lint) refuses
such an ``&`` instead, for a bot that wants to be sure it escapes what people type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.views.html import decode_entity

from .entities import Entity, utf16_len, utf16_slice

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9.\-]*")


class EntityParseError(ValueError):
    """Markup that Telegram refuses; ``str(exc)`` is the text after "can't parse entities: "."""


@dataclass
class _Open:
    tag: str
    argument: str | None
    offset: int  # UTF-16 offset in the output where the entity starts
    expandable: bool = False


class _Parser:
    def __init__(self, text: str, strict_ampersand: bool):
        self.text = text
        self.strict_ampersand = strict_ampersand
        self.pos = 0
        self.out: list[str] = []
        self.out16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.text[:pos].encode("utf-8"))

    def error(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out16 += utf16_len(chunk)

    def run(self) -> tuple[str, list[Entity]]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "&":
                decoded = decode_entity(text, self.pos)
                if decoded is not None:
                    self.emit(decoded[0])
                    self.pos = decoded[1]
                    continue
                if self.strict_ampersand:
                    raise self.error(
                        f'Character "&" at byte offset {self.byte_offset(self.pos)} is not a '
                        'valid HTML entity; escape it as "&amp;"'
                    )
            if char != "<":
                self.emit(char)
                self.pos += 1
                continue
            if text.startswith("</", self.pos):
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise self.error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        return "".join(self.out), self.entities

    # -------------------------------------------------------------- tags

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def start_tag(self) -> None:
        text = self.text
        begin = self.pos
        self.pos += 1
        while self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] != ">":
            self.pos += 1
        if self.pos >= len(text):
            raise self.error(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        tag = text[begin + 1 : self.pos].lower()
        if tag not in SUPPORTED_TAGS:
            raise self.error(
                f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}'
            )
        opened = _Open(tag, None, self.out16)
        while True:
            self._skip_spaces()
            if self.pos >= len(text):
                raise self.error(
                    f'Unclosed start tag "{tag}" at byte offset {self.byte_offset(begin)}'
                )
            if text[self.pos] == ">":
                break
            self._attribute(opened, begin)
        self.pos += 1  # the ">"
        if tag == "span" and opened.argument != "tg-spoiler":
            raise self.error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(opened)

    def _attribute(self, opened: _Open, begin: int) -> None:
        text = self.text
        name_start = self.pos
        while (
            self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] not in "=>/\"'"
        ):
            self.pos += 1
        name = text[name_start : self.pos].lower()
        if not name:
            raise self.error(
                f'Empty attribute name in the tag "{opened.tag}" at byte offset '
                f"{self.byte_offset(begin)}"
            )
        self._skip_spaces()
        if self.pos >= len(text) or text[self.pos] != "=":
            if opened.tag == "blockquote" and name == "expandable":
                opened.expandable = True
            return
        self.pos += 1
        self._skip_spaces()
        if self.pos >= len(text):
            raise self.error(
                f'Unclosed start tag "{opened.tag}" at byte offset {self.byte_offset(begin)}'
            )
        value = self._attribute_value()
        if opened.tag == "code" and name == "class" and value.startswith("language-"):
            opened.argument = value[len("language-") :]
        elif (opened.tag, name) in (("a", "href"), ("span", "class"), ("tg-emoji", "emoji-id")):
            opened.argument = value

    def _attribute_value(self) -> str:
        text = self.text
        quote = text[self.pos]
        if quote not in "\"'":
            match = _UNQUOTED_VALUE.match(text, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] != ">":
                raise self.error(
                    f"Unexpected end of name token at byte offset {self.byte_offset(self.pos)}"
                )
            return match.group().lower()
        self.pos += 1
        chunks: list[str] = []
        while self.pos < len(text) and text[self.pos] != quote:
            if text[self.pos] == "&":
                decoded = decode_entity(text, self.pos)
                if decoded is not None:
                    chunks.append(decoded[0])
                    self.pos = decoded[1]
                    continue
            chunks.append(text[self.pos])
            self.pos += 1
        self.pos += 1  # closing quote (or end of text, caught by the caller)
        return "".join(chunks)

    def end_tag(self) -> None:
        text = self.text
        begin = self.pos
        self.pos += 2
        name_start = self.pos
        while self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] != ">":
            self.pos += 1
        name = text[name_start : self.pos].lower()
        self._skip_spaces()
        if self.pos >= len(text) or text[self.pos] != ">":
            raise self.error(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        if not self.stack:
            raise self.error(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise self.error(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, expected "
                f'"</{opened.tag}>", found "</{name}>"'
            )
        self._close(opened)

    def _close(self, opened: _Open) -> None:
        length = self.out16 - opened.offset
        if length <= 0:
            return
        entity: Entity = {"offset": opened.offset, "length": length}
        tag = opened.tag
        if tag in _SIMPLE or tag == "span":  # span: only class="tg-spoiler" gets here
            entity["type"] = _SIMPLE.get(tag, "spoiler")
        elif tag == "a":
            url = opened.argument
            if url is None:  # tdlib uses the link text as the URL
                url = utf16_slice("".join(self.out), opened.offset, length)
            if not url:
                return
            entity.update(type="text_link", url=url)
        elif tag == "tg-emoji":
            if not (opened.argument or "").isdigit():
                raise self.error("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=opened.argument)
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if opened.expandable else "blockquote"
        elif tag == "pre":
            last = self.entities[-1] if self.entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == opened.offset
                and last["length"] == length
            ):
                last["type"] = "pre"  # <pre><code class="language-x">: one pre entity
                return
            entity["type"] = "pre"
        else:  # code
            entity["type"] = "code"
            if (
                opened.argument
                and self.stack
                and self.stack[-1].tag == "pre"
                and self.stack[-1].offset == opened.offset
            ):
                entity["language"] = opened.argument
        self.entities.append(entity)


def parse_html(text: str, *, strict_ampersand: bool = False) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities (UTF-16 offsets, Telegram's order is
    applied by the caller). Raises :class:`EntityParseError` with Telegram's wording."""
    return _Parser(text, strict_ampersand).run()
