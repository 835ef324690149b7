"""Telegram's ``MarkdownV2`` and legacy ``Markdown`` parse modes -> (plain text, entities).

MarkdownV2 follows tdlib's ``parse_markdown_v2``: ``*bold*``, ``_italic_``, ``__underline__``,
``~strikethrough~``, ``||spoiler||``, ``[text](url)``, ``![emoji](tg://emoji?id=N)``,
`` `code` ``, fenced ``pre`` blocks with an optional language, and ``>`` block quotes at the start
of lines (the ``**>`` expandable form is not supported). Every character of
``_*[]()~`>#+-=|{}.!`` that is not markup must be escaped with ``\\``; otherwise the error is
Telegram's ``Character '.' is reserved and must be escaped with the preceding '\\'``.

Legacy Markdown supports ``*bold*``, ``_italic_``, `` `code` ``, fenced ``pre`` blocks and
``[text](url)``, with errors like ``Can't find end of the entity starting at byte offset 3``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .entities import Entity, utf16_len
from .html import EntityParseError

_RESERVED = "_*[]()~`>#+-=|{}.!"
_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    type: str
    offset16: int
    start: int  # index in the source where the markup began
    out_len: int  # number of output characters when it began
    language: str | None = None


class _V2:
    def __init__(self, text: str):
        self.text = text
        self.out: list[str] = []
        self.out16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []
        self.quote_start: int | None = None

    def at(self, pos: int) -> str:
        return self.text[pos] if 0 <= pos < len(self.text) else ""

    def byte_offset(self, pos: int) -> int:
        return len(self.text[:pos].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.out16 += utf16_len(chunk)

    def reserved(self, char: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )

    def run(self) -> tuple[str, list[Entity]]:
        pos = 0
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char == "\\" and self.at(pos + 1) and 0 < ord(self.at(pos + 1)) <= 126:
                self.emit(text[pos + 1])
                pos += 2
                continue
            in_code = bool(self.stack) and self.stack[-1].type in ("code", "pre")
            if not in_code and (pos == 0 or text[pos - 1] == "\n"):
                if char == ">":
                    if self.quote_start is None:
                        self.quote_start = self.out16
                    pos += 1
                    continue
                self._close_quote()
            if char not in ("`" if in_code else _RESERVED):
                self.emit(char)
                pos += 1
                continue
            pos = self._end(pos) if self.stack and self._ends_top(pos) else self._begin(pos)
        if self.stack:
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_TYPE_NAMES[top.type]} entity at byte "
                f"offset {self.byte_offset(top.start)}"
            )
        self._close_quote()
        return "".join(self.out), self.entities

    def _close_quote(self) -> None:
        if self.quote_start is not None and self.out16 > self.quote_start:
            length = self.out16 - self.quote_start
            text = "".join(self.out)
            if text.endswith("\n"):
                length -= 1
            if length > 0:
                self.entities.append(
                    {"type": "blockquote", "offset": self.quote_start, "length": length}
                )
        self.quote_start = None

    def _ends_top(self, pos: int) -> bool:
        char, nxt = self.text[pos], self.at(pos + 1)
        kind = self.stack[-1].type
        return {
            "bold": char == "*",
            "italic": char == "_" and nxt != "_",
            "underline": char == "_" and nxt == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and nxt == "|",
            "code": char == "`",
            "pre": self.text.startswith("```", pos),
            "text_link": char == "]",
            "custom_emoji": char == "]",
        }[kind]

    def _begin(self, pos: int) -> int:
        text, char = self.text, self.text[pos]
        start = pos
        language = None
        if char == "_" and self.at(pos + 1) == "_":
            kind, pos = "underline", pos + 2
        elif char in "_*~":
            kind, pos = {"_": "italic", "*": "bold", "~": "strikethrough"}[char], pos + 1
        elif char == "|" and self.at(pos + 1) == "|":
            kind, pos = "spoiler", pos + 2
        elif char == "[":
            kind, pos = "text_link", pos + 1
        elif char == "!" and self.at(pos + 1) == "[":
            kind, pos = "custom_emoji", pos + 2
        elif text.startswith("```", pos):
            kind, pos = "pre", pos + 3
            end = pos
            while end < len(text) and not text[end].isspace() and text[end] != "`":
                end += 1
            if end != pos and end < len(text) and text[end] != "`":
                language, pos = text[pos:end], end
            if self.at(pos) in ("\n", "\r"):
                pair = self.at(pos) + self.at(pos + 1)
                pos += 2 if pair in ("\r\n", "\n\r") else 1
        elif char == "`":
            kind, pos = "code", pos + 1
        else:
            raise self.reserved(char)
        self.stack.append(_Open(kind, self.out16, start, len(self.out), language))
        return pos

    def _end(self, pos: int) -> int:
        opened = self.stack.pop()
        entity: Entity = {
            "type": opened.type,
            "offset": opened.offset16,
            "length": self.out16 - opened.offset16,
        }
        if opened.type in ("underline", "spoiler"):
            pos += 2
        elif opened.type == "pre":
            pos += 3
            if opened.language:
                entity["language"] = opened.language
        elif opened.type in ("text_link", "custom_emoji"):
            pos += 1
            if self.at(pos) == "(":
                url, pos = self._url(pos + 1)
            else:
                url = "".join(self.out[opened.out_len :])
            if opened.type == "custom_emoji":
                prefix = "tg://emoji?id="
                if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity["custom_emoji_id"] = url[len(prefix) :]
            else:
                entity["url"] = url
        else:
            pos += 1
        if entity["length"] > 0 and (opened.type != "text_link" or entity["url"]):
            self.entities.append(entity)
        return pos

    def _url(self, pos: int) -> tuple[str, int]:
        begin = pos
        chunks: list[str] = []
        while pos < len(self.text) and self.text[pos] != ")":
            if self.text[pos] == "\\" and self.at(pos + 1) and 0 < ord(self.at(pos + 1)) <= 126:
                chunks.append(self.text[pos + 1])
                pos += 2
                continue
            chunks.append(self.text[pos])
            pos += 1
        if pos >= len(self.text):
            raise EntityParseError(
                f"Can't find end of a URL at byte offset {self.byte_offset(begin)}"
            )
        return "".join(chunks), pos + 1


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2; raises :class:`EntityParseError` with Telegram's wording."""
    return _V2(text).run()


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (no nesting, ``\\`` escapes only ``_*`[``)."""
    out: list[str] = []
    out16 = 0
    entities: list[Entity] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text) and text[pos + 1] in "_*`[":
            out.append(text[pos + 1])
            out16 += 1
            pos += 2
            continue
        if char not in "_*`[":
            out.append(char)
            out16 += utf16_len(char)
            pos += 1
            continue
        begin = pos
        is_pre = text.startswith("```", pos)
        closing = "```" if is_pre else {"[": "]"}.get(char, char)
        pos += len(closing)
        language = None
        if is_pre:
            end = pos
            while end < len(text) and not text[end].isspace() and text[end] != "`":
                end += 1
            if end != pos and end < len(text) and text[end] != "`":
                language, pos = text[pos:end], end
            if pos < len(text) and text[pos] == "\n":
                pos += 1
        end = text.find(closing, pos)
        if end < 0:
            raise EntityParseError(
                "Can't find end of the entity starting at byte offset "
                f"{len(text[:begin].encode('utf-8'))}"
            )
        inner = text[pos:end]
        pos = end + len(closing)
        entity: Entity = {"offset": out16, "length": utf16_len(inner)}
        if char == "[":
            url_end = text.find(")", pos) if text.startswith("(", pos) else -1
            if url_end < 0:
                entity = {}
            else:
                entity.update(type="text_link", url=text[pos + 1 : url_end])
                pos = url_end + 1
        elif is_pre:
            entity["type"] = "pre"
            if language:
                entity["language"] = language
        else:
            entity["type"] = {"*": "bold", "_": "italic", "`": "code"}[char]
        out.append(inner)
        out16 += utf16_len(inner)
        if entity and entity["length"] > 0:
            entities.append(entity)
    return "".join(out), entities
