"""Start-up an operator can trust: the bot answers at once while the command menu is
published in the background (even against a server that refuses or hangs on it), the menu is
not published again when nothing changed, and the error handler never raises."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from telegram.ext import ConversationHandler

from bot.app import build_application, menu_digest, running
from bot.i18n import MENU_LANGUAGES
from bot.sandbox.server import BotApiServer
from bot.storage import Storage
from tests.conftest import BOT_USERNAME
from tests.talk import says

OTHER_TOKEN = "2234567890:" + "U" * 35


def menu_calls(server: BotApiServer) -> list[str]:
    return [c.method for c in server.calls if c.method == "setMyCommands" and c.status == 200]


@pytest.mark.parametrize(
    "fault", [{"error_rate": 1.0}, {"hang_rate": 1.0, "hang_seconds": 60}], ids=["refused", "hangs"]
)
async def test_the_bot_answers_while_the_menu_cannot_be_published(server, settings, fault):
    server.faults.configure(methods=["setMyCommands"], **fault)
    async with running(settings) as application:
        user = server.create_user("Ines", language_code="pt")
        welcome = await says(user, "/start")
        assert "Bem-vindo" in welcome.text or "Boas-vindas" in welcome.text, welcome.text
        assert not application.menu_published.done()  # still trying, beside the bot
        assert menu_calls(server) == []

        server.faults.configure()  # the server gets better: the next attempt publishes everything
        if "hang_rate" in fault:
            return  # a hanging call waits for its timeout; stopping the bot cancels it
        await asyncio.wait_for(application.menu_published, 30)
        assert len(menu_calls(server)) == len(MENU_LANGUAGES)
        commands = server.bot().commands
        assert {c["command"] for c in commands[("default", "pt")]} >= {"start", "post", "cancel"}
        assert await application.storage.published_menu(application.bot.id) == menu_digest()


async def test_an_unchanged_menu_is_not_published_again(server, settings, caplog):
    async with running(settings) as application:
        await asyncio.wait_for(application.menu_published, 30)
    assert len(menu_calls(server)) == len(MENU_LANGUAGES)

    caplog.set_level(logging.INFO, logger="bot.app")
    async with running(settings) as application:
        await asyncio.wait_for(application.menu_published, 30)
        assert "as last published" in caplog.text
    assert len(menu_calls(server)) == len(MENU_LANGUAGES)  # nothing sent the second time

    # Another bot on the same database has its own menu to publish.
    server.add_bot(OTHER_TOKEN, username=f"other_{BOT_USERNAME}")
    async with running(dataclasses.replace(settings, bot_token=OTHER_TOKEN)) as application:
        await asyncio.wait_for(application.menu_published, 30)
    assert len(menu_calls(server)) == 2 * len(MENU_LANGUAGES)
    assert ("default", "") in server.bot(OTHER_TOKEN).commands


async def test_the_error_handler_logs_its_own_failure_instead_of_raising(server, bot, caplog):
    user = server.create_user("Zoe", language_code="en")
    await says(user, "/start")
    # Every message the bot sends is refused: the answer to /help fails (after the reply
    # retries), then the error handler's apology fails as well.
    server.faults.configure(methods=["sendMessage"], error_rate=1.0)
    await user.send_text("/help")
    for _attempt in range(400):
        if "could not tell the user about the error" in caplog.text:
            break
        await asyncio.sleep(0.025)
    assert "exception while handling an update" in caplog.text
    assert "could not tell the user about the error: Internal Server Error" in caplog.text
    assert "uncaught error was raised while handling the error" not in caplog.text
    apology = [r for r in caplog.records if "could not tell the user" in r.getMessage()]
    assert [r.exc_info for r in apology] == [None]  # one line, no second traceback

    server.faults.configure()
    assert "Community Sharing" in (await says(user, "/help")).text


async def test_a_failing_get_updates_is_one_line_and_polling_goes_on(server, bot, caplog):
    user = server.create_user("Olga", language_code="en")
    await says(user, "/start")
    server.faults.configure(methods=["getUpdates"], error_rate=1.0)
    # The long poll in flight brings this message; the next ones fail.
    assert "Community Sharing" in (await says(user, "/help", timeout=15)).text
    for _attempt in range(1200):
        if "getUpdates failed" in caplog.text:
            break
        await asyncio.sleep(0.025)
    server.faults.configure()
    assert "getUpdates failed 1 time (latest: Internal Server Error); retrying" in caplog.text
    assert "Exception happened while polling" not in caplog.text  # PTB's traceback
    assert "Community Sharing" in (await says(user, "/help", timeout=30)).text


async def test_building_the_bot_again_wraps_no_dialog_callback_twice(settings):
    """Each test builds an Application in the same process. A dialog guards its steps' handlers,
    which are made once with their module: guarding them in place wrapped their callbacks once
    more at every build, until the suite ran out of recursion (about 330 builds in)."""

    def wraps(callback: object) -> int:
        depth = 0
        while hasattr(callback, "__wrapped__"):
            callback, depth = callback.__wrapped__, depth + 1
        return depth

    storage = await Storage.open(settings.database_path)
    try:
        for _ in range(3):
            application = build_application(settings, storage)
            dialogs = [
                handler
                for group in application.handlers.values()
                for handler in group
                if isinstance(handler, ConversationHandler)
            ]
            depths = {
                wraps(step.callback)
                for dialog in dialogs
                for steps in (dialog.entry_points, dialog.fallbacks, *dialog.states.values())
                for step in steps
            }
            assert len(dialogs) > 5 and depths == {1}
    finally:
        await storage.close()
