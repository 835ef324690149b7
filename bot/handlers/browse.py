"""Browse and search: ``/browse``, ``/search``, the menu's Browse button and a location shared
outside any other dialog; the dialog is :mod:`bot.dialogs.search`."""

from __future__ import annotations

from bot.context import CommunityApplication
from bot.dialogs import search


def register(application: CommunityApplication) -> None:
    # Not among application.dialogs: /start and /help show the menu, not the last search.
    application.add_handler(search.conversation())
