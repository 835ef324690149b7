"""The community bot itself on the sandbox: what people type reaches it as Telegram delivers it."""

from __future__ import annotations

import pytest

from bot.sandbox import BotApiServer
from tests import seed
from tests.conftest import BOT_USERNAME, TOKEN
from tests.talk import says

READER = 721


@pytest.fixture
def community_bot(server: BotApiServer) -> str:
    """The bot's token registered on this sandbox (tests/conftest.py's ``bot`` runs with it)."""
    server.add_bot(token=TOKEN, username=BOT_USERNAME, first_name="Community Sharing")
    return TOKEN


async def test_search_with_a_link_reaches_the_search(server, community_bot, bot) -> None:
    """PTB's CommandHandler reads the first entity: with entities out of Telegram's order
    ([url, bot_command]) the bot would take "/search https://..." for plain text."""
    await seed.member(bot.storage, READER)
    user = server.create_user("Reader", language_code="en", user_id=READER, bot_token=community_bot)
    sent = await user.send_text("/search https://example.org")
    assert [e["type"] for e in sent.entities] == ["bot_command", "url"]
    found = await user.wait_for_bot_message()
    assert "“https://example.org”" in found.text and "Nothing found" in found.text
    bare = await says(user, "/search example.org")
    assert "“example.org”" in bare.text
    assert server.errors() == []
