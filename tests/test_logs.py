"""The operator's log: JSON lines when asked, no token anywhere, and at INFO only lines that
say something (the bot is up, what its jobs did, that it stopped), however often the jobs
run; ``make run`` stops with the bot on SIGTERM and leaves no process behind."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from bot.i18n import MENU_LANGUAGES
from bot.logs import (
    QUIET,
    JsonFormatter,
    Redacting,
    Tally,
    job_cut_short,
    setup_logging,
    skipped_poller_tick,
)
from bot.storage import Storage
from tests import seed
from tests.conftest import TOKEN
from tests.processes import ROOT, BotProcess, free_port
from tests.talk import containing, onboard

# What an operator sees at INFO from a bot that starts, answers, matches, delivers and stops.
MEANINGFUL = [
    r"@\w+ is running on uvloop; Ctrl-C to stop",
    rf"published the command menu and descriptions in {len(MENU_LANGUAGES)} languages",
    r"matched \d+ new listings?",
    r"embedding model \S+ loaded in [\d.]+ s \(\+\d+ MB\)",
    r"delivered \d+ notifications?",
    r"SIGTERM: stopping once the updates in hand are answered",
    r"stopped",
]


def test_json_lines_carry_time_level_logger_message_and_exception():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(Redacting(JsonFormatter(), [TOKEN]))
    logger = logging.getLogger("tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed with {TOKEN}\nover two lines")
        except RuntimeError:
            logger.exception("it broke")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # a traceback stays inside its line
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING" and first["logger"] == "tests.json"
    assert first["message"] == "calling https://api.telegram.org/bot<secret>/getMe"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert second["message"] == "it broke"
    assert "RuntimeError: failed with <secret>" in second["exception"]
    assert TOKEN not in stream.getvalue() and TOKEN.split(":")[1] not in stream.getvalue()


def test_a_busy_poller_skipping_a_tick_is_not_a_warning_but_a_lost_daily_run_is():
    # APScheduler's own jobs and its own wording, as the scheduler logs them.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler()
    poller = scheduler.add_job(print, "interval", seconds=1)
    daily = scheduler.add_job(print, "cron", hour=9)
    hourly = scheduler.add_job(print, "interval", hours=1)

    def skipped(job) -> logging.LogRecord:
        return logging.LogRecord(
            "apscheduler.scheduler",
            logging.WARNING,
            __file__,
            1,
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
            (job, 1),
            None,
        )

    assert not skipped_poller_tick(skipped(poller))
    assert skipped_poller_tick(skipped(daily))
    assert skipped_poller_tick(skipped(hourly))
    other = logging.LogRecord(
        "apscheduler.scheduler", logging.WARNING, "", 1, "Run time of job was missed", (), None
    )
    assert skipped_poller_tick(other)


async def test_a_job_cut_short_by_a_stop_is_not_logged_as_an_error(capsys):
    """APScheduler cancels the jobs still running when the scheduler shuts down, then logs
    each as an error ("raised an exception") with its CancelledError: the bot's log leaves
    that out (a SIGTERM in the middle of a delivery made the log test fail once, under load)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    root = logging.getLogger()
    touched = [root, *(logging.getLogger(name) for name in QUIET)]
    saved = [(logger, logger.handlers[:], logger.level) for logger in touched]
    seen: list[logging.LogRecord] = []
    logged = asyncio.Event()

    class Seen(logging.Handler):
        """What APScheduler logs, before the bot's own handler (on the root) filters it."""

        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)
            logged.set()

    executors = logging.getLogger("apscheduler.executors.default")
    catcher = Seen()
    executors.addHandler(catcher)
    setup_logging("INFO", "text")
    try:
        started = asyncio.Event()

        async def poll() -> None:
            started.set()
            await asyncio.Event().wait()  # still running when the bot stops

        scheduler = AsyncIOScheduler()
        scheduler.add_job(poll)
        scheduler.start()
        await started.wait()
        scheduler.shutdown(wait=False)
        await logged.wait()
    finally:
        executors.removeHandler(catcher)
        for logger, handlers, level in saved:  # setup_logging is for the bot's process
            logger.handlers[:] = handlers
            logger.setLevel(level)
    assert isinstance(seen[0].exc_info[1], asyncio.CancelledError)
    assert capsys.readouterr().err == ""
    # Any other error of a job is still logged.
    failed = logging.LogRecord(
        "apscheduler.executors.default", logging.ERROR, "", 1, 'Job "%s" raised an exception',
        ("outbox",), (ValueError, ValueError("boom"), None),
    )  # fmt: skip
    assert job_cut_short(failed)


def test_a_tally_logs_what_was_done_at_most_once_a_minute(caplog):
    now = [1000.0]
    tally = Tally(logging.getLogger("tests.tally"), lambda n: f"did {n}", clock=lambda: now[0])
    caplog.set_level(logging.INFO, logger="tests.tally")
    tally.add(0)  # idle runs say nothing
    tally.add(3)  # the first after a quiet spell: at once
    now[0] += 10
    tally.add(2)
    tally.add(0)
    now[0] += 50
    tally.add(0)  # a minute since the last line: what accumulated
    now[0] += 600
    tally.add(0)
    assert [r.getMessage() for r in caplog.records] == ["did 3", "did 2"]


async def seeded_match(storage: Storage, server) -> tuple[object, object]:
    """Two people who opened the chat earlier, each with a listing the other one matches;
    no quiet hours (seed.member gives none), so the cards go out whatever time the test runs."""
    maria = server.create_user("Мария", language_code="bg")
    lea = server.create_user("Léa", language_code="fr")
    now = int(time.time())
    for person, language, country in ((maria, "bg", "BG"), (lea, "fr", "FR")):
        person.chat.started = True
        await seed.member(storage, person.id, language=language, country=country)
    await seed.listing(
        storage, lea.id, now, kind="offer", language="fr", title="Motopompe", reach="europe"
    )
    await seed.listing(
        storage, maria.id, now, kind="request", language="bg", title="Помпа", reach="europe",
        country="BG", region="Burgas", place="Sveti Vlas",
    )  # fmt: skip
    return maria, lea


async def test_a_running_bot_logs_only_what_matters(server, tmp_path):
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    maria, lea = await seeded_match(storage, server)
    await storage.close()
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "LOG_FORMAT": "json",
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    try:
        await maria.wait_for_bot_message(containing("Motopompe"), timeout=30)
        await lea.wait_for_bot_message(containing("Помпа"), timeout=30)
        newcomer = server.create_user("Jan", language_code="nl")
        await onboard(newcomer, "nl", country="BE", place="Gent", region="Oost-Vlaanderen")
        assert await bot.terminate() == 0
    finally:
        if bot.process and bot.process.returncode is None:
            await bot.kill()

    entries = [json.loads(line) for line in bot.log().splitlines()]
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in entries)
    said = [e["message"] for e in entries]
    assert [e for e in entries if e["level"] != "INFO"] == [], said
    unexpected = [m for m in said if not any(re.fullmatch(p, m) for p in MEANINGFUL)]
    assert unexpected == [], said
    assert len(said) <= 8, said
    assert any(m.endswith("is running on uvloop; Ctrl-C to stop") for m in said), said
    assert any(m.startswith("delivered") for m in said), said
    assert TOKEN.split(":")[1] not in bot.log()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def test_make_run_stops_with_the_bot_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "BOT_TOKEN": "",
        "SANDBOX_PORT": str(free_port()),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }
    output = tmp_path / "make.log"
    with output.open("wb") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while "running in the sandbox" not in output.read_text():
            assert time.monotonic() < deadline and make.poll() is None, output.read_text()
            time.sleep(0.1)
        (bot,) = children_of(make.pid)  # exec: the bot itself, no shell in between
        assert b"-m\0bot" in Path(f"/proc/{bot}/cmdline").read_bytes()
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=30)  # reaped: no defunct make
        assert not Path(f"/proc/{bot}").exists(), "the bot outlived make"
        assert output.read_text().rstrip().endswith("INFO bot: stopped"), output.read_text()
    finally:
        if make.poll() is None:
            make.kill()
            make.wait()
