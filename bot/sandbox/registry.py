"""The table of implemented Bot API methods and the context each call gets.

Method modules (``api_messages``, ``api_bot``, ``api_updates``) register their handlers with
:func:`api_method`; a method that the spec knows but no module registers is answered with
``404 Not Found`` by the server, as Telegram answers a method it does not have.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import bad_request, forbidden
from .media import image_mime_type, image_size
from .spec import Upload, load_spec
from .state import BotRecord, Chat, FileRecord, SandboxState
from .tgjson import FieldError, bool_field, int_field

if TYPE_CHECKING:
    from .server import BotApiServer

Handler = Callable[["CallContext", dict[str, Any]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}

# Methods counted by the rate limiter: they post messages.
RATE_LIMITED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendLocation",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendMediaGroup",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "sendPaidMedia",
        "sendChecklist",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)

MAX_PHOTO_SIDES = 10_000
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for the Bot API method ``name`` (spelled as in the spec)."""
    if load_spec().methods.get(name) is None:
        raise ValueError(f"{name} is not a Bot API method")

    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


@dataclass
class CallContext:
    """What a method handler needs: the server, the calling bot and the uploaded files."""

    server: BotApiServer
    bot: BotRecord
    method: str
    uploads: dict[str, Upload] = field(default_factory=dict)

    @property
    def state(self) -> SandboxState:
        """The sandbox world."""
        return self.server.state

    @property
    def strict_ampersand(self) -> bool:
        """Whether a bare ``&`` in HTML is an error (the opt-in lint, see :mod:`.html`)."""
        return self.server.strict_html

    def chat(self, chat_id: int | str | None, *, allow_blocked: bool = False) -> Chat:
        """The private chat ``chat_id`` of this bot, with Telegram's 400/403 answers."""
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = self.bot.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None or not chat.started:
            raise bad_request("chat not found")
        if chat.account.deactivated:
            raise forbidden("user is deactivated")
        if chat.blocked and not allow_blocked:
            raise forbidden("bot was blocked by the user")
        return chat

    def reply_target(self, chat: Chat, params: dict[str, Any]) -> int | None:
        """The id of the message this one replies to (reply_parameters), checked."""
        reply = params.get("reply_parameters")
        if not reply:
            return None
        if not isinstance(reply, dict):
            raise bad_request("Object expected as reply parameters")
        try:
            message_id = int_field(reply, "message_id", required=True)
            without_reply = bool_field(reply, "allow_sending_without_reply")
        except FieldError as exc:
            raise bad_request(str(exc)) from None
        if message_id in chat.messages:
            return message_id
        if without_reply:
            return None
        raise bad_request("message to be replied not found")

    def input_file(self, value: Upload | str, kind: str) -> FileRecord:
        """Resolve an InputFile parameter: a new upload, ``attach://name`` or a file_id."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"There is no {kind} in the request")
            value = upload
        if isinstance(value, Upload):
            return self._store_upload(value, kind)
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")  # the sandbox downloads nothing
        record = self.state.files.get(value)
        if record is None or record.bot_id != self.bot.id:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad_request("type of file mismatch")
        return record

    def _store_upload(self, upload: Upload, kind: str) -> FileRecord:
        if not upload.data:
            raise bad_request("file must be non-empty")
        width = height = None
        mime_type = upload.content_type or None
        if kind == "photo":
            mime_type = image_mime_type(upload.data)
            size = image_size(upload.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = size
            if (
                width + height > MAX_PHOTO_SIDES
                or min(width, height) == 0
                or max(width, height) / min(width, height) > 20
            ):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        return self.state.store_file(
            self.bot.id,
            kind,
            upload.data,
            file_name=upload.filename or None,
            mime_type=mime_type,
            width=width,
            height=height,
        )
