"""The bot's log: lines for people or JSON for collectors, without secrets or chatter.

- ``LOG_FORMAT=text``: ``time level logger: message``; ``json``: one object per line with
  ``time``, ``level``, ``logger``, ``message`` and, when there is one, ``exception``.
- The bot token (and the webhook secret) never reach the output: every record is formatted,
  then the secrets are replaced, whatever library wrote the line.
- httpx (a line per request, with the token in the URL), APScheduler (two lines per job
  run) and PTB's Application (started, stopping) speak only at WARNING; our jobs say what
  they did instead, at most once a minute (:class:`Tally`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines say nothing an operator needs (PTB's Application says it
# started and stopped, which our own lines say with the bot's name).
QUIET = ("httpx", "apscheduler", "telegram.ext.Application")
HIDDEN = "<secret>"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class Redacting(logging.Formatter):
    """Wraps a formatter and hides secrets in everything it writes (tracebacks included)."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        return text


# A poller that runs every few seconds and is still busy at its next tick is skipped once,
# and the tick after picks up where it left: APScheduler's warning about it is noise, unlike
# the same warning for a daily job, which means a run was lost.
POLLER_SECONDS = 60


def skipped_poller_tick(record: logging.LogRecord) -> bool:
    """False (drop) for APScheduler's "skipped: maximum number of running instances" about
    a job that runs at least once a minute."""
    if "maximum number of running instances" not in str(record.msg):
        return True
    job = record.args[0] if isinstance(record.args, tuple) and record.args else None
    interval = getattr(getattr(job, "trigger", None), "interval", None)
    return interval is None or interval.total_seconds() >= POLLER_SECONDS


def job_cut_short(record: logging.LogRecord) -> bool:
    """False (drop) for APScheduler's error about a job cancelled because the bot is
    stopping ("raised an exception", with a CancelledError): its executor cancels the jobs
    still running at shutdown, and each of them (the outbox, the matching pass, the pollers)
    is built to be stopped anywhere."""
    cancelled = record.exc_info is not None and isinstance(
        record.exc_info[1], asyncio.CancelledError
    )
    return not (cancelled and record.name.startswith("apscheduler.executors"))


def setup_logging(level: str, log_format: str, secrets: Iterable[str] = ()) -> None:
    """Configure the root logger for ``python -m bot`` (stderr, one line per record)."""
    inner = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(Redacting(inner, secrets))
    handler.addFilter(job_cut_short)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler.scheduler").addFilter(skipped_poller_tick)


@dataclass(eq=False)
class Tally:
    """What a repeating job did, logged at most once per ``every`` seconds and never when it
    did nothing: "delivered 12 notifications" rather than a line per run.

    The first count after a quiet spell is logged at once; later ones are added up and logged
    by the first run after ``every`` seconds."""

    log: logging.Logger
    describe: Callable[[int], str]
    every: float = 60.0
    clock: Callable[[], float] = time.monotonic
    level: int = logging.INFO
    pending: int = field(default=0, init=False)
    logged_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.logged_at = -self.every  # so that the first count is logged at once

    def add(self, count: int) -> None:
        self.pending += count
        if self.pending and self.clock() - self.logged_at >= self.every:
            self.log.log(self.level, "%s", self.describe(self.pending))
            self.pending = 0
            self.logged_at = self.clock()


def counted(count: int, noun: str) -> str:
    """``"1 notification"``, ``"12 notifications"`` (log lines are English)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
