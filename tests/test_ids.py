"""Ids are never given twice (issue 16, rule 1): a spammer's listing reported, hidden, warned
about, banned and erased keeps its number to itself, so the report card's buttons, shared
links and the admin log never reach the next listing; the migration that brought
AUTOINCREMENT keeps every row, id and foreign key of a database made before it."""

from __future__ import annotations

import sqlite3
import time
from importlib import resources

import pytest

from bot.i18n import translator
from bot.storage import Storage
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import says, taps
from tests.test_moderation import OTHER, OWNER, REPORTER, open_queue, people, report
from tests.test_posting import Answers, publish, walk_to_preview
from tests.waiting import wait_until

NOW = int(time.time())
en = translator("en").gettext
de = translator("de").gettext
fr = translator("fr").gettext
GONE = "This listing does not exist any more: its author erased their data. Nothing changed."


async def test_an_erased_spammers_listing_number_is_never_given_again(server, bot):
    users = await people(server, bot)
    spammer, admin, innocent = users[OWNER], users[ADMIN_ID], users[OTHER]
    await seed.listing(bot.storage, OTHER, NOW - 60, title="Older listing")
    spam = await seed.listing(bot.storage, OWNER, NOW, title="Cheap pumps, write now")

    await report(users[REPORTER], spam.id, "📢 Spam or advertising")
    card = await open_queue(admin)
    await taps(admin, "🚫 Hide")  # answered first, then the card edited: wait for both
    assert (await admin.wait_for_callback_answer()).text == "Hidden."
    for label, done in (("⚠️ Warn", "Warned."), ("⛔ Ban", "Banned.")):
        await taps(admin, label)  # a reason, then a confirmation (tests/test_decisions.py)
        await taps(admin, "➡ No reason")
        assert (await taps(admin, label)).text == done

        async def card_redrawn() -> bool:
            # The card is edited after the confirmation: a Ban pressed before that edit
            # lands would be answered by it.
            return any("1 warning" in (m.text or "") for m in admin.messages if m.from_bot)

        await wait_until(card_redrawn)
    await says(spammer, "/deleteme")
    await spammer.press(fr("🗑 Yes, erase everything"))
    await spammer.wait_for_bot_message(include_edits=True)
    assert await bot.storage.get_member(OWNER) is None

    # Someone else publishes next: a number never used before.
    await walk_to_preview(
        innocent,
        "de",
        Answers(place="other", country="DE", typed_place="Kassel", title="Spare fire hoses"),
    )
    await publish(innocent, "de")
    (new,) = [x for x in await bot.storage.listings_of(OTHER) if x.title == "Spare fire hoses"]
    assert new.id > spam.id

    # The old report card's buttons find nothing and change nothing.
    warnings_before = await bot.storage._fetchall("SELECT * FROM warnings")
    log_before = await bot.storage._fetchall("SELECT * FROM admin_actions")
    for action in ("warn", "hide", "rest", "dis", "ban", "hist"):
        await admin.press_data(card.id, f"mod:{action}:{spam.id}")
        assert (await admin.wait_for_callback_answer()).text == GONE, action
    assert await bot.storage._fetchall("SELECT * FROM warnings") == warnings_before
    assert await bot.storage._fetchall("SELECT * FROM admin_actions") == log_before
    assert (await bot.storage.get_listing(new.id)).status == "open"
    told = await bot.storage._fetchall("SELECT dedup_key FROM outbox WHERE user_id = ?", (OTHER,))
    assert not [key for (key,) in told if key.startswith("mod:")]

    # A link shared to the spam says it is gone, to anyone.
    gone = await says(users[REPORTER], f"/start l{spam.id}")
    assert gone.text == de("This listing does not exist or is no longer available.")
    assert server.errors() == []


async def test_an_erased_members_verification_request_cannot_be_decided(server, bot):
    users = await people(server, bot)
    admin = users[ADMIN_ID]
    request = await bot.storage.request_verification(OWNER, email=None, note=None, now=NOW)
    menu = await says(admin, "/admin")
    await says(users[OWNER], "/deleteme")
    await users[OWNER].press(fr("🗑 Yes, erase everything"))
    await users[OWNER].wait_for_bot_message(include_edits=True)
    # Someone else asks next: the erased request's number is not theirs.
    await seed.member(bot.storage, 705, language="de", country="DE", place="Fulda")
    other = await bot.storage.request_verification(705, email=None, note=None, now=NOW)
    assert other.id > request.id
    for data in (f"vf:ok:{request.id}", f"vf:no:{request.id}"):
        await admin.press_data(menu.id, data)
        answer = await admin.wait_for_callback_answer()
        assert answer.text == en("This request no longer exists."), data
    assert (await bot.storage.get_verification(other.id)).status == "pending"
    assert server.errors() == []


# --- the migration ---------------------------------------------------------------------------


def _database_before_autoincrement(path) -> None:
    """A database as the bot left it before the migration that brought AUTOINCREMENT, with a
    little of everything; its newest listing and verification request already erased (the
    admin log still names them)."""
    entries = {
        int(entry.name.split("_", 1)[0]): entry
        for entry in resources.files("bot.migrations").iterdir()
        if entry.name.endswith(".sql")
    }
    (ids,) = [number for number, entry in entries.items() if "ids_never_reused" in entry.name]
    scripts = [entries[number] for number in sorted(entries) if number < ids]
    with sqlite3.connect(path) as db:
        for entry in scripts:
            db.executescript(entry.read_text(encoding="utf-8"))
        db.execute(f"PRAGMA user_version = {ids - 1}")
        db.executescript(
            """
            INSERT INTO municipalities (id, name, name_key, country)
                VALUES (1, 'Kotel', 'kotel', 'BG');
            INSERT INTO users (id, first_name, language, role, municipality_id)
                VALUES (10, 'Mayor', 'bg', 'municipality', 1),
                       (11, 'Volunteer', 'en', 'volunteer', NULL);
            INSERT INTO listings (id, owner_id, municipality_id, kind, category, title, description,
                    language, country, reach, published_at, expires_at, status_changed_at)
                VALUES (1, 10, 1, 'request', 'equipment', 'Ladders', 'Two ladders', 'bg', 'BG',
                        'country', 0, 99999999999, 0),
                       (2, 11, NULL, 'offer', 'equipment', 'Ladder', 'One ladder', 'en', 'BG',
                        'europe', 0, 99999999999, 0);
            INSERT INTO listing_tags VALUES (1, 'tools');
            INSERT INTO listings_text (rowid, title, description)
                VALUES (1, 'ladders', 'two ladders');
            INSERT INTO matches (id, listing_a, listing_b, score, reasons, created_at)
                VALUES (5, 1, 2, 4.5, 'category tags:1', 0);
            INSERT INTO contacts (id, listing_id, listing_title, listing_kind, asker_id, owner_id,
                    municipality_id, created_at) VALUES (3, 1, 'Ladders', 'request', 11, 10, 1, 0);
            INSERT INTO contact_messages (id, contact_id, sender_id, from_asker, text, text_key,
                    sent_at) VALUES (4, 3, 11, 1, 'Hello', 'hello', 0);
            INSERT INTO reports (id, listing_id, reported_user, reporter_id, reason, created_at)
                VALUES (6, 2, 11, 10, 'spam', 0);
            INSERT INTO verification_requests (id, user_id, municipality_id, created_at)
                VALUES (7, 10, 1, 0);
            INSERT INTO alerts (id, user_id, area, created_at, updated_at)
                VALUES (8, 11, 'europe', 0, 0);
            INSERT INTO broadcasts (id, admin_id, created_at) VALUES (9, 1, 0);
            INSERT INTO outbox (id, user_id, kind, dedup_key, not_before, created_at)
                VALUES (12, 10, 'notice', 'n:10', 0, 0);
            INSERT INTO admin_actions (admin_id, action, target_listing, target_request, at)
                VALUES (1, 'hide', 30, NULL, 0), (1, 'approve', NULL, 40, 0);
            """
        )


async def test_the_migration_keeps_rows_ids_and_foreign_keys(tmp_path):
    path = tmp_path / "old.sqlite3"
    _database_before_autoincrement(path)
    before = {}
    tables = ("listings", "contacts", "contact_messages", "reports", "verification_requests",
              "broadcasts", "matches", "alerts", "outbox", "listing_tags")  # fmt: skip
    schema = (
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY name"
    )
    columns = {}
    with sqlite3.connect(path) as db:
        for table in tables:
            before[table] = db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            columns[table] = ", ".join(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
        indexes_and_triggers = db.execute(schema).fetchall()

    storage = await Storage.open(path)
    try:
        for table in tables:
            # The columns it had: later migrations may add some (place_key).
            after = await storage._fetchall(f"SELECT {columns[table]} FROM {table} ORDER BY 1")
            assert [tuple(row) for row in after] == before[table], table
            (sql,) = await storage._fetchone(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
            )
            assert table == "listing_tags" or "AUTOINCREMENT" in sql, table
        # Every index and trigger is there again, as it was (a migration before this one
        # that adds an index to a rebuilt table must be added to its recreations); later
        # migrations may add more (digest_items_shown).
        after_schema = {tuple(row) for row in await storage._fetchall(schema)}
        assert set(indexes_and_triggers) <= after_schema
        assert await storage._fetchall("PRAGMA foreign_key_check") == []
        assert (await storage._fetchone("PRAGMA foreign_keys"))[0] == 1
        # Ids named by the admin log are never handed out, even if no row keeps them.
        listing = await seed.listing(storage, 11, NOW)
        assert listing.id == 31
        await seed.member(storage, 12, country="BG", place="Kotel")
        assert (await storage.request_verification(12, email=None, note=None, now=NOW)).id == 41
        # Foreign keys still act on the rebuilt tables: erasing the mayor takes their
        # listing, its tags, matches and messages along, and anonymises the contact.
        await storage.erase_member(10, NOW)
        assert await storage.get_listing(1) is None
        assert await storage._fetchall("SELECT * FROM listing_tags WHERE listing_id = 1") == []
        assert await storage._fetchall("SELECT * FROM matches") == []
        assert (await storage.get_contact(3)).listing_id is None
        # A listing tag added now still marks its listing for matching again (the trigger).
        await storage._db.execute("UPDATE listings SET matched_at = 1 WHERE id = 2")
        await storage._db.execute("INSERT INTO listing_tags VALUES (2, 'tools')")
        assert (await storage._fetchone("SELECT matched_at FROM listings WHERE id = 2"))[0] is None
    finally:
        await storage.close()


async def test_a_migration_that_breaks_a_foreign_key_is_not_applied(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    try:
        version = await storage.schema_version()
        # As during a migration: foreign keys off, so only the check before COMMIT stops it.
        await storage._db.execute("PRAGMA foreign_keys = OFF")
        with pytest.raises(RuntimeError, match="breaks foreign keys"):
            await storage._apply(version + 1, "INSERT INTO listing_tags VALUES (999, 'orphan');")
        assert await storage.schema_version() == version
        assert await storage._fetchall("SELECT * FROM listing_tags") == []
    finally:
        await storage.close()
