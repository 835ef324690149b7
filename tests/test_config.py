"""Settings: defaults, .env, and one clear line for every malformed value."""

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:" + "A" * 35


def settings(tmp_path: Path, dotenv: str = "", **env: str):
    path = tmp_path / ".env"
    path.write_text(dotenv, encoding="utf-8")
    return load_settings(environ=env, dotenv_path=path)


def test_defaults_without_any_setting(tmp_path):
    s = settings(tmp_path)
    assert s.bot_token is None  # sandbox mode
    assert s.api_url == "https://api.telegram.org"
    assert s.database_path == Path("data/community_sharing.sqlite3")
    assert s.admin_ids == frozenset()
    assert s.default_locale == "en"
    assert s.bot_api_base_url == "https://api.telegram.org/bot"
    assert s.announcements_from is None  # the bot's own name


def test_who_announcements_are_from(tmp_path):
    s = settings(tmp_path, ANNOUNCEMENTS_FROM=" Mairie de Saint-Dié & Co ")
    assert s.announcements_from == "Mairie de Saint-Dié & Co"  # escaped where it is shown


def test_environment_wins_over_dotenv(tmp_path):
    s = settings(
        tmp_path,
        dotenv=f"# comment\nBOT_TOKEN='{TOKEN}'\nADMIN_IDS=1, 2\nDEFAULT_LOCALE=fr\n",
        ADMIN_IDS="7",
        TELEGRAM_API_URL="http://127.0.0.1:8081/",
    )
    assert s.bot_token == TOKEN
    assert s.admin_ids == frozenset({7})
    assert s.default_locale == "fr"
    assert s.api_url == "http://127.0.0.1:8081"
    assert s.bot_api_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN is malformed"),
        ("TELEGRAM_API_URL", "127.0.0.1:8081", "TELEGRAM_API_URL must be an http(s) URL"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS must be comma-separated numeric"),
        ("DEFAULT_LOCALE", "xx-nonsense", "DEFAULT_LOCALE must be a language code"),
        ("DEFAULT_LOCALE", "zh", "DEFAULT_LOCALE must be one of"),
        ("WEBHOOK_PORT", "70000", "WEBHOOK_PORT must be a TCP port"),
        ("SEND_RATE_LIMIT", "fast", "SEND_RATE_LIMIT must be"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be 'text'"),
        ("HEALTH_PORT", "0", "HEALTH_PORT must be a TCP port"),
        ("WEBHOOK_URL", "bot.example.org", "WEBHOOK_URL must be the bot's public https address"),
        ("WEBHOOK_URL", "https://", "WEBHOOK_URL must be the bot's public https address"),
        ("WEBHOOK_URL", "https://:8443/x", "WEBHOOK_URL must be the bot's public https address"),
        ("WEBHOOK_URL", "https://bot.example.org:99999", "WEBHOOK_URL must be the bot's public"),
        ("WEBHOOK_URL", "ftp://bot.example.org", "WEBHOOK_URL must be the bot's public https"),
        ("WEBHOOK_URL", "http://bot.example.org", "WEBHOOK_URL must start with https://"),
        ("WEBHOOK_URL", "https://bot.example.org/?x=1", "must not have a query or a fragment"),
        ("WEBHOOK_URL", "https://bot.example.org:9000", "Telegram posts only to ports 443, 80"),
        ("WEBHOOK_URL", "https://127.0.0.1", "points to this machine, which Telegram cannot"),
        ("WEBHOOK_SECRET", "with spaces", "WEBHOOK_SECRET must be 1 to 256 characters among"),
        ("WEBHOOK_SECRET", "s" * 257, "WEBHOOK_SECRET must be 1 to 256 characters among"),
        ("WEBHOOK_SECRET", "pässword", "WEBHOOK_SECRET must be 1 to 256 characters among"),
        ("WEBHOOK_PATH", "telegram", "WEBHOOK_PATH must be a path such as"),
        ("WEBHOOK_PATH", "/a b", "WEBHOOK_PATH must be a path such as"),
        ("WEBHOOK_PATH", "/a//b", "WEBHOOK_PATH must be a path such as"),
        ("WEBHOOK_PATH", "/healthz", "WEBHOOK_PATH must be a path such as"),
        ("ANNOUNCEMENTS_FROM", "x" * 65, "ANNOUNCEMENTS_FROM must be a name on one line"),
        ("ANNOUNCEMENTS_FROM", "Town\nhall", "ANNOUNCEMENTS_FROM must be a name on one line"),
    ],
)
def test_malformed_setting_is_one_clear_line(tmp_path, name, value, says):
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path, **{name: value})
    message = str(raised.value)
    assert says in message
    assert "\n" not in message


def test_malformed_token_is_not_echoed(tmp_path):
    secret = "12345:short-secret-value"
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path, BOT_TOKEN=secret)
    assert secret not in str(raised.value)


def test_database_path_that_is_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_PATH points to a directory"):
        settings(tmp_path, DATABASE_PATH=str(tmp_path))


def test_broken_dotenv_line_names_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"\.env:2: expected NAME=value"):
        settings(tmp_path, dotenv="BOT_TOKEN=\nthis is not a setting\n")


def test_webhook_settings_accepted(tmp_path):
    s = settings(tmp_path, BOT_TOKEN=TOKEN, WEBHOOK_URL="https://bot.example.org:8443/")
    assert s.webhook_url == "https://bot.example.org:8443"
    assert (s.webhook_listen, s.webhook_port) == ("127.0.0.1", 8443)
    assert (s.health_port, s.health_listen, s.log_format) == (None, "127.0.0.1", "text")
    # A local Bot API server (telegram-bot-api --local, the sandbox) posts over plain http to
    # this machine, on any port.
    local = settings(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://127.0.0.1:8081",
        WEBHOOK_URL="http://127.0.0.1:9999",
        WEBHOOK_SECRET="Our_secret-2",
        WEBHOOK_PATH="/hooks/community.bot",
        HEALTH_PORT="8080",
        HEALTH_LISTEN="0.0.0.0",
        LOG_FORMAT="JSON",
    )
    assert local.webhook_secret_token == "Our_secret-2"
    assert local.webhook_endpoint == "http://127.0.0.1:9999/hooks/community.bot"
    assert (local.health_port, local.health_listen, local.log_format) == (8080, "0.0.0.0", "json")


def test_the_webhook_secret_and_path_derive_from_the_token(tmp_path):
    s = settings(tmp_path, BOT_TOKEN=TOKEN, WEBHOOK_URL="https://bot.example.org")
    secret, path = s.webhook_secret_token, s.webhook_path_or_default
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)  # what Telegram accepts
    assert re.fullmatch(r"/telegram/[0-9a-f]{32}", path)
    assert s.webhook_endpoint == f"https://bot.example.org{path}"
    # The same at every start, different for another bot, and neither reveals the token.
    again = settings(tmp_path, BOT_TOKEN=TOKEN, WEBHOOK_URL="https://bot.example.org")
    assert (again.webhook_secret_token, again.webhook_path_or_default) == (secret, path)
    other = settings(tmp_path, BOT_TOKEN="987654321:" + "B" * 35, WEBHOOK_URL="https://x.org")
    assert other.webhook_secret_token != secret and other.webhook_path_or_default != path
    assert TOKEN.split(":")[1] not in secret + path and path[-32:] not in secret


def test_a_malformed_secret_is_not_echoed(tmp_path):
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path, WEBHOOK_SECRET="my secret!")
    assert "my secret!" not in str(raised.value)
