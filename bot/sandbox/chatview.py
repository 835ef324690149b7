"""What a person sees in a chat: :class:`ChatMessage` views and :class:`CallbackAnswer`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .entities import render_html
from .state import StoredMessage


@dataclass(frozen=True)
class ChatMessage:
    """A message as the person sees it (edits applied)."""

    id: int
    from_bot: bool
    date: int
    text: str | None
    entities: tuple[dict[str, Any], ...]
    caption: str | None
    caption_entities: tuple[dict[str, Any], ...]
    html: str
    photo: tuple[str, ...]  # file ids, largest last
    document: dict[str, Any] | None
    location: dict[str, Any] | None
    contact: dict[str, Any] | None
    reply_markup: dict[str, Any] | None
    edit_date: int | None
    reply_to: int | None

    @classmethod
    def of(cls, message: StoredMessage) -> ChatMessage:
        """Build the view of a stored message."""
        shown = message.text if message.text is not None else (message.caption or "")
        shown_entities = message.entities if message.text is not None else message.caption_entities
        return cls(
            id=message.message_id,
            from_bot=message.from_bot,
            date=message.date,
            text=message.text,
            entities=tuple(message.entities),
            caption=message.caption,
            caption_entities=tuple(message.caption_entities),
            html=render_html(shown, shown_entities),
            photo=tuple(size["file_id"] for size in message.photo or ()),
            document=message.document,
            location=message.location,
            contact=message.contact,
            reply_markup=message.reply_markup,
            edit_date=message.edit_date,
            reply_to=message.reply_to_message_id,
        )

    @property
    def edited(self) -> bool:
        """True once the message was edited."""
        return self.edit_date is not None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (empty without an inline keyboard)."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[dict[str, Any]]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def button_labels(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        return [button["text"] for row in self.inline_keyboard for button in row]

    def summary(self) -> str:
        """One line describing the message (used in timeout messages)."""
        who = "bot" if self.from_bot else "user"
        if self.text is not None:
            body = repr(self.text if len(self.text) <= 80 else self.text[:77] + "...")
        elif self.photo:
            body = f"[photo] {self.caption or ''}".strip()
        elif self.document:
            body = f"[document {self.document.get('file_name', '')}] {self.caption or ''}".strip()
        elif self.location:
            body = f"[location {self.location['latitude']}, {self.location['longitude']}]"
        else:
            body = "[message]"
        buttons = f" buttons={self.button_labels}" if self.button_labels else ""
        return f"#{self.id} {who}{' (edited)' if self.edited else ''}: {body}{buttons}"

    def to_json(self) -> dict[str, Any]:
        """JSON for the HTTP API."""
        return {
            "id": self.id,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text,
            "entities": list(self.entities),
            "caption": self.caption,
            "caption_entities": list(self.caption_entities),
            "html": self.html,
            "photo": list(self.photo),
            "document": self.document,
            "location": self.location,
            "contact": self.contact,
            "reply_markup": self.reply_markup,
            "edit_date": self.edit_date,
            "reply_to": self.reply_to,
        }


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answer to one of the person's button presses."""

    callback_query_id: str
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
