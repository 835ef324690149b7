"""The callback context every handler receives, and the Application that carries our services.

Following PTB's ``contexttypesbot.py`` example, :class:`BotContext` adds what every callback
needs: ``context.storage`` (the data layer), ``context.settings``, ``context.member`` (the stored
person behind the update, or None) and ``context.i18n`` (their language). ``member`` and ``i18n``
are filled by :func:`bot.handlers.common.identify`, which runs first for every update.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.i18n import Translator, translator
from bot.semantic.meaning import Meaning
from bot.storage import Member, Storage

if TYPE_CHECKING:
    from bot.outbox import OutboxSender


class CommunityApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, plus the bot's storage and settings.

    Persistence is flushed after every update instead of only every ``update_interval``
    seconds, so conversation states and ``user_data`` reach the disk as soon as a reply is out.
    """

    storage: Storage
    settings: Settings
    outbox: OutboxSender
    meaning: Meaning  # the embedding model and the index of the listings' vectors
    # Where "now" comes from (Unix seconds); tests replace it to move time forward.
    clock: Callable[[], float] = staticmethod(time.time)  # type: ignore[assignment]

    def close_message(self, chat_id: int, message_id: int) -> None:
        """Remember that this message's buttons were taken away (see buttons_closed)."""
        closed = self.__dict__.setdefault("_closed_messages", {})
        now = time.monotonic()
        if len(closed) > 10_000:  # a press comes within seconds of the first: keep it short
            for key in [k for k, at in closed.items() if now - at > 600]:
                del closed[key]
        closed[(chat_id, message_id)] = now

    def buttons_closed(self, chat_id: int, message_id: int) -> bool:
        """True if a handler already took this message's buttons away: a second tap that was
        in flight, or a forged one, must not act again (or edit to the same text: a 400)."""
        return (chat_id, message_id) in self.__dict__.get("_closed_messages", {})

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        if self.persistence is not None and self.running:
            await self.update_persistence()


class BotContext(CallbackContext[ExtBot[None], dict[str, Any], dict[str, Any], dict[str, Any]]):
    """CallbackContext with the bot's services and the reader's member record and language."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.member: Member | None = None
        self.i18n: Translator = translator(self.settings.default_locale)

    def now(self) -> int:
        """The current time in Unix seconds, from the application's clock."""
        return int(self._community.clock())

    @property
    def storage(self) -> Storage:
        return self._community.storage

    @property
    def meaning(self) -> Meaning:
        return self._community.meaning

    @property
    def settings(self) -> Settings:
        return self._community.settings

    def close_message(self, chat_id: int, message_id: int) -> None:
        """Remember that a message's buttons were taken away: later taps on it are stale."""
        self._community.close_message(chat_id, message_id)

    @property
    def _community(self) -> CommunityApplication:
        return self.application  # type: ignore[return-value]
