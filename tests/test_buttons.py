"""Buttons: the callback-data codec and the presses it answers.

The codec: every button fits Telegram's 64 bytes at its longest, each prefix is declared once,
and forged or malformed data (ids beyond SQLite's 63-bit INTEGER, negative or non-ASCII digits)
is refused in one place, answered once, changing nothing.

Malformed and repeated presses (issue 16, rule 5), over HTTP against the local Bot API server:
every callback pattern the running Application registers (read from its handlers, dialogs'
entry points, steps and fallbacks included, so a new prefix is covered without touching this
file) is pressed with forged ids in every position of its data: a superscript digit that
``str.isdigit`` accepts and ``int`` refuses, Arabic-Indic digits, a number too large for
SQLite's INTEGER, zero, negative, empty, signs, spaces, garbage. Every press must be
answered (the spinner stops), refused as no longer valid (or, for data no handler takes, as
no longer active), with no call the server refused and nothing reaching the error handler.
"""

from __future__ import annotations

import asyncio
import logging
import re
from re import _constants as sre
from re import _parser as sre_parse
from typing import Any

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

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
from bot.context import CommunityApplication
from bot.i18n import translator
from bot.sandbox.server import BotApiServer
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import says, taps

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


async def test_buttons_valid_on_their_own_message_are_refused_on_another(server, bot):
    """The buttons whose data names no message (a confirmation's Yes, an Undo) are declared
    ``own_message``: each, pressed from another of the bot's messages, is refused as invalid
    by the codec before its feature reads anything, and that message keeps its text."""
    own = [
        button for prefix in PREFIXES.values() for button in prefix.buttons if button.own_message
    ]
    actions = {
        ":".join([button.prefix.name, *(p for p in button.layout if isinstance(p, str))])
        for button in own
    }
    assert actions == {"ann:on", "me:del", "me:keep", "vf:leave:yes"}
    await seed.member(bot.storage, 504)
    user = server.create_user("Oscar", language_code="en", user_id=504)
    menu = await says(user, "/start")
    for button in own:
        await user.press_data(menu.id, button.longest())
        answer = await user.wait_for_callback_answer()
        assert answer.show_alert and answer.text == en("This button is no longer valid."), button
        assert user.chat.messages[menu.id].text == menu.text
    assert await bot.storage.get_member(504) is not None
    assert server.errors() == []


NOW = 1_800_000_000
MALFORMED_IDS = (
    "²",  # a digit to str.isdigit, not to int
    "١٢",  # Arabic-Indic digits: int() reads them, Telegram buttons never carry them
    "99999999999999999999999",  # larger than SQLite's INTEGER
    "9223372036854775808",  # 2**63: one more than the largest INTEGER
    "0",
    "-5",
    "",
    "+5",
    " 5",
    "5.0",
    "0x1f",
    "abc",
)
REFUSALS = {
    en("This button is no longer valid."),
    # Data no handler takes, and the refusals of dialogs not in progress.
    en("This button is no longer active. Send /start to see the menu."),
    en("This button is no longer active."),
    en("This search is no longer active. Send /browse to start a new one."),
    en("This button has expired. Send /deleteme again if you want to erase your data."),
}


# --- the callback data the bot registers ------------------------------------------------------


def callback_patterns(handlers: list[BaseHandler]) -> list[re.Pattern[str]]:
    """The patterns of every CallbackQueryHandler, inside dialogs too."""
    found: list[re.Pattern[str]] = []
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            nested = [*handler.entry_points, *handler.fallbacks]
            for steps in handler.states.values():
                nested += steps
            found += callback_patterns(nested)
        elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            found.append(handler.pattern)
    return found


def example(pattern: str) -> str:
    """A short string the pattern matches (the first choice of each branch and set)."""
    return _example(sre_parse.parse(pattern))


def _example(parsed: Any) -> str:
    out = []
    for op, value in parsed:
        if op is sre.LITERAL:
            out.append(chr(value))
        elif op is sre.IN:
            out.append(_first_of_set(value))
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, _high, item = value
            out.append(_example(item) * max(low, 1))
        elif op is sre.SUBPATTERN:
            out.append(_example(value[-1]))
        elif op is sre.BRANCH:
            out.append(_example(value[1][0]))
        elif op is sre.ANY:
            out.append("x")
        # AT (^, $) and the like match no character.
    return "".join(out)


def _first_of_set(items: Any) -> str:
    op, value = items[0]
    if op is sre.LITERAL:
        return chr(value)
    if op is sre.RANGE:
        return chr(value[0])
    if op is sre.CATEGORY:
        return "1" if value is sre.CATEGORY_DIGIT else "x"
    return "x"


def forged(patterns: list[re.Pattern[str]]) -> list[str]:
    """For each pattern's example ``a:b:1``, its last part and each number in it replaced by
    each malformed id; at most 64 bytes, as Telegram allows."""
    data: set[str] = set()
    for pattern in patterns:
        parts = example(pattern.pattern).split(":")
        where = {len(parts) - 1} | {i for i, part in enumerate(parts) if part.isdigit()}
        for bad in MALFORMED_IDS:
            for index in where - {0}:
                data.add(":".join([*parts[:index], bad, *parts[index + 1 :]]))
    return sorted(d for d in data if len(d.encode()) <= 64)


# --- the test ------------------------------------------------------------------------------------


class Errors(logging.Handler):
    """Records what the bot logs at ERROR (its error handler logs every unhandled exception)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def settle(server: BotApiServer, bot: CommunityApplication, timeout: float = 180) -> None:  # noqa: ASYNC109
    """Wait until the bot fetched every update and finished handling it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while server.bot().updates.pending_count:
        assert loop.time() < deadline, "the bot did not fetch every update"
        await asyncio.sleep(0.01)
    await asyncio.wait_for(bot.update_queue.join(), max(deadline - loop.time(), 0.1))


async def test_every_prefix_with_malformed_ids_is_answered_and_refused(server, bot):
    """Pressed by an admin, so that admin buttons parse their data too."""
    patterns = callback_patterns([h for group in bot.handlers.values() for h in group])
    prefixes = {example(p.pattern).split(":")[0] for p in patterns}
    assert {"ls", "ct", "mod", "vf", "rp", "mt", "al", "bc", "br", "fu", "lo", "my"} <= prefixes
    presses = forged(patterns)
    assert len(presses) > 500
    await seed.member(bot.storage, ADMIN_ID)
    admin = server.create_user("Ada", "en", user_id=ADMIN_ID)
    menu = await says(admin, "/start")
    errors = Errors()
    logging.getLogger().addHandler(errors)
    try:
        sent = {await admin.press_data(menu.id, data): data for data in presses}
        await settle(server, bot)
    finally:
        logging.getLogger().removeHandler(errors)

    answers = {answer.callback_query_id: answer.text for answer in admin.callback_answers}
    assert [sent[query] for query in sent if query not in answers] == []
    assert [(sent[q], answers[q]) for q in sent if answers[q] not in REFUSALS] == []
    assert [record.getMessage()[:300] for record in errors.records] == []
    assert empty_keyboards(server) == []
    assert server.errors() == []


async def test_a_double_tap_on_close_closes_once_and_answers_both(server, bot):
    await seed.member(bot.storage, 802)
    owner = server.create_user("Olga", "en", user_id=802)
    listing = await seed.listing(bot.storage, 802, NOW)
    await says(owner, f"/start l{listing.id}")
    confirm = await taps(owner, "✖️ Close")
    # Both presses in one batch of getUpdates: the second is in flight when the first acts.
    first = await owner.press_data(confirm.id, f"ls:cls:{listing.id}")
    second = await owner.press_data(confirm.id, f"ls:cls:{listing.id}")
    await settle(server, bot)
    assert (await owner.wait_for_callback_answer(first)).text is None
    assert (await owner.wait_for_callback_answer(second)).text in REFUSALS
    history = [h.status for h in await bot.storage.history(listing.id)]
    assert history == ["open", "closed"]
    assert server.errors() == []


def empty_keyboards(server: BotApiServer) -> list[str]:
    """Calls whose reply_markup was ``{}``: what python-telegram-bot sends for an
    InlineKeyboardMarkup without rows. The Bot API's spec has no such markup (an
    InlineKeyboardMarkup needs ``inline_keyboard``); Telegram's server reads it as none,
    which removes the keyboard of an edited message: either way not what the bot meant."""
    return [c.method for c in server.calls if str(c.params.get("reply_markup")) in ("{}", "")]


async def test_my_listings_with_nothing_in_it(server, bot):
    await seed.member(bot.storage, 803)
    user = server.create_user("Nadia", "en", user_id=803)
    empty = await says(user, "/mylistings")
    await user.press_data(empty.id, "my:p:0")
    answer = await user.wait_for_callback_answer()
    assert answer.text in REFUSALS
    await settle(server, bot)
    assert empty_keyboards(server) == []
    assert server.errors() == []
    # The menu's button too.
    menu = await says(user, "/start")
    await user.press_data(menu.id, "my:list")
    shown = await user.wait_for_bot_message()
    assert shown.text == en("You have no listings yet. Send /post to publish one.")
    assert server.errors() == []
