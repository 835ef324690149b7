"""Broadcasts: the composer (the dialog, :mod:`bot.dialogs.broadcast`), the job that sends a
confirmed one and keeps its progress message up to date (:mod:`bot.delivery.broadcasts`), the
progress message's Pause, Resume and Cancel, and ``/broadcasts`` to bring back the progress of
those still running.

Every press is checked: the presser must be an admin (buttons can be forwarded or forged), and
each change is a conditional UPDATE in storage, so a stale button changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.buttons import (
    BROADCASTS,
    CANCEL_BROADCAST,
    ID,
    PAUSE_BROADCAST,
    RESUME_BROADCAST,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.delivery import broadcasts as delivery
from bot.delivery.broadcasts import progress_keyboard, progress_text
from bot.dialogs import broadcast as composer
from bot.handlers.admin import refuse_unless_admin
from bot.i18n import Translator
from bot.storage import Broadcast
from bot.storage.broadcasts import KIND, REPORT_KIND

CANCEL_CONFIRMED = BROADCASTS.button("cxy", ID)
CANCEL_ABORTED = BROADCASTS.button("cxn", ID)


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            composer.conversation(),
            CommandHandler("broadcasts", broadcasts_command),
            PAUSE_BROADCAST.handler(pause, refused=no_longer_active),
            RESUME_BROADCAST.handler(resume, refused=no_longer_active),
            CANCEL_BROADCAST.handler(ask_cancel, refused=no_longer_active),
            CANCEL_CONFIRMED.handler(cancel, refused=no_longer_active),
            CANCEL_ABORTED.handler(keep_going, refused=no_longer_active),
            # Any other of the feature's buttons: a composer's, its dialog over.
            CallbackQueryHandler(no_longer_active, pattern=BROADCASTS.any()),
        ]
    )
    application.dialogs.append(composer.DIALOG)
    application.broadcaster = delivery.schedule(application)
    application.outbox.add_renderer(KIND, delivery.broadcast_renderer(application))
    application.outbox.add_renderer(REPORT_KIND, delivery.render_report)


async def no_longer_active(update: Update, context: BotContext) -> None:
    """A button of a broadcast that is over (or of no broadcast), pressed by an admin."""
    if not await refuse_unless_admin(update, context):
        return
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This button is no longer active."), show_alert=True
    )


async def _running(update: Update, context: BotContext, broadcast_id: int) -> Broadcast | None:
    """The broadcast a progress button names, if the presser is an admin and it still runs."""
    if not await refuse_unless_admin(update, context):
        return None
    broadcast = await context.storage.get_broadcast(broadcast_id)
    if broadcast is None or broadcast.state in ("draft", "done", "cancelled"):
        await no_longer_active(update, context)
        return None
    return broadcast


def _presser(update: Update) -> int:
    """The admin who pressed: the one the admin log names."""
    assert update.effective_user is not None
    return update.effective_user.id


async def _change(
    update: Update,
    context: BotContext,
    broadcast_id: int,
    change: Callable[..., Awaitable[bool]],
    said: str,
) -> Broadcast | None:
    """Pause, resume or cancel (storage's ``change``, a conditional UPDATE) a broadcast that
    still runs, then redraw its progress at once; the broadcast, or None if nothing changed."""
    broadcast = await _running(update, context, broadcast_id)
    if broadcast is None:
        return None
    if not await change(broadcast.id, admin=_presser(update), now=context.now()):
        await no_longer_active(update, context)
        return None
    assert update.callback_query is not None
    await update.callback_query.answer(said)
    await context.community.broadcaster.refresh(broadcast.id, force=True)
    context.community.broadcaster.wake()
    return broadcast


async def pause(update: Update, context: BotContext, broadcast_id: int) -> None:
    said = context.i18n.gettext("Paused.")
    await _change(update, context, broadcast_id, context.storage.pause_broadcast, said)


async def resume(update: Update, context: BotContext, broadcast_id: int) -> None:
    said = context.i18n.gettext("Resumed.")
    await _change(update, context, broadcast_id, context.storage.resume_broadcast, said)


async def _swap_buttons(
    update: Update,
    context: BotContext,
    broadcast_id: int,
    buttons: Callable[[Translator, Broadcast], InlineKeyboardMarkup | None],
) -> None:
    """Other ``buttons`` under the progress message of a broadcast that still runs."""
    broadcast = await _running(update, context, broadcast_id)
    if broadcast is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(buttons(context.i18n, broadcast))


async def ask_cancel(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Ask first: a cancelled broadcast cannot be taken back."""
    await _swap_buttons(update, context, broadcast_id, _cancel_question)


def _cancel_question(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    _ = t.gettext
    yes = InlineKeyboardButton(
        _("✖️ Yes, cancel it"), callback_data=CANCEL_CONFIRMED.data(broadcast.id)
    )
    no = InlineKeyboardButton(_("↩ No, go on"), callback_data=CANCEL_ABORTED.data(broadcast.id))
    return InlineKeyboardMarkup([[yes, no]])


async def keep_going(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Not cancelled after all: the progress buttons again."""
    await _swap_buttons(update, context, broadcast_id, progress_keyboard)


async def cancel(update: Update, context: BotContext, broadcast_id: int) -> None:
    """Cancelled: nothing more is sent; the report (queued with the cancelling) follows."""
    said = context.i18n.gettext("Cancelled: nothing more will be sent.")
    broadcast = await _change(update, context, broadcast_id, context.storage.cancel_broadcast, said)
    if broadcast is None:
        return
    context.community.broadcaster.forget(broadcast.id)
    context.community.outbox.wake()


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
        counts = await context.storage.broadcast_counts(broadcast)
        text = progress_text(context.i18n, broadcast, counts, context.now(), None)
        message = await update.effective_chat.send_message(
            text, reply_markup=progress_keyboard(context.i18n, broadcast)
        )
        await context.storage.set_progress_message(
            broadcast.id, message.chat.id, message.message_id, text
        )
