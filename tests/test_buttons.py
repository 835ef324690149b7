"""The callback-data codec: every button fits Telegram's 64 bytes at its longest, each prefix
is declared once, and forged or malformed data (ids beyond SQLite's 63-bit INTEGER, negative
or non-ASCII digits) is refused in one place, answered once, changing nothing."""

from __future__ import annotations

import pytest

import bot.app  # noqa: F401  (declares every feature's buttons)
from bot.buttons import (
    ID,
    MAX_BYTES,
    PREFIXES,
    SQLITE_INTEGER_MAX,
    InvalidButton,
    Number,
    OneOf,
    Prefix,
    Token,
)
from bot.i18n import translator
from tests import seed
from tests.talk import says

en = translator("en").gettext


def test_every_button_fits_at_its_longest():
    buttons = [button for prefix in PREFIXES.values() for button in prefix.buttons]
    assert len(buttons) > 30
    for button in buttons:
        data = button.longest()
        assert len(data.encode()) <= MAX_BYTES, data
        assert button.matches(data)
        assert button.data(button.decode(data)) == data  # decoding gives back what was built


def test_a_prefix_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        Prefix("ls", "a second owner of ls")
    with pytest.raises(ValueError):
        Prefix("Bad:", "not a prefix")


@pytest.mark.parametrize(
    "text",
    ["²", "-1", "+1", "007", "", " 1", "1.0", "0", "1e3", str(SQLITE_INTEGER_MAX + 1), "9" * 40],
)
def test_ids_refuse_what_sqlite_or_telegram_never_made(text):
    with pytest.raises(InvalidButton):
        ID.decode(text)


def test_ids_and_fields_round_trip():
    assert ID.decode(str(SQLITE_INTEGER_MAX)) == SQLITE_INTEGER_MAX
    assert Number(0, 9).decode("0") == 0
    with pytest.raises(InvalidButton):
        Number(0, 9).decode("10")
    assert OneOf(("a", "b")).decode("b") == "b"
    with pytest.raises(InvalidButton):
        OneOf(("a", "b")).decode("c")
    assert Token(6).decode("0a1b2c") == "0a1b2c"
    with pytest.raises(InvalidButton):
        Token(6).decode("0A1B2C")


def test_building_data_beyond_64_bytes_fails_at_once():
    prefix = PREFIXES["ls"]
    long = prefix.button("x" * 70)
    with pytest.raises(ValueError, match="64 bytes"):
        long.data(None)
    prefix.buttons.remove(long)
    with pytest.raises(ValueError):
        ID.encode(0)


async def test_forged_data_is_answered_once_and_changes_nothing(server, bot):
    await seed.member(bot.storage, 501)
    listing = await seed.listing(bot.storage, 501, 1_800_000_000)
    user = server.create_user("Forger", language_code="en")
    at = (await says(user, "/start")).id
    forged = [
        "lo:²",
        "lo:-1",
        f"lo:{SQLITE_INTEGER_MAX + 1}",
        f"ls:edit:{listing.id}²",
        f"ls:rnw:{listing.id}:forever",
        "ct:ok:007",
        f"fu:{SQLITE_INTEGER_MAX}:31:y",
        "mt:nr:x",
        "lang:xx",
        "menu:nothing",
    ]
    for data in forged:
        await user.press_data(at, data)
        answer = await user.wait_for_callback_answer()
        assert answer.text == en("This button is no longer valid."), data
    assert len(user.callback_answers) == len(forged)  # each answered exactly once
    assert (await bot.storage.get_listing(listing.id)).views == 0
    assert server.errors() == []
