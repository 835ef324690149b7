"""Browser tests: the web chat in headless Chromium, against ``python -m bot`` with no token.

The bot runs as its own process exactly like ``make run`` (sandbox mode, demo world seeded),
on a free ``SANDBOX_PORT`` with a temporary ``DATABASE_PATH``; Python Playwright drives
Debian's ``chromium`` (never a downloaded browser: ``make test`` installs the package).

Without Chromium or Playwright the tests are skipped locally, but fail under ``CI=true`` so
that a CI machine missing the browser cannot pass silently.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
START_TIMEOUT = 40.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On several workers (make test), every browser test on the same one: one sandbox
    process and one Chromium at a time, not one per worker on two cores."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


def _missing(reason: str) -> None:
    """Fail under CI (a green run without the browser would be a lie); skip elsewhere."""
    message = f"{reason} (install: `make browser` as root, or apt-get install chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def chromium_path() -> str | None:
    """Debian's Chromium (or CHROMIUM_PATH)."""
    wanted = os.environ.get("CHROMIUM_PATH")
    if wanted:
        return wanted if Path(wanted).exists() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answer(request: urllib.request.Request) -> Any:
    """The ``result`` of a sandbox answer; a refusal fails with the sandbox's reason."""
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return json.loads(answer.read())["result"]
    except urllib.error.HTTPError as refused:
        raise AssertionError(f"{request.full_url}: {refused.code} {refused.read()!r}") from None


@dataclass
class Sandbox:
    """``python -m bot`` in sandbox mode, seen from outside: its URL, log and user API."""

    url: str
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/sandbox/api{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        return _answer(request)

    def bot_api(self, token: str, method: str, **params: Any) -> Any:
        """Call the Bot API as a bot whose token the test chose (never the sandbox's bot)."""
        request = urllib.request.Request(
            f"{self.url}/bot{token}/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )
        return _answer(request)

    def wait_for_demo(self, generation: int = 0) -> dict[str, Any]:
        """Wait until the demo world of ``generation`` is seeded; return its status."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the bot stopped:\n{self.log()}"
            try:
                demo = self.api("GET", "/demo")
            except OSError:
                demo = None
            if demo and demo["generation"] == generation and demo["status"] == "ready":
                return demo
            time.sleep(0.1)
        raise AssertionError(f"the demo world was not seeded in time:\n{self.log()}")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The bot as ``make run`` starts it with no token, for the whole browser session."""
    folder = tmp_path_factory.mktemp("sandbox")
    port = free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": "",
        "SANDBOX_PORT": str(port),
        "DATABASE_PATH": str(folder / "bot.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = folder / "bot.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = Sandbox(f"http://127.0.0.1:{port}", log_path, process)
    try:
        running.wait_for_demo()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, fresh profile, no network beyond the loopback sandbox.

    Module-scoped on purpose: Playwright's sync API keeps an event loop running in this thread
    while it is open, which would stop the asyncio tests that pytest runs afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Python Playwright is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        _missing("Chromium is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page and what it did that a test may need to assert against."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def chat(browser: Any, sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[Watched]:
    """The web chat opened in a fresh browser context (its own storage), dialogs recorded."""
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    watched = Watched(page)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.goto(f"{sandbox.url}/chat")
    yield watched
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed-{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item (for the failure screenshot) and show the bot's
    log when a browser test fails."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    sandbox = item.funcargs.get("sandbox") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(sandbox, Sandbox):
        report.sections.append(("python -m bot log (tail)", sandbox.log()[-6000:]))
