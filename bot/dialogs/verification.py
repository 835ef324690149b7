"""Asking to be verified as a municipality's representative, as a persistent conversation.

``/verify`` → (the status, for someone verified or waiting) → an official email address or a
note for the moderators, or none → the request is filed and the admins told. The admins'
decision and leaving a municipality are in :mod:`bot.handlers.verification`.
"""

from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot.context import BotContext, reply
from bot.dialogs.steps import END, checkpoint, clean_block, close_buttons, current_step, finish
from bot.handlers.admin import admin_recipients
from bot.handlers.menu import RESUMERS
from bot.handlers.reports import notice
from bot.handlers.verification import ask_leave
from bot.i18n import N_
from bot.storage import VerificationRefused

DIALOG = "verification"
TYPING_NOTE = 0
NOTE_MAX = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ASKED = N_(
    "🪪 {name} asks to be verified as representing {municipality}. Send /admin to see the queue."
)


def leave_button(context: BotContext) -> InlineKeyboardButton:
    _ = context.i18n.gettext
    assert context.member is not None
    return InlineKeyboardButton(
        _("🚪 I no longer represent {municipality}").format(
            municipality=context.member.municipality_name
        ),
        callback_data="vf:leave",
    )


async def ask_note(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert context.member is not None
    buttons = [
        [InlineKeyboardButton(_("📨 Send without a note"), callback_data="vf:send")],
        [leave_button(context)],
        [InlineKeyboardButton(_("✖️ Cancel"), callback_data="vf:cancel")],
    ]
    await reply(
        update,
        _(
            "To be verified as representing <b>{municipality}</b>, type your official email "
            "address or a short note for the moderators (your position, the town hall's phone "
            "number or web page). Or send the request without a note."
        ).format(municipality=html.escape(context.member.municipality_name or "")),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def resume(update: Update, context: BotContext) -> bool:
    if current_step(context, DIALOG) is None:
        return False
    await ask_note(update, context)
    return True


RESUMERS[DIALOG] = resume


async def start(update: Update, context: BotContext) -> int:
    """``/verify``: the status, or the question."""
    _ = context.i18n.gettext
    member = context.member
    if member is None or not member.onboarded:
        await reply(update, _("Please set up your profile first: send /start."))
        return END
    if member.municipality_id is None:
        await reply(
            update,
            _(
                "Verification is for people who speak for a municipality. If you do, choose "
                "the municipality role in /profile first."
            ),
        )
        return END
    name = html.escape(member.municipality_name or "")
    keyboard = InlineKeyboardMarkup([[leave_button(context)]])
    if member.verified:
        text = _("✅ You are a verified representative of <b>{municipality}</b>.")
        await reply(update, text.format(municipality=name), reply_markup=keyboard)
        return END
    if await context.storage.pending_verification_of(member.id) is not None:
        text = _("⏳ Your request to represent <b>{municipality}</b> is waiting for a moderator.")
        await reply(update, text.format(municipality=name), reply_markup=keyboard)
        return END
    await checkpoint(update, context, DIALOG, TYPING_NOTE)
    await ask_note(update, context)
    return TYPING_NOTE


async def note_typed(update: Update, context: BotContext) -> int | None:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    note = clean_block(update.message.text)
    if len(note) > NOTE_MAX:
        await reply(
            update,
            _("Please keep it under {maximum} characters.").format(maximum=NOTE_MAX),
        )
        return None
    if EMAIL.match(note):
        return await _submit(update, context, email=note, note=None)
    return await _submit(update, context, email=None, note=note or None)


async def send_without_note(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await _submit(update, context, email=None, note=None)


async def _submit(
    update: Update, context: BotContext, *, email: str | None, note: str | None
) -> int:
    _ = context.i18n.gettext
    assert update.effective_user is not None and context.member is not None
    await finish(update, context, DIALOG)
    try:
        request = await context.storage.request_verification(
            update.effective_user.id, email=email, note=note, now=context.now()
        )
    except VerificationRefused as refused:
        texts = {
            "not_municipality": _("Verification is for people who speak for a municipality."),
            "verified": _("You are already verified."),
            "pending": _("Your request is already waiting for a moderator."),
        }
        await reply(update, texts.get(refused.reason, texts["pending"]))
        return END
    await notice(
        context,
        await admin_recipients(context),
        f"vf:asked:{request.id}",
        ASKED,
        name=request.first_name,
        municipality=request.municipality_name,
    )
    await reply(update, _("Thank you! A moderator will check your request; you will be told here."))
    return END


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await close_buttons(update.callback_query, context)
    await finish(update, context, DIALOG)
    await reply(update, _("Cancelled: no request was sent."))
    return END


async def leave_instead(update: Update, context: BotContext) -> int:
    """The leave button while asked for a note: end this dialog, then ask to confirm."""
    await finish(update, context, DIALOG)
    await ask_leave(update, context)
    return END


async def use_text(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("Please type an email address or a note, or use the buttons above."))


def build() -> ConversationHandler:  # type: ignore[type-arg]
    message = f.UpdateType.MESSAGE
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[CommandHandler("verify", start)],
        states={
            TYPING_NOTE: [
                MessageHandler(message & f.TEXT & ~f.COMMAND, note_typed),
                CallbackQueryHandler(send_without_note, pattern=r"^vf:send$"),
            ]
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^vf:cancel$"),
            CallbackQueryHandler(leave_instead, pattern=r"^vf:leave$"),
            CommandHandler("verify", start),
            MessageHandler(message & ~f.COMMAND, use_text),
        ],
    )
