"""A dialog: a persistent conversation whose steps survive a crash and happen once.

A dialog is one PTB ConversationHandler (``persistent=True``, named after the dialog), built
by :meth:`Dialog.conversation` from its steps; its answers live in ``user_data[<name>]``.
Three promises, and the public pieces of PTB that keep them:

- *An answered step survives a crash.* :meth:`Dialog.go_to` writes the next state - the one
  the callback then returns to ConversationHandler - and the answers in one transaction,
  before the question is shown (:meth:`bot.persistence.SQLitePersistence.save_step`). PTB's
  own flush writes the same state again afterwards, and finds it unchanged.
- *A last step and its feature's write go together* (issue 19). Saving the profile or
  publishing the listing ends the dialog in the same transaction (:meth:`Dialog.ending`):
  a kill leaves both or neither, in one commit.
- *A re-delivered update never moves a dialog twice.* The same transaction records the
  update's id; :func:`bot.handlers.members.identify` drops an update already recorded.
- *Coming back shows where one was.* /start, /help or a new language ask the current step
  of the dialogs one is in again (:func:`resume_dialogs`); their states
  are read from the database, where every step was written.
- *One live message per step* (issue 19). A question answered with a button becomes the
  next one, in one edit (:class:`bot.context.Showing`); any other way, the answered
  question's buttons go in one edit, so no earlier step keeps buttons.
- *A question lost to a crash is asked again, once* (issue 16, rule 10). Each question's
  record (``user_data["questions"]``) is written unconfirmed with the step, and confirmed
  once Telegram answered; at start-up, :func:`ask_unconfirmed` asks those never confirmed.
  A kill in the milliseconds between Telegram's answer and that record shows the question
  twice: the price of never leaving someone with no question.

Each step's handlers are bound to their state, so a step knows where it is without a copy
of the state in the answers: Back checks that it was pressed on the current step, and any
other message gets the step's own hint. A dialog whose answers are gone (the person erased
their data meanwhile) ends at the next update that reaches it.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import warnings
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)
from telegram.ext import filters as f
from telegram.warnings import PTBUserWarning

from bot.buttons import (
    Button,
    DeclareButton,
    Field,
    Number,
    Prefix,
    close_buttons,
    refuse_earlier_step,
    refuse_stale,
    take_buttons,
)
from bot.context import BotContext, CommunityApplication, Showing, reply, showing
from bot.i18n import N_, Translator, translator
from bot.persistence import SQLitePersistence
from bot.storage.ptb import DialogStep
from bot.views.texts import not_understood

log = logging.getLogger(__name__)
END = ConversationHandler.END
TEXT_HINT = N_("Please answer with a text message.")
BUTTONS_HINT = N_("Please use the buttons above, or send /cancel to stop.")
# A message that is not a command: what a step's hint answers when nothing else did.
ANY_MESSAGE = f.UpdateType.MESSAGE & ~f.COMMAND
TEXT = f.UpdateType.MESSAGE & f.TEXT & ~f.COMMAND

Ask = Callable[[Update, BotContext], Awaitable[None]]
# A question that may find it cannot be asked, and says which step to go to instead.
Asking = Callable[[Update, BotContext], Awaitable[int | None]]
Move = Callable[[Update, BotContext], Awaitable[int | None]]
Handler = BaseHandler[Update, BotContext, Any]
# The next step: a state, or a function of the answers that says which.
Then = int | Callable[[dict[str, Any]], int]


class Step:
    """One question of a dialog: how it is asked (:meth:`ask`), the handlers of its answers
    (:meth:`handlers`), and the hint for any other message (None: a step that waits for no
    message, such as a page of search results, lets them go on to the catch-alls). Reusable steps
    (:mod:`bot.dialogs.steps`) subclass it; :meth:`Dialog.add` tells a step its dialog and
    state."""

    hint: str | None = BUTTONS_HINT
    dialog: Dialog
    state: int

    async def ask(self, update: Update, context: BotContext) -> int | None:
        """Ask the question; a step that finds it cannot be asked returns the step to go to
        instead."""
        raise NotImplementedError

    def handlers(self) -> list[Handler]:
        return []

    def bind(self, dialog: Dialog, state: int) -> None:
        self.dialog, self.state = dialog, state


class Question(Step):
    """A step made of a function that asks and the handlers of its answers."""

    def __init__(
        self, ask: Ask | Asking, *handlers: Handler, hint: str | None = BUTTONS_HINT
    ) -> None:
        self._ask, self._handlers, self.hint = ask, list(handlers), hint

    async def ask(self, update: Update, context: BotContext) -> int | None:
        return await self._ask(update, context)

    def handlers(self) -> list[Handler]:
        return self._handlers


class Dialog:
    """A persistent conversation named ``name``, with its buttons under ``prefix``.

    ``previous``: where Back leads from each step that has one (a Back button is shown there);
    ``draft``: what to keep, with each step, as the person's listing draft (posting's answers;
    None: nothing yet), written in the step's own transaction;
    ``guard``: run before every handler but the entry points, False ending the dialog (the
    broadcast composer checks that the person is still an admin).
    """

    def __init__(
        self,
        name: str,
        prefix: Prefix,
        *,
        previous: Mapping[int, int] | None = None,
        draft: Callable[[BotContext, int], dict[str, Any] | None] | None = None,
        guard: Callable[[Update, BotContext], Awaitable[bool]] | None = None,
        navigation: bool = True,
        stops: bool = False,
        back_to: Callable[[int, dict[str, Any]], int] | None = None,
        shares_prefix: bool = False,
        resumable: Callable[[BotContext], Awaitable[bool]] | None = None,
        restart: Move | None = None,
    ) -> None:
        self.name, self.prefix, self.navigates = name, prefix, navigation
        self.steps: dict[int, Step] = {}
        self.previous = dict(previous or {})
        self.draft, self.guard = draft, guard
        # In a handler group of its own, before the features: every update it takes stops
        # there (ApplicationHandlerStop), but those of ``passing`` handlers (see conversation).
        self.stops = stops
        self._back_to = back_to
        # Whether a step can be shown again (the broadcast composer's draft may be gone), and
        # what the dialog's own command does then (begins anew).
        self.resumable, self.restart = resumable, restart
        # A prefix shared with other buttons of the feature (the broadcast composer's and the
        # progress message's): only the dialog's own buttons are refused as an earlier step's.
        self.shares_prefix = shares_prefix
        self.buttons: list[Button[Any]] = []
        self.button: DeclareButton = self._declare
        self.cancel = self.button("cancel")
        self.back: Button[int] | None = None
        if self.previous:
            self.back = self.button("back", Number(0, 99))

    def _declare(self, action: str, *fields: Field[Any], own_message: bool = False) -> Button[Any]:
        """Declare one of this dialog's buttons, under its prefix."""
        button: Button[Any] = self.prefix.button(action, *fields, own_message=own_message)
        self.buttons.append(button)
        return button

    # --- the steps -------------------------------------------------------------------------

    def add(self, state: int, step: Step) -> None:
        step.bind(self, state)
        self.steps[state] = step

    def answers(self, context: BotContext) -> dict[str, Any]:
        """The answers given so far (created empty on first use)."""
        assert context.user_data is not None
        answers: dict[str, Any] = context.user_data.setdefault(self.name, {})
        return answers

    def in_progress(self, context: BotContext) -> bool:
        return context.user_data is not None and self.name in context.user_data

    async def begin(self, update: Update, context: BotContext, state: int, **given: Any) -> int:
        """Start afresh at ``state`` with ``given`` answers."""
        assert context.user_data is not None
        context.user_data[self.name] = dict(given)
        return await self.go_to(update, context, state)

    async def go_to(self, update: Update, context: BotContext, state: int) -> int:
        """Write ``state`` and the answers ahead (its question not yet confirmed sent), then
        ask its question; returns ``state`` (for the callback to return to
        ConversationHandler)."""
        left = self.question(context)
        questions(context)[self.name] = {"state": state, "message": None}
        await self.stay(update, context, state)
        instead = await self._show(update, context, state, left)
        if instead is not None:
            return await self.go_to(update, context, instead)
        return state

    async def answered(self, update: Update, context: BotContext, then: Then, **given: Any) -> int:
        """Store ``given`` answers and go to ``then``; a pressed button is answered, and its
        question becomes the next one (see :meth:`_show`)."""
        answers = self.answers(context)
        answers.update(given)
        if update.callback_query is not None:
            await update.callback_query.answer()
        return await self.go_to(update, context, then if isinstance(then, int) else then(answers))

    # --- the question on screen (issue 19: one live message per step; issue 16, rule 10) ----

    def question(self, context: BotContext) -> dict[str, Any] | None:
        """The current question's record: its ``state``, and its ``message`` once Telegram
        confirmed it sent (None until then), with or without ``buttons``; ``again`` once it
        was asked again after a restart."""
        record = questions(context).get(self.name)
        return record if isinstance(record, dict) else None

    async def _show(
        self, update: Update, context: BotContext, state: int, left: dict[str, Any] | None
    ) -> int | None:
        """Ask ``state``'s question: the question answered with a button becomes it (one
        edit); otherwise it is sent, and the buttons of the question ``left`` go, so that no
        earlier step keeps buttons. Then record it as confirmed sent, durably."""
        pressed = self._pressed(update, context, left)
        buttons_left = left is not None and bool(left.get("buttons"))
        if buttons_left and pressed is None:
            # First: once the next question is there, it is the only one with buttons.
            await self._take_buttons(update, context, left["message"])  # type: ignore[index]

        async def leave(message: Message) -> None:
            await self._take_buttons(update, context, message.message_id)

        with showing(Showing(pressed, leave)) as shown:
            instead = await self.steps[state].ask(update, context)
            await shown.left()  # a question that sent nothing the pressed one could become
        if instead is None:
            await self._confirm(update, context, state, shown.shown)
        return instead

    @staticmethod
    def _pressed(
        update: Update, context: BotContext, left: dict[str, Any] | None
    ) -> Message | None:
        """The message of the question just answered with a button, if it can become the
        next one (not an older message, nor one whose buttons a handler took away)."""
        query = update.callback_query
        if query is None or left is None or not isinstance(query.message, Message):
            return None
        message = query.message
        if message.message_id != left.get("message"):
            return None
        if (message.chat.id, message.message_id) in context.community.closed:
            return None
        return message

    async def _take_buttons(self, update: Update, context: BotContext, message_id: int) -> None:
        """Remove the buttons of an earlier question (one edit; nothing if already gone)."""
        chat = update.effective_chat
        if chat is None or (chat.id, message_id) in context.community.closed:
            return
        context.community.closed.close(chat.id, message_id)
        await take_buttons(context.bot, chat.id, message_id)

    async def _confirm(
        self, update: Update, context: BotContext, state: int, shown: list[Message]
    ) -> None:
        """Record that Telegram confirmed ``state``'s question sent (the last message shown
        carries its buttons), in the same storage as the dialog's state, durably within a
        few milliseconds (:meth:`SQLitePersistence.confirm`)."""
        if not shown or not self.in_progress(context):
            return
        last = shown[-1]
        markup = last.reply_markup
        buttons = isinstance(markup, InlineKeyboardMarkup) and bool(markup.inline_keyboard)
        # A message the person sends after the question's first message answers it; one sent
        # before cannot (see _read_before).
        first = shown[0].message_id
        record = {"state": state, "message": last.message_id, "first": first, "buttons": buttons}
        before = self.question(context)
        if before is not None and before.get("state") == state and before.get("again"):
            record["again"] = True  # asked again after a restart: see _read_before
        questions(context)[self.name] = record
        # Written with the next write of any update, in its transaction: issue 19 (one write
        # transaction per update) and SQLitePersistence.confirm.
        persistence = context.application.persistence
        assert isinstance(persistence, SQLitePersistence) and context.user_data is not None
        assert update.effective_user is not None
        persistence.confirm(update.effective_user.id, dict(context.user_data))

    @staticmethod
    async def _save_answers(update: Update, context: BotContext) -> None:
        """Write the person's answers and question records now (PTB's flush after the update
        then finds them unchanged)."""
        persistence = context.application.persistence
        assert isinstance(persistence, SQLitePersistence) and context.user_data is not None
        assert update.effective_user is not None
        await persistence.update_user_data(update.effective_user.id, dict(context.user_data))

    async def stay(self, update: Update, context: BotContext, state: int) -> None:
        """Write the answers given on ``state`` without moving (a tag ticked)."""
        draft = self.draft(context, state) if self.draft is not None else None
        await self._write(update, context, state, draft=draft)

    async def finish(self, update: Update, context: BotContext) -> int:
        """Forget the answers and end the conversation, durably; returns END. The last
        question's buttons go, unless it is the message pressed: the handler has dealt with
        it (Publish took its buttons, a confirmed broadcast's became its progress)."""
        assert context.user_data is not None
        left = self.question(context)
        self._forget(context.user_data)
        await self._write(update, context, None)
        await self._leave(update, context, left)
        return END

    @asynccontextmanager
    async def ending(self, update: Update, context: BotContext) -> AsyncIterator[None]:
        """End the dialog in the transaction of the block's write (the last step's own: the
        profile saved, the listing published), so that a kill leaves both or neither, in one
        commit (issue 19). Once that write committed, the dialog has ended in memory too; the
        :meth:`finish` the handler calls after it, on every path (a block that wrote nothing,
        or failed), then writes nothing more when nothing changed since."""
        assert context.user_data is not None
        assert update.effective_chat is not None and update.effective_user is not None
        user_data = context.user_data
        left = self.question(context)
        ended = dict(user_data)
        ended[QUESTIONS] = dict(ended.get(QUESTIONS, {}))
        self._forget(ended)
        made = False

        def end_in_memory() -> None:
            nonlocal made
            made = True
            self._forget(user_data)

        persistence = context.application.persistence
        assert isinstance(persistence, SQLitePersistence)
        key = (update.effective_chat.id, update.effective_user.id)
        step = DialogStep(
            self.name, key, None, update.effective_user.id, ended, update.update_id, context.now()
        )
        ride = persistence.step_ride(step, made=end_in_memory)
        async with context.storage.riding(ride):
            yield
        if made:
            await self._leave(update, context, left)

    def _forget(self, user_data: dict[str, Any]) -> None:
        """The dialog's answers and question record gone from ``user_data``."""
        user_data.pop(self.name, None)
        user_data.setdefault(QUESTIONS, {}).pop(self.name, None)

    async def _leave(
        self, update: Update, context: BotContext, left: dict[str, Any] | None
    ) -> None:
        """The buttons of the question ``left`` at the end go, unless it is the message
        pressed: the handler has dealt with it."""
        query = update.callback_query
        pressed = query.message.message_id if query is not None and query.message else None
        if left is not None and left.get("buttons") and left["message"] != pressed:
            await self._take_buttons(update, context, left["message"])

    async def cancelled(self, update: Update, context: BotContext, text: str, **kwargs: Any) -> int:
        """Cancel: the pressed Cancel's buttons go (a second tap is then stale), the answers
        are forgotten (:meth:`finish`) and ``text`` says what became of them; returns END."""
        if update.callback_query is not None:
            await close_buttons(update, context)
        await self.finish(update, context)
        await reply(update, text, **kwargs)
        return END

    async def resume(self, update: Update, context: BotContext, state: object) -> bool:
        """Ask ``state``'s question again (the person came back); False if there is none."""
        if not isinstance(state, int) or state not in self.steps:
            return False
        if not self.in_progress(context):
            return False
        if self.resumable is not None and not await self.resumable(context):
            return False
        await self._show(update, context, state, self.question(context))
        return True

    def unconfirmed(self, context: BotContext, state: object) -> bool:
        """True if ``state``'s question was written ahead but never confirmed sent, nor asked
        again since (a reply lost to a crash: issue 16, rule 10)."""
        record = self.question(context)
        return (
            record is not None
            and record.get("state") == state
            and record.get("message") is None
            and not record.get("again")
        )

    async def ask_again(self, update: Update, context: BotContext, state: int) -> None:
        """After a restart: ask a question that was never confirmed sent, once. The attempt
        is recorded first, so a crash during it never leads to a second one."""
        record = self.question(context)
        assert record is not None
        record["again"] = True
        await self._save_answers(update, context)
        await self.resume(update, context, state)

    async def _write(
        self,
        update: Update,
        context: BotContext,
        state: int | None,
        *,
        draft: dict[str, Any] | None = None,
    ) -> None:
        persistence = context.application.persistence
        assert isinstance(persistence, SQLitePersistence) and context.user_data is not None
        assert update.effective_chat is not None and update.effective_user is not None
        await persistence.save_step(
            self.name,
            (update.effective_chat.id, update.effective_user.id),
            state,
            update.effective_user.id,
            dict(context.user_data),
            update_id=update.update_id,
            now=context.now(),
            draft=draft,
        )

    # --- the buttons under every question ----------------------------------------------------

    def navigation(self, t: Translator, state: int) -> list[list[InlineKeyboardButton]]:
        """The row under a question: Back (where a step has one before it) and Cancel; none
        for a dialog without (onboarding)."""
        _ = t.gettext
        if not self.navigates:
            return []
        row = []
        if self.back is not None and state in self.previous:
            row.append(InlineKeyboardButton(_("⬅ Back"), callback_data=self.back.data(state)))
        row.append(InlineKeyboardButton(_("✖️ Cancel"), callback_data=self.cancel.data(None)))
        return [row]

    def back_to(self, state: int, answers: dict[str, Any]) -> int:
        """Where Back leads from ``state`` (for a dialog whose path depends on its answers,
        what its ``back_to`` says)."""
        if self._back_to is not None:
            return self._back_to(state, answers)
        return self.previous[state]

    async def _back(self, state: int, update: Update, context: BotContext, pressed: int) -> int:
        if pressed != state:
            raise _EarlierStep
        assert update.callback_query is not None
        await update.callback_query.answer()
        return await self.go_to(update, context, self.back_to(state, self.answers(context)))

    async def _read_before(self, state: int, update: Update, context: BotContext) -> bool:
        """A message that cannot answer ``state``'s question, because it was written before
        the question was shown: the question is asked (if it never reached the person: a
        crash), or, for a question asked again after a restart, the message is let be (an
        answer typed again while the bot was down; the question below it is the one to
        answer). Issue 16, rule 10."""
        message = update.message
        if message is None or (message.text or "").startswith("/"):
            return False
        record = self.question(context)
        if record is None or record.get("state") != state:
            return False
        if record.get("message") is None:
            await self.resume(update, context, state)
            return True
        return bool(record.get("again")) and message.message_id < record["first"]

    async def _hint(self, step: Step, update: Update, context: BotContext) -> None:
        assert step.hint is not None
        await reply(update, context.i18n.gettext(step.hint))

    async def _again(
        self, state: int, update: Update, context: BotContext, *_: object
    ) -> int | None:
        """The dialog's own command (or menu button) in the middle: its step, asked again
        (or the dialog begun anew, when the step cannot be shown)."""
        if update.callback_query is not None and self.restart is None:
            await update.callback_query.answer()
        if not await self.resume(update, context, state) and self.restart is not None:
            return await self.restart(update, context)
        return None

    # --- the ConversationHandler -----------------------------------------------------------

    def conversation(
        self,
        *,
        entry_points: Sequence[Handler],
        fallbacks: Sequence[Handler],
        passing: Sequence[Handler] = (),
        again: Sequence[str | Button[None]] = (),
        cancel: Callable[..., Coroutine[Any, Any, int]] | None = None,
        allow_reentry: bool = False,
    ) -> ConversationHandler[BotContext]:
        """The ConversationHandler: each step's handlers, then its Back (bound to it), the
        commands and buttons that ask it ``again`` (the dialog's own, in the middle of it) and
        its hint; the ``fallbacks``, then a refusal for any other button of this dialog (from
        an earlier step, or forged). For a dialog that ``stops``: the ``passing`` fallbacks let
        the update go on to the next handler groups."""
        states: dict[object, list[Handler]] = {}
        for state, step in self.steps.items():
            handlers = list(step.handlers())
            if self.back is not None and state in self.previous:
                handlers.append(self.back.handler(functools.partial(self._back, state)))
            if cancel is not None:
                cancelled = functools.partial(cancel, state)
                handlers += [CommandHandler("cancel", cancelled), self.cancel.handler(cancelled)]
            for trigger in again:
                callback = functools.partial(self._again, state)
                if isinstance(trigger, str):
                    handlers.append(CommandHandler(trigger, callback))
                else:
                    handlers.append(trigger.handler(callback))
            if step.hint is not None:
                handlers.append(MessageHandler(ANY_MESSAGE, functools.partial(self._hint, step)))
            states[state] = [self._guarded(handler, state=state) for handler in handlers]
        pattern = self.prefix.any()
        if self.shares_prefix:
            pattern = re.compile("|".join(b.pattern.pattern for b in self.buttons))
        last = CallbackQueryHandler(refuse_earlier_step, pattern=pattern)
        with building():
            return ConversationHandler(
                entry_points=[self._guarded(h, entry=True) for h in entry_points],
                states=states,
                fallbacks=[
                    *(self._guarded(h) for h in [*fallbacks, last]),
                    *(self._guarded(h, passes=True) for h in passing),
                ],
                name=self.name,
                persistent=True,
                allow_reentry=allow_reentry,
            )

    def _guarded(
        self,
        handler: Handler,
        *,
        entry: bool = False,
        passes: bool = False,
        state: int | None = None,
    ) -> Handler:
        """A copy of the handler, its callback run only while the dialog has its answers (and
        the dialog's guard agrees); for a dialog that stops, stopping the update there. A copy:
        a step's handlers are made once, with the module, and every Application built in the
        same process (each test's) would otherwise wrap the same callback once more."""
        callback = handler.callback

        @functools.wraps(callback)
        async def guarded(update: Update, context: BotContext) -> object:
            state = await run(update, context)
            if self.stops and not passes:
                raise ApplicationHandlerStop(state)
            return state

        async def run(update: Update, context: BotContext) -> object:
            if not entry and not self.in_progress(context):
                return await self._lost(update, context)
            if self.guard is not None and not await self.guard(update, context):
                return await self.finish(update, context)
            if state is not None and await self._read_before(state, update, context):
                return None
            try:
                return await callback(update, context)
            except _EarlierStep:
                await refuse_earlier_step(update, context)
                return None

        guarded_handler = copy.copy(handler)
        guarded_handler.callback = guarded
        return guarded_handler

    async def _lost(self, update: Update, context: BotContext) -> int:
        """The answers are gone (the person's data was erased): end, change nothing."""
        if update.callback_query is not None:
            await refuse_stale(update, context)
        else:
            text, keyboard = not_understood(context.i18n, context.member)
            await reply(update, text, reply_markup=keyboard)
        return END


@contextmanager
def building() -> Iterator[None]:
    """PTB warns that a dialog with buttons and per_message=False tracks one conversation per
    user and chat rather than per message. That is what ours want (a step is the person's,
    whichever of its messages they answer), so the warning is silenced where dialogs are
    built, and nowhere else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
        yield


def questions(context: BotContext) -> dict[str, Any]:
    """The records of the questions on screen, by dialog (see :meth:`Dialog.question`), kept
    in ``user_data`` beside the answers: written with them, in the same transaction."""
    assert context.user_data is not None
    records: dict[str, Any] = context.user_data.setdefault(QUESTIONS, {})
    return records


QUESTIONS = "questions"


class _EarlierStep(Exception):
    """A Back pressed on a step the person has left."""


async def resume_dialogs(update: Update, context: BotContext) -> bool:
    """Ask the current step of the dialog the person is in the middle of again, in their
    current language: the first of the application's dialogs they are in (the states are
    read from the database, where every step was written ahead)."""
    dialogs = context.community.dialogs
    if update.effective_chat is None or update.effective_user is None:
        return False
    key = (update.effective_chat.id, update.effective_user.id)
    states = await context.storage.dialog_states(key, [dialog.name for dialog in dialogs])
    for dialog in dialogs:
        if dialog.name in states and await dialog.resume(update, context, states[dialog.name]):
            return True
    return False


async def ask_unconfirmed(application: CommunityApplication) -> int:
    """At start-up, before any update is taken: each dialog whose current question was
    written ahead but never confirmed sent (its reply still waiting behind the send rate
    limit when the process died) asks it again, once. Returns how many were asked."""
    asked = 0
    for dialog in application.dialogs:
        for key, state in (await application.storage.load_conversations(dialog.name)).items():
            chat_id, user_id = key
            if not isinstance(chat_id, int) or not isinstance(user_id, int):
                continue
            update, context = _restarted(application, chat_id, user_id)
            if not isinstance(state, int) or not dialog.unconfirmed(context, state):
                continue
            context.member = await application.storage.get_member(user_id)
            if context.member is not None:
                context.i18n = translator(context.member.language)
            try:
                await dialog.ask_again(update, context, state)
            except TelegramError as trouble:  # blocked meanwhile, or a failing server
                log.warning(
                    "could not ask %s's question again in chat %s: %s",
                    dialog.name,
                    chat_id,
                    trouble,
                )
                continue
            asked += 1
    return asked


def _restarted(
    application: CommunityApplication, chat_id: int, user_id: int
) -> tuple[Update, BotContext]:
    """An update standing for the person in their chat, and its context (their answers), for
    asking a question outside any update."""
    update = Update.de_json(
        {
            "update_id": 0,
            "message": {
                "message_id": 0,
                "date": application.now(),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "?"},
            },
        },
        application.bot,
    )
    return update, BotContext.from_update(update, application)
