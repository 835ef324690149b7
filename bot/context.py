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
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, NetworkError
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
    :func:`bot.dialogs.dialog.resume_dialogs`) and the messages whose buttons are gone."""

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


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Send a message to the chat the update came from, whether it was a message or a button;
    while a dialog shows a question (:func:`showing`), the first message may instead become
    the pressed question, edited in place.

    Button handlers answer their callback query themselves, exactly once (a second answer is
    an error at Telegram).
    """
    if update.effective_chat is None:
        return None
    question = SHOWING.get()
    if question is not None:
        return await question.show(update.effective_chat, text, kwargs)
    return await update.effective_chat.send_message(text, **kwargs)


# What an edit can carry of a message's options: an edit keeps no reply keyboard.
_EDITABLE_OPTIONS = {"reply_markup", "parse_mode"}


@dataclass
class Showing:
    """A dialog's question being shown (issue 19: one live message per step).

    ``pressed``: the message of the question just answered with a button, which the first
    message of the next question becomes, text and buttons, in one edit (rather than a
    removal of its buttons and a new message). ``shown``: the messages the question took, the
    last being the one its buttons are on."""

    pressed: Message | None = None
    # Takes the buttons off the pressed message when it cannot become the question: before
    # the question's first message, so that the new one is the only one with buttons.
    leave: Callable[[Message], Awaitable[None]] | None = None
    shown: list[Message] = field(default_factory=list)

    async def show(self, chat: Chat, text: str, options: dict[str, Any]) -> Message:
        pressed = self.pressed
        if pressed is not None and _may_become(pressed, options):
            self.pressed = None  # only the first message may be an edit
            edited = await _edit(pressed, text, options.get("reply_markup"))
            if edited is not None:
                self.shown.append(edited)
                return edited
            self.pressed = pressed
        await self.left()
        message = await chat.send_message(text, **options)
        self.shown.append(message)
        return message

    async def left(self) -> None:
        """The pressed message will not become the question: its buttons go."""
        pressed, self.pressed = self.pressed, None
        if pressed is not None and self.leave is not None:
            await self.leave(pressed)

    async def also(self, message: Message) -> None:
        """A message the question sent itself (a photo card)."""
        self.shown.append(message)


SHOWING: ContextVar[Showing | None] = ContextVar("showing", default=None)


@contextmanager
def showing(question: Showing) -> Iterator[Showing]:
    """Route :func:`reply` through ``question`` while a dialog asks it."""
    token = SHOWING.set(question)
    try:
        yield question
    finally:
        SHOWING.reset(token)


async def before_sending() -> None:
    """About to send a question's message without :func:`reply` (a photo): the pressed
    question will not become it."""
    question = SHOWING.get()
    if question is not None:
        await question.left()


async def shown_too(message: Message) -> None:
    """Count ``message``, sent without :func:`reply`, as part of the question being shown."""
    question = SHOWING.get()
    if question is not None:
        await question.also(message)


def _may_become(message: Message, options: dict[str, Any]) -> bool:
    markup = options.get("reply_markup")
    return (
        message.text is not None  # a photo's caption is another edit, with other limits
        and set(options) <= _EDITABLE_OPTIONS
        and (markup is None or isinstance(markup, InlineKeyboardMarkup))
    )


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> Message | None:
    """``message`` edited into ``text`` and ``markup``; None if Telegram will not (too old,
    deleted meanwhile): the question is then sent as a new message."""
    try:
        edited = await message.edit_text(text, reply_markup=markup)
    except BadRequest as refused:
        if "not modified" in str(refused).lower():
            return message  # it already reads so (a second tap raced the first)
        return None
    except NetworkError:
        # Still failing after the replies' retries: the question comes as a new message
        # rather than not at all.
        return None
    return edited if isinstance(edited, Message) else message
