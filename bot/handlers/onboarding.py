"""Onboarding: ``/start`` for a newcomer (the menu for someone set up), and the profile's Edit
button; the dialog is :mod:`bot.dialogs.onboarding`."""

from __future__ import annotations

from bot.context import CommunityApplication
from bot.dialogs import onboarding


def register(application: CommunityApplication) -> None:
    application.add_handler(onboarding.conversation())
    application.dialogs.append(onboarding.DIALOG)
