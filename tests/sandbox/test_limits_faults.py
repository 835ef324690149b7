"""Rate limits (with a hand-moved clock) and fault injection."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.sandbox import BotApiServer, SandboxUser
from bot.sandbox.ratelimit import RateLimiter, RateLimits

# PTB warns about its own RetryAfter.retry_after type change whenever it builds the message.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def marie(server: BotApiServer) -> SandboxUser:
    user = server.create_user("Marie")
    await user.send_text("hi")
    return user


async def test_per_chat_limit_answers_429(
    ptb: Application, server: BotApiServer, marie: SandboxUser, clock
) -> None:
    server.set_rate_limits(per_chat_per_second=1, per_chat_burst=2)
    await ptb.bot.send_message(marie.id, "1")
    await ptb.bot.send_message(marie.id, "2")
    with pytest.raises(RetryAfter) as caught:
        await ptb.bot.send_message(marie.id, "3")
    assert "Retry in 1 seconds" in str(caught.value)
    record = server.calls[-1]
    assert (record.status, record.description) == (429, "Too Many Requests: retry after 1")
    # Edits and callback answers are not counted.
    await ptb.bot.edit_message_text("1 edited", marie.id, 2)
    clock.advance(1.0)
    await ptb.bot.send_message(marie.id, "3")
    assert [m.text for m in marie.messages] == ["hi", "1 edited", "2", "3"]
    assert server.stats()["rate_limited"] == 1


async def test_global_limit_and_retry_after_rounding(
    ptb: Application, server: BotApiServer, marie: SandboxUser, clock
) -> None:
    paul = server.create_user("Paul")
    await paul.send_text("hi")
    server.set_rate_limits(global_per_second=0.25, global_burst=1)
    await ptb.bot.send_message(marie.id, "a")
    with pytest.raises(RetryAfter) as caught:
        await ptb.bot.send_message(paul.id, "b")
    assert "Retry in 4 seconds" in str(caught.value)
    clock.advance(2.5)
    with pytest.raises(RetryAfter) as caught:
        await ptb.bot.send_message(paul.id, "b")
    assert "Retry in 2 seconds" in str(caught.value)  # 1.5 s rounded up
    clock.advance(1.5)
    await ptb.bot.send_message(paul.id, "b")
    server.set_rate_limits(None, None)  # back to unlimited
    for i in range(10):
        await ptb.bot.send_message(paul.id, str(i))


def test_token_bucket_maths(clock) -> None:
    limiter = RateLimiter(clock)
    limiter.configure(RateLimits(per_chat_per_second=2, per_chat_burst=3))
    for _ in range(3):
        assert limiter.check("c") is None
        limiter.consume("c")
    assert limiter.check("c") == 1
    assert limiter.check("other") is None
    clock.advance(0.5)
    assert limiter.check("c") is None
    with pytest.raises(ValueError, match="positive"):
        RateLimits(global_per_second=0)


async def test_injected_500_leaves_state_unchanged(
    ptb: Application, server: BotApiServer, marie: SandboxUser
) -> None:
    server.faults.configure(error_rate=1.0, methods=["sendMessage"])
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await ptb.bot.send_message(marie.id, "lost")
    assert [m.text for m in marie.messages] == ["hi"]
    assert (await ptb.bot.get_me()).username == "community_sharing_bot"  # other methods work
    assert server.errors() == []
    assert [c.fault for c in server.errors(include_injected=True)] == ["error"]
    server.faults.configure()
    await ptb.bot.send_message(marie.id, "kept")


async def test_injected_429_and_hang(
    ptb: Application, server: BotApiServer, marie: SandboxUser
) -> None:
    server.faults.configure(too_many_rate=1.0, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await ptb.bot.send_message(marie.id, "x")
    assert "Retry in 7 seconds" in str(caught.value)
    server.faults.configure(hang_rate=1.0, hang_seconds=0.5)
    with pytest.raises(TimedOut):
        await ptb.bot.send_message(marie.id, "x", read_timeout=0.2)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await ptb.bot.send_message(marie.id, "x", read_timeout=2)
    await asyncio.sleep(0.4)  # let the abandoned hang finish
    assert [m.text for m in marie.messages] == ["hi"]


async def test_fault_shares_are_seeded(server: BotApiServer) -> None:
    def run() -> list[str | None]:
        server.faults.configure(error_rate=0.2, too_many_rate=0.3, seed=42)
        return [server.faults.decide("sendMessage") for _ in range(200)]

    first, second = run(), run()
    assert first == second
    assert 20 <= first.count("error") <= 60 and 40 <= first.count("too_many") <= 80
    with pytest.raises(ValueError, match="sum to at most 1"):
        server.faults.configure(error_rate=0.7, hang_rate=0.5)
