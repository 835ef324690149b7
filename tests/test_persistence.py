"""Issue 19, item 3: one write transaction per update in the common case, nothing re-written
that did not change, and issue 16's crash guarantees kept.

A dialog step writes its answers ahead; its question, once Telegram confirmed it sent, is
recorded by the next write of any update, in the same transaction (or on its own within
``carry_within`` seconds). These tests hold the persistence to that against a real SQLite
file, counting the transactions SQLite runs, and walk a dialog over HTTP.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.i18n import translator
from bot.persistence import SQLitePersistence
from bot.storage import Storage
from bot.views import cards
from tests.talk import onboard
from tests.test_outbox import wait_until
from tests.test_posting import tap, type_in

ANA, BEN = 7_190_001, 7_190_002


@pytest.fixture
async def storage(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    for user_id, name in ((ANA, "Ana"), (BEN, "Ben")):
        await storage.register_member(user_id, name, "en")
    yield storage
    await storage.close()


class Transactions:
    """The write transactions SQLite runs, each as the list of its statements."""

    def __init__(self) -> None:
        self.all: list[list[str]] = []

    def trace(self, sql: str) -> None:
        if sql.startswith("BEGIN"):
            self.all.append([])
        elif self.all and not sql.startswith(("COMMIT", "--")):
            self.all[-1].append(" ".join(sql.split()))


async def traced(storage: Storage) -> Transactions:
    transactions = Transactions()
    await storage._db.set_trace_callback(transactions.trace)
    return transactions


async def stored(storage: Storage, user_id: int) -> object:
    """The person's data as the database holds it (None: no row)."""
    return (await storage.load_data("user")).get(user_id)


def asked(state: int, message: int | None = None) -> dict:
    """A person's data with the posting dialog at ``state``, its question sent as
    ``message`` (None: written ahead, not confirmed yet)."""
    return {
        "posting": {"step": state},
        "questions": {"posting": {"state": state, "message": message}},
    }


async def test_a_confirmed_question_rides_with_the_next_write_of_anyone(storage):
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60  # nothing written on its own during the test
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    transactions = await traced(storage)
    persistence.confirm(ANA, asked(2, message=41))
    assert transactions.all == []  # nothing written yet
    await persistence.save_step("posting", (BEN, BEN), 1, BEN, asked(1))
    [step] = transactions.all  # Ben's step, in one transaction, carried Ana's record
    assert any(f"SELECT {ANA}," in statement for statement in step)
    assert await stored(storage, ANA) == asked(2, message=41)
    assert await stored(storage, BEN) == asked(1)
    # PTB's flush after Ana's update hands her data over: unchanged, not written again.
    await persistence.update_user_data(ANA, asked(2, message=41))
    await persistence.flush()
    assert len(transactions.all) == 1


async def test_with_no_write_to_carry_it_a_confirmation_is_written_soon(storage):
    persistence = SQLitePersistence(storage)
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    persistence.confirm(ANA, asked(2, message=41))

    async def recorded() -> bool:
        return await stored(storage, ANA) == asked(2, message=41)

    await wait_until(recorded, timeout=5)
    # At shutdown, PTB's flush writes at once what waits.
    persistence.carry_within = 60
    persistence.confirm(ANA, asked(2, message=42))
    await persistence.flush()
    assert await stored(storage, ANA) == asked(2, message=42)


async def test_the_persons_own_next_write_replaces_what_waited(storage):
    """A confirmation still waiting when the person's next step is written ahead is not
    written after it (the database would go back a step), nor with it (obsolete)."""
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    persistence.confirm(ANA, asked(2, message=41))
    transactions = await traced(storage)
    await persistence.save_step("posting", (ANA, ANA), 3, ANA, asked(3))
    await persistence.flush()
    [step] = transactions.all
    assert not any("SELECT" in statement for statement in step)
    assert await stored(storage, ANA) == asked(3)


async def test_a_confirmation_taken_by_a_write_in_flight_never_undoes_a_later_step(storage):
    """Ana's record is carried by Ben's step, queued behind a write in progress; Ana's next
    step, written meanwhile, comes after it: the database ends at her later step."""
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    persistence.confirm(ANA, asked(2, message=41))
    async with storage.transaction():  # a write in progress: the next ones queue
        bens = asyncio.ensure_future(persistence.save_step("posting", (BEN, BEN), 1, BEN, asked(1)))
        await asyncio.sleep(0)
        anas = asyncio.ensure_future(persistence.save_step("posting", (ANA, ANA), 3, ANA, asked(3)))
        await asyncio.sleep(0)
    await asyncio.gather(bens, anas)
    assert await stored(storage, ANA) == asked(3)


async def test_what_waited_at_an_erasure_never_brings_the_data_back(storage):
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    persistence.confirm(ANA, asked(2, message=41))
    await storage.erase_member(ANA, now=1_796_550_000)  # /deleteme, confirmed
    await persistence.save_step("posting", (BEN, BEN), 1, BEN, asked(1))  # carries Ana's
    assert await stored(storage, ANA) is None
    # And once PTB drops the person's data, nothing of theirs waits any more.
    persistence.confirm(BEN, asked(1, message=7))
    await persistence.drop_user_data(BEN)
    await persistence.flush()
    assert await stored(storage, BEN) is None


async def test_nothing_is_written_that_the_database_holds_already(storage):
    persistence = SQLitePersistence(storage)
    await persistence.update_chat_data(ANA, {"kept": 1})
    await persistence.update_user_data(ANA, asked(2, message=41))
    # A restart: what was loaded counts as written.
    persistence = SQLitePersistence(storage)
    loaded_users = await persistence.get_user_data()
    loaded_chats = await persistence.get_chat_data()
    loaded_bot = await persistence.get_bot_data()
    transactions = await traced(storage)
    await persistence.update_user_data(ANA, loaded_users[ANA])
    await persistence.update_chat_data(ANA, loaded_chats[ANA])
    await persistence.update_chat_data(BEN, {})  # a first chat: no row, nothing to store
    await persistence.update_bot_data(loaded_bot)
    await persistence.flush()
    assert transactions.all == []
    # A chat whose data was emptied is written: its row held something.
    await persistence.update_chat_data(ANA, {})
    assert len(transactions.all) == 1
    assert await SQLitePersistence(storage).get_chat_data() == {ANA: {}}


async def test_a_dialog_step_is_one_write_transaction(server, bot):
    """Over HTTP: from /post to the place, each step (buttons, typed answers, a tag ticked)
    is one write transaction; its question, confirmed sent, costs none of its own."""
    assert bot.job_queue is not None
    user = server.create_user("Oda", language_code="en")
    await onboard(user, "en")
    bot.job_queue.scheduler.pause()  # the jobs' own writes are not the updates'

    async def menu_published() -> bool:  # at start-up, beside the first updates
        return await bot.storage.published_menu(bot.bot.id) is not None

    await wait_until(menu_published, timeout=30)
    persistence = bot.persistence
    assert isinstance(persistence, SQLitePersistence)
    persistence.carry_within = 60  # nothing written on its own: every record is carried
    await persistence.flush()
    transactions = await traced(bot.storage)
    questions = [
        await type_in(user, "/post"),
        await tap(user, "🟢 I have something to offer"),
        await tap(user, cards.category_label(translator("en"), "goods")),
        await tap(user, "✅ Done"),
        await type_in(user, "Forty stackable chairs"),
        await type_in(user, "Forty chairs from the old town hall, collected on site."),
    ]
    await wait_until(lambda: _settled(bot), timeout=10)
    steps = [t for t in transactions.all if any("ptb_conversations" in s for s in t)]
    assert len(transactions.all) == len(steps) == len(questions), transactions.all
    # The record of each question, confirmed sent, waited: the person's next step replaced it
    # (its own question's record, in the same row); the last one waits still.
    await persistence.flush()
    data = await stored(bot.storage, user.id)
    assert isinstance(data, dict)
    assert data["questions"]["posting"]["message"] == questions[-1].id


async def _settled(bot) -> bool:
    """No update in progress (the per-person locks are forgotten once nobody waits)."""
    return not bot.update_processor._locks  # type: ignore[attr-defined]
