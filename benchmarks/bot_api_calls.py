"""CPU of one Bot API call in the bot's process, by event loop and JSON library.

    .venv/bin/python benchmarks/bot_api_calls.py [--calls 2000] [--repeat 3]

Starts the local Bot API server (``python -m bot.sandbox``) and a person who opened the chat,
then, for each variant in its own process, sends ``--calls`` messages through PTB's ``Bot`` on
our request class (bot/delivery/request.py), each with a 12-button keyboard like a dialog's
question, eight at a time as a busy bot does, and prints the client process's CPU per call:

- asyncio + json: the event loop and JSON of main before issue 19's loop19 branch;
- asyncio + orjson, uvloop + json: each change alone;
- uvloop + orjson: what ``python -m bot`` runs now.

The variants take turns ``--repeat`` times (a shared machine's load moves); the medians are
printed. The interactive benchmark measures the whole bot; this one the part these changes
touch: the loop's socket work and wake-ups, aiohttp, PTB's parsing and the JSON both ways.
First, the JSON alone: encoding such a body and decoding its answer, json against orjson.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from _common import ROOT, Processes, machine_line, make_bot_importable, new_token, start_sandbox

VARIANTS = [("asyncio", "json"), ("asyncio", "orjson"), ("uvloop", "json"), ("uvloop", "orjson")]
CONCURRENCY = 8


async def client(url: str, token: str, chat: int, calls: int) -> float:
    """Send ``calls`` messages, CONCURRENCY at a time; the process's CPU seconds per call."""
    make_bot_importable()
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

    from bot.delivery.request import AiohttpRequest

    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"🚒 Équipement n° {n}", callback_data=f"p:{n}:ab")]
            for n in range(12)
        ]
    )
    bot = Bot(token, base_url=f"{url}/bot", request=AiohttpRequest(connection_pool_size=8))
    async with bot:

        async def sender(count: int) -> None:
            for _ in range(count):
                await bot.send_message(chat, "<b>Réserve</b> · Žabljak", reply_markup=keyboard)

        await sender(20)  # warm: connections open, caches filled
        started = time.process_time()
        await asyncio.gather(*(sender(calls // CONCURRENCY) for _ in range(CONCURRENCY)))
        return (time.process_time() - started) / (calls // CONCURRENCY * CONCURRENCY)


def run_client(loop: str, library: str, url: str, token: str, chat: int, calls: int) -> float:
    """One variant in a process of its own: a fresh interpreter, nothing shared."""
    done = subprocess.run(
        [sys.executable, __file__, "--client", loop, library, url, token, str(chat), str(calls)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"the {loop} + {library} client failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def client_main(loop: str, library: str, url: str, token: str, chat: str, calls: str) -> None:
    make_bot_importable()
    if library == "json":  # what the request class did before orjson
        from telegram.request import BaseRequest

        from bot.delivery import request

        request._json = lambda value: json.dumps(  # type: ignore[attr-defined]
            value, ensure_ascii=False, separators=(",", ":")
        ).encode()
        request.AiohttpRequest.parse_json_payload = staticmethod(BaseRequest.parse_json_payload)  # type: ignore[method-assign]
    factory = None
    if loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        print(runner.run(client(url, token, int(chat), int(calls))))


def json_figures(repeat: int = 20_000) -> list[str]:
    """CPU per encoding and decoding of a dialog question's body and its answer, json module
    against orjson, in this process (no event loop involved)."""
    make_bot_importable()
    import orjson
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from bot.delivery.request import _json

    buttons = [
        [InlineKeyboardButton(f"🚒 Équipement n° {n}", callback_data=f"p:{n}")] for n in range(12)
    ]
    keyboard = InlineKeyboardMarkup(buttons).to_dict()
    text = "<b>Réserve</b> · Žabljak " * 20
    body = {"chat_id": 100000001, "text": text, "parse_mode": "HTML", "reply_markup": keyboard}
    message = {"message_id": 1, "chat": {"id": 1, "type": "private"}, "date": 1, "text": text}
    answer = json.dumps({"ok": True, "result": {**message, "reply_markup": keyboard}}).encode()

    def cpu(action: Callable[[], object]) -> float:
        started = time.process_time()
        for _ in range(repeat):
            action()
        return (time.process_time() - started) / repeat * 1e6

    plain = cpu(lambda: json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    decoded = cpu(lambda: json.loads(answer.decode("utf-8", "replace")))
    return [
        f"encode the body: json {plain:.1f} µs, orjson {cpu(lambda: _json(body)):.1f} µs",
        f"decode its answer ({len(answer)} B): json {decoded:.1f} µs, "
        f"orjson {cpu(lambda: orjson.loads(answer)):.1f} µs",
    ]


def open_chat(url: str, token: str) -> int:
    """A person who sent /start to the bot (so it may write to them): their id."""
    del token  # the sandbox's only bot

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(
            f"{url}/sandbox/api{path}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    person = post("/users", {"first_name": "Ana", "language_code": "en"})
    chat = int(person["result"]["id"])  # type: ignore[index]
    post(f"/users/{chat}/send_text", {"text": "/start"})
    return chat


async def benchmark(calls: int, repeat: int) -> None:
    token = new_token()
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as workdir:
        procs = Processes(Path(workdir))
        try:
            _sandbox, url = await start_sandbox(procs, {token: "calls_bot"})
            chat = open_chat(url, token)
            print(machine_line())
            print(*json_figures(), sep="\n")
            print(f"{calls} sendMessage calls with a 12-button keyboard, {CONCURRENCY} at a time")
            figures: dict[tuple[str, str], list[float]] = {v: [] for v in VARIANTS}
            for _ in range(repeat):
                for loop, library in VARIANTS:
                    cpu = await asyncio.to_thread(
                        run_client, loop, library, url, token, chat, calls
                    )
                    figures[(loop, library)].append(cpu)
            base = statistics.median(figures[VARIANTS[0]])
            for (loop, library), values in figures.items():
                median = statistics.median(values)
                rounds = ", ".join(f"{v * 1e6:.0f}" for v in values)
                print(
                    f"{loop:8} + {library:7} {median * 1e6:6.0f} µs of CPU a call "
                    f"({median / base:.2f} of asyncio + json; rounds {rounds})"
                )
            print(f"load average {os.getloadavg()[0]:.2f}")
        finally:
            await procs.stop_all()


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        client_main(*sys.argv[2:8])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(benchmark(args.calls, args.repeat))


if __name__ == "__main__":
    main()
