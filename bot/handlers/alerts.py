"""Alerts (saved searches): ``/alerts``, the list with pause, resume, edit and delete, Pause on
an alert's notification, and making or editing one (the dialog is :mod:`bot.dialogs.alerts`).

Every button names the alert; who owns it is checked in storage on every press, so a forged or
replayed button changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CommandHandler

from bot.buttons import ALERT_LIST, PAUSE_ALERT_FROM_NOTIFICATION, take_buttons
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs import alerts
from bot.dialogs.alerts import gone
from bot.handlers.members import onboarded_member
from bot.storage import Alert
from bot.views.alerts import (
    BACK_TO_LIST,
    DELETE,
    DELETE_CONFIRMED,
    PAUSE,
    RESUME,
    alert_summary,
    delete_keyboard,
    list_keyboard,
    list_text,
)


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            alerts.conversation(),
            CommandHandler("alerts", alerts_command),
            ALERT_LIST.handler(alerts_command),
            PAUSE.handler(pause),
            RESUME.handler(resume),
            DELETE.handler(ask_delete),
            DELETE_CONFIRMED.handler(delete),
            BACK_TO_LIST.handler(back_to_list),
            PAUSE_ALERT_FROM_NOTIFICATION.handler(pause_from_notification),
        ]
    )
    application.dialogs.append(alerts.DIALOG)


async def alerts_command(update: Update, context: BotContext, _none: None = None) -> None:
    """``/alerts`` (or the menu's button): the person's alerts, with their buttons."""
    member = await onboarded_member(update, context)
    if member is None:
        return
    found = await context.storage.alerts_of(member.id)
    await reply(
        update, list_text(context.i18n, found), reply_markup=list_keyboard(context.i18n, found)
    )


async def _own(update: Update, context: BotContext, alert_id: int) -> Alert | None:
    """The alert a button names, if it is the presser's; else say it no longer exists."""
    assert update.effective_user is not None
    alert = await context.storage.own_alert(alert_id, update.effective_user.id)
    if alert is None:
        await gone(update, context)
    return alert


async def _show_list(update: Update, context: BotContext) -> None:
    """The list again, in the same message."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    found = await context.storage.alerts_of(update.effective_user.id)
    await query.edit_message_text(
        list_text(context.i18n, found), reply_markup=list_keyboard(context.i18n, found)
    )


async def _set_paused(update: Update, context: BotContext, alert_id: int, paused: bool) -> bool:
    alert = await _own(update, context, alert_id)
    if alert is None:
        return False
    assert update.effective_user is not None
    await context.storage.set_alert_paused(
        alert.id, update.effective_user.id, paused, context.now()
    )
    return True


async def pause(update: Update, context: BotContext, alert_id: int) -> None:
    if await _set_paused(update, context, alert_id, True):
        await _show_list(update, context)


async def resume(update: Update, context: BotContext, alert_id: int) -> None:
    if await _set_paused(update, context, alert_id, False):
        await _show_list(update, context)


async def pause_from_notification(update: Update, context: BotContext, alert_id: int) -> None:
    """Pause, from an alert's notification: the card stays, without the alert's buttons."""
    if not await _set_paused(update, context, alert_id, True):
        return
    query = update.callback_query
    assert query is not None
    await query.answer(
        context.i18n.gettext("Alert paused. Send /alerts to resume it."), show_alert=True
    )
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    # This alert's Pause only: in a bundle of what waited, other alerts' stay.
    kept = [
        [b for b in row if b.callback_data != query.data]
        for row in message.reply_markup.inline_keyboard
    ]
    keep = InlineKeyboardMarkup([r for r in kept if r])
    await take_buttons(context.bot, message.chat.id, message.message_id, keep)


async def ask_delete(update: Update, context: BotContext, alert_id: int) -> None:
    alert = await _own(update, context, alert_id)
    if alert is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await update.callback_query.edit_message_text(
        context.i18n.gettext("Delete this alert?") + "\n\n" + alert_summary(context.i18n, alert),
        reply_markup=delete_keyboard(context.i18n, alert),
    )


async def delete(update: Update, context: BotContext, alert_id: int) -> None:
    alert = await _own(update, context, alert_id)
    if alert is None:
        return
    assert update.effective_user is not None
    await context.storage.delete_alert(alert.id, update.effective_user.id)
    await _show_list(update, context)


async def back_to_list(update: Update, context: BotContext, _none: None) -> None:
    await _show_list(update, context)
