"""Run the sandbox Bot API server standalone: ``python -m bot.sandbox --port 8081 --token T``.

Tokens come from ``--token`` (repeatable, ``TOKEN`` or ``TOKEN=username``) or from the
``SANDBOX_BOT_TOKENS`` environment variable (comma-separated, same forms). The server listens on
127.0.0.1 unless ``--host`` names another address and ``--allow-remote`` is given. It prints its
URL and the bots' usernames, never a token. It answers as Telegram does; ``--strict-html`` and
``--strict-params`` add lints that hold a bot to the documentation where Telegram is lenient.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from .server import BotApiServer


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox", description="Local Telegram Bot API sandbox server"
    )
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8081")))
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="bot token, optionally TOKEN=username (repeatable)",
    )
    parser.add_argument(
        "--username", default=None, help="username of the bot when a single token is given"
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow listening on a non-loopback address"
    )
    parser.add_argument(
        "--strict-html",
        action="store_true",
        help='refuse a bare "&" in HTML, which Telegram accepts (a lint for bots)',
    )
    parser.add_argument(
        "--strict-params",
        action="store_true",
        help="refuse unknown parameters and fields and mistyped values, which Telegram "
        "ignores or reads as 0 or false (a lint for bots)",
    )
    for old in ("--lenient-html", "--lenient-params"):  # what the server does now by default
        parser.add_argument(old, action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _bots(args: argparse.Namespace) -> list[tuple[str, str]]:
    specs = list(args.token)
    env = os.environ.get("SANDBOX_BOT_TOKENS", "")
    specs += [item.strip() for item in env.split(",") if item.strip()]
    bots = []
    for index, spec in enumerate(specs):
        token, _, username = spec.partition("=")
        if not username:
            username = (
                args.username if args.username and len(specs) == 1 else f"sandbox_bot_{index + 1}"
            )
        bots.append((token.strip(), username.strip().lstrip("@")))
    return bots


async def _serve(args: argparse.Namespace) -> None:
    server = BotApiServer(
        args.host,
        args.port,
        allow_remote=args.allow_remote,
        strict_html=args.strict_html,
        strict_params=args.strict_params,
    )
    for token, username in _bots(args):
        try:
            server.add_bot(token, username)
        except ValueError as exc:
            raise SystemExit(f"bad bot token for @{username}: {exc}") from None
    await server.start()
    names = ", ".join(f"@{b.username}" for b in server.state.bots.values()) or "none yet"
    print(
        f"Bot API sandbox on {server.url} (PTB base_url {server.base_url}); bots: {names}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = _parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except ValueError as exc:  # e.g. a non-loopback host without --allow-remote
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
