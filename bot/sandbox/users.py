"""The user side: people who talk to a bot, as a Python API.

``server.create_user(...)`` returns a :class:`SandboxUser`, a person bound to one bot (use
:meth:`SandboxUser.with_bot` for another). Capabilities:

* act: :meth:`~SandboxUser.send_text` (``"/start l42"`` gets a ``bot_command`` entity),
  :meth:`~SandboxUser.send_location`, :meth:`~SandboxUser.send_photo`,
  :meth:`~SandboxUser.send_document`, :meth:`~SandboxUser.send_contact`,
  :meth:`~SandboxUser.press` (inline button by label, newest message first),
  :meth:`~SandboxUser.press_data` (any callback data on any message id: stale/forged presses),
  :meth:`~SandboxUser.tap_reply_button` (reply keyboard; location/contact request buttons),
  :meth:`~SandboxUser.edit_text`, :meth:`~SandboxUser.block_bot`,
  :meth:`~SandboxUser.unblock_bot`, :meth:`~SandboxUser.deactivate`;
* look: :attr:`~SandboxUser.messages` (the chat as the person sees it now),
  :attr:`~SandboxUser.last_bot_message`, :attr:`~SandboxUser.callback_answers`,
  :attr:`~SandboxUser.reply_keyboard`, :attr:`~SandboxUser.last_chat_action`,
  :meth:`~SandboxUser.visible_commands`;
* wait: :meth:`~SandboxUser.wait_for_bot_message` returns the next bot message that arrives
  after the person's last action (or after a :meth:`~SandboxUser.mark`), without polling;
  :meth:`~SandboxUser.wait_for_callback_answer`.

Every action produces the update Telegram would send (message, edited_message, callback_query,
my_chat_member) in the bot's queue, delivered by getUpdates or the webhook.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .autodetect import detect_entities
from .chatview import CallbackAnswer, ChatMessage
from .entities import strip_text, utf16_len
from .errors import SandboxUserError
from .media import guess_mime_type, image_mime_type, image_size
from .state import Account, BotRecord, CallbackQueryRecord, Chat

if TYPE_CHECKING:
    from .server import BotApiServer

MAX_TEXT = 4096


def _found_in(text: str) -> list[dict[str, Any]]:
    """The entities Telegram marks in what a person writes (phone numbers included)."""
    return detect_entities(text, phones=True)


class SandboxUser:
    """A person talking to one bot."""

    def __init__(self, server: BotApiServer, account: Account, bot: BotRecord):
        self.server = server
        self.account = account
        self.bot = bot
        self.chat: Chat = server.state.chat(bot, account)
        self._cursor = server.state.last_seq

    def __repr__(self) -> str:
        name = self.account.first_name
        return f"<SandboxUser {self.account.id} {name!r} -> @{self.bot.username}>"

    @property
    def id(self) -> int:
        """The person's user id (also the private chat id)."""
        return self.account.id

    @property
    def first_name(self) -> str:
        """The person's first name."""
        return self.account.first_name

    def with_bot(self, bot: str | int) -> SandboxUser:
        """The same person talking to another bot (token, @username or id)."""
        return SandboxUser(self.server, self.account, self.server.bot(bot))

    # ------------------------------------------------------------------ acting

    def _begin_action(self) -> None:
        if self.account.deactivated:
            raise SandboxUserError(f"user {self.id} is deactivated")
        if self.chat.blocked:
            raise SandboxUserError(
                f"user {self.id} blocked @{self.bot.username}; call unblock_bot() first"
            )
        self._cursor = self.server.state.last_seq
        self.chat.started = True

    def _post(self, **content: Any) -> ChatMessage:
        message = self.chat.add_message(False, **content)
        self.bot.push_update("message", self.chat.message_dict(message))
        return ChatMessage.of(message)

    async def send_text(self, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """Send a text message (commands, @mentions, links... get their entities, in order)."""
        self._begin_action()
        text, _ = strip_text(text, [])
        if not text or utf16_len(text) > MAX_TEXT:
            raise SandboxUserError("a text message has 1-4096 characters")
        return self._post(text=text, entities=_found_in(text), reply_to_message_id=reply_to)

    async def send_location(self, latitude: float, longitude: float) -> ChatMessage:
        """Share a location."""
        self._begin_action()
        return self._post(location={"latitude": latitude, "longitude": longitude})

    async def send_contact(self, phone_number: str | None = None) -> ChatMessage:
        """Share one's own contact (``phone_number`` defaults to the account's)."""
        self._begin_action()
        phone = phone_number or self.account.phone_number or f"+3360{self.id % 10**7:07d}"
        contact = {"phone_number": phone, "first_name": self.account.first_name, "user_id": self.id}
        if self.account.last_name:
            contact["last_name"] = self.account.last_name
        return self._post(contact=contact)

    async def send_photo(self, data: bytes, caption: str | None = None) -> ChatMessage:
        """Send a photo (PNG/JPEG/GIF/WebP bytes) with an optional caption."""
        self._begin_action()
        size = image_size(data)
        if size is None:
            raise SandboxUserError("send_photo needs PNG, JPEG, GIF or WebP bytes")
        record = self.server.state.store_file(
            self.bot.id,
            "photo",
            data,
            width=size[0],
            height=size[1],
            mime_type=image_mime_type(data),
        )
        return self._post(photo=[record.photo_size()], **self._caption(caption))

    async def send_document(
        self, data: bytes, file_name: str, caption: str | None = None, mime_type: str | None = None
    ) -> ChatMessage:
        """Send a file as a document."""
        self._begin_action()
        record = self.server.state.store_file(
            self.bot.id,
            "document",
            data,
            file_name=file_name,
            mime_type=mime_type or guess_mime_type(file_name),
        )
        return self._post(document=record.document(), **self._caption(caption))

    @staticmethod
    def _caption(caption: str | None) -> dict[str, Any]:
        if not caption:
            return {}
        return {"caption": caption, "caption_entities": _found_in(caption)}

    async def edit_text(self, message_id: int, text: str) -> ChatMessage:
        """Edit one's own text message (the bot gets an ``edited_message`` update)."""
        self._begin_action()
        message = self.chat.messages.get(message_id)
        if message is None or message.from_bot or message.text is None:
            raise SandboxUserError(f"message {message_id} is not a text message of this user")
        message.text = text
        message.entities = _found_in(text)
        message.edit_date = self.chat.now()
        self.chat.record("edit", message_id, False)
        self.bot.push_update("edited_message", self.chat.message_dict(message))
        return ChatMessage.of(message)

    async def press(self, label: str) -> str:
        """Press the inline button labelled ``label`` on the newest bot message showing one.

        Returns the callback query id. Raises :class:`SandboxUserError` if no visible message
        has such a button, or if the button does not send a callback (URL buttons...).
        """
        for message in reversed(self.messages):
            if not message.from_bot:
                continue
            for row in message.inline_keyboard:
                for button in row:
                    if button["text"] != label:
                        continue
                    if "callback_data" in button:
                        return await self.press_data(message.id, button["callback_data"])
                    kind = next((k for k in button if k != "text"), "?")
                    raise SandboxUserError(
                        f"button {label!r} is a {kind} button, it sends no callback query"
                    )
        shown = [m.summary() for m in self.messages if m.inline_keyboard]
        raise SandboxUserError(f"no inline button {label!r}; messages with buttons: {shown}")

    async def press_data(self, message_id: int, data: str) -> str:
        """Send a callback query with any ``data`` for any ``message_id`` (stale or forged)."""
        self._begin_action()
        query_id = str(secrets.randbits(63))
        message = self.chat.messages.get(message_id)
        if message is not None:
            message_json = self.chat.message_dict(message)
        else:  # deleted or never existed: Telegram sends an InaccessibleMessage
            message_json = {"chat": self.account.chat_dict(), "message_id": message_id, "date": 0}
        self.bot.callback_queries[query_id] = CallbackQueryRecord(
            query_id, self.id, message_id, data
        )
        self.chat.record(
            "callback_query", message_id, False, {"callback_query_id": query_id, "data": data}
        )
        self.bot.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.account.user_dict(),
                "message": message_json,
                "chat_instance": str((self.bot.id * 1_000_003 + self.id) % 2**63),
                "data": data,
            },
        )
        return query_id

    async def tap_reply_button(
        self,
        label: str,
        *,
        location: tuple[float, float] | None = None,
        phone_number: str | None = None,
    ) -> ChatMessage:
        """Tap a button of the reply keyboard currently shown.

        A ``request_location`` button sends ``location`` (required); a ``request_contact``
        button sends the person's contact; a plain button sends its label as text.
        """
        keyboard = self.reply_keyboard
        if keyboard is None:
            raise SandboxUserError("the chat shows no reply keyboard")
        for row in keyboard:
            for button in row:
                text = button if isinstance(button, str) else button["text"]
                if text == label:
                    return await self._tap(button, label, location, phone_number)
        labels = [b if isinstance(b, str) else b["text"] for row in keyboard for b in row]
        raise SandboxUserError(f"no reply button {label!r}; the keyboard shows {labels}")

    async def _tap(
        self,
        button: Any,
        label: str,
        location: tuple[float, float] | None,
        phone_number: str | None,
    ) -> ChatMessage:
        markup = self.chat.reply_keyboard or {}
        if isinstance(button, dict) and button.get("request_location"):
            if location is None:
                raise SandboxUserError(f"{label!r} requests a location: pass location=(lat, lon)")
            sent = await self.send_location(*location)
        elif isinstance(button, dict) and button.get("request_contact"):
            sent = await self.send_contact(phone_number)
        elif isinstance(button, dict) and any(
            button.get(k)
            for k in (
                "request_users",
                "request_chat",
                "request_poll",
                "web_app",
                "request_managed_bot",
            )
        ):
            raise SandboxUserError(f"{label!r} needs a client feature the sandbox lacks")
        else:
            sent = await self.send_text(label)
        if markup.get("one_time_keyboard"):
            self.chat.reply_keyboard = None
        return sent

    def block_bot(self) -> None:
        """Block the bot: its sends now fail with 403; it gets a my_chat_member update."""
        if not self.chat.blocked:
            self.chat.blocked = True
            self._member_update("member", "kicked")

    def unblock_bot(self) -> None:
        """Unblock the bot (it gets a my_chat_member update)."""
        if self.chat.blocked:
            self.chat.blocked = False
            self._member_update("kicked", "member")

    def deactivate(self) -> None:
        """Delete the account: every bot now gets ``403 Forbidden: user is deactivated``."""
        self.account.deactivated = True

    def _member_update(self, old: str, new: str) -> None:
        def member(status: str) -> dict[str, Any]:
            out: dict[str, Any] = {"status": status, "user": self.bot.user_dict()}
            if status == "kicked":
                out["until_date"] = 0
            return out

        self.chat.record("member", None, False, {"status": new})
        if self.chat.started:
            self.bot.push_update(
                "my_chat_member",
                {
                    "chat": self.account.chat_dict(),
                    "from": self.account.user_dict(),
                    "date": self.chat.now(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                },
            )

    # ------------------------------------------------------------------ looking

    @property
    def messages(self) -> list[ChatMessage]:
        """The chat as the person sees it now (oldest first, deleted messages gone)."""
        return [ChatMessage.of(m) for m in self.chat.messages.values()]

    @property
    def last_bot_message(self) -> ChatMessage | None:
        """The newest visible message from the bot."""
        return next(
            (ChatMessage.of(m) for m in reversed(self.chat.messages.values()) if m.from_bot), None
        )

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to this person's button presses, oldest first."""
        return [
            self._answer(e.data or {}, e.message_id)
            for e in self.chat.events
            if e.kind == "callback_answer"
        ]

    @staticmethod
    def _answer(data: dict[str, Any], message_id: int | None) -> CallbackAnswer:
        return CallbackAnswer(
            data["callback_query_id"],
            message_id,
            data.get("text"),
            bool(data.get("show_alert")),
            data.get("url"),
        )

    @property
    def reply_keyboard(self) -> list[list[Any]] | None:
        """Rows of the reply keyboard the chat shows, or None."""
        markup = self.chat.reply_keyboard
        return markup["keyboard"] if markup else None

    @property
    def last_chat_action(self) -> str | None:
        """The last sendChatAction of the bot ("typing"...)."""
        return self.chat.last_action

    def visible_commands(self) -> list[dict[str, str]]:
        """The command menu this person sees: chat scope, then all private chats, then
        default, each in the person's language before the default language."""
        language = (self.account.language_code or "")[:2]
        for scope in (f"chat:{self.id}", "all_private_chats", "default"):
            for lang in (language, ""):
                commands = self.bot.commands.get((scope, lang))
                if commands:
                    return list(commands)
        return []

    def describe_chat(self) -> str:
        """The chat as text, one message per line."""
        lines = [m.summary() for m in self.messages]
        return "\n".join(lines) if lines else "(the chat is empty)"

    # ------------------------------------------------------------------ waiting

    def mark(self) -> int:
        """A cursor: later waits with ``after=mark`` only see what happens from now on."""
        return self.server.state.last_seq

    async def wait_for_bot_message(
        self,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (a documented part of the user API)
        *,
        include_edits: bool = False,
        after: int | None = None,
    ) -> ChatMessage:
        """The next bot message that arrives after the last action (or ``after``).

        Messages already returned by an earlier wait are not returned again. With
        ``include_edits`` an edit of a bot message counts too. Raises :class:`TimeoutError`
        describing what the chat shows if nothing matching arrives within ``timeout`` s.
        """
        cursor = self._cursor if after is None else after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.chat.events_after(cursor):
                cursor = event.seq
                wanted = event.kind == "new" or (include_edits and event.kind == "edit")
                message = self.chat.messages.get(event.message_id or 0)
                if not (event.from_bot and wanted and message is not None):
                    continue
                view = ChatMessage.of(message)
                if predicate is None or predicate(view):
                    self._cursor = event.seq
                    return view
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.chat.changed.wait(remaining):
                raise TimeoutError(
                    f"no new bot message for user {self.id} within {timeout}s"
                    f"{' matching the predicate' if predicate else ''}; the chat shows:\n"
                    f"{self.describe_chat()}"
                )

    async def wait_for_callback_answer(
        self,
        query_id: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (same style as wait_for_bot_message)
    ) -> CallbackAnswer:
        """Wait until the bot answers ``query_id`` (default: the newest press)."""
        if query_id is None:
            presses = [e for e in self.chat.events if e.kind == "callback_query"]
            if not presses:
                raise SandboxUserError("no button was pressed")
            query_id = (presses[-1].data or {})["callback_query_id"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for answer in self.callback_answers:
                if answer.callback_query_id == query_id:
                    return answer
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self.chat.changed.wait(remaining):
                raise TimeoutError(f"callback query {query_id} was not answered in {timeout}s")
