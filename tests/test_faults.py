"""The fault suite: the bot under a Telegram that fails calls, and a bot process killed with
SIGKILL at random moments while people are in the middle of dialogs and an announcement is
going out.

What must hold: no answered dialog step lost (nobody is shown an earlier step after a
restart), every profile saved once, nobody told the same thing twice, and every notification
either delivered or - at most one per kill, the one in flight - marked 'unknown'.
Sizes are modest for CI; FAULT_KILLS and FAULT_PEOPLE make the run larger.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import sqlite3
import time

from bot.app import running
from bot.delivery.timing import Preferences
from bot.dialogs import posting as q
from bot.i18n import translator
from bot.places.timezones import local
from bot.sandbox.errors import SandboxUserError
from bot.storage import Enqueued, Storage
from bot.views import cards
from tests import seed
from tests.conftest import ADMIN_ID, TOKEN
from tests.processes import BotProcess, confirmed_questions
from tests.talk import containing, onboard, says
from tests.test_outbox import MARK, deliveries, notice, started
from tests.test_posting import PROFILE_PLACE, Answers, publish, tap, type_in, walk_to_preview
from tests.waiting import settled, wait_until

# --- people who answer whatever the bot last asked ----------------------------------------

# The onboarding questions in order, recognised by how they begin (English).
STEPS = (
    "👋 Welcome",
    "Who are you here?",
    "Where is your municipality?",
    "Choose the country",
    "France: what is the name",
    "Which region is",
    "About how many people",
    "Your profile",
    "✅ Your profile is saved",
)


# Also the end: if the bot was killed after saving the profile but before saying so, /start
# shows the menu of a member who is set up.
MENU = "What would you like to do?"


def step_of(text: str | None) -> int | None:
    if text and text.startswith(MENU):
        return len(STEPS) - 1
    for index, start in enumerate(STEPS):
        if text and text.startswith(start):
            return index
    return None


# How long a person waits for an answer before saying /start. Generous: on a loaded machine a
# restarted bot takes seconds to import and start, and a person who says /start while the
# answer is merely slow only adds to the queue the bot has to work through.
REPLY_WAIT = 10


class Person:
    """Walks onboarding by answering the last question shown; resyncs with /start."""

    def __init__(self, user, number: int) -> None:
        self.user = user
        self.place = f"Ville {number}"
        self.highest_seen = -1  # the furthest step the bot has shown this person

    def current(self):
        for message in reversed(self.user.messages):
            if message.from_bot and step_of(message.text) is not None:
                return message
        return None

    async def act(self) -> None:
        message = self.current()
        step = step_of(message.text) if message else None
        if step is not None:
            self.highest_seen = max(self.highest_seen, step)
        if step is None:
            await self.user.send_text("/start")
        elif step == 0:
            await self.user.press("✓ English")
        elif step == 1:
            await self.user.press("🏛 Municipality")
        elif step == 2:
            if self.user.reply_keyboard:
                await self.user.tap_reply_button("🌍 Choose the country")
            else:
                await self.user.send_text("France")
        elif step == 3:
            await self.user.press("🇫🇷 France")
        elif step == 4:
            await self.user.send_text(self.place)
        elif step == 5:
            await self.user.send_text("Grand Est")
        elif step == 6:
            await self.user.send_text("1200")
        elif step == 7:
            await self.user.press("✅ Save")

    @property
    def done(self) -> bool:
        return self.highest_seen == len(STEPS) - 1

    async def walk(self, stop: asyncio.Event) -> None:
        while not self.done and not stop.is_set():
            try:
                await self.act()
                await self.user.wait_for_bot_message(timeout=REPLY_WAIT)
            except (TimeoutError, SandboxUserError):
                # The bot was down, or the answer was lost with it: say /start, as a person
                # would, and carry on from what it shows.
                await self.user.send_text("/start")
                with_reply = await self._wait_quietly()
                if with_reply:
                    shown = step_of(with_reply.text)
                    if shown is not None and shown < len(STEPS) - 1:
                        # No step the person saw answered may be lost: the bot shows the
                        # step after the furthest one seen, or that one again.
                        assert shown >= self.highest_seen, (self.place, shown, self.highest_seen)

    async def _wait_quietly(self):
        try:
            return await self.user.wait_for_bot_message(
                lambda m: step_of(m.text) is not None, timeout=REPLY_WAIT
            )
        except TimeoutError:
            return None


# --- 1. a Telegram that fails calls ----------------------------------------------------------


async def test_injected_5xx_timeouts_and_429s_lose_nothing(server, settings):
    """10% of the bot's calls fail (500, a hang past the bot's timeout, 429): replies are
    retried, notifications retried or rescheduled; every dialog completes, every notification
    arrives exactly once."""
    methods = [
        "sendMessage",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "deleteMessage",
    ]
    # A timeout of 2 s, not less: on a loaded machine (the suite runs on several workers) a
    # call that was not made to hang must not time out too, five times in a row.
    settings = dataclasses.replace(settings, http_timeout=2.0)
    async with running(settings) as bot:
        readers = [await started(server, f"Reader {i}") for i in range(12)]
        for reader in readers:
            await seed.member(bot.storage, reader.id)
        server.faults.configure(
            error_rate=0.05,
            hang_rate=0.02,
            hang_seconds=3.0,
            too_many_rate=0.03,
            methods=methods,
            seed=11,
        )
        posters = [server.create_user(f"Poster {i}", language_code="en") for i in range(4)]

        async def post(user) -> None:
            await onboard(user, "en")
            await walk_to_preview(user, "en", Answers(title=f"Pump from {user.first_name}"))
            await publish(user, "en")

        await bot.storage.enqueue([notice(r.id, f"fault:{r.id}") for r in readers], now=0)
        await asyncio.gather(*(post(user) for user in posters))
        await wait_until(lambda: settled(bot.storage), timeout=60)
        titles = {x.title for p in posters for x in await bot.storage.listings_of(p.id)}
        counts = await bot.storage.outbox_counts()
    assert titles == {f"Pump from {p.first_name}" for p in posters}
    assert counts == {"sent": len(readers)}
    sent_to = [int(d["chat_id"]) for d in deliveries(server)]
    assert sorted(sent_to) == sorted(r.id for r in readers)
    assert server.stats()["faults"] > 0
    assert server.errors() == []  # nothing but the injected faults went wrong


# --- 2. killed at random moments -------------------------------------------------------------


async def test_killed_at_random_moments_mid_dialogs_and_mid_broadcast(server, tmp_path):
    kills = int(os.environ.get("FAULT_KILLS", "3"))
    people_count = int(os.environ.get("FAULT_PEOPLE", "6"))
    rng = random.Random(int(os.environ.get("FAULT_SEED", "5")))
    server.set_rate_limits(global_per_second=60, per_chat_per_second=1, per_chat_burst=3)
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    audience = []
    for i in range(200):  # an announcement going to 200 people while the others onboard
        person = server.create_user(f"Audience {i}", language_code="en")
        person.chat.started = True
        audience.append(person)
    async with storage.transaction() as db:
        await db.executemany(
            "INSERT INTO users (id, first_name, language) VALUES (?, ?, 'en')",
            [(p.id, p.first_name) for p in audience],
        )
        # Without quiet hours, whatever the hour the suite runs at.
        await db.executemany(
            "INSERT INTO notification_settings (user_id, frequency, updated_at) "
            "VALUES (?, 'instant', 0)",
            [(p.id,) for p in audience],
        )
    broadcast = await storage.create_broadcast(ADMIN_ID, "UTC", now=int(time.time()))
    # Urgent: it also reaches the mayors who sign up meanwhile, whose quiet hours (22:00-08:00
    # by default) would hold it until morning when the suite runs at night.
    await storage.update_draft(
        broadcast, texts={"en": f"Announcement {MARK}"}, fallback="en", urgent=True
    )
    await storage.confirm_broadcast(broadcast, int(time.time()))
    await storage.enqueue(
        [
            Enqueued(p.id, "notice", f"n:{p.id}", notice(p.id, "x").payload, 0)
            for p in audience[:50]
        ],
        now=0,
    )
    await storage.close()

    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(database),
        "SEND_RATE_LIMIT": "60",
        "ADMIN_IDS": str(ADMIN_ID),
    }
    process = BotProcess(env, tmp_path / "bot.log")
    people = [
        Person(server.create_user(f"Mayor {i}", language_code="en"), i) for i in range(people_count)
    ]
    stop = asyncio.Event()
    await process.start()
    walks = asyncio.gather(*(person.walk(stop) for person in people))
    try:
        for _kill in range(kills):
            await asyncio.sleep(rng.uniform(1.5, 4.0))
            await process.kill()
            await asyncio.sleep(rng.uniform(0.1, 0.8))
            await process.start()
        await asyncio.wait_for(asyncio.shield(walks), timeout=120)
        storage = await Storage.open(database)
        try:
            await wait_until(lambda: settled(storage), timeout=120)
            counts = await storage.outbox_counts()
            members = [await storage.get_member(p.user.id) for p in people]
            async with storage.transaction() as db:
                rows = await db.execute_fetchall(
                    "SELECT name, count(*) FROM municipalities GROUP BY name_key"
                )
        finally:
            await storage.close()
    finally:
        stop.set()
        walks.cancel()
        if process.process is not None and process.process.returncode is None:
            await process.terminate()

    assert all(person.done for person in people)
    assert all(
        m.onboarded and m.municipality_name == p.place for m, p in zip(members, people, strict=True)
    )
    assert all(count == 1 for _name, count in rows)
    sent = [(int(d["chat_id"]), d["text"]) for d in deliveries(server)]
    assert len(sent) == len(set(sent)), "someone was told the same thing twice"
    assert set(counts) <= {"sent", "unknown"}, (counts, process.log()[-2000:])
    # Every row is delivered, except at most the one in flight at each kill, which may or may
    # not have reached Telegram and is never sent again.
    assert counts.get("unknown", 0) <= kills
    assert counts["sent"] <= len(sent) <= counts["sent"] + counts.get("unknown", 0)
    # The 250 queued at the start, and the announcement for those mayors who had signed up
    # before its enqueueing reached them (it goes to everyone).
    assert 250 <= counts["sent"] + counts.get("unknown", 0) <= 250 + people_count


# --- 3. numbers across a kill ------------------------------------------------------------------


async def test_a_listing_number_is_never_given_again_across_a_kill(server, tmp_path):
    """Issue 16, rule 1: a listing published, then erased with its author (/deleteme), keeps
    its number to itself although the bot was killed with SIGKILL right after the erasure and
    the next listing is published by a fresh process."""
    spammer_id, poster_id = 7_160_001, 7_160_002
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    for user_id in (spammer_id, poster_id):
        await seed.member(storage, user_id, country="BG", place=PROFILE_PLACE)
    await storage.close()
    env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": server.url, "DATABASE_PATH": str(database)}
    process = BotProcess(env, tmp_path / "bot.log")
    spammer = server.create_user("Spammer", language_code="en", user_id=spammer_id)
    poster = server.create_user("Poster", language_code="en", user_id=poster_id)
    await process.start()
    try:
        await says(spammer, "/start", timeout=30)  # the bot is up once it answers
        await walk_to_preview(spammer, "en", Answers(title="Too good to be true"))
        await publish(spammer, "en")
        storage = await Storage.open(database)
        try:
            (spam,) = await storage.listings_of(spammer_id)
        finally:
            await storage.close()
        await says(spammer, "/deleteme")
        await spammer.press("🗑 Yes, erase everything")
        await spammer.wait_for_bot_message(include_edits=True)
        await process.kill()
        await process.start()
        await says(poster, "/start", timeout=30)
        await walk_to_preview(poster, "en", Answers(title="Honest offer"))
        await publish(poster, "en")
        storage = await Storage.open(database)
        try:
            (honest,) = await storage.listings_of(poster_id)
            erased = await storage.get_listing(spam.id)
        finally:
            await storage.close()
    finally:
        if process.process is not None and process.process.returncode is None:
            await process.terminate()
    assert erased is None
    assert honest.id > spam.id, process.log()[-2000:]


# --- 4. a step saved, its reply held by the rate limit, the process killed -----------------------

DESCRIBE = "Describe it"


def posting_states(database) -> dict[int, int]:
    """The posting dialog's state of each person, read from the database the bot writes."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT key, state FROM ptb_conversations WHERE name = 'posting'")
        return {json.loads(key)[1]: json.loads(state) for key, state in rows}


def held_by_429(server) -> set[int]:
    """The chats a sendMessage was refused for with 429 (the bot waits, then retries)."""
    return {
        int(c.params["chat_id"])
        for c in server.calls
        if c.method == "sendMessage" and c.status == 429
    }


def questions_seen(user, start: str) -> list:
    return [m for m in user.messages if m.from_bot and (m.text or "").startswith(start)]


async def test_a_question_held_by_the_rate_limit_at_a_kill_is_asked_again_once(server, tmp_path):
    """Issue 16, rule 10: people answer the title; the answers are saved but the next
    question waits behind the rate limit (Telegram's 429) when the bot is killed. After the
    restart each of them gets it exactly once, those who wait as well as those who typed
    their title again while the bot was down, whose title is not taken as the
    description."""
    ids = [7_161_001 + i for i in range(4)]
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    for user_id in ids:
        await seed.member(storage, user_id, country="BG", place=PROFILE_PLACE)
    await storage.close()
    env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": server.url, "DATABASE_PATH": str(database)}
    process = BotProcess(env, tmp_path / "bot.log")
    people = [server.create_user(f"Poster {i}", language_code="en", user_id=i) for i in ids]
    titles = {p.id: f"Forty stackable chairs, lot {n}" for n, p in enumerate(people)}
    await process.start()
    try:
        await says(people[0], "/start", timeout=30)  # the bot is up once it answers
        for person in people:
            await type_in(person, "/post")
            await tap(person, "🟢 I have something to offer")
            await tap(person, cards.category_label(translator("en"), "goods"))
            await tap(person, "✅ Done")
        # One message a minute from now on: the first reply may go, the others wait.
        server.set_rate_limits(global_per_second=1 / 60, global_burst=1)
        for person in people:
            await person.send_text(titles[person.id])

        async def all_saved() -> bool:
            """Every answer saved, and every reply either confirmed sent or held."""
            states = posting_states(database)
            settled = set(confirmed_questions(database, "posting")) | held_by_429(server)
            return all(states.get(i) == q.TYPING_DESCRIPTION and i in settled for i in ids)

        await wait_until(all_saved, timeout=30)
        await process.kill()
        held = [p for p in people if not questions_seen(p, DESCRIBE)]
        assert len(held) >= len(people) - 1, [p.describe_chat() for p in people]
        # Seeing nothing, some type their title again while the bot is down; others wait.
        for person in held[::2]:
            await person.send_text(titles[person.id])
        server.set_rate_limits()
        await process.start()
        for person in held:
            await person.wait_for_bot_message(containing(DESCRIBE), timeout=30)
        for person in people:
            await person.send_text(f"Chairs from the old town hall of {person.first_name}.")
            await person.wait_for_bot_message(containing("Where is it?"), timeout=30)
        storage = await Storage.open(database)
        try:
            drafts = {p.id: await storage.get_draft(p.id) for p in people}
        finally:
            await storage.close()
    finally:
        if process.process is not None and process.process.returncode is None:
            await process.terminate()
    for person in people:
        assert len(questions_seen(person, DESCRIBE)) == 1, person.describe_chat()
        draft = drafts[person.id]
        assert draft["title"] == titles[person.id]
        assert draft["description"] == f"Chairs from the old town hall of {person.first_name}."
        assert draft["step"] == q.CHOOSING_PLACE
    assert "questions never reached their chat: asked again" in process.log()


# --- 5. what quiet hours hold survives a SIGKILL ---------------------------------------------


async def test_held_by_quiet_hours_survives_sigkill_and_goes_once(server, tmp_path):
    """Three notices held by a person's quiet hours (the two hours from now, whatever the
    hour of the test): killed while they are held, the bot holds them still; the person turns
    quiet hours off and gets them at once in one bundle; killed again, nothing is sent twice."""
    database = tmp_path / "bot.sqlite3"
    storage = await Storage.open(database)
    now = int(time.time())
    sleeper = server.create_user("Sleeper", language_code="en")
    awake = server.create_user("Awake", language_code="en")
    for person in (sleeper, awake):
        person.chat.started = True
        await seed.member(storage, person.id)
    hour = local(now, "Europe/Paris").hour
    quiet = Preferences("instant", "Europe/Paris", hour, (hour + 2) % 24)
    await storage.save_preferences(sleeper.id, quiet, now)
    await storage.enqueue([notice(sleeper.id, f"night:{n}", f"«test{n}»") for n in range(3)], now=0)
    env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": server.url, "DATABASE_PATH": str(database)}
    process = BotProcess(env, tmp_path / "bot.log")

    async def held() -> bool:
        return len(await storage.held_until(sleeper.id)) == 3

    async def awake_told(key: str) -> None:
        """An event showing the bot delivers again: a notice to someone without quiet hours."""
        await storage.enqueue([notice(awake.id, key, f"«test-{key}»")], now=0)
        await awake.wait_for_bot_message(lambda m: f"«test-{key}»" in m.text, timeout=30)

    def to_sleeper() -> list[str]:
        return [d["text"] for d in deliveries(server) if int(d["chat_id"]) == sleeper.id]

    try:
        await process.start()
        await wait_until(held, timeout=30)
        await process.kill()
        await process.start()
        await awake_told("first")
        assert await held() and to_sleeper() == []

        await sleeper.send_text("/settings")
        await sleeper.wait_for_bot_message(timeout=30)
        await sleeper.press("No quiet hours")
        bundle = await sleeper.wait_for_bot_message(lambda m: "«test0»" in m.text, timeout=30)
        assert "«test1»" in bundle.text and "«test2»" in bundle.text
        await process.kill()
        await process.start()
        await awake_told("second")
        await wait_until(lambda: settled(storage), timeout=30)
        counts = await storage.outbox_counts()
    finally:
        await storage.close()
        if process.process is not None and process.process.returncode is None:
            await process.terminate()
    assert len(to_sleeper()) == 1, to_sleeper()
    # The bundle may have been in flight at the kill ('unknown': never sent again).
    assert set(counts) <= {"sent", "unknown"} and sum(counts.values()) == 5, counts


# --- 6. killed right after a dialog's last step, before its reply ------------------------------

# Every call the bot makes after the last step's write: held, so that the kill comes there.
AFTER_THE_WRITE = [
    "answerCallbackQuery",
    "editMessageReplyMarkup",
    "editMessageText",
    "sendMessage",
]


def row_of(database, sql: str, *params: object) -> tuple | None:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchone()


def dialog_left(database, dialog: str, user_id: int) -> tuple[object, object]:
    """The dialog's state in the database (None: ended) and the person's answers to it."""
    state = row_of(
        database,
        "SELECT state FROM ptb_conversations WHERE name = ? AND key = ?",
        dialog,
        json.dumps([user_id, user_id]),
    )
    (data,) = row_of(database, "SELECT data FROM ptb_user_data WHERE user_id = ?", user_id)
    return state, json.loads(data).get(dialog)


async def test_killed_after_the_last_step_leaves_its_write_and_the_end_together(server, tmp_path):
    """Issue 19: a dialog's last step (Save, Publish) writes the profile or the listing and
    ends the dialog in one transaction. Killed while the bot waits on Telegram right after
    it, the database holds both, never one: after the restart nothing of the dialog is asked
    again, and /start shows the menu of a member who is set up."""
    database = tmp_path / "bot.sqlite3"
    env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": server.url, "DATABASE_PATH": str(database)}
    process = BotProcess(env, tmp_path / "bot.log")
    user = server.create_user("Mayor", language_code="en")

    async def killed_once(written: str) -> None:
        """The bot killed as soon as ``written`` finds a row (the step's own write)."""
        await wait_until(lambda: asyncio.to_thread(row_of, database, written, user.id), 30)
        await process.kill()
        server.faults.configure()

    await process.start()
    try:
        await says(user, "/help", timeout=30)  # the bot is up once it answers
        await onboard(user, "en", place=PROFILE_PLACE, save=False)
        server.faults.configure(hang_rate=1, hang_seconds=60, methods=AFTER_THE_WRITE)
        await user.press("✅ Save")
        await killed_once("SELECT 1 FROM users WHERE id = ? AND onboarded_at IS NOT NULL")
        assert dialog_left(database, "onboarding", user.id) == (None, None)

        await process.start()
        assert (await says(user, "/start", timeout=30)).text.startswith(MENU)
        await walk_to_preview(user, "en", Answers(title="Chairs for the hall"))
        server.faults.configure(hang_rate=1, hang_seconds=60, methods=AFTER_THE_WRITE)
        await user.press("✅ Publish")
        await killed_once("SELECT 1 FROM listings WHERE owner_id = ?")
        assert dialog_left(database, "posting", user.id) == (None, None)
        assert row_of(database, "SELECT 1 FROM drafts WHERE user_id = ?", user.id) is None

        await process.start()
        before = len(user.messages)
        assert (await says(user, "/start", timeout=30)).text.startswith(MENU)
        shown = [m.text for m in user.messages[before:] if m.from_bot]
        assert shown == [shown[0]] and shown[0].startswith(MENU), shown  # nothing asked again
    finally:
        if process.process is not None and process.process.returncode is None:
            await process.terminate()
    (count,) = row_of(database, "SELECT count(*) FROM listings WHERE owner_id = ?", user.id)
    assert count == 1, process.log()[-2000:]
