"""Bot API methods about the bot itself: identity, commands, descriptions, menu button, files."""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from .errors import bad_request
from .params import to_integer
from .registry import MAX_DOWNLOAD_BYTES, CallContext, api_method
from .tgjson import FieldError, int_field, object_field, string_field

MAX_COMMANDS = 100
COMMAND_RE = re.compile(r"^[a-z0-9_]+$")
MAX_COMMAND = 32
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
    chat = ctx.chat(p.get("chat_id"), allow_blocked=True)
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
        raise bad_request("Invalid language code specified")
    return language


def _scope_key(ctx: CallContext, value: Any) -> str:
    """The key of a BotCommandScope, read as Telegram reads it (Client::get_bot_command_scope)."""
    if value is None:
        return "default"
    try:
        kind, chat_id = _scope(value)
    except FieldError as exc:
        raise bad_request(f"Can't parse BotCommandScope: {exc}") from None
    if chat_id is None:
        return kind
    ctx.chat(scope_chat_id(chat_id), allow_blocked=True)  # only private chats exist here
    if kind != "chat":
        raise bad_request("Can't use specified scope in private chats")
    return f"chat:{scope_chat_id(chat_id)}"


def scope_chat_id(text: str) -> int | str:
    """A scope's chat id: a username or a number."""
    return text if text.startswith("@") else to_integer(text)


def _scope(value: Any) -> tuple[str, str | None]:
    if not isinstance(value, dict):
        raise FieldError("BotCommandScope must be an Object")
    kind = string_field(value, "type", required=True)
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return kind or "default", None
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise FieldError("Unsupported type specified")
    chat_id = string_field(value, "chat_id", required=True)
    if not chat_id:
        raise FieldError("Empty chat_id specified")
    if kind == "chat_member":
        user_id = int_field(value, "user_id", required=True)
        if user_id is None or user_id <= 0:
            raise FieldError("Invalid user_id specified")
    return kind, chat_id


def _commands(value: Any) -> list[dict[str, str]]:
    """The commands of setMyCommands, read and trimmed as Telegram does."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("Expected an Array of BotCommand")
    if len(value) > MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    return [_command(item) for item in value]


def _command(item: Any) -> dict[str, str]:
    try:
        if not isinstance(item, dict):
            raise FieldError("expected an Object")
        command = string_field(item, "command", required=True) or ""
        description = string_field(item, "description", required=True) or ""
    except FieldError as exc:
        raise bad_request(f"Can't parse BotCommand: {exc}") from None
    command = command.strip().removeprefix("/")
    description = description.strip()
    if not command:
        raise bad_request("Command must be non-empty")
    if len(command) > MAX_COMMAND:
        raise bad_request(f"Command length must not exceed {MAX_COMMAND}")
    if not COMMAND_RE.match(command):
        raise bad_request("BOT_COMMAND_INVALID")
    if not description:
        raise bad_request("Command description must be non-empty")
    if len(description) > MAX_COMMAND_DESCRIPTION:
        raise bad_request(f"Command description length must not exceed {MAX_COMMAND_DESCRIPTION}")
    return {"command": command, "description": description}


@api_method("setMyCommands")
async def set_my_commands(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Store the command list for (scope, language_code); an empty list deletes it."""
    commands = _commands(p.get("commands"))
    key = (_scope_key(ctx, p.get("scope")), _language(p))
    if commands:
        ctx.bot.commands[key] = commands
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


def _menu_button(value: Any) -> dict[str, Any] | None:
    """A MenuButton read as Telegram reads it (Client::get_bot_menu_button)."""
    if value is None:
        return None
    try:
        if not isinstance(value, dict):
            raise FieldError("MenuButton must be an Object")
        kind = string_field(value, "type", required=True)
        if kind in ("default", "commands"):
            return {"type": kind}
        if kind != "web_app":
            raise FieldError("MenuButton has unsupported type")
        text = string_field(value, "text", required=True)
        web_app = object_field(value, "web_app", required=True) or {}
        url = string_field(web_app, "url", required=True)
    except FieldError as exc:
        raise bad_request(f"Can't parse menu button: {exc}") from None
    return {"type": "web_app", "text": text, "web_app": {"url": url}}


@api_method("setChatMenuButton")
async def set_chat_menu_button(ctx: CallContext, p: dict[str, Any]) -> Any:
    """Menu button of one private chat, or the bot's default one without chat_id."""
    button = _menu_button(p.get("menu_button"))
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
