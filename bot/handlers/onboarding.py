"""Onboarding: ``/start`` for a newcomer, and the profile's Edit button (the dialog is
:mod:`bot.dialogs.onboarding`)."""

from __future__ import annotations

from bot.context import CommunityApplication
from bot.dialogs import onboarding
from bot.dialogs.dialog import building


def register(application: CommunityApplication) -> None:
    with building():
        application.add_handler(onboarding.build())
