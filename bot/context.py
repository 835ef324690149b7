"""The callback context every handler receives, and the Application that carries our services.

Both through PTB's documented extension points: :class:`CommunityApplication` is given to
``ApplicationBuilder.application_class`` and :class:`BotContext` to ``ContextTypes``. Following
PTB's ``contexttypesbot.py`` example, :class:`BotContext` adds what every callback needs:
``context.storage`` (the data layer), ``context.settings``, ``context.member`` (the stored
person behind the update, or None) and ``context.i18n`` (their language). ``member`` and
``i18n`` are filled by :func:`bot.handlers.members.identify`, which runs first for every update.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.buttons import ClosedMessages
from bot.config import Settings
from bot.i18n import Translator, translator
from bot.semantic.meaning import Meaning
from bot.storage import Member, Storage

if TYPE_CHECKING:
    from bot.delivery.broadcasts import Broadcaster
    from bot.delivery.outbox import OutboxSender
    from bot.dialogs.dialog import Dialog
    from bot.matching.jobs import Scheduler

UserData = dict[str, Any]
PTBApplication = Application[
    ExtBot[None], "BotContext", UserData, UserData, UserData, JobQueue["BotContext"]
]


class CommunityApplication(PTBApplication):
    """PTB's Application, plus the bot's services: storage, settings, the outbox, the jobs,
    the dialogs (for showing a person where they are, see
    :func:`bot.handlers.menu.resume_dialogs`) and the messages whose buttons are gone."""

    storage: Storage
    settings: Settings
    outbox: OutboxSender
    scheduler: Scheduler
    broadcaster: Broadcaster
    meaning: Meaning  # the embedding model and the index of the listings' vectors

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dialogs: list[Dialog] = []
        self.closed = ClosedMessages()
        # Where "now" comes from (Unix seconds); tests replace it to move time forward.
        self.clock: Callable[[], float] = time.time

    def now(self) -> int:
        return int(self.clock())


class BotContext(CallbackContext[ExtBot[None], UserData, UserData, UserData]):
    """CallbackContext with the bot's services and the reader's member record and language."""

    def __init__(
        self,
        application: CommunityApplication,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.community = application
        self.member: Member | None = None
        self.i18n: Translator = translator(application.settings.default_locale)

    def now(self) -> int:
        """The current time in Unix seconds, from the application's clock."""
        return self.community.now()

    @property
    def storage(self) -> Storage:
        return self.community.storage

    @property
    def meaning(self) -> Meaning:
        return self.community.meaning

    @property
    def settings(self) -> Settings:
        return self.community.settings


async def reply(update: Update, text: str, **kwargs: Any) -> None:
    """Send a message to the chat the update came from, whether it was a message or a button.

    Button handlers answer their callback query themselves, exactly once (a second answer is
    an error at Telegram).
    """
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text, **kwargs)
