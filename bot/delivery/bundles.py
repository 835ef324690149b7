"""One message for several notifications that waited (quiet hours, the per-chat limit).

Each item keeps its own text, numbered, and its own buttons, each labelled with the item's
number, so every button still does what it did in the item's own message. What does not fit in
Telegram's 4096 characters (or :data:`MOST_ITEMS`) waits for the next bundle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.views.html import TEXT_LIMIT, visible_length

MOST_ITEMS = 10  # a short list; the keyboard stays readable on a phone


@dataclass(frozen=True)
class Bundle:
    """The bundled message and how many of the items offered it holds (the first ones)."""

    text: str
    keyboard: InlineKeyboardMarkup | None
    count: int


def _header(t: Translator, count: int) -> str:
    return t.ngettext(
        "📬 <b>{count} notification for you</b>",
        "📬 <b>{count} notifications for you</b>",
        count,
    ).format(count=t.number(count))


def _numbered(number: int, text: str) -> str:
    return f"<b>{number}.</b> {text}"


_ITEM_LABEL = re.compile(r"^([0-9]+) · ")  # a bundled button's label: its item's number first


def _buttons(
    number: int, keyboard: InlineKeyboardMarkup | None
) -> list[list[InlineKeyboardButton]]:
    if keyboard is None:
        return []
    return [
        [
            # The same button (callback data, URL) under a label saying which item it acts on.
            InlineKeyboardButton.de_json({**button.to_dict(), "text": f"{number} · {button.text}"})
            for button in row
        ]
        for row in keyboard.inline_keyboard
    ]


def _item_of(button: InlineKeyboardButton) -> int | None:
    numbered = _ITEM_LABEL.match(button.text)
    return int(numbered.group(1)) if numbered else None


def pressed_item(keyboard: InlineKeyboardMarkup | None, data: str | None) -> int | None:
    """The number of the bundled item whose button carries ``data``; None when ``keyboard``
    is not a bundle's (a bundle's buttons are all numbered) or no button carries it."""
    if keyboard is None or data is None:
        return None
    pressed = None
    for row in keyboard.inline_keyboard:
        for button in row:
            number = _item_of(button)
            if number is None:
                return None
            if button.callback_data == data:
                pressed = number
    return pressed


def without_item(keyboard: InlineKeyboardMarkup, number: int) -> InlineKeyboardMarkup | None:
    """The bundle's keyboard without item ``number``'s buttons (each row is one item's)."""
    rows = [row for row in keyboard.inline_keyboard if row and _item_of(row[0]) != number]
    return InlineKeyboardMarkup(rows) if rows else None


def bundle(t: Translator, items: list[tuple[str, InlineKeyboardMarkup | None]]) -> Bundle:
    """As many of ``items`` (text, keyboard) as fit, from the first; at least the first."""
    count = 0
    for count in range(min(len(items), MOST_ITEMS), 0, -1):
        text = _compose(t, items[:count])
        if visible_length(text) <= TEXT_LIMIT:
            break
    shown = items[: max(count, 1)]
    rows = [
        row
        for number, (_text, keyboard) in enumerate(shown, 1)
        for row in _buttons(number, keyboard)
    ]
    return Bundle(_compose(t, shown), InlineKeyboardMarkup(rows) if rows else None, len(shown))


def _compose(t: Translator, items: list[tuple[str, InlineKeyboardMarkup | None]]) -> str:
    parts = [_header(t, len(items))]
    parts += [_numbered(number, text) for number, (text, _k) in enumerate(items, 1)]
    return "\n\n".join(parts)
