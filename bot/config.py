"""Settings, read from the environment and an optional ``.env`` file.

Every setting has a name, a default where one makes sense, and a check. A missing or malformed
value raises :class:`ConfigError` whose message is one line saying which setting is wrong and how
to fix it; ``python -m bot`` prints that line and exits, never a traceback.

Environment variables win over ``.env``. The ``.env`` format is the usual one: ``NAME=value``
lines, ``#`` comments, optional quotes around the value.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError

from bot.i18n import LANGUAGES
from bot.semantic.embedder import DEFAULT_MODEL, MODELS, NONE

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_PATH = "data/community_sharing.sqlite3"

# The secrets in the settings: the form each must have, and what to say when it has not.
_SECRETS: dict[str, tuple[re.Pattern[str], str]] = {
    # A bot token as BotFather hands it out: the bot id, a colon, and a 30+ character secret.
    "BOT_TOKEN": (
        re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,}$"),
        "BOT_TOKEN is malformed: expected '<digits>:<secret>' as given by @BotFather "
        "(leave it unset to run the local sandbox).",
    ),
    # What Telegram accepts as setWebhook's secret_token.
    "WEBHOOK_SECRET": (
        re.compile(r"^[A-Za-z0-9_-]{1,256}$"),
        "WEBHOOK_SECRET must be 1 to 256 characters among A-Z, a-z, 0-9, _ and - (Telegram "
        "refuses any other); or leave it unset to derive one from BOT_TOKEN.",
    ),
}
# A URL path made of unreserved characters only, so it needs no escaping anywhere.
_PATH_RE = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")
# Telegram's cloud posts webhooks only to these ports (a local Bot API server posts anywhere).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)
HEALTH_PATH = "/healthz"
SENDER_MAX = 64


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Settings:
    """The bot's settings once checked. ``bot_token`` is None in sandbox mode."""

    bot_token: str | None
    api_url: str = DEFAULT_API_URL
    database_path: Path = Path(DEFAULT_DATABASE_PATH)
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    default_locale: str = "en"
    # Webhook mode when set: the public https address in front of the bot (the reverse
    # proxy's); Telegram posts to it followed by the webhook path. Polling otherwise.
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    # None: derived from the token (see webhook_secret_token and webhook_path_or_default).
    webhook_secret: str | None = None
    webhook_path: str | None = None
    # A listener for GET /healthz alone (webhook mode has one on the webhook listener too).
    health_port: int | None = None
    health_listen: str = "127.0.0.1"
    sandbox_port: int = 8081
    # Outgoing messages per second across all chats (Telegram's limit is about 30); 0 = no cap.
    send_rate: float = 30.0
    # Listings one person may publish in 24 hours.
    posts_per_day: int = 5
    # Seconds to wait for the Bot API server to answer a call (getUpdates waits longer).
    http_timeout: float = 10.0
    log_level: str = "INFO"
    log_format: str = "text"  # or "json": one object per line
    # The multilingual embedding model (bot/semantic/embedder.py), or "none" for words only.
    embedding_model: str = DEFAULT_MODEL
    # Who every announcement says it is from: the admins' name for the service (a town's
    # association, a regional network...). None: the bot's own name, as Telegram shows it.
    announcements_from: str | None = None

    @property
    def bot_api_base_url(self) -> str:
        """PTB's ``base_url``: the server root followed by ``/bot`` (the token is appended)."""
        return f"{self.api_url}/bot"

    @property
    def bot_api_file_url(self) -> str:
        """PTB's ``base_file_url`` for downloading files from the same server."""
        return f"{self.api_url}/file/bot"

    @property
    def webhook_secret_token(self) -> str:
        """setWebhook's ``secret_token``: WEBHOOK_SECRET, or one derived from the token (the
        same at every start, so a restart needs no new setWebhook to stay consistent)."""
        return self.webhook_secret or _derived(self._token(), "webhook secret")

    @property
    def webhook_path_or_default(self) -> str:
        """Where the webhook listener takes updates: WEBHOOK_PATH, or ``/telegram/<32 hex>``
        derived from the token, so the address is not guessable from the host alone."""
        return self.webhook_path or "/telegram/" + _derived(self._token(), "webhook path")[:32]

    @property
    def webhook_endpoint(self) -> str:
        """The URL given to setWebhook: WEBHOOK_URL followed by the webhook path."""
        assert self.webhook_url, "webhook_endpoint needs WEBHOOK_URL"
        return self.webhook_url + self.webhook_path_or_default

    def _token(self) -> str:
        assert self.bot_token, "the webhook's secret and path derive from the bot token"
        return self.bot_token


def _derived(token: str, purpose: str) -> str:
    """A value that only the token's holder can compute: HMAC-SHA256 of ``purpose`` keyed with
    the token, in hex (letters and digits only, so Telegram accepts it as a secret)."""
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def read_dotenv(path: Path) -> dict[str, str]:
    """Read ``NAME=value`` lines from a ``.env`` file; a missing file is an empty mapping."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected NAME=value, got {raw.strip()[:40]!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")
) -> Settings:
    """Build :class:`Settings` from ``.env`` overlaid with the environment, checking each value."""
    values: dict[str, str] = read_dotenv(dotenv_path) if dotenv_path else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    api_url = _check_url("TELEGRAM_API_URL", get("TELEGRAM_API_URL") or DEFAULT_API_URL)
    health_port = get("HEALTH_PORT")
    return Settings(
        bot_token=_check_secret("BOT_TOKEN", get("BOT_TOKEN")),
        api_url=api_url,
        database_path=_check_database_path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
        admin_ids=_check_admin_ids(get("ADMIN_IDS")),
        default_locale=_check_locale(get("DEFAULT_LOCALE") or "en"),
        webhook_url=_check_webhook_url(get("WEBHOOK_URL"), api_url),
        webhook_listen=get("WEBHOOK_LISTEN") or "127.0.0.1",
        webhook_port=_check_port("WEBHOOK_PORT", get("WEBHOOK_PORT") or "8443"),
        webhook_secret=_check_secret("WEBHOOK_SECRET", get("WEBHOOK_SECRET")),
        webhook_path=_check_webhook_path(get("WEBHOOK_PATH")),
        health_port=_check_port("HEALTH_PORT", health_port) if health_port else None,
        health_listen=get("HEALTH_LISTEN") or "127.0.0.1",
        sandbox_port=_check_port("SANDBOX_PORT", get("SANDBOX_PORT") or "8081"),
        send_rate=_check_rate(get("SEND_RATE_LIMIT") or "30"),
        posts_per_day=_check_count("POSTS_PER_DAY", get("POSTS_PER_DAY") or "5"),
        http_timeout=_check_timeout(get("TELEGRAM_TIMEOUT") or "10"),
        log_level=_check_log_level(get("LOG_LEVEL") or "INFO"),
        log_format=_check_log_format(get("LOG_FORMAT") or "text"),
        embedding_model=_check_embedding_model(get("EMBEDDING_MODEL") or DEFAULT_MODEL),
        announcements_from=_check_sender(get("ANNOUNCEMENTS_FROM")),
    )


def _check_sender(name: str | None) -> str | None:
    """A name on one line, as long as Telegram allows a bot's name (64 characters): it heads
    every announcement, and the longer it is, the less room the announcement has."""
    if name is not None and (len(name) > SENDER_MAX or not name.isprintable()):
        raise ConfigError(
            f"ANNOUNCEMENTS_FROM must be a name on one line of at most {SENDER_MAX} characters "
            f"(who announcements are from, e.g. 'Community Sharing team'), got {name[:80]!r}."
        )
    return name


def _check_secret(name: str, value: str | None) -> str | None:
    """The secret ``name`` (None: unset), if it has the form :data:`_SECRETS` gives it."""
    pattern, problem = _SECRETS[name]
    if value is not None and not pattern.match(value):
        # Never echo the value itself: it is a secret and may end up in logs.
        raise ConfigError(problem)
    return value


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{name} must be an http(s) URL such as http://127.0.0.1:8081, got {url!r}."
        )
    return url.rstrip("/")


def _check_webhook_url(url: str | None, api_url: str) -> str | None:
    """An https address with a host; plain http only on this machine (a local Bot API server
    such as ``telegram-bot-api --local`` or the sandbox posts there). Telegram's own servers
    reach only public addresses, on ports 443, 80, 88 or 8443."""
    if url is None:
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError(
            f"WEBHOOK_URL must be the bot's public https address, such as "
            f"https://bot.example.org, got {url!r}."
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            "WEBHOOK_URL must not have a query or a fragment: give the address alone, and "
            "WEBHOOK_PATH for the path the bot listens on."
        )
    local = is_loopback(parts.hostname)
    if parts.scheme == "http" and not local:
        raise ConfigError(
            f"WEBHOOK_URL must start with https:// (Telegram posts only over TLS; put a reverse "
            f"proxy with a certificate in front of the bot), got {url!r}."
        )
    if urlsplit(api_url).hostname == urlsplit(DEFAULT_API_URL).hostname:
        if local:
            raise ConfigError(
                "WEBHOOK_URL points to this machine, which Telegram cannot reach: give the "
                "public address of the reverse proxy in front of the bot."
            )
        if (port or 443) not in TELEGRAM_WEBHOOK_PORTS:
            raise ConfigError(
                f"WEBHOOK_URL uses port {port}, but Telegram posts only to ports "
                f"{', '.join(map(str, TELEGRAM_WEBHOOK_PORTS))}: use one of them at the proxy."
            )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_webhook_path(path: str | None) -> str | None:
    if path is None:
        return None
    if len(path) > 200 or not _PATH_RE.match(path) or path == HEALTH_PATH:
        raise ConfigError(
            f"WEBHOOK_PATH must be a path such as /telegram/s3cr3t-words (letters, digits, "
            f"'.', '_', '~', '-' between slashes; not {HEALTH_PATH}), got {path!r}; or leave it "
            f"unset to derive one from BOT_TOKEN."
        )
    return path


def _check_database_path(raw: str) -> Path:
    path = Path(raw)
    if path.exists() and path.is_dir():
        raise ConfigError(f"DATABASE_PATH points to a directory ({raw}); give a file path instead.")
    return path


def _check_admin_ids(raw: str | None) -> frozenset[int]:
    if not raw:
        return frozenset()
    ids = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError(
                f"ADMIN_IDS must be comma-separated numeric Telegram user ids, got {part!r}."
            )
        ids.add(int(part))
    return frozenset(ids)


def _check_locale(raw: str) -> str:
    try:
        language = str(Locale.parse(raw.replace("-", "_")).language)
    except (ValueError, UnknownLocaleError):
        raise ConfigError(
            f"DEFAULT_LOCALE must be a language code such as 'en' or 'fr', got {raw!r}."
        ) from None
    if language not in LANGUAGES:
        raise ConfigError(
            f"DEFAULT_LOCALE must be one of the bot's languages ({', '.join(LANGUAGES)}), "
            f"got {raw!r}."
        )
    return language


def _check_port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a TCP port number between 1 and 65535, got {raw!r}.")
    return int(raw)


def _check_count(name: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ConfigError(f"{name} must be a whole number from 1 to 10000, got {raw!r}.")
    return int(raw)


def _check_timeout(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0.1 <= seconds <= 300:
        raise ConfigError(f"TELEGRAM_TIMEOUT must be seconds between 0.1 and 300, got {raw!r}.")
    return seconds


def _check_rate(raw: str) -> float:
    try:
        rate = float(raw)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 10_000:
        raise ConfigError(
            f"SEND_RATE_LIMIT must be messages per second (a number, 0 for no cap), got {raw!r}."
        )
    return rate


def _check_log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {raw!r}.")
    return level


def _check_log_format(raw: str) -> str:
    if raw.lower() not in ("text", "json"):
        raise ConfigError(
            f"LOG_FORMAT must be 'text' (lines for people) or 'json' (one JSON object per line, "
            f"for log collectors), got {raw!r}."
        )
    return raw.lower()


def _check_embedding_model(raw: str) -> str:
    name = raw.strip().lower()
    if name != NONE and name not in MODELS:
        choices = ", ".join([*MODELS, NONE])
        raise ConfigError(f"EMBEDDING_MODEL must be one of {choices}, got {raw!r}.")
    return name
