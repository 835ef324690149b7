"""The scheduler: local times (digest at 09:00, quiet hours, DST), digests over HTTP with a
controllable clock, expiry reminders and renewing, and the bot killed (SIGKILL) in the
middle of a matching pass and of delivery: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime

from bot.delivery.bundles import MOST_ITEMS
from bot.delivery.digests import render_digest
from bot.delivery.timing import Preferences, after_quiet_hours, next_digest
from bot.i18n import translator
from bot.matching.matcher import matching_pass
from bot.places.timezones import zone_of
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import Storage
from bot.storage.listings import DAY
from bot.storage.outbox import Notification
from bot.views.html import visible_length
from tests import seed
from tests.conftest import TOKEN
from tests.jobs import runs_of
from tests.processes import BotProcess
from tests.talk import containing


def utc(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())


PARIS = Preferences(timezone="Europe/Paris")


# --- local time --------------------------------------------------------------------------------


def test_timezone_comes_from_the_country_unless_chosen():
    assert zone_of("BG") == "Europe/Sofia" and zone_of("XK") == "Europe/Belgrade"
    assert zone_of("FR", "Atlantic/Azores") == "Atlantic/Azores"
    assert zone_of("FR", "Mars/Olympus") == "Europe/Paris"
    assert zone_of(None) == "Europe/Brussels"


def test_digests_come_at_nine_local_time_daily_or_on_mondays():
    wednesday_3pm = utc(2030, 6, 5, 13, 0)  # 15:00 in Paris (summer time)
    daily = PARIS.__class__(frequency="daily", timezone="Europe/Paris")
    assert next_digest(wednesday_3pm, daily) == utc(2030, 6, 6, 7, 0)
    assert next_digest(utc(2030, 6, 6, 6, 59), daily) == utc(2030, 6, 6, 7, 0)
    weekly = Preferences(frequency="weekly", timezone="Europe/Sofia")
    assert next_digest(wednesday_3pm, weekly) == utc(2030, 6, 10, 6, 0)  # Monday 09:00 EEST
    # Winter time: 09:00 in Paris is 08:00 UTC.
    assert next_digest(utc(2030, 1, 9, 12, 0), daily) == utc(2030, 1, 10, 8, 0)
    # The night the clocks go forward (31 March 2030) does not move 09:00.
    assert next_digest(utc(2030, 3, 30, 12, 0), daily) == utc(2030, 3, 31, 7, 0)
    # "Right away" means now, or when the quiet hours end.
    assert next_digest(wednesday_3pm, PARIS) == wednesday_3pm


def test_quiet_hours_across_midnight_and_none():
    assert after_quiet_hours(utc(2030, 6, 5, 12, 0), PARIS) == utc(2030, 6, 5, 12, 0)
    assert after_quiet_hours(utc(2030, 6, 5, 21, 0), PARIS) == utc(2030, 6, 6, 6, 0)  # 23:00
    assert after_quiet_hours(utc(2030, 6, 6, 1, 0), PARIS) == utc(2030, 6, 6, 6, 0)  # 03:00
    awake = Preferences(timezone="Europe/Paris", quiet_start=None, quiet_end=None)
    assert after_quiet_hours(utc(2030, 6, 6, 1, 0), awake) == utc(2030, 6, 6, 1, 0)
    # Quiet from 23:00 to 09:00: a daily digest waits for the end of them.
    late = Preferences(frequency="daily", timezone="Europe/Paris", quiet_start=23, quiet_end=9)
    assert next_digest(utc(2030, 6, 5, 12, 0), late) == utc(2030, 6, 6, 7, 0)


# --- digests -----------------------------------------------------------------------------------


async def started(server, bot, name: str, language: str = "en", **profile: object):
    person = server.create_user(name, language_code=language)
    await person.send_text("/start")
    await person.wait_for_bot_message()
    await seed.member(bot.storage, person.id, language=language, role="volunteer", **profile)
    return person


async def test_a_daily_digest_comes_at_nine_in_the_morning(server, bot):
    afternoon = utc(2030, 6, 5, 13, 0)  # 15:00 in Paris
    bot.clock = lambda: afternoon
    lea = await started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié")
    await bot.storage.save_preferences(
        lea.id, Preferences(frequency="daily", timezone="Europe/Paris"), afternoon
    )
    await seed.listing(bot.storage, lea.id, afternoon - DAY, kind="offer", language="fr")
    askers = [
        await started(server, bot, f"Asker {n}", country="FR", place="Épinal") for n in range(3)
    ]
    for number, asker in enumerate(askers):
        await seed.listing(
            bot.storage, asker.id, afternoon, kind="request", title=f"Pump wanted {number}"
        )
    await bot.scheduler.match_new_listings()
    for asker in askers:  # they want cards right away
        await asker.wait_for_bot_message(containing("A match for your request"), timeout=5)
    await runs_of(bot, "outbox")  # the outbox has looked since: nothing due for Léa
    assert "digest" not in (lea.last_bot_message.text or "")

    bot.clock = lambda: utc(2030, 6, 6, 6, 59)  # 08:59 in Paris
    await runs_of(bot, "outbox")  # the outbox has looked since: nothing due for Léa
    assert "digest" not in (lea.last_bot_message.text or "")

    fr = translator("fr")
    bot.clock = lambda: utc(2030, 6, 6, 7, 0, 30)
    digest = await lea.wait_for_bot_message(containing("📬"), timeout=5)
    header = fr.ngettext(
        "📬 <b>Your digest</b>: {count} new listing for you",
        "📬 <b>Your digest</b>: {count} new listings for you",
        3,
    ).format(count=3)
    assert digest.text.startswith(header.replace("<b>", "").replace("</b>", ""))
    assert all(f"Pump wanted {n}" in digest.text for n in range(3))
    assert digest.button_labels == ["1", "2", "3"]
    await lea.press("2")
    card = await lea.wait_for_bot_message(containing("Pump wanted"))
    assert card.text.startswith("🔴")
    # One digest, sent once, with everything in it.
    counts = await bot.storage.outbox_counts()
    assert counts.get("pending", 0) == 0
    rows = await bot.storage._fetchall(
        "SELECT kind, state FROM outbox WHERE user_id = ?", (lea.id,)
    )
    assert [tuple(row) for row in rows] == [("digest", "sent")]


async def test_a_full_digest_stays_within_telegrams_limits_and_keeps_the_rest(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    now = utc(2030, 6, 5, 13, 0)
    await seed.member(storage, 1, role="volunteer")
    await storage.save_preferences(1, Preferences(frequency="daily", timezone="Europe/Paris"), now)
    await seed.listing(storage, 1, now - DAY, kind="offer", reach="europe")
    for number in range(20):
        await seed.member(storage, 100 + number, role="volunteer", country="DE", place="Trier")
        await seed.listing(
            storage,
            100 + number,
            now,
            kind="request",
            country="DE",
            region="Rheinland-Pfalz",
            place="Trier",
            reach="europe",
            title=f"{number:02d} " + "Eine tragbare Feuerlöschpumpe gesucht " * 3,
        )
    await matching_pass(storage, lambda: now)
    (row,) = await storage._fetchall("SELECT id, payload FROM outbox WHERE kind = 'digest'")
    due = json.loads(row[1])["due"]
    digest = Notification(row[0], 1, "digest", {"due": due}, 1, None)
    shown = await render_digest(
        storage, digest, translator("de"), due, meaning=Meaning(Semantics("none"))
    )
    assert shown is not None
    # Telegram counts the text after its entities are parsed (tags removed), in UTF-16 units.
    assert visible_length(shown.text) <= 4096
    shown_count = sum(len(row) for row in shown.keyboard.inline_keyboard)
    assert len(shown.keyboard.inline_keyboard[0]) == 5  # numbered buttons, five a row
    left = translator("de").ngettext(
        "…and {count} more in your next digest.", "…and {count} more in your next digest.", 5
    )
    more = re.search(re.escape(left).replace(re.escape("{count}"), r"(\d+)"), shown.text)
    assert shown_count <= 15 and shown_count + int(more.group(1)) == 20
    # Sent again after a retry, it shows the same ones; the rest wait for the next digest.
    assert (
        await render_digest(
            storage, digest, translator("de"), due, meaning=Meaning(Semantics("none"))
        )
    ).text == shown.text
    from bot.matching.jobs import queue_waiting_digests

    await storage.mark_sent(digest.id, 1, due)
    assert await queue_waiting_digests(storage, due + 60) == 1
    (later,) = await storage._fetchall(
        "SELECT not_before FROM outbox WHERE kind = 'digest' AND state = 'pending'"
    )
    assert later[0] == due + DAY  # 09:00 the next day
    await storage.close()


# --- expiry reminders ------------------------------------------------------------------------


async def test_a_reminder_three_days_before_expiry_and_renewing(server, bot):
    now = utc(2030, 6, 5, 10, 0)
    bot.clock = lambda: now
    owner = await started(server, bot, "Owner", country="FR", place="Saint-Dié")
    listing = await seed.listing(bot.storage, owner.id, now - 5 * DAY, duration_days=7)
    await seed.listing(bot.storage, owner.id, now, title="Not yet", duration_days=30)
    assert await bot.scheduler.chores() == (1, 0)
    reminder = await owner.wait_for_bot_message(containing("closes on"), timeout=5)
    assert listing.title in reminder.text and "Not yet" not in reminder.text
    assert reminder.button_labels == ["🔁 Renew", "✖️ Close", "📄 Open"]
    assert await bot.scheduler.chores() == (0, 0)  # once per expiry date

    await owner.press("🔁 Renew")
    await owner.wait_for_bot_message(containing("open for how long"))
    await owner.press("1 month")
    await owner.wait_for_bot_message(containing("Renewed"), include_edits=True)
    renewed = await bot.storage.get_listing(listing.id)
    assert renewed.expires_at == now + 30 * DAY

    # A new expiry date gets its own reminder, three days before it.
    bot.clock = lambda: now + 26 * DAY
    assert await bot.scheduler.chores() == (0, 0)
    bot.clock = lambda: now + 27 * DAY + 60
    assert (await bot.scheduler.chores())[0] >= 1
    await owner.wait_for_bot_message(containing(listing.title), timeout=5)


async def test_a_reminder_waiting_for_the_morning_is_dropped_if_renewed_meanwhile(server, bot):
    night = utc(2030, 6, 5, 22, 0)  # midnight in Paris: quiet
    bot.clock = lambda: night
    owner = await started(
        server, bot, "Owner", country="FR", place="Saint-Dié", quiet_hours=(22, 8)
    )
    listing = await seed.listing(bot.storage, owner.id, night - 5 * DAY, duration_days=7)
    assert (await bot.scheduler.chores())[0] == 1
    await bot.storage.renew_listing(listing.id, owner.id, days=30, now=night)
    bot.clock = lambda: utc(2030, 6, 6, 6, 0, 30)  # 08:00:30 in Paris
    deadline = time.monotonic() + 10
    while {"pending", "sending"} & set(await bot.storage.outbox_counts()):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert await bot.storage.outbox_counts() == {"cancelled": 1}


# --- crashes -----------------------------------------------------------------------------------


async def test_killed_mid_pass_and_mid_delivery_nothing_lost_nothing_doubled(server, tmp_path):
    """2,000 new listings, 60 matching pairs among them; SIGKILL the bot while it matches,
    start it, SIGKILL it while it delivers, start it again."""
    server.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=1)
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    now = int(time.time())
    people = []
    for number in range(20):
        person = server.create_user(f"P{number}", language_code="en")
        await person.send_text("/start")  # answered once the bot runs
        await seed.member(storage, person.id, role="volunteer")
        awake = Preferences(timezone="Europe/Paris", quiet_start=None, quiet_end=None)
        await storage.save_preferences(person.id, awake, now)  # whatever the hour of the test
        people.append(person)
    pairs = 60
    for number in range(2000):
        owner = people[number % 20].id
        if number % 33 == 0 and number // 33 < pairs:  # a request, and its offer next to it
            region = f"Region {number}"
            await seed.listing(storage, owner, now, kind="request", region=region, reach="region")
            partner = people[(number + 1) % 20].id
            await seed.listing(storage, partner, now, kind="offer", region=region, reach="region")
        else:  # offers nobody asked for
            await seed.listing(storage, owner, now, kind="offer", category="community", tags=())
    total = (await storage._fetchone("SELECT count(*) FROM listings"))[0]
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "SEND_RATE_LIMIT": "30",
    }
    bot = BotProcess(env, tmp_path / "bot.log")

    async def matched() -> int:
        return (
            await storage._fetchone("SELECT count(*) FROM listings WHERE matched_at IS NOT NULL")
        )[0]

    await bot.start()
    deadline = time.monotonic() + 60
    while (await matched()) < total // 5:  # SIGKILL a fifth of the way through the pass
        assert time.monotonic() < deadline, bot.log()
        await asyncio.sleep(0.005)
    await bot.kill()
    killed_at = await matched()
    assert killed_at < total, "the pass finished before the kill: make it longer"

    await bot.start()
    deadline = time.monotonic() + 60
    while len(cards(server)) < pairs // 2:  # and again while it delivers
        assert time.monotonic() < deadline, bot.log()
        await asyncio.sleep(0.01)
    await bot.kill()

    await bot.start()
    try:
        deadline = time.monotonic() + 90
        while True:
            counts = await storage.outbox_counts()
            if await matched() == total and not counts.get("pending") and not counts.get("sending"):
                break
            assert time.monotonic() < deadline, (counts, bot.log())
            await asyncio.sleep(0.1)
        matches = (await storage._fetchone("SELECT count(*) FROM matches"))[0]
        in_flight = await storage._fetchone(
            "SELECT count(DISTINCT user_id) FROM outbox WHERE state = 'unknown'"
        )
    finally:
        await storage.close()
        await bot.terminate()
    assert matches == pairs
    delivered = [(c["chat_id"], c["match"]) for c in cards(server)]
    assert len(delivered) == len(set(delivered)), "someone got the same match twice"
    # Every card reached its person, but at most one message per kill that was in flight at
    # that moment (one card, or a bundle of the cards that waited for that chat), its rows
    # marked 'unknown' and never resent.
    assert counts.get("sent", 0) + counts.get("unknown", 0) == 2 * pairs
    assert in_flight[0] <= 2 and counts.get("unknown", 0) <= 2 * MOST_ITEMS
    assert len(delivered) >= 2 * pairs - counts.get("unknown", 0)


def cards(server) -> list[dict]:
    """Match cards the server accepted: to whom, for which match."""
    found = []
    for call in server.calls:
        markup = str(call.params.get("reply_markup", ""))
        if call.method == "sendMessage" and call.ok:
            # A card, or a bundle of the cards that waited for the chat: one each.
            for match in re.findall(r"mt:nr:(\d+)", markup):
                found.append({"chat_id": int(call.params["chat_id"]), "match": int(match)})
    return found
