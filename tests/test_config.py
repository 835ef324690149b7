"""Settings: defaults, .env, and one clear line for every malformed value."""

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
