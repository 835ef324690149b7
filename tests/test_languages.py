"""Every language, screen by screen: onboarding, posting, browsing, help and profile walked
through the local Bot API server in each catalog, with no refusal from the server, no English
left where a translation exists, and buttons short enough for a phone."""

from __future__ import annotations

import pytest

from bot.i18n import LANGUAGES, translator
from tests.talk import onboard, says
from tests.test_posting import Answers, publish, walk_to_preview

# How many characters a button label may have, by how many buttons share its row, so that it
# is not cut on a phone held upright.
MAX_LABEL = {1: 48, 2: 30, 3: 20, 4: 12}


def too_long_labels(messages) -> list[str]:
    problems = []
    for message in messages:
        for row in message.inline_keyboard:
            limit = MAX_LABEL.get(len(row), 10)
            problems += [b["text"] for b in row if len(b["text"]) > limit]
    return problems


@pytest.fixture
def bot(bot):
    bot.clock = lambda: 1_800_000_000
    return bot


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_screen_in_every_language(server, bot, language):
    _ = translator(language).gettext
    user = server.create_user("Reader", language_code=language)
    await onboard(user, language)
    await walk_to_preview(
        user, language, Answers(place="other", country="SI", typed_place="Kranjska Gora")
    )
    _confirmation, card = await publish(user, language)
    assert card.button_labels  # the owner's buttons
    browse = await says(user, "/browse")
    await user.press(browse.button_labels[-1])  # offers and requests both
    await user.wait_for_bot_message(include_edits=True)
    for command in ("/help", "/profile", "/mylistings", "/search pump"):
        await says(user, command)
    assert server.errors() == []
    assert too_long_labels(user.messages) == []
    if language != "en":
        menu = translator("en").gettext("What would you like to do?")
        assert not [m for m in user.messages if m.from_bot and m.text == menu]
