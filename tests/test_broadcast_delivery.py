"""Broadcast delivery over HTTP with the sandbox's rate limits on: the live progress message,
pause, resume and cancel, a scheduled send with a controllable clock, and a 2,000-recipient
broadcast whose bot process is killed twice in the middle."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_location

from bot.app import running
from bot.i18n import translator
from bot.storage import Storage
from bot.views.announcements import sender_line
from tests import seed
from tests.conftest import ADMIN_ID, TOKEN
from tests.jobs import runs_of
from tests.processes import BotProcess
from tests.talk import containing, plain, says, taps
from tests.test_broadcast import (
    admin_of,
    broadcast_id,
    compose,
    opened,
    received,
    refused,
    state_is,
)
from tests.waiting import wait_until

E = translator("en").gettext


def has_button(user, label: str) -> bool:
    return any(label in m.button_labels for m in user.messages if m.from_bot)


def edits_of(server, message_id: int) -> list:
    return [
        c
        for c in server.calls
        if c.method == "editMessageText" and c.ok and int(c.params["message_id"]) == message_id
    ]


async def test_progress_pause_resume_and_cancel(server, settings):
    server.set_rate_limits(global_per_second=5, per_chat_per_second=1, per_chat_burst=3)
    async with running(dataclasses.replace(settings, send_rate=5)) as bot:
        people = [await opened(server, bot.storage, f"P{i}") for i in range(60)]
        admin = admin_of(server)
        summary = (await compose(admin, {"en": "Slowly «bc-slow»"}))[-1]
        await seed.set_quiet_hours(
            bot.storage, ADMIN_ID
        )  # the admin's copy and report, at any hour
        broadcast = broadcast_id(summary)
        await admin.press(E("✅ Send it"))
        # Two edits by the job, after the confirmation's own.
        await wait_until(lambda: asyncio.sleep(0, len(edits_of(server, summary.id)) >= 3))

        pressed = time.time()
        await admin.press(E("⏸ Pause"))
        assert (await admin.wait_for_callback_answer()).text == E("Paused.")
        await runs_of(bot, "outbox")  # what was already on its way arrives
        paused_at = len(received(server, "«bc-slow»"))
        await runs_of(bot, "broadcasts")  # the broadcast's job and the outbox looked again
        await runs_of(bot, "outbox")
        assert len(received(server, "«bc-slow»")) == paused_at, "sent while paused"
        shown = next(m for m in admin.messages if m.id == summary.id)
        assert "paused" in shown.text and E("▶️ Resume") in shown.button_labels

        await admin.press(E("▶️ Resume"))
        assert (await admin.wait_for_callback_answer()).text == E("Resumed.")
        await wait_until(
            lambda: asyncio.sleep(0, len(received(server, "«bc-slow»")) >= paused_at + 5)
        )

        await admin.press(E("✖️ Cancel"))
        await wait_until(lambda: asyncio.sleep(0, has_button(admin, E("✖️ Yes, cancel it"))))
        await admin.press(E("✖️ Yes, cancel it"))
        report = await admin.wait_for_bot_message(containing("was cancelled"), timeout=10)
        await runs_of(bot, "outbox")  # nothing left on its way
        delivered = received(server, "«bc-slow»")
        counts = await bot.storage.outbox_counts(f"bc:{broadcast}")
        assert (await bot.storage.get_broadcast(broadcast)).state == "cancelled"
    recipients = len(people) + 1  # and the admin
    assert counts.get("cancelled", 0) > 0
    assert counts.get("sent", 0) + counts.get("cancelled", 0) == recipients
    assert len(delivered) == counts["sent"] + 1  # + the admin's preview
    assert delivered[0] == ADMIN_ID  # the preview
    assert len(set(delivered[1:])) == len(delivered) - 1  # then nobody twice
    assert f"Delivered to {counts['sent']} people." in report.text
    assert f"Not sent (cancelled): {counts['cancelled']}" in report.text
    # The progress message was edited with the figures, every few seconds at most, never to
    # the same text (Telegram would refuse it).
    edits = edits_of(server, summary.id)
    texts = [c.params["text"] for c in edits]
    assert any("Sent: " in text and "Left: " in text for text in texts)
    assert any("Estimated finish" in text for text in texts)
    # The job's, after the confirmation's own edit and before the first press.
    job_edits = [c.time for c in edits[1:] if c.time < pressed]
    assert len(job_edits) >= 2
    assert all(b - a >= 2.5 for a, b in itertools.pairwise(job_edits)), job_edits
    assert all(a != b for a, b in itertools.pairwise(texts))
    assert refused(server) == []


SENT_AT = 1_800_000_000


async def sending(storage: Storage, people: list[int]) -> tuple[int, dict[int, int]]:
    """A broadcast to ``people`` (and the admin), confirmed and queued at SENT_AT: its id, and
    each person's outbox row."""
    for person in (ADMIN_ID, *people):
        await seed.member(storage, person)
    broadcast = await storage.create_broadcast(ADMIN_ID, "UTC", SENT_AT)
    await storage.update_draft(broadcast, texts={"en": "Hello"}, fallback="en")
    assert await storage.confirm_broadcast(broadcast, SENT_AT) is not None
    while not await storage.enqueue_broadcast_chunk(broadcast, SENT_AT):
        pass
    rows = await storage._fetchall(
        "SELECT user_id, id FROM outbox WHERE batch = ?", (f"bc:{broadcast}",)
    )
    return broadcast, dict(rows)


async def test_a_paused_broadcast_stays_paused_whatever_else_sets_its_rows_time(tmp_path):
    """Pausing moves a broadcast's rows out of the due range; a person changing /settings
    (release_held), or a row that was on its way coming back for a retry (retry_later), puts
    a row's time to now: a paused broadcast's rows stay out of it until it is resumed, and
    then they are due at once (the outbox decides again by the person's hours)."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    now = SENT_AT
    broadcast, rows = await sending(storage, [11, 12, 13])
    await storage.hold([rows[11]], now + 8 * 3600)  # 11 is in their quiet hours
    assert await storage.claim(rows[12], now)  # 12's is on its way when the admin pauses
    assert rows[13] in {n.id for n in await storage.due_notifications(now)}  # 13's is read
    assert await storage.pause_broadcast(broadcast, admin=ADMIN_ID, now=now + 1)
    assert not await storage.claim(rows[13], now + 1)  # and paused before it is claimed

    await storage.release_held(11, now + 60)  # 11 changes their quiet hours
    await storage.retry_later(rows[12], now + 61, "429")  # 12's did not get through
    assert await storage.due_notifications(now + 9 * 3600) == []

    assert await storage.resume_broadcast(broadcast, admin=ADMIN_ID, now=now + 120)
    due = {n.user_id for n in await storage.due_notifications(now + 120)}
    assert {11, 12, 13} <= due
    await storage.close()


async def test_a_cancel_after_a_pause_leaves_no_row_waiting_for_a_resume(tmp_path):
    """No resume follows a cancel: a row that was on its way when the broadcast was paused,
    then comes back for a retry after the cancel, is due at once (and dropped when rendered),
    not pending for good with a time a thousand years away."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    now = SENT_AT
    broadcast, rows = await sending(storage, [12])
    batch = f"bc:{broadcast}"
    assert await storage.claim(rows[12], now)  # on its way
    assert await storage.pause_broadcast(broadcast, admin=ADMIN_ID, now=now + 1)
    assert await storage.cancel_broadcast(broadcast, now + 2, admin=ADMIN_ID)
    await storage.retry_later(rows[12], now + 3, "429")  # it came back for a retry
    assert rows[12] in {n.id for n in await storage.due_notifications(now + 3)}
    times = await storage._fetchall("SELECT not_before FROM outbox WHERE batch = ?", (batch,))
    assert max(row[0] for row in times) < now + 86_400
    await storage.close()


async def test_scheduled_in_the_admins_timezone_with_a_controlled_clock(server, bot):
    paris = ZoneInfo("Europe/Paris")
    morning = int(datetime(2030, 5, 1, 6, 0, tzinfo=paris).timestamp())
    bot.clock = lambda: morning
    reader = await opened(server, bot.storage, "Reader", language="fr")
    admin = admin_of(server)
    admin.chat.started = True
    await seed.member(bot.storage, ADMIN_ID, country="FR")  # → Europe/Paris
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await says(admin, "Tomorrow's meeting «bc-later»")
    await taps(admin, E("➡ Choose the audience"))
    await taps(admin, E("➡ Continue"))
    ask = await taps(admin, E("🕒 At a date and time"))
    # The zone by the city CLDR names it after, never its tz database id.
    paris_city = get_timezone_location("Europe/Paris", locale="en", return_city=True)
    assert f"({paris_city})" in ask.text and "Europe/" not in ask.text
    for typed, answer in (
        ("soon", "Please type a date and time like 2030-05-01 09:30"),
        ("2030-05-01 05:00", "That time has passed"),
        ("2030-02-30 09:00", "Please type a date and time"),
        ("2031-06-01 09:00", "within the next year"),
    ):
        assert answer in (await says(admin, typed)).text
    await admin.send_text("01.05.2030 09:30")
    summary = await admin.wait_for_bot_message(containing("Send this announcement"), timeout=15)
    at = datetime(2030, 5, 1, 9, 30, tzinfo=paris)
    # The date, and the time without seconds, as Babel writes them in English.
    assert format_date(at, "medium", locale="en") in summary.text
    assert format_time(at, "short", locale="en") in summary.text
    assert format_time(at, "medium", locale="en") not in summary.text
    assert f"({paris_city})" in summary.text and "Europe/" not in summary.text
    broadcast = broadcast_id(summary)
    due = int(datetime(2030, 5, 1, 9, 30, tzinfo=paris).timestamp())
    assert (await bot.storage.get_broadcast(broadcast)).send_at == due == morning + 3.5 * 3600
    await admin.press(E("✅ Schedule it"))
    progress = await admin.wait_for_bot_message(include_edits=True)
    assert "scheduled" in progress.text and f"({paris_city})" in progress.text

    bot.clock = lambda: due - 1
    await runs_of(bot, "broadcasts")  # its job looked at it a second before it is due
    await runs_of(bot, "outbox")
    assert received(server, "«bc-later»") == [ADMIN_ID]  # only the preview
    assert (await bot.storage.get_broadcast(broadcast)).state == "scheduled"

    bot.clock = lambda: due
    got = await reader.wait_for_bot_message(containing("«bc-later»"), timeout=10)
    line = sender_line(translator("fr"), "Community Sharing", "news", urgent=False)
    assert got.text == f"{plain(line)}\n\nTomorrow's meeting «bc-later»"
    await wait_until(lambda: state_is(bot.storage, broadcast, "done"))
    assert (await bot.storage.get_broadcast(broadcast)).started_at == due


async def test_a_scheduled_broadcast_can_be_cancelled_before_it_starts(server, bot):
    reader = await opened(server, bot.storage, "Reader")
    admin = admin_of(server)
    now = int(time.time())
    bot.clock = lambda: now
    later = datetime.fromtimestamp(now + 3600, ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")
    summary = (await compose(admin, {"en": "Never «bc-never»"}, at=later))[-1]
    await seed.set_quiet_hours(bot.storage, ADMIN_ID)  # "was cancelled" at any hour
    broadcast = broadcast_id(summary)
    await admin.press(E("✅ Schedule it"))
    await admin.wait_for_bot_message(containing("scheduled"), include_edits=True)
    await admin.press(E("✖️ Cancel"))
    await wait_until(lambda: asyncio.sleep(0, has_button(admin, E("✖️ Yes, cancel it"))))
    await admin.press(E("✖️ Yes, cancel it"))
    await admin.wait_for_bot_message(containing("was cancelled"), timeout=10)
    bot.clock = lambda: now + 7200
    await runs_of(bot, "broadcasts")  # its job looked at it after the time it was set for
    await runs_of(bot, "outbox")
    assert (await bot.storage.get_broadcast(broadcast)).state == "cancelled"
    assert not [m for m in reader.messages if m.from_bot]


async def test_killed_twice_in_a_2000_recipient_broadcast_nobody_twice_nobody_lost(
    server, tmp_path
):
    """SIGKILL the bot process twice while it delivers to 2,000 people, start it again."""
    server.set_rate_limits(global_per_second=150, per_chat_per_second=1, per_chat_burst=1)
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    people = []
    for i in range(2000):
        person = server.create_user(f"R{i}", language_code="en")
        person.chat.started = True
        people.append(person)
    async with storage.transaction() as db:  # 2,000 members at once, as a real database has
        await db.executemany(
            "INSERT INTO users (id, first_name, language) VALUES (?, ?, 'en')",
            [(p.id, p.first_name) for p in people],
        )
        # Without quiet hours, whatever the hour the suite runs at.
        await db.executemany(
            "INSERT INTO notification_settings (user_id, frequency, updated_at) "
            "VALUES (?, 'instant', 0)",
            [(p.id,) for p in people],
        )
    broadcast = await storage.create_broadcast(ADMIN_ID, "UTC", now=int(time.time()))
    await storage.update_draft(broadcast, texts={"en": "Restart «bc-restart»"}, fallback="en")
    assert (await storage.confirm_broadcast(broadcast, int(time.time()))).state == "sending"
    await storage.close()
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "SEND_RATE_LIMIT": "150",
        "ADMIN_IDS": str(ADMIN_ID),
    }
    process = BotProcess(env, tmp_path / "bot.log")
    kills = 2
    for target in (300, 1100):
        await process.start()
        deadline = time.monotonic() + 60
        while len(received(server, "«bc-restart»")) < target:
            assert time.monotonic() < deadline, process.log()
            await asyncio.sleep(0.01)
        await process.kill()
    await process.start()
    storage = await Storage.open(database)
    try:
        await wait_until(lambda: state_is(storage, broadcast, "done"), timeout=90)
        counts = await storage.outbox_counts(f"bc:{broadcast}")
        done = await storage.get_broadcast(broadcast)
    finally:
        await storage.close()
        await process.terminate()
    sent_to = received(server, "«bc-restart»")
    assert len(sent_to) == len(set(sent_to)), "someone got the broadcast twice"
    assert done.recipients == 2000
    # Each row in flight at a kill is 'unknown' (never resent); everyone else got it.
    assert counts.get("sent", 0) + counts.get("unknown", 0) == 2000, counts
    assert counts.get("unknown", 0) <= kills
    assert len(sent_to) >= 2000 - counts.get("unknown", 0)
    assert set(sent_to) <= {p.id for p in people}
