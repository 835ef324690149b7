"""Controlling broadcasts after they are confirmed: the progress message's Pause, Resume and
Cancel buttons, and ``/broadcasts`` to bring back the progress of those still running.

Every press is checked: the presser must be an admin (buttons can be forwarded or forged), and
each change is a conditional UPDATE in storage, so a stale button changes nothing.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.broadcasting import broadcaster, progress_keyboard, progress_text
from bot.callback_data import parse_number
from bot.context import BotContext
from bot.handlers.admin import refuse_unless_admin
from bot.handlers.common import reply

CONTROL = re.compile(r"^bc:(pause|resume|cx|cxy|cxn):([0-9]+)$")


async def control_button(update: Update, context: BotContext) -> None:
    """``bc:<action>:<id>``; any other ``bc:`` button here is stale or forged."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if not await refuse_unless_admin(update, context):
        return
    _ = context.i18n.gettext
    match = CONTROL.match(query.data)
    broadcast_id = parse_number(match.group(2)) if match else None
    broadcast = await context.storage.get_broadcast(broadcast_id) if broadcast_id else None
    if match is None or broadcast is None or broadcast.state in ("draft", "done", "cancelled"):
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    action, storage, now = match.group(1), context.storage, context.now()
    runner = broadcaster(context.application)
    if action == "cx":  # ask first: a cancelled broadcast cannot be taken back
        await query.answer()
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("✖️ Yes, cancel it"), callback_data=f"bc:cxy:{broadcast.id}"
                    ),
                    InlineKeyboardButton(_("↩ No, go on"), callback_data=f"bc:cxn:{broadcast.id}"),
                ]
            ]
        )
        await query.edit_message_reply_markup(keyboard)
        return
    if action == "cxn":
        await query.answer()
        await query.edit_message_reply_markup(progress_keyboard(context.i18n, broadcast))
        return
    changed = {
        "pause": storage.pause_broadcast,
        "resume": storage.resume_broadcast,
    }.get(action)
    if changed is not None:
        done = await changed(broadcast.id)
    else:
        done = await storage.cancel_broadcast(broadcast.id, now)
    if not done:
        await query.answer(_("This button is no longer active."), show_alert=True)
        return
    answers = {
        "pause": _("Paused."),
        "resume": _("Resumed."),
        "cxy": _("Cancelled: nothing more will be sent."),
    }
    await query.answer(answers[action])
    await runner.refresh(broadcast.id, force=True)
    if action == "cxy":
        cancelled = await storage.get_broadcast(broadcast.id)
        assert cancelled is not None
        await runner.report(cancelled)
    else:
        runner.wake()


async def broadcasts_command(update: Update, context: BotContext) -> None:
    """``/broadcasts``: a fresh progress message for each broadcast scheduled or under way
    (the old one may be far up the chat); the job edits the new one from then on."""
    if not await refuse_unless_admin(update, context):
        return
    _ = context.i18n.gettext
    assert update.effective_chat is not None
    found = await context.storage.broadcasts_of_state("scheduled", "sending", "paused")
    if not found:
        await reply(
            update, _("No broadcast is scheduled or under way. Send /broadcast to write one.")
        )
        return
    for broadcast in reversed(found):
        counts = await context.storage.outbox_counts(broadcast.batch)
        text = progress_text(context.i18n, broadcast, counts, context.now(), None)
        message = await update.effective_chat.send_message(
            text, reply_markup=progress_keyboard(context.i18n, broadcast)
        )
        await context.storage.set_progress_message(
            broadcast.id, message.chat.id, message.message_id, text
        )
