"""The data layer against a real SQLite file: migrations, members, profiles, persistence."""

import asyncio
import copy
import sqlite3

import pytest

from bot.persistence import SQLitePersistence
from bot.storage import Profile, Storage, fold
from bot.storage.base import WAL_KEPT_BYTES, _migrations


@pytest.fixture
async def storage(tmp_path):
    storage = await Storage.open(tmp_path / "db" / "bot.sqlite3")
    yield storage
    await storage.close()


async def test_migrations_bring_a_new_database_to_the_latest_version(storage, tmp_path):
    assert await storage.schema_version() == len(_migrations())
    with sqlite3.connect(tmp_path / "db" / "bot.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "bot.sqlite3"
    first = await Storage.open(path)
    await first.register_member(1, "Ana", "bg")
    await first.close()
    again = await Storage.open(path)
    assert (await again.get_member(1)).first_name == "Ana"
    await again.close()


async def test_foreign_keys_are_enforced(storage):
    with pytest.raises(sqlite3.IntegrityError):
        async with storage.transaction() as db:
            await db.execute(
                "INSERT INTO users (id, language, municipality_id) VALUES (5, 'en', 999)"
            )
    assert await storage.get_member(5) is None  # rolled back


async def test_register_keeps_the_chosen_language(storage):
    await storage.register_member(1, "Marie", "fr")
    await storage.set_language(1, "de")
    member = await storage.register_member(1, "Marie-Claire", "fr")
    assert member.first_name == "Marie-Claire"
    assert member.language == "de" and member.language_chosen


async def test_two_officials_of_one_municipality_share_it(storage):
    for user_id in (1, 2):
        await storage.register_member(user_id, f"Official {user_id}", "bg")
    first = await storage.save_profile(
        1,
        Profile(
            role="municipality", country="BG", place="Sveti Vlas", region="Burgas", population=3500
        ),
    )
    second = await storage.save_profile(
        2, Profile(role="municipality", country="BG", place="  sveti   VLAS ", region="Burgas")
    )
    assert first.municipality_id == second.municipality_id
    assert second.municipality_population == 3500  # not erased by the one who did not say
    assert await storage.municipality_members(first.municipality_id) == [1, 2]
    assert second.onboarded and second.role == "municipality"


async def test_organisation_profile(storage):
    await storage.register_member(3, "Jan", "de")
    member = await storage.save_profile(
        3, Profile(role="organisation", country="DE", place="Köln", organisation_name="Bäckerei")
    )
    assert member.organisation_name == "Bäckerei" and member.municipality_id is None


async def test_unknown_role_is_refused_and_nothing_is_written(storage):
    await storage.register_member(4, "X", "en")
    with pytest.raises(ValueError):
        await storage.save_profile(4, Profile(role="admin", country="FR", place="Lyon"))
    assert not (await storage.get_member(4)).onboarded


async def test_blocked_members_are_unblocked_when_they_write_again(storage):
    await storage.register_member(6, "B", "en")
    await storage.mark_blocked(6)
    assert (await storage.get_member(6)).blocked
    assert not (await storage.register_member(6, "B", "en")).blocked


def test_fold_ignores_case_accents_and_spacing():
    assert fold("  Île-de-FRANCE ") == fold("ile-de-france")
    assert fold("Köln") == "koln"
    assert fold("Ψαρά") == fold("ψαρα")


async def test_persistence_round_trip(storage):
    persistence = SQLitePersistence(storage)
    await persistence.update_conversation("onboarding", (10, 10), 3)
    await persistence.update_conversation("onboarding", (11, 11), 2)
    await persistence.update_conversation("onboarding", (11, 11), None)
    await persistence.update_user_data(10, {"onboarding": {"step": 3, "role": "volunteer"}})
    await persistence.update_chat_data(10, {"k": [1, 2]})
    await persistence.update_bot_data({"version": 1})
    assert await persistence.get_conversations("onboarding") == {(10, 10): 3}
    assert await persistence.get_user_data() == {
        10: {"onboarding": {"step": 3, "role": "volunteer"}}
    }
    assert await persistence.get_chat_data() == {10: {"k": [1, 2]}}
    assert await persistence.get_bot_data() == {"version": 1}
    await persistence.drop_user_data(10)
    await persistence.drop_chat_data(10)
    assert await persistence.get_user_data() == {}
    assert await persistence.get_chat_data() == {}


async def test_checkpoint_writes_state_and_answers_together(storage):
    persistence = SQLitePersistence(storage)
    await persistence.save_step("onboarding", (7, 7), 4, 7, {"onboarding": {"step": 4}})
    assert await persistence.get_conversations("onboarding") == {(7, 7): 4}
    assert (await persistence.get_user_data())[7] == {"onboarding": {"step": 4}}


async def test_a_flush_copied_before_a_step_never_undoes_it(storage):
    """Two people's updates run side by side, and the flush after one hands over the other's
    data and dialog state as copied when it began. Reaching SQLite after the other's next
    step was written ahead, the copies must not undo it (the fault suite lost a mayor's place
    that way, and after a kill asked for the region of no place)."""
    persistence = SQLitePersistence(storage)
    live: dict[int, dict] = {}
    persistence.watch(live)
    key = (7, 7)
    before = {"onboarding": {"role": "municipality", "country": "FR"}}
    live[7] = before
    await persistence.save_step("onboarding", key, 6, 7, before)
    await persistence.update_conversation("onboarding", key, 6)  # PTB caught up
    # Another person's flush copies the mayor's data and state...
    copied_data, copied_state = copy.deepcopy(live[7]), 6
    # ...the mayor's next step (the place typed) is being written ahead...
    after = {"onboarding": {**before["onboarding"], "place": "Gérardmer"}}
    live[7] = after
    step = asyncio.ensure_future(persistence.save_step("onboarding", key, 7, 7, after))
    await asyncio.sleep(0)
    # ...when the copies arrive.
    await persistence.update_user_data(7, copied_data)
    await persistence.update_conversation("onboarding", key, copied_state)
    await step
    assert await persistence.get_conversations("onboarding") == {key: 7}
    assert (await persistence.get_user_data())[7] == after
    # PTB then hands over the step's own state; later changes are written as usual.
    await persistence.update_conversation("onboarding", key, 7)
    await persistence.update_user_data(7, after)
    live[7] = {"onboarding": {**after["onboarding"], "region": "Vosges"}}
    await persistence.update_user_data(7, live[7])
    await persistence.update_conversation("onboarding", key, None)
    assert await persistence.get_conversations("onboarding") == {}
    assert (await persistence.get_user_data())[7]["onboarding"]["region"] == "Vosges"


async def test_a_transaction_stopped_while_it_begins_leaves_none_open(storage):
    """A job cancelled at shutdown while its transaction's BEGIN is on the database thread:
    the BEGIN runs all the same, so it must be rolled back, or every later write fails
    ("cannot start a transaction within a transaction"; CI saw it in the persistence's last
    flush)."""
    began = asyncio.Event()

    async def job() -> None:
        async with storage.transaction():
            began.set()
            await asyncio.Event().wait()

    stopped = asyncio.create_task(job())
    await asyncio.sleep(0)  # the job now waits for its BEGIN
    assert not began.is_set()
    stopped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopped
    await storage.save_data("user", 7, {"step": 1})
    assert await storage.load_data("user") == {7: {"step": 1}}


# --- a long write in steps (the matching pass's) ---------------------------------------------


async def _committed(path) -> int:
    """Rows of the steps' table that another connection sees: what was committed."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT count(*) FROM step_rows").fetchone()[0]


async def test_a_long_write_commits_once_while_nobody_waits(storage, tmp_path):
    path = tmp_path / "db" / "bot.sqlite3"
    await storage._write_steps([_create_table])
    seen = []

    async def step(db) -> None:
        await db.execute("INSERT INTO step_rows DEFAULT VALUES")
        seen.append(await _committed(path))

    await storage._write_steps([step] * 8)
    assert seen == [0] * 8  # one transaction: nothing visible before its end
    assert await _committed(path) == 8


async def test_a_write_waiting_for_a_long_write_goes_in_after_one_step(storage, tmp_path):
    """Someone's write issued while the pass writes waits for the step being written, not
    for all of them; the steps done before it are committed whole, the others after it."""
    path = tmp_path / "db" / "bot.sqlite3"
    await storage._write_steps([_create_table])
    seen: list[int] = []
    waiting: list[asyncio.Task[None]] = []

    async def person() -> None:
        async with storage.transaction() as db:
            await db.execute("INSERT INTO step_rows (person) VALUES (1)")
        seen.append(-1)

    async def step(db) -> None:
        await db.execute("INSERT INTO step_rows DEFAULT VALUES")
        seen.append(await _committed(path))
        if len(seen) == 2:
            waiting.append(asyncio.create_task(person()))
            await asyncio.sleep(0)  # the person's write now waits for the lock

    await storage._write_steps([step] * 6)
    await waiting[0]
    # Steps 1 and 2 in one transaction, committed; the person; then the rest in another.
    assert seen == [0, 0, -1, 3, 3, 3, 3]
    assert await _committed(path) == 7


async def test_a_long_write_that_fails_keeps_only_the_steps_committed_before(storage, tmp_path):
    path = tmp_path / "db" / "bot.sqlite3"
    await storage._write_steps([_create_table])
    steps = 0
    waiting: list[asyncio.Task[None]] = []

    async def step(db) -> None:
        nonlocal steps
        steps += 1
        await db.execute("INSERT INTO step_rows DEFAULT VALUES")
        if steps == 2:
            waiting.append(asyncio.create_task(storage.save_data("user", 7, {"step": 1})))
            await asyncio.sleep(0)
        if steps == 4:
            raise sqlite3.IntegrityError("a broken step")

    with pytest.raises(sqlite3.IntegrityError):
        await storage._write_steps([step] * 6)
    await waiting[0]
    assert await _committed(path) == 2  # the third and fourth rolled back
    assert await storage.load_data("user") == {7: {"step": 1}}
    await storage.save_data("user", 8, {"step": 2})  # nothing left open, the lock free
    assert (await storage.load_data("user"))[8] == {"step": 2}


async def _create_table(db) -> None:
    await db.execute(
        "CREATE TABLE step_rows (id INTEGER PRIMARY KEY, person INTEGER NOT NULL DEFAULT 0)"
    )


async def test_a_larger_page_cache_is_given_back_after_its_block(storage):
    async def cache_size() -> int:
        return (await storage._fetchone("PRAGMA cache_size"))[0]

    default = await cache_size()
    async with storage.page_cache(16_384):
        assert await cache_size() == -16_384
    assert await cache_size() == default
    with pytest.raises(sqlite3.OperationalError):
        async with storage.page_cache(8_192):
            await storage._fetchone("SELECT * FROM no_such_table")
    assert await cache_size() == default


async def test_a_long_write_stopped_midway_leaves_no_transaction_open(storage, tmp_path):
    """A pass cancelled at shutdown while it writes: the open transaction is rolled back,
    the lock is free, and the next write works."""
    path = tmp_path / "db" / "bot.sqlite3"
    await storage._write_steps([_create_table])
    second_step = asyncio.Event()

    async def step(db) -> None:
        await db.execute("INSERT INTO step_rows DEFAULT VALUES")
        if await _committed(path) == 0 and second_step.is_set():
            await asyncio.Event().wait()  # stopped here
        second_step.set()

    stopped = asyncio.create_task(storage._write_steps([step] * 4))
    await second_step.wait()
    stopped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopped
    assert await _committed(path) == 0
    assert not storage._write_lock.locked()
    await storage.save_data("user", 7, {"step": 1})
    assert await storage.load_data("user") == {7: {"step": 1}}


async def test_checkpoints_aside_copy_the_wal_once_after_their_block(storage, tmp_path):
    """The matching pass's writes: no automatic checkpoint within the block (the WAL keeps
    every transaction), the block's own beside it, one at its end that copies everything
    into the database, and the WAL cut back to its kept size when the next write starts it
    over."""
    wal = tmp_path / "db" / "bot.sqlite3-wal"
    await storage._write(("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)", ()))
    thousand_pages = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) "
        "INSERT INTO blobs (data) SELECT randomblob(3500) FROM n"
    )
    default = (await storage._fetchone("PRAGMA wal_autocheckpoint"))[0]
    async with storage.checkpoints_aside() as checkpoints:
        assert (await storage._fetchone("PRAGMA wal_autocheckpoint"))[0] == 0
        for _ in range(12):  # each more than the default 1,000 pages
            await storage._write((thousand_pages, ()))
        assert wal.stat().st_size > 12_000 * 4096  # nothing checkpointed, nothing reused
        checkpoints.start()
        checkpoints.start()  # one at a time: this one is left to the end's
        await storage._write((thousand_pages, ()))  # while it copies
    assert (await storage._fetchone("PRAGMA wal_autocheckpoint"))[0] == default
    await storage._write(("INSERT INTO blobs (data) VALUES (x'00')", ()))
    assert wal.stat().st_size <= WAL_KEPT_BYTES  # started over: all had been checkpointed
    with sqlite3.connect(tmp_path / "db" / "bot.sqlite3") as other:
        assert other.execute("SELECT count(*) FROM blobs").fetchone()[0] == 13_001


async def test_checkpoints_aside_are_set_back_after_an_error(storage):
    default = (await storage._fetchone("PRAGMA wal_autocheckpoint"))[0]
    with pytest.raises(sqlite3.OperationalError):
        async with storage.checkpoints_aside():
            await storage._fetchone("SELECT * FROM no_such_table")
    assert (await storage._fetchone("PRAGMA wal_autocheckpoint"))[0] == default
