"""Alerts: ``/alerts``, the list's buttons, and making or editing one (the dialog is
:mod:`bot.dialogs.alerts`)."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import CommunityApplication
from bot.dialogs import alerts
from bot.dialogs.dialog import building


def register(application: CommunityApplication) -> None:
    with building():
        alerts_dialog = alerts.build()
    application.add_handlers(
        [
            alerts_dialog,
            CommandHandler("alerts", alerts.alerts_command),
            CallbackQueryHandler(alerts.alerts_command, pattern=r"^al:list$"),
            CallbackQueryHandler(alerts.alert_button, pattern=r"^al:(pa|pn|re|de|dy|ls)"),
        ]
    )
