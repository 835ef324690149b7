"""Asking to be verified as a municipality's representative.

``/verify`` → (the status, for someone verified or waiting) → an official email address or a
note for the moderators, or none → the request is filed and the admins told. The admins'
decision and leaving a municipality are in :mod:`bot.handlers.verification`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.buttons import ID, LEAVE_MUNICIPALITY, VERIFICATION, close_buttons
from bot.context import BotContext, reply
from bot.dialogs.dialog import END, Dialog, Handler
from bot.dialogs.steps import TypedText, clean_block
from bot.handlers.admin import admin_recipients
from bot.handlers.members import onboarded_member
from bot.i18n import N_
from bot.storage import Enqueued, VerificationRefused
from bot.storage.outbox import Notice
from bot.views.verification import approve_button, request_card

DIALOG = Dialog("verification", VERIFICATION)
TYPING_NOTE = 0

NOTE_MAX = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEND_WITHOUT_NOTE = VERIFICATION.button("send")
# Its data names the municipality it asked about (pressed after a move to another one, it
# would leave that one), not its message: copied onto another message, it would end a
# verification nobody confirmed and rewrite that message.
LEAVE_CONFIRMED = VERIFICATION.button("leave:yes", ID, own_message=True)

ASKED = N_(
    "🪪 {name} asks to be verified as representing {municipality}. Send /admin to see the queue."
)
ASKED_OFFICIALS = N_(
    "🪪 {name} asks to be verified as representing {municipality}. As its verified "
    "representative, you may approve them: send /verify."
)


# --- /verify: the status, or the question --------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    """``/verify``: the status, or the question."""
    _ = context.i18n.gettext
    member = await onboarded_member(update, context)
    if member is None:
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
        await show_requests(update, context)
        return END
    if await context.storage.pending_verification_of(member.id) is not None:
        text = _("⏳ Your request to represent <b>{municipality}</b> is waiting for a moderator.")
        await reply(update, text.format(municipality=name), reply_markup=keyboard)
        return END
    return await DIALOG.begin(update, context, TYPING_NOTE)


async def show_requests(update: Update, context: BotContext) -> None:
    """A verified official may approve their municipality's requests (the admins are told)."""
    assert context.member is not None
    requests = await context.storage.verification_requests_for(context.member.id)
    if requests:
        await reply(
            update,
            context.i18n.gettext(
                "As its verified representative, you may approve these requests to represent "
                "<b>{municipality}</b>. Approve only people you know hold an office there: the "
                "moderators are told."
            ).format(municipality=html.escape(context.member.municipality_name or "")),
        )
    for request in requests:
        keyboard = InlineKeyboardMarkup([[approve_button(context.i18n, request)]])
        await reply(update, request_card(context.i18n, request), reply_markup=keyboard)


def leave_button(context: BotContext) -> InlineKeyboardButton:
    _ = context.i18n.gettext
    assert context.member is not None
    return InlineKeyboardButton(
        _("🚪 I no longer represent {municipality}").format(
            municipality=context.member.municipality_name
        ),
        callback_data=LEAVE_MUNICIPALITY.data(None),
    )


# --- the note --------------------------------------------------------------------------------


async def ask_note(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert context.member is not None
    buttons = [
        [
            InlineKeyboardButton(
                _("📨 Send without a note"), callback_data=SEND_WITHOUT_NOTE.data(None)
            )
        ],
        [leave_button(context)],
        [InlineKeyboardButton(_("✖️ Cancel"), callback_data=DIALOG.cancel.data(None))],
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


async def note_typed(update: Update, context: BotContext, note: str) -> int | None:
    _ = context.i18n.gettext
    if len(note) > NOTE_MAX:
        await reply(
            update, _("Please keep it under {maximum} characters.").format(maximum=NOTE_MAX)
        )
        return None
    if EMAIL.match(note):
        return await submit(update, context, email=note, note=None)
    return await submit(update, context, email=None, note=note or None)


async def send_without_note(update: Update, context: BotContext, _none: None) -> int:
    await close_buttons(update, context)
    return await submit(update, context, email=None, note=None)


DIALOG.add(
    TYPING_NOTE,
    TypedText(
        ask_note,
        answered=note_typed,
        clean=clean_block,
        also=[SEND_WITHOUT_NOTE.handler(send_without_note)],
        hint=N_("Please type an email address or a note, or use the buttons above."),
    ),
)


async def _request_notices(context: BotContext) -> Callable[[int], list[Enqueued]]:
    """What a request for the person's municipality tells, by its id once filed (queued in its
    transaction): the admins, and the municipality's verified officials, who may approve a
    colleague (the admins are told then)."""
    member = context.member
    assert member is not None
    params = {"name": member.first_name, "municipality": member.municipality_name or ""}
    admins = await admin_recipients(context)
    officials, side = [], None
    if member.municipality_id is not None:
        officials = await context.storage.verified_officials_of(member.municipality_id)
        side = {"official": member.municipality_id}  # not to one who left meanwhile
    now = context.now()

    def told(request_id: int) -> list[Enqueued]:
        key = f"vf:asked:{request_id}"
        rows = Notice(key, ASKED, params).to(admins, now)
        return rows + Notice(key, ASKED_OFFICIALS, params, side=side).to(officials, now)

    return told


async def submit(
    update: Update, context: BotContext, *, email: str | None, note: str | None
) -> int:
    """File the request (storage checks again who may ask) and tell the admins."""
    _ = context.i18n.gettext
    assert update.effective_user is not None and context.member is not None
    told = await _request_notices(context)
    try:
        # One transaction: the request, its notices, the dialog's end.
        async with DIALOG.ending(update, context):
            await context.storage.request_verification(
                update.effective_user.id, email=email, note=note, now=context.now(), told=told
            )
    except VerificationRefused as refused:
        await DIALOG.finish(update, context)
        texts = {
            "not_municipality": _("Verification is for people who speak for a municipality."),
            "verified": _("You are already verified."),
            "pending": _("Your request is already waiting for a moderator."),
        }
        await reply(update, texts.get(refused.reason, texts["pending"]))
        return END
    await DIALOG.finish(update, context)
    context.community.outbox.wake()
    await reply(update, _("Thank you! A moderator will check your request; you will be told here."))
    return END


# --- leaving the dialog ------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    _ = context.i18n.gettext
    return await DIALOG.cancelled(update, context, _("Cancelled: no request was sent."))


async def ask_leave(update: Update, context: BotContext, _none: None = None) -> None:
    """Confirm before leaving the municipality."""
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
    member = context.member
    if member is None or member.municipality_id is None:
        await reply(update, _("You do not represent a municipality."))
        return
    confirmed = LEAVE_CONFIRMED.data(member.municipality_id)
    buttons = [[InlineKeyboardButton(_("🚪 Yes, leave"), callback_data=confirmed)]]
    await reply(
        update,
        _(
            "Stop representing <b>{municipality}</b>? Your verification ends and you stay as a "
            "volunteer; the listings you posted stay with the municipality."
        ).format(municipality=html.escape(member.municipality_name or "")),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def leave_instead(update: Update, context: BotContext, _none: None) -> int:
    """The leave button while asked for a note: end this dialog, then ask to confirm."""
    await DIALOG.finish(update, context)
    await ask_leave(update, context)
    return END


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[CommandHandler("verify", start)],
        fallbacks=[
            CommandHandler("cancel", cancel),
            DIALOG.cancel.handler(cancel),
            LEAVE_MUNICIPALITY.handler(leave_instead),
            CommandHandler("verify", start),
        ],
    )
