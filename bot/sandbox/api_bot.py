"""Bot API methods about the bot itself: identity, commands, descriptions, menu button, files."""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from .errors import bad_request
from .registry import MAX_DOWNLOAD_BYTES, CallContext, api_method

MAX_COMMANDS = 100
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_COMMAND_DESCRIPTION = 256
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
MAX_NAME = 64
LANGUAGE_RE = re.compile(r"^([a-z]{2})?$")
ACCEPTED_GIFT_TYPES = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}


@api_method("getMe")
async def get_me(ctx: CallContext, p: dict[str, Any]) -> Any:
    """The bot's User object."""
    return ctx.bot.user_dict(full=True)


@api_method("logOut")
async def log_out(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Accepted and ignored (the bot stays registered)."""
    return True


@api_method("close")
async def close(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Accepted and ignored."""
    return True


@api_method("getChat")
async def get_chat(ctx: CallContext, p: dict[str, Any]) -> Any:
    """ChatFullInfo of a private chat with a person who talked to the bot."""
    chat = ctx.chat(p["chat_id"], allow_blocked=True)
    info = chat.account.chat_dict()
    info.update(
        accent_color_id=0, max_reaction_count=11, accepted_gift_types=dict(ACCEPTED_GIFT_TYPES)
    )
    return info


@api_method("getFile")
async def get_file(ctx: CallContext, p: dict[str, Any]) -> Any:
    """File object with a ``file_path`` for ``GET /file/bot<token>/<file_path>``."""
    record = ctx.state.files.get(p["file_id"])
    if record is None or record.bot_id != ctx.bot.id:
        raise bad_request("invalid file_id")
    if record.size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    if record.file_path is None:
        ext = ""
        if record.kind == "photo":
            ext = "." + (record.mime_type or "image/jpeg").split("/")[1].replace("jpeg", "jpg")
        elif record.file_name and "." in record.file_name:
            ext = "." + record.file_name.rsplit(".", 1)[1]
        elif record.mime_type:
            ext = mimetypes.guess_extension(record.mime_type) or ""
        folder = "photos" if record.kind == "photo" else "documents"
        record.file_path = ctx.state.new_file_path(folder, ext)
    return record.file()


# ------------------------------------------------------------------ commands


def _language(p: dict[str, Any]) -> str:
    language = p.get("language_code") or ""
    if not LANGUAGE_RE.match(language):
        raise bad_request("LANG_CODE_INVALID")
    return language


def _scope_key(ctx: CallContext, scope: dict[str, Any] | None) -> str:
    if not scope:
        return "default"
    kind = scope["type"]
    if kind in ("chat", "chat_administrators", "chat_member"):
        chat_id = scope["chat_id"]
        if kind == "chat_member" or isinstance(chat_id, str) or chat_id > 0:
            ctx.chat(chat_id, allow_blocked=True)  # only private chats exist in the sandbox
        key = f"{kind}:{chat_id}"
        return f"{key}:{scope['user_id']}" if kind == "chat_member" else key
    return kind


@api_method("setMyCommands")
async def set_my_commands(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Store the command list for (scope, language_code); an empty list deletes it."""
    commands = p["commands"]
    if len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND_RE.match(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= MAX_COMMAND_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = (_scope_key(ctx, p.get("scope")), _language(p))
    if commands:
        ctx.bot.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
    else:
        ctx.bot.commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Commands of (scope, language_code), falling back to the scope's default language."""
    scope, language = _scope_key(ctx, p.get("scope")), _language(p)
    stored = ctx.bot.commands
    return stored.get((scope, language)) or stored.get((scope, "")) or []


@api_method("deleteMyCommands")
async def delete_my_commands(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Forget the command list of (scope, language_code)."""
    ctx.bot.commands.pop((_scope_key(ctx, p.get("scope")), _language(p)), None)
    return True


# ------------------------------------------------------------------ descriptions and name


def _set_text(
    store: dict[str, str], value: str | None, language: str, limit: int, what: str
) -> bool:
    if value and len(value) > limit:
        raise bad_request(f"{what} is too long")
    if value:
        store[language] = value
    else:
        store.pop(language, None)
    return True


def _get_text(store: dict[str, str], language: str, default: str = "") -> str:
    return store.get(language) or store.get("") or default


@api_method("setMyDescription")
async def set_my_description(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Description shown in an empty chat (<= 512 chars), per language."""
    return _set_text(
        ctx.bot.descriptions, p.get("description"), _language(p), MAX_DESCRIPTION, "description"
    )


@api_method("getMyDescription")
async def get_my_description(ctx: CallContext, p: dict[str, Any]) -> Any:
    """BotDescription for a language (falls back to the default one)."""
    return {"description": _get_text(ctx.bot.descriptions, _language(p))}


@api_method("setMyShortDescription")
async def set_my_short_description(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Short description on the profile page (<= 120 chars), per language."""
    return _set_text(
        ctx.bot.short_descriptions,
        p.get("short_description"),
        _language(p),
        MAX_SHORT_DESCRIPTION,
        "short description",
    )


@api_method("getMyShortDescription")
async def get_my_short_description(ctx: CallContext, p: dict[str, Any]) -> Any:
    """BotShortDescription for a language (falls back to the default one)."""
    return {"short_description": _get_text(ctx.bot.short_descriptions, _language(p))}


@api_method("setMyName")
async def set_my_name(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Bot name per language (<= 64 chars)."""
    return _set_text(ctx.bot.names, p.get("name"), _language(p), MAX_NAME, "name")


@api_method("getMyName")
async def get_my_name(ctx: CallContext, p: dict[str, Any]) -> Any:
    """BotName for a language (falls back to the default one, then the first name)."""
    return {"name": _get_text(ctx.bot.names, _language(p), ctx.bot.first_name)}


# ------------------------------------------------------------------ menu button


@api_method("setChatMenuButton")
async def set_chat_menu_button(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Menu button of one private chat, or the bot's default one without chat_id."""
    button = p.get("menu_button")
    if p.get("chat_id") is None:
        ctx.bot.default_menu_button = button
    else:
        ctx.chat(p["chat_id"], allow_blocked=True).menu_button = button
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(ctx: CallContext, p: dict[str, Any]) -> Any:
    """The chat's button, else the bot's default, else ``{"type": "default"}``."""
    button = None
    if p.get("chat_id") is not None:
        button = ctx.chat(p["chat_id"], allow_blocked=True).menu_button
    return button or ctx.bot.default_menu_button or {"type": "default"}
