"""The sandbox world: people, bots, private chats, messages and files.

Everything lives in memory. A :class:`Chat` is the private chat between one bot and one person;
its message ids are shared by both sides and increase by one per message, as in Telegram. Each
change to a chat is appended to its event log with a server-wide sequence number, which is the
cursor that the user side (and the HTTP ``since`` parameter) waits on.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .media import new_file_ids
from .ratelimit import RateLimiter
from .signals import ChangeSignal
from .updates import UpdateQueue

JSON = dict[str, Any]


@dataclass
class Account:
    """A Telegram user (a person) of the sandbox."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    phone_number: str | None = None
    deactivated: bool = False

    def user_dict(self) -> JSON:
        """The Bot API ``User`` object."""
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.is_premium:
            out["is_premium"] = True
        return out

    def chat_dict(self) -> JSON:
        """The Bot API ``Chat`` object of the private chat with this person."""
        out: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass
class FileRecord:
    """A stored file; ``file_id`` is only valid for the bot that owns it (as in Telegram)."""

    file_id: str
    file_unique_id: str
    bot_id: int
    kind: str  # "photo" | "document"
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    file_path: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def photo_size(self) -> JSON:
        """The ``PhotoSize`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width or 0,
            "height": self.height or 0,
            "file_size": self.size,
        }

    def document(self) -> JSON:
        """The ``Document`` object."""
        return self._object(file_name=self.file_name, mime_type=self.mime_type)

    def file(self) -> JSON:
        """The ``File`` object (``file_path`` is set once getFile was called)."""
        return self._object(file_path=self.file_path)

    def _object(self, **optional: str | None) -> JSON:
        """The fields every file object has, and those of ``optional`` that are set."""
        out: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        out.update((name, value) for name, value in optional.items() if value)
        return out


@dataclass
class StoredMessage:
    """One message of a private chat, as stored (the current version, edits applied)."""

    message_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    link_preview_options: JSON | None = None
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[JSON] | None = None
    document: JSON | None = None
    location: JSON | None = None
    contact: JSON | None = None
    reply_markup: JSON | None = None
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    forward_origin: JSON | None = None
    protect_content: bool = False

    @property
    def has_media(self) -> bool:
        """True for photo and document messages (they have a caption, not a text)."""
        return self.photo is not None or self.document is not None

    @property
    def inline_markup(self) -> JSON | None:
        """The inline keyboard, if the reply markup is one (only those stay on a message)."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None


@dataclass
class ChatEvent:
    """A change of a chat: ``kind`` is "new", "edit", "delete", "callback_answer" or "action"."""

    seq: int
    kind: str
    message_id: int | None
    from_bot: bool
    data: JSON | None = None


@dataclass
class CallbackQueryRecord:
    """A callback query sent to a bot, waiting for answerCallbackQuery."""

    id: str
    user_id: int
    message_id: int
    data: str | None
    answered: bool = False


class Chat:
    """The private chat between one bot and one person."""

    def __init__(
        self,
        bot: BotRecord,
        account: Account,
        seq: Callable[[], int],
        wall_clock: Callable[[], float],
        on_event: Callable[[Chat, ChatEvent], None] | None = None,
    ):
        self.bot = bot
        self._on_event = on_event
        self.account = account
        self._seq = seq
        self._wall_clock = wall_clock
        self.started = False  # the person wrote to the bot at least once
        self.blocked = False  # the person blocked the bot
        self.messages: dict[int, StoredMessage] = {}
        self.next_message_id = 1
        self.events: list[ChatEvent] = []
        self.changed = ChangeSignal()
        self.menu_button: JSON | None = None
        self.reply_keyboard: JSON | None = None
        self.last_action: str | None = None

    @property
    def id(self) -> int:
        """The chat id (the person's user id, as for every private chat)."""
        return self.account.id

    def now(self) -> int:
        """Unix time for message dates."""
        return int(self._wall_clock())

    def record(
        self, kind: str, message_id: int | None, from_bot: bool, data: JSON | None = None
    ) -> ChatEvent:
        """Append an event and wake the waiters."""
        event = ChatEvent(self._seq(), kind, message_id, from_bot, data)
        self.events.append(event)
        self.changed.notify()
        if self._on_event is not None:
            self._on_event(self, event)
        return event

    def events_after(self, seq: int) -> list[ChatEvent]:
        """Events of this chat newer than ``seq``."""
        return self.events[bisect.bisect_right(self.events, seq, key=lambda e: e.seq) :]

    def add_message(self, from_bot: bool, **content: Any) -> StoredMessage:
        """Store a new message with the next id, record it and return it."""
        message = StoredMessage(self.next_message_id, from_bot, self.now(), **content)
        self.next_message_id += 1
        self.messages[message.message_id] = message
        if from_bot and message.reply_markup is not None:
            if "keyboard" in message.reply_markup:
                self.reply_keyboard = message.reply_markup
            elif "remove_keyboard" in message.reply_markup:
                self.reply_keyboard = None
        self.record("new", message.message_id, from_bot)
        return message

    def message_dict(self, message: StoredMessage, *, with_reply: bool = True) -> JSON:
        """The Bot API ``Message`` object for a stored message."""
        sender = self.bot.user_dict() if message.from_bot else self.account.user_dict()
        out: JSON = {
            "message_id": message.message_id,
            "from": sender,
            "chat": self.account.chat_dict(),
            "date": message.date,
        }
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if message.forward_origin is not None:
            out["forward_origin"] = message.forward_origin
        if message.protect_content:
            out["has_protected_content"] = True
        replied = self.messages.get(message.reply_to_message_id or 0)
        if with_reply and replied is not None:
            out["reply_to_message"] = self.message_dict(replied, with_reply=False)
        if message.text is not None:
            out["text"] = message.text
            if message.entities:
                out["entities"] = message.entities
            if message.link_preview_options:
                out["link_preview_options"] = message.link_preview_options
        for key in ("photo", "document", "location", "contact"):
            if getattr(message, key) is not None:
                out[key] = getattr(message, key)
        if message.caption:
            out["caption"] = message.caption
            if message.caption_entities:
                out["caption_entities"] = message.caption_entities
        if message.inline_markup is not None:
            out["reply_markup"] = message.inline_markup
        return out


class BotRecord:
    """A bot registered on the sandbox, with everything Telegram keeps per bot."""

    def __init__(self, token: str, username: str, first_name: str, limiter: RateLimiter):
        self.token = token
        self.id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.chats: dict[int, Chat] = {}
        self.updates = UpdateQueue()
        self.webhook: Any = None  # webhook.Webhook while one is set
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.default_menu_button: JSON | None = None
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.limiter = limiter

    def user_dict(self, full: bool = False) -> JSON:
        """The bot's ``User`` object (``full`` adds the getMe-only capability flags)."""
        out: JSON = {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }
        if full:
            out.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return out

    def push_update(self, kind: str, payload: JSON) -> int | None:
        """Queue an update of ``kind`` (None when the bot's allowed_updates filter it out)."""
        return self.updates.push(kind, payload)


class SandboxState:
    """All bots, people, chats and files of one sandbox server."""

    def __init__(self, wall_clock: Callable[[], float] = time.time):
        self.wall_clock = wall_clock
        self.bots: dict[str, BotRecord] = {}
        self.accounts: dict[int, Account] = {}
        self.files: dict[str, FileRecord] = {}
        self._seq = itertools.count(1)
        self.last_seq = 0
        self._user_ids = itertools.count(100_000_001)
        self._file_numbers = itertools.count(0)
        self.changed = ChangeSignal()  # any chat of any bot changed
        self.event_log: list[tuple[Chat, ChatEvent]] = []

    def next_seq(self) -> int:
        """The next server-wide event sequence number."""
        self.last_seq = next(self._seq)
        return self.last_seq

    def new_user_id(self) -> int:
        """A user id no account has yet."""
        while True:
            candidate = next(self._user_ids)
            if candidate not in self.accounts:
                return candidate

    def store_file(self, bot_id: int, kind: str, data: bytes, **details: Any) -> FileRecord:
        """Store ``data`` as a new file of ``kind`` owned by the bot ``bot_id``."""
        file_id, unique_id = new_file_ids(kind)
        record = FileRecord(file_id, unique_id, bot_id, kind, data, **details)
        self.files[file_id] = record
        return record

    def new_file_path(self, folder: str, extension: str) -> str:
        """A fresh ``folder/file_N.ext`` path for getFile (like Telegram's)."""
        return f"{folder}/file_{next(self._file_numbers)}{extension}"

    def bot_by_id(self, bot_id: int) -> BotRecord | None:
        """Find a bot by its numeric id."""
        return next((b for b in self.bots.values() if b.id == bot_id), None)

    def bot_by_name(self, name: str) -> BotRecord | None:
        """Find a bot by @username (with or without the @) or by id given as text."""
        name = name.lstrip("@").lower()
        for bot in self.bots.values():
            if bot.username.lower() == name or str(bot.id) == name:
                return bot
        return None

    def chat(self, bot: BotRecord, account: Account) -> Chat:
        """The private chat between ``bot`` and ``account`` (created, not started, if new)."""
        chat = bot.chats.get(account.id)
        if chat is None:
            chat = Chat(bot, account, self.next_seq, self.wall_clock, self._log_event)
            bot.chats[account.id] = chat
        return chat

    def _log_event(self, chat: Chat, event: ChatEvent) -> None:
        self.event_log.append((chat, event))
        self.changed.notify()

    def events_since(self, seq: int) -> list[tuple[Chat, ChatEvent]]:
        """Every chat event newer than ``seq``, oldest first."""
        start = bisect.bisect_right(self.event_log, seq, key=lambda pair: pair[1].seq)
        return self.event_log[start:]

    def reset(self) -> None:
        """Forget people, chats, files and updates; keep the registered bots."""
        self.accounts.clear()
        self.files.clear()
        self.event_log.clear()
        for bot in self.bots.values():
            bot.chats.clear()
            bot.updates.drop_all()
            bot.callback_queries.clear()
            bot.commands.clear()
            bot.descriptions.clear()
            bot.short_descriptions.clear()
            bot.names.clear()
            bot.default_menu_button = None
