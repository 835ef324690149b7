"""Browse and search as a dialog, over HTTP: what it waits for and what it lets go on.

A search's results and its choices never trap a message (it goes on to the catch-alls), only
the words and the location are waited for, not for long, and that holds across a restart; an
older search keeps its numbers; a double tap on a page edits once.
"""

from __future__ import annotations

import pytest

from bot.app import running
from bot.dialogs.search import WAIT_SECONDS
from bot.i18n import translator
from tests import seed
from tests.talk import says
from tests.test_browse import FRENCH, NOW, bot_messages, data_of, owners, reader, tap

en = translator("en").gettext
NOT_UNDERSTOOD = en("I did not understand that. Here is what you can do:")


@pytest.fixture
def app(bot):
    """The running bot, its clock stopped at NOW."""
    bot.clock = lambda: NOW
    return bot


async def pumps(bot, count: int = 7) -> None:
    await owners(bot)
    for index in range(count):
        await seed.listing(bot.storage, FRENCH, NOW - index, title=f"Pump {index}")


async def test_results_and_choices_let_other_messages_go_on(server, app):
    await pumps(app)
    user = await reader(server, app)
    results = await says(user, "/search pump")
    assert (await says(user, "hello")).text == NOT_UNDERSTOOD
    assert (await says(user, "/cancel")).text == en("There is nothing to cancel.")
    assert (await tap(user, "Next ▶")).id == results.id  # the results still work
    kinds = await says(user, "/browse")
    assert (await says(user, "pump")).text == NOT_UNDERSTOOD  # not the words of a search
    categories = await tap(user, "🟢 Offers")
    assert categories.id == kinds.id and "Which category?" in categories.text
    assert server.errors() == []


async def test_a_location_while_the_words_are_asked_shows_what_is_near(server, app):
    await owners(app)
    await seed.listing(app.storage, FRENCH, NOW, title="Strasbourg", latitude=48.57, longitude=7.75)
    user = await reader(server, app)
    await says(user, "/search")
    await user.send_location(48.55, 7.7)
    near = await user.wait_for_bot_message()
    assert "1. 🟢 Strasbourg" in near.text and "📍 within 50 km of your location" in near.text
    assert (await says(user, "pump")).text == NOT_UNDERSTOOD  # no longer waiting for words
    assert server.errors() == []


async def test_an_older_search_keeps_its_numbers_and_its_pages_are_over(server, app):
    await pumps(app)
    user = await reader(server, app)
    old = await says(user, "/search pump")
    new = await says(user, "/search pump")
    shown = next(message for message in user.messages if message.id == old.id)
    assert shown.inline_keyboard == old.inline_keyboard  # its buttons stay
    await user.press_data(old.id, data_of(old, "1"))
    card = await user.wait_for_bot_message()
    assert "Pump 0" in card.text
    await user.press_data(old.id, data_of(old, "Next ▶"))
    answer = await user.wait_for_callback_answer()
    assert answer.text == en("This search is no longer active. Send /browse to start a new one.")
    assert [m.id for m in bot_messages(user) if m.edited] == []
    assert new.id != old.id and server.errors() == []


async def test_a_double_tap_on_next_edits_once(server, app):
    await pumps(app)
    user = await reader(server, app)
    first = await says(user, "/search pump")
    data = data_of(first, "Next ▶")
    taps = [await user.press_data(first.id, data) for _ in range(2)]
    answers = [await user.wait_for_callback_answer(query) for query in taps]
    assert [answer.text for answer in answers] == [None, None]
    second = await user.wait_for_bot_message(include_edits=True)
    assert second.id == first.id and "6. 🟢 Pump 5" in second.text
    edits = [c for c in server.calls if c.method == "editMessageText"]
    assert len(edits) == 1
    assert server.errors() == []


async def test_the_words_are_waited_for_across_a_restart_but_not_for_long(server, settings):
    async with running(settings) as bot:
        bot.clock = lambda: NOW
        await pumps(bot)
        user = await reader(server, bot)
        await says(user, "/search")
    async with running(settings) as bot:
        bot.clock = lambda: NOW + WAIT_SECONDS
        found = await says(user, "pump")
        assert "1. 🟢 Pump 0" in found.text
        await says(user, "/search")
        asked = NOW + WAIT_SECONDS
    async with running(settings) as bot:
        bot.clock = lambda: asked + WAIT_SECONDS + 1
        assert (await says(user, "pump")).text == NOT_UNDERSTOOD
        assert (await says(user, "/cancel")).text == en("There is nothing to cancel.")
    assert server.errors() == []
