"""Posting an offer or a request: ``/post`` and the menu's button; the dialog is
:mod:`bot.dialogs.posting`."""

from __future__ import annotations

from bot.context import CommunityApplication
from bot.dialogs import posting


def register(application: CommunityApplication) -> None:
    application.add_handler(posting.conversation())
    application.dialogs.append(posting.DIALOG)
