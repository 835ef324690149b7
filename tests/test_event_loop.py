"""The loop the bot's process runs on: uvloop where it is installed, asyncio's own where it
cannot be imported (Windows has no uvloop); the bot's own process is checked on uvloop in
tests/test_process.py and tests/test_logs.py."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import ROOT

# Runs a coroutine through bot.event_loop.run and prints the loop that ran it; BLOCK makes
# `import uvloop` fail, as it does where it is not installed.
PROGRAM = """
import sys
if {block}:
    sys.modules["uvloop"] = None
from bot.event_loop import loop_name, run

async def main():
    return loop_name()

print(run(main()))
"""


def loop_of_a_run(block_uvloop: bool) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(block=block_uvloop)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_the_bot_runs_on_uvloop_where_it_is_installed():
    assert loop_of_a_run(block_uvloop=False) == "uvloop"


def test_without_uvloop_the_bot_runs_on_asyncios_loop():
    assert loop_of_a_run(block_uvloop=True) == "asyncio"
