"""The outbox over HTTP against the sandbox with its rate limits on: exactly once, paced,
in the recipient's language, 429 pausing only the outbox, gone recipients settled, and a
SIGKILL in the middle of delivery."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import running
from bot.delivery.pacing import OnTheGrid
from bot.i18n import translator
from bot.storage import Enqueued, Storage
from tests import seed
from tests.conftest import TOKEN
from tests.jobs import runs_of
from tests.processes import BotProcess
from tests.waiting import settled, wait_until

NOTICE = "Language set: {language}."  # any translated msgid will do


MARK = "«test»"


def notice(user_id: int, key: str, language: str = MARK) -> Enqueued:
    return Enqueued(
        user_id, "notice", key, {"msgid": NOTICE, "params": {"language": language}}, not_before=0
    )


def deliveries(server) -> list[dict]:
    """Test notices the server accepted from the bot (not the bot's other messages)."""
    return [
        c.params
        for c in server.calls
        if c.method == "sendMessage" and c.ok and "«test" in c.params["text"]
    ]


async def started(server, name: str, language: str = "en"):
    """A person who has opened the chat with the bot (Telegram needs that before any send)."""
    person = server.create_user(name, language_code=language)
    await person.send_text("/start")
    return person


async def test_enqueue_is_idempotent_and_skips_blocked_people(tmp_path):
    storage = await Storage.open(tmp_path / "db.sqlite3")
    await seed.member(storage, 1)
    await seed.member(storage, 2)
    await storage.mark_blocked(2)
    assert await storage.enqueue([notice(1, "a"), notice(1, "a"), notice(2, "b")], now=0) == 1
    assert await storage.enqueue([notice(1, "a")], now=0) == 0
    assert await storage.outbox_counts() == {"pending": 1}
    await storage.close()


async def test_delivered_once_in_the_recipients_language(server, bot):
    users = [await started(server, f"U{i}", lang) for i, lang in enumerate(["fr", "bg", "de"])]
    for user in users:
        await seed.member(bot.storage, user.id, language=user.account.language_code)
    await bot.storage.enqueue([notice(u.id, f"hello:{u.id}") for u in users], now=0)
    await bot.storage.enqueue([notice(u.id, f"hello:{u.id}") for u in users], now=0)  # rerun
    for user in users:
        message = await user.wait_for_bot_message(lambda m: MARK in m.text, timeout=10)
        _ = translator(user.account.language_code).gettext
        assert message.text == _(NOTICE).format(language=MARK)
    await wait_until(lambda: settled(bot.storage))
    assert len(deliveries(server)) == 3
    assert (await bot.storage.outbox_counts()) == {"sent": 3}
    assert server.errors() == []


async def test_what_waits_for_a_chat_goes_as_one_bundle_a_second_later(server, bot):
    """At most one message a second per chat: of three notices due at once, the first goes,
    and the two that waited for the chat go together a second later, not as a burst."""
    server.set_rate_limits(per_chat_per_second=1, per_chat_burst=1)
    user = server.create_user("Busy", language_code="en")
    user.chat.started = True
    await seed.member(bot.storage, user.id)
    await bot.storage.enqueue([notice(user.id, f"n{i}", f"«test{i}»") for i in range(3)], now=0)
    await wait_until(lambda: settled(bot.storage))
    first, bundle = [
        c
        for c in server.calls
        if c.method == "sendMessage" and c.ok and MARK[:-1] in c.params["text"]
    ]
    assert "«test0»" in first.params["text"] and "«test1»" not in first.params["text"]
    assert "«test1»" in bundle.params["text"] and "«test2»" in bundle.params["text"]
    assert bundle.time - first.time >= 0.95
    assert server.stats()["rate_limited"] == 0
    assert await bot.storage.outbox_counts() == {"sent": 3}


def test_a_repeating_job_keeps_to_its_grid_when_a_run_is_brought_forward():
    """The next run after one brought forward (a job woken) is where it would have been."""
    start = datetime.fromtimestamp(1_800_000_000, UTC)
    every_second = OnTheGrid(seconds=1, start_date=start, timezone=UTC)
    every_other = OnTheGrid(seconds=2, start_date=start, timezone=UTC)

    def after(trigger: OnTheGrid, seconds: float) -> float:
        later = trigger.get_next_fire_time(start + timedelta(seconds=seconds), start)
        return (later - start).total_seconds()

    assert every_second.get_next_fire_time(None, start - timedelta(seconds=0.3)) == start
    assert [after(every_second, s) for s in (0, 1, 1.4, 1.999, 2.000_01)] == [1, 2, 2, 2, 3]
    assert [after(every_other, s) for s in (0, 1.4, 2, 3.5)] == [2, 2, 4, 4]


async def test_the_jobs_run_on_whole_seconds_even_after_the_outbox_is_woken(bot):
    """The outbox, the broadcasts and the matching pass are due in the same seconds, so an
    idle bot wakes up once for all of them (docs/BENCHMARKS.md), woken or not."""
    await runs_of(bot, "outbox", 1)
    woken = time.time()
    bot.outbox.wake()
    (brought_forward,) = await runs_of(bot, "outbox", 1)
    assert brought_forward.scheduled_run_time.microsecond != 0  # the wake, not the next tick
    names = {job.name for job in bot.job_queue.jobs()}
    assert {"outbox", "broadcasts", "matching"} <= names
    for job in bot.job_queue.jobs():
        assert job.next_t.microsecond == 0, (job.name, job.next_t)
    outbox = bot.job_queue.get_jobs_by_name("outbox")[0]
    assert outbox.next_t.timestamp() - woken <= 2  # not a second later than before


async def test_429_pauses_the_outbox_only_and_loses_nothing(server, settings):
    # The bot believes it may send 50 a second; the server allows 4: 429s must follow.
    server.set_rate_limits(global_per_second=4, global_burst=4)
    people = [await started(server, f"P{i}") for i in range(12)]
    async with running(dataclasses.replace(settings, send_rate=50)) as bot:
        for person in people:
            await seed.member(bot.storage, person.id)
        await bot.storage.enqueue([notice(p.id, f"k{p.id}") for p in people], now=0)
        await wait_until(lambda: asyncio.sleep(0, bot.outbox.paused_until > 0))
        # While the outbox waits out its 429, a person using the bot is still answered.
        reader = server.create_user("Reader", language_code="en")
        await reader.send_text("/help")
        assert (await reader.wait_for_bot_message(timeout=5)).text
        await wait_until(lambda: settled(bot.storage), timeout=30)
        assert await bot.storage.outbox_counts() == {"sent": 12}
    assert server.stats()["rate_limited"] >= 1
    sent_to = [int(p["chat_id"]) for p in deliveries(server)]
    assert sorted(sent_to) == sorted(p.id for p in people)  # each exactly once


async def test_blocked_and_unknown_recipients_are_settled_not_retried(server, bot):
    blocker = server.create_user("Blocker", language_code="en")
    await seed.member(bot.storage, blocker.id)
    await blocker.send_text("/start")
    await blocker.wait_for_bot_message()
    await seed.member(bot.storage, 777_000_111)  # a member the server has no chat with
    # Queued while the blocker still used the bot, due once they have blocked it.
    later = int(time.time()) + 2
    await bot.storage.enqueue(
        [dataclasses.replace(notice(blocker.id, key), not_before=later) for key in ("b1", "b2")]
        + [notice(777_000_111, "x1")],
        now=0,
    )
    blocker.block_bot()
    await wait_until(lambda: settled(bot.storage))
    assert await bot.storage.outbox_counts() == {"blocked": 3}
    assert (await bot.storage.get_member(blocker.id)).blocked
    assert (await bot.storage.get_member(777_000_111)).blocked
    calls = len(server.calls)
    await runs_of(bot, "outbox")  # it has looked again: nothing is retried
    assert not [c for c in server.calls[calls:] if c.method == "sendMessage"]


async def test_a_row_in_flight_at_a_crash_is_never_sent_again(tmp_path):
    storage = await Storage.open(tmp_path / "db.sqlite3")
    await seed.member(storage, 1)
    await storage.enqueue([notice(1, "once")], now=0)
    (row,) = await storage.due_notifications(now=1)
    assert await storage.claim(row.id, 1)
    await storage.close()  # the process dies with the row 'sending'
    storage = await Storage.open(tmp_path / "db.sqlite3")
    assert await storage.settle_in_doubt() == 1
    assert await storage.due_notifications(now=1) == []
    assert await storage.outbox_counts() == {"unknown": 1}
    await storage.close()


@pytest.mark.parametrize("kills", [2])
async def test_killed_while_delivering_nothing_twice_nothing_lost(server, tmp_path, kills):
    """SIGKILL the bot process while it works through 40 notifications, start it again."""
    server.set_rate_limits(global_per_second=20, per_chat_per_second=1, per_chat_burst=1)
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    people = [await started(server, f"R{i}") for i in range(40)]
    for person in people:
        await seed.member(storage, person.id)
    await storage.enqueue([notice(p.id, f"kill:{p.id}") for p in people], now=0)
    await storage.close()
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "SEND_RATE_LIMIT": "20",
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    for round_ in range(kills):
        await bot.start()
        target = 8 * (round_ + 1)
        deadline = time.monotonic() + 30
        while len(deliveries(server)) < target:
            assert time.monotonic() < deadline, bot.log()
            await asyncio.sleep(0.01)
        await bot.kill()
    await bot.start()
    storage = await Storage.open(database)
    try:
        await wait_until(lambda: settled(storage), timeout=60)
        counts = await storage.outbox_counts()
    finally:
        await storage.close()
        await bot.terminate()
    sent_to = [int(p["chat_id"]) for p in deliveries(server)]
    assert len(sent_to) == len(set(sent_to)), "someone got the same notification twice"
    # Every notification was delivered, except at most one in flight at each kill, which is
    # marked 'unknown' (never resent) - and only if it really did not arrive.
    assert counts.get("sent", 0) + counts.get("unknown", 0) == 40
    assert counts.get("unknown", 0) <= kills
    assert len(sent_to) >= 40 - counts.get("unknown", 0)
