"""What every dialog needs: checkpointing a step before replying, and checking typed answers.

A dialog keeps its answers in ``context.user_data[<dialog name>]`` together with the step the
user is on. :func:`checkpoint` writes the next step and the answers to SQLite in one
transaction *before* the bot shows the next question, so whatever the user has seen answered
survives a crash; PTB's own persistence flush afterwards writes the same values again.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import ConversationHandler

from bot.context import BotContext
from bot.i18n import Translator
from bot.persistence import SQLitePersistence

END = ConversationHandler.END


async def ask_for_a_place(
    update: Update, t: Translator, question: str, choices: InlineKeyboardMarkup
) -> None:
    """A question answered by sharing a location or by a button. A message carries one
    keyboard: the question comes first, with the "share a location" button below the text
    field; the hint about that button follows it, with the other choices, so that the latest
    message is the one with the buttons, as at every step."""
    _ = t.gettext
    assert update.effective_chat is not None
    location = KeyboardButton(_("📍 Share a location"), request_location=True)
    await update.effective_chat.send_message(
        question,
        reply_markup=ReplyKeyboardMarkup(
            [[location]], resize_keyboard=True, one_time_keyboard=True
        ),
    )
    await update.effective_chat.send_message(
        _("To share a location, use the button below the text field."), reply_markup=choices
    )


def answers(context: BotContext, dialog: str) -> dict[str, Any]:
    """The answers given so far in a dialog (created empty on first use)."""
    assert context.user_data is not None
    return context.user_data.setdefault(dialog, {})


def _key(update: Update) -> tuple[int, int]:
    assert update.effective_chat is not None and update.effective_user is not None
    return (update.effective_chat.id, update.effective_user.id)


async def checkpoint(
    update: Update,
    context: BotContext,
    dialog: str,
    state: int,
    *,
    draft: dict[str, Any] | None = None,
) -> int:
    """Record that the user is now on ``state`` of ``dialog``; returns ``state``. With
    ``draft``, the person's listing draft is written in the same transaction."""
    answers(context, dialog)["step"] = state
    await _persist(update, context, dialog, state, draft=draft)
    return state


async def finish(update: Update, context: BotContext, dialog: str) -> int:
    """Forget the dialog's answers and end its conversation, durably; returns END."""
    assert context.user_data is not None
    context.user_data.pop(dialog, None)
    await _persist(update, context, dialog, None)
    return END


async def _persist(
    update: Update,
    context: BotContext,
    dialog: str,
    state: int | None,
    *,
    draft: dict[str, Any] | None = None,
) -> None:
    persistence = context.application.persistence
    assert isinstance(persistence, SQLitePersistence) and context.user_data is not None
    assert update.effective_user is not None
    await persistence.checkpoint(
        dialog,
        _key(update),
        state,
        update.effective_user.id,
        dict(context.user_data),
        update_id=update.update_id,
        now=context.now(),
        draft=draft,
    )


async def close_buttons(query: CallbackQuery, context: BotContext) -> None:
    """Acknowledge a pressed button and remove the keyboard it was on, so it cannot be
    pressed twice (a second tap already in flight is answered as stale: see
    handlers.common.close_message)."""
    await query.answer()
    if query.message is not None:
        context.close_message(query.message.chat.id, query.message.message_id)
    await query.edit_message_reply_markup(None)


def current_step(context: BotContext, dialog: str) -> int | None:
    """The step a user is on in a dialog, or None when they are not in it."""
    if context.user_data is None or dialog not in context.user_data:
        return None
    step = context.user_data[dialog].get("step")
    return step if isinstance(step, int) else None


def has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def clean_line(text: str) -> str:
    """One line of user text: control characters (newlines, tabs, NUL) become spaces, and runs
    of white space are folded. Format characters (joiners, direction marks) stay: emoji
    sequences and right-to-left text need them."""
    visible = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(visible.split())


def check_name(t: Translator, text: str, minimum: int = 2, maximum: int = 100) -> str | None:
    """Why a typed name (place, municipality, organisation) is refused, or None if it is fine."""
    _ = t.gettext
    name = clean_line(text)
    if not minimum <= len(name) <= maximum:
        return _("Please type a name of {minimum} to {maximum} characters.").format(
            minimum=minimum, maximum=maximum
        )
    if not has_letter(name):
        return _("A name needs at least one letter.")
    return None


def parse_count(text: str) -> int | None:
    """A whole number typed the way people do: '1200', '1 200', '1.200', "1'200", '1,200'."""
    digits = text.strip()
    for separator in (" ", "\u00a0", "\u202f", ".", ",", "'", "’", "_"):
        digits = digits.replace(separator, "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    return int(digits)


# --- listing texts (the posting dialog, and editing a published listing) --------------------

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 2000


def clean_block(text: str) -> str:
    """A block of user text: line breaks kept (a description reads better in paragraphs),
    tabs become spaces, other control characters (NUL, carriage returns, escapes) go, and
    white space around the whole is stripped. Format characters stay, as in
    :func:`clean_line`."""
    kept = []
    for ch in text:
        if ch == "\t":
            kept.append(" ")
        elif ch == "\n" or unicodedata.category(ch) != "Cc":
            kept.append(ch)
    return "".join(kept).strip()


def check_title(t: Translator, text: str) -> str | None:
    """Why a typed listing title is refused, or None if it is fine (see :func:`clean_line`)."""
    _ = t.gettext
    title = clean_line(text)
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        return _("A title needs {minimum} to {maximum} characters; yours has {length}.").format(
            minimum=TITLE_MIN, maximum=TITLE_MAX, length=t.number(len(title))
        )
    if not has_letter(title):
        return _("A title needs at least one letter, not only emoji or signs.")
    return None


def check_description(t: Translator, text: str) -> str | None:
    """Why a typed listing description is refused, or None (see :func:`clean_block`)."""
    _ = t.gettext
    description = clean_block(text)
    if len(description) < DESCRIPTION_MIN:
        return _(
            "Please describe it in at least {minimum} characters: what, how many, when."
        ).format(minimum=DESCRIPTION_MIN)
    if len(description) > DESCRIPTION_MAX:
        return t.ngettext(
            "Your description has {length} character; please shorten it to {maximum} at most.",
            "Your description has {length} characters; please shorten it to {maximum} at most.",
            len(description),
        ).format(length=t.number(len(description)), maximum=t.number(DESCRIPTION_MAX))
    return None


Ask = Callable[[Update, BotContext], Awaitable[None]]


class Questions:
    """A dialog's questions by step, and the two moves every dialog makes with them.

    :meth:`go_to` checkpoints the step (after ``before``; with ``draft``'s answers to keep as the
    person's listing draft, in the same transaction), then asks its
    question; :meth:`resume` asks the current step's question again when the user comes back
    with /start, /help or another language. Register ``resume`` in ``RESUMERS``.
    """

    def __init__(
        self,
        dialog: str,
        questions: Mapping[int, Ask],
        before: Callable[[Update, BotContext, int], Awaitable[None]] | None = None,
        draft: Callable[[BotContext, int], dict[str, Any] | None] | None = None,
    ) -> None:
        self.dialog = dialog
        self.questions = questions
        self.before = before
        self.draft = draft

    async def go_to(self, update: Update, context: BotContext, step: int) -> int:
        if self.before is not None:
            await self.before(update, context, step)
        draft = self.draft(context, step) if self.draft is not None else None
        await checkpoint(update, context, self.dialog, step, draft=draft)
        await self.questions[step](update, context)
        return step

    async def resume(self, update: Update, context: BotContext) -> bool:
        step = current_step(context, self.dialog)
        if step is None:
            return False
        await self.questions[step](update, context)
        return True
