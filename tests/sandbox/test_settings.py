"""Commands, descriptions, names, menu button and getChat."""

from __future__ import annotations

import re

import pytest
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonCommands,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import BadRequest
from telegram.ext import Application

from bot.sandbox import BotApiServer


def raises(text: str) -> pytest.RaisesExc:
    return pytest.raises(BadRequest, match="(?i)" + re.escape(text))


async def test_commands_per_scope_and_language(ptb: Application, server: BotApiServer) -> None:
    bot = ptb.bot
    marie = server.create_user("Marie", language_code="fr")
    await marie.send_text("hi")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Démarrer")], language_code="fr")
    assert [c.description for c in await bot.get_my_commands(language_code="fr")] == ["Démarrer"]
    # No German list: the default one.
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start", "help"]
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.get_my_commands(scope=scope) == ()
    await bot.set_my_commands([BotCommand("offer", "Offer")], scope=scope)
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["offer"]
    assert [c["command"] for c in marie.visible_commands()] == ["offer"]
    await bot.set_my_commands([BotCommand("vip", "VIP")], scope=BotCommandScopeChat(marie.id))
    assert [c["command"] for c in marie.visible_commands()] == ["vip"]
    await bot.delete_my_commands(language_code="fr")
    assert [c.command for c in await bot.get_my_commands(language_code="fr")] == ["start", "help"]
    with raises("Chat not found"):
        await bot.set_my_commands([BotCommand("x", "y")], scope=BotCommandScopeChat(4242))


async def test_command_rules(ptb: Application, api) -> None:
    bot = ptb.bot
    with raises("BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "capital letters")])
    # tdlib's own checks come first, in its words (td/telegram/BotCommand.cpp).
    with raises("Command length must not exceed 32"):
        await bot.set_my_commands([BotCommand("x" * 33, "too long")])
    with raises("Command description length must not exceed 256"):
        await bot.set_my_commands([BotCommand("ok", "d" * 257)])
    with raises("Command description must be non-empty"):
        await bot.set_my_commands([BotCommand("ok", "  ")])
    with raises("Command must be non-empty"):
        await bot.set_my_commands([BotCommand("/", "slash only")])
    with raises("BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(101)])
    with raises("Invalid language code specified"):
        await bot.set_my_commands([BotCommand("ok", "fine")], language_code="fra")
    status, body = await api("setMyCommands", commands=[{"command": "x"}])
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse BotCommand: Can't find field \"description\"",
    )
    await bot.set_my_commands([BotCommand(f"c{i}", "d" * 256) for i in range(100)])
    # Telegram trims and drops a leading "/", and takes a missing list as an empty one.
    await bot.set_my_commands([BotCommand(" /help ", " Help ")])
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("help", "Help")]
    assert (await api("setMyCommands"))[1]["result"] is True
    assert await bot.get_my_commands() == ()


async def test_descriptions_and_name(ptb: Application) -> None:
    bot = ptb.bot
    await bot.set_my_description("Default description")
    await bot.set_my_description("Description FR", language_code="fr")
    assert (await bot.get_my_description("fr")).description == "Description FR"
    assert (await bot.get_my_description("de")).description == "Default description"
    with raises("description is too long"):
        await bot.set_my_description("d" * 513)
    await bot.set_my_short_description("Short")
    assert (await bot.get_my_short_description()).short_description == "Short"
    with raises("short description is too long"):
        await bot.set_my_short_description("s" * 121)
    assert (await bot.get_my_name()).name == "Community Sharing"
    await bot.set_my_name("Partage", language_code="fr")
    assert (await bot.get_my_name("fr")).name == "Partage"
    with raises("name is too long"):
        await bot.set_my_name("n" * 65)
    await bot.set_my_description("", language_code="fr")  # removes the French one
    assert (await bot.get_my_description("fr")).description == "Default description"


async def test_menu_button_and_get_chat(ptb: Application, server: BotApiServer) -> None:
    bot = ptb.bot
    marie = server.create_user("Marie", last_name="Curie", username="mcurie")
    await marie.send_text("hi")
    assert (await bot.get_chat_menu_button()).type == "default"
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert (await bot.get_chat_menu_button(marie.id)).type == "commands"
    web_app = MenuButtonWebApp("Open", WebAppInfo("https://example.org/app"))
    await bot.set_chat_menu_button(marie.id, web_app)
    assert (await bot.get_chat_menu_button(marie.id)).text == "Open"
    chat = await bot.get_chat(marie.id)
    assert (chat.type, chat.first_name, chat.last_name, chat.username) == (
        "private",
        "Marie",
        "Curie",
        "mcurie",
    )
    with raises("Chat not found"):
        await bot.get_chat(1)
