"""Issue 19, item 3: one write transaction per update in the common case, nothing re-written
that did not change, and issue 16's crash guarantees kept.

A dialog step writes its answers ahead; its question, once Telegram confirmed it sent, is
recorded by the next write of any update, in the same transaction (or on its own within
``carry_within`` seconds). These tests hold the persistence to that against a real SQLite
file, counting the transactions SQLite runs, and walk a dialog over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from bot.i18n import translator
from bot.persistence import SQLitePersistence
from bot.storage import Storage
from bot.storage.ptb import DialogStep
from bot.views import cards
from tests import seed
from tests.sqltrace import Traced, traced
from tests.talk import onboard, says
from tests.test_posting import publish, tap, type_in, walk_to_preview
from tests.waiting import wait_until

ANA, BEN = 7_190_001, 7_190_002


@pytest.fixture
async def storage(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    for user_id, name in ((ANA, "Ana"), (BEN, "Ben")):
        await storage.register_member(user_id, name, "en")
    yield storage
    await storage.close()


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


async def test_data_is_compared_whatever_its_key_order_or_its_integers(storage):
    persistence = SQLitePersistence(storage)
    await persistence.update_user_data(ANA, {"b": 1, "a": {"d": 2, "c": 3}})
    transactions = await traced(storage)
    await persistence.update_user_data(ANA, {"a": {"c": 3, "d": 2}, "b": 1})
    assert transactions.all == []
    # An integer beyond 64 bits (orjson refuses it) is encoded by the json module: stored as
    # it was, and compared as any other.
    huge = {"n": 2**70, **asked(3, message=42)}
    persistence.confirm(BEN, huge)
    await persistence.flush()
    assert await stored(storage, BEN) == huge
    await persistence.update_user_data(BEN, {**asked(3, message=42), "n": 2**70})
    assert len(transactions.all) == 1
    # What the storage's JSON refuses (a date), the comparison refuses too, not only orjson.
    with pytest.raises(TypeError):
        persistence.confirm(BEN, {"when": datetime.now(UTC), **asked(3, message=42)})


async def test_a_dialog_step_is_one_write_transaction(server, bot):
    """Over HTTP: from /post to the place, each step (buttons, typed answers, a tag ticked)
    is one write transaction; its question, confirmed sent, costs none of its own."""
    user = server.create_user("Oda", language_code="en")
    await onboard(user, "en")
    transactions = await quiet_and_traced(bot)
    persistence = bot.persistence
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


async def quiet_and_traced(bot) -> Traced:
    """The jobs paused and the start-up's writes done; every confirmation carried (none
    written on its own), what waited written: the transactions from now on are the updates'."""
    assert bot.job_queue is not None
    bot.job_queue.scheduler.pause()

    async def menu_published() -> bool:  # at start-up, beside the first updates
        return await bot.storage.published_menu(bot.bot.id) is not None

    await wait_until(menu_published, timeout=30)
    persistence = bot.persistence
    assert isinstance(persistence, SQLitePersistence)
    persistence.carry_within = 60
    await wait_until(lambda: _settled(bot), timeout=10)
    await persistence.flush()
    return await traced(bot.storage)


def ended(transaction: list[str], dialog: str) -> bool:
    return f"DELETE FROM ptb_conversations WHERE name = '{dialog}'" in " ".join(transaction)


async def test_the_last_step_of_onboarding_is_one_write_transaction(server, bot):
    """Save: the profile, the dialog's end, the person's data and the update handled, in one
    transaction (a kill leaves both or neither); PTB's flush after it writes nothing."""
    user = server.create_user("Oda", language_code="en")
    await onboard(user, "en", save=False)
    transactions = await quiet_and_traced(bot)
    await user.press("✅ Save")
    await user.wait_for_bot_message(lambda m: "What would you like to do?" in (m.text or ""))
    await wait_until(lambda: _settled(bot), timeout=10)
    await bot.persistence.flush()
    [save] = transactions.all
    assert any(s.startswith("UPDATE users SET role = 'municipality'") for s in save), save
    assert ended(save, "onboarding") and any("handled_updates" in s for s in save), save
    assert await stored(bot.storage, user.id) == {"questions": {}}
    assert "onboarding" not in await bot.storage.dialog_states((user.id, user.id), ["onboarding"])


async def test_the_last_step_of_posting_is_one_write_transaction(server, bot):
    user = server.create_user("Oda", language_code="en")
    await onboard(user, "en")
    await walk_to_preview(user, "en")
    transactions = await quiet_and_traced(bot)
    confirmation, _card = await publish(user, "en")
    assert confirmation.text.startswith("✅ Published!")
    await wait_until(lambda: _settled(bot), timeout=10)
    await bot.persistence.flush()
    [published] = transactions.all
    assert any(s.startswith("INSERT INTO listings ") for s in published), published
    assert ended(published, "posting"), published
    assert await bot.storage.get_draft(user.id) is None
    assert await stored(bot.storage, user.id) == {"questions": {}}
    # A second tap on Publish (the buttons were taken: a forged or replayed press) is stale.
    assert len(await bot.storage.listings_of(user.id)) == 1


async def test_the_last_step_of_editing_is_one_write_transaction(server, bot):
    await seed.member(bot.storage, 601)
    listing = await seed.listing(bot.storage, 601, int(time.time()), title="Old pump")
    user = server.create_user("Oda", language_code="en", user_id=601)
    await says(user, f"/start l{listing.id}")
    await tap(user, "✏️ Edit")
    await tap(user, "Title")
    transactions = await quiet_and_traced(bot)
    await user.send_text("Fire pump, serviced")
    await user.wait_for_bot_message(lambda m: "Fire pump, serviced" in (m.text or ""))
    await wait_until(lambda: _settled(bot), timeout=10)
    [saved] = transactions.all
    assert any(s.startswith("UPDATE listings SET") for s in saved), saved
    assert ended(saved, "editing"), saved
    assert (await bot.storage.get_listing(listing.id)).title == "Fire pump, serviced"


async def test_the_last_step_of_writing_to_an_author_is_one_write_transaction(server, bot):
    """The contact request and the dialog's end in one transaction: a kill leaves both or
    neither (never a request sent with the dialog still waiting for the message, whose next
    text would be refused as a duplicate)."""
    await seed.member(bot.storage, 602)
    listing = await seed.listing(bot.storage, 602, int(time.time()), title="Old pump")
    user = server.create_user("Oda", language_code="en")
    await onboard(user, "en")
    await says(user, f"/start l{listing.id}")
    await tap(user, "🙋 I'm interested")
    transactions = await quiet_and_traced(bot)
    await user.send_text("We could fetch it on Saturday.")
    await user.wait_for_bot_message(lambda m: (m.text or "").startswith("✉️ Sent!"))
    await wait_until(lambda: _settled(bot), timeout=10)
    [sent] = [t for t in transactions.all if any("INSERT INTO contacts" in s for s in t)]
    assert ended(sent, "contact"), sent
    assert not any(ended(t, "contact") for t in transactions.all if t is not sent)
    assert "contact" not in await bot.storage.dialog_states((user.id, user.id), ["contact"])


async def test_the_last_step_of_asking_for_verification_is_one_write_transaction(server, bot):
    await seed.member(bot.storage, 603)
    user = server.create_user("Oda", language_code="en", user_id=603)
    await says(user, "/verify")
    transactions = await quiet_and_traced(bot)
    await user.press("📨 Send without a note")
    await user.wait_for_bot_message(lambda m: (m.text or "").startswith("Thank you!"))
    await wait_until(lambda: _settled(bot), timeout=10)
    assert await bot.storage.pending_verification_of(603) is not None
    [asked] = [
        t for t in transactions.all if any("INSERT INTO verification_requests" in s for s in t)
    ]
    assert ended(asked, "verification"), asked


async def test_a_ride_is_written_with_the_next_write_of_its_task_only(storage):
    """The step rides with the next write of the task that set it (never another task's),
    once, and not with a write that failed (neither is written)."""
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 9, ANA, asked(9))
    made: list[str] = []
    ended_step = DialogStep("posting", (ANA, ANA), None, ANA, {"questions": {}}, update_id=5)
    ride = persistence.step_ride(ended_step, made=lambda: made.append("ended"))
    transactions = await traced(storage)
    async with storage.riding(ride):
        # Another task's write (an update of someone else, a job): not carrying it.
        await asyncio.create_task(storage.save_data("user", BEN, {"other": 1}))
        assert made == [] and await stored(storage, ANA) == asked(9)
        with pytest.raises(ZeroDivisionError):  # the step's own write fails: neither written
            async with storage.transaction() as db:
                await db.execute("UPDATE users SET first_name = 'Anna' WHERE id = ?", (ANA,))
                raise ZeroDivisionError
        assert made == [] and await stored(storage, ANA) == asked(9)
        assert (await storage.get_member(ANA)).first_name == "Ana"
        await storage.save_data("user", BEN, {"other": 2})  # the next write carries it
        assert made == ["ended"] and await stored(storage, ANA) == {"questions": {}}
        await storage.save_data("user", BEN, {"other": 3})  # once
    # Ben's four writes (the failed one rolled back); the end only in the third.
    assert [ended(t, "posting") for t in transactions.all] == [False, False, True, False]
    assert await storage.dialog_states((ANA, ANA), ["posting"]) == {}
    assert made == ["ended"]
    # The dialog's own write of the same step, later in the update, is skipped; PTB's copy of
    # the state before the end (taken before the ride committed) is not written over it.
    transactions = await traced(storage)
    await persistence.save_step("posting", (ANA, ANA), None, ANA, {"questions": {}}, update_id=5)
    await persistence.update_user_data(ANA, {"questions": {}})
    await persistence.update_conversation("posting", (ANA, ANA), 9)
    assert transactions.all == []


async def test_a_confirmation_queued_behind_the_last_step_never_undoes_its_end(storage):
    """Ana's preview confirmed while her Publish's transaction holds the write lock: the
    write of what waits, queued behind it (the timer's, or a flush), takes what waits only
    when it runs, and the end has made her confirmation obsolete: the dialog stays ended."""
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 9, ANA, asked(9))
    ended_step = DialogStep("posting", (ANA, ANA), None, ANA, {"questions": {}}, update_id=5)
    ride = persistence.step_ride(ended_step, made=list)
    async with storage.riding(ride), storage.transaction() as db:
        persistence.confirm(ANA, asked(9, message=41))
        flushing = asyncio.create_task(persistence.flush())
        for _ in range(3):
            await asyncio.sleep(0)  # the flush runs until it waits for the lock
        await db.execute("UPDATE users SET first_name = 'Anna' WHERE id = ?", (ANA,))
    await flushing
    assert await stored(storage, ANA) == {"questions": {}}
    assert await storage.dialog_states((ANA, ANA), ["posting"]) == {}


async def test_the_language_chosen_is_one_write_transaction_with_the_next_step(server, bot):
    user = server.create_user("Oda", language_code="de")
    await says(user, "/start")
    transactions = await quiet_and_traced(bot)
    await tap(user, "English")
    await wait_until(lambda: _settled(bot), timeout=10)
    [chosen] = transactions.all
    assert any(s.startswith("UPDATE users SET language = 'en'") for s in chosen), chosen
    assert any(s.startswith("INSERT INTO ptb_conversations") for s in chosen), chosen
    member = await bot.storage.get_member(user.id)
    assert member is not None and member.language == "en" and member.language_chosen


async def test_a_deferred_write_goes_alone_if_nothing_carried_it(storage):
    """Deferred statements go with the block's next write, else on their own at its end; a
    block that fails writes nothing more."""
    transactions = await traced(storage)
    async with storage.choosing_language(ANA, "fr"):
        pass  # the step did not write (it could not be asked): written on its own
    assert len(transactions.all) == 1
    assert (await storage.get_member(ANA)).language == "fr"
    with pytest.raises(ZeroDivisionError):
        async with storage.choosing_language(ANA, "de"):
            raise ZeroDivisionError
    assert (await storage.get_member(ANA)).language == "fr"
    async with storage.choosing_language(ANA, "it"):
        await storage.save_data("user", ANA, {"step": 1})
    assert len(transactions.all) == 2
    assert (await storage.get_member(ANA)).language == "it"


async def test_a_domain_write_carries_the_confirmations_waiting(storage):
    persistence = SQLitePersistence(storage)
    persistence.carry_within = 60
    await persistence.save_step("posting", (ANA, ANA), 2, ANA, asked(2))
    persistence.confirm(ANA, asked(2, message=41))
    transactions = await traced(storage)
    await storage.set_language(BEN, "de")  # any write: a member's, an outbox row's
    [write] = transactions.all
    assert any(f"SELECT {ANA}," in statement for statement in write), write
    assert await stored(storage, ANA) == asked(2, message=41)
    await persistence.flush()
    assert len(transactions.all) == 1


async def _settled(bot) -> bool:
    """No update in progress (the per-person locks are forgotten once nobody waits)."""
    return not bot.update_processor._locks  # type: ignore[attr-defined]
