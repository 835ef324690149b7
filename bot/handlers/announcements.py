"""Turning a kind of announcement off from the button under one, and the Undo that follows.

The press is checked against what was sent: the broadcast it names must have reached the
presser in the very message the button is on, and be of the kind the data says, not urgent.
Data that is forged, cut, of another kind or of another message is refused in one place
(:func:`bot.buttons.refuse_invalid`) and changes nothing. Turning a kind off cancels, in the
same transaction, what of it still waits for the person (a broadcast under way included);
urgent announcements still reach them. ``/settings`` shows and changes the same choices.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import (
    ANNOUNCEMENTS,
    STOP_ANNOUNCEMENTS,
    InvalidButton,
    OneOf,
    close_message,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.storage.broadcasts import ANNOUNCEMENT_KINDS
from bot.views.announcements import kind_label

# Its data names only the kind: copied onto another of the bot's messages (a card, a match)
# it would turn the kind on and rewrite that message.
UNDO = ANNOUNCEMENTS.button("on", OneOf(ANNOUNCEMENT_KINDS), own_message=True)


def register(application: CommunityApplication) -> None:
    application.add_handlers([STOP_ANNOUNCEMENTS.handler(stop), UNDO.handler(undo)])


async def stop(update: Update, context: BotContext, pressed: tuple[str, int]) -> None:
    """Turn off the kind of the announcement the button is under; say so, with an Undo."""
    _ = context.i18n.gettext
    kind, broadcast_id = pressed
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    message = query.message
    if message is None or message.chat.id != user.id:
        raise InvalidButton(broadcast_id)
    broadcast = await context.storage.broadcast_in_message(
        user.id, broadcast_id, message.message_id
    )
    if broadcast is None or broadcast.kind != kind or broadcast.urgent:
        raise InvalidButton(broadcast_id)
    if not await context.storage.opt_out_of_announcements(user.id, kind, context.now()):
        await query.answer(_("That is already your choice."))
        return
    await query.answer()
    undo_button = InlineKeyboardButton(_("↩️ Undo"), callback_data=UNDO.data(kind))
    await reply(
        update,
        _(
            "🔕 Done: you will no longer receive announcements of this kind ({kind}). Urgent "
            "announcements are still sent to you. You can change this at any time in /settings."
        ).format(kind=kind_label(context.i18n, kind)),
        reply_markup=InlineKeyboardMarkup([[undo_button]]),
    )


async def undo(update: Update, context: BotContext, kind: str) -> None:
    """Turn the kind on again (from its next announcement), in place of the confirmation."""
    _ = context.i18n.gettext
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    if kind not in await context.storage.announcement_opt_outs(user.id):
        # Pressed again (after a restart, from a stale client), or /settings turned it on
        # meanwhile: nothing to undo, and the confirmation stays as it reads.
        await query.answer(_("That is already your choice."))
        return
    if not await context.storage.opt_in_to_announcements(user.id, kind):
        await query.answer(_("That is already your choice."))
        return
    await query.answer()
    close_message(update, context)
    await query.edit_message_text(
        _("🔔 You will receive announcements of this kind ({kind}) again.").format(
            kind=kind_label(context.i18n, kind)
        )
    )
