"""Posting an offer or a request: ``/post`` and the menu's button (the dialog is
:mod:`bot.dialogs.posting`)."""

from __future__ import annotations

from bot.context import CommunityApplication
from bot.dialogs import posting
from bot.dialogs.dialog import building


def register(application: CommunityApplication) -> None:
    with building():
        application.add_handler(posting.build())
