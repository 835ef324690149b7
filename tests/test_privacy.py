"""/mydata and /deleteme over HTTP: the JSON file holds what is stored about the person, and
after erasure no table holds their id, name or username (checked with SQL over the whole
database), while the other side of their contacts keeps the contact, anonymised."""

from __future__ import annotations

import asyncio
import json
import time

from bot.i18n import translator
from bot.storage import AlertDraft
from tests import seed
from tests.talk import containing, says, taps

NOW = int(time.time())
LEAVING, OTHER = 7_770_001, 7_770_002
NAME, USERNAME = "Zdravka", "zdravka_del"
bg = translator("bg").gettext
en = translator("en").gettext


async def world(server, bot):
    """The leaving member with listings, an accepted contact both ways, a pending one she
    asked, a view, a report, a verification request, an alert, a draft and a dialog going."""
    await seed.member(bot.storage, LEAVING, language="bg", country="BG", place="Sveti Vlas")
    await seed.member(bot.storage, OTHER, role="volunteer")
    leaving = server.create_user(NAME, "bg", username=USERNAME, user_id=LEAVING)
    other = server.create_user("Olaf", "en", user_id=OTHER)
    for user in (leaving, other):
        await says(user, "/start")
    hers = await seed.listing(bot.storage, LEAVING, NOW, kind="request", title="Ladders")
    await seed.listing(bot.storage, LEAVING, NOW, title="Old desks")
    his = await seed.listing(bot.storage, OTHER, NOW, title="Paint")
    theirs = await seed.listing(bot.storage, OTHER, NOW, title="Brushes")

    card = await says(other, f"/start l{hers.id}")
    await taps(other, card.button_labels[0])
    await says(other, "I have two ladders for you.")
    relay = await leaving.wait_for_bot_message(containing("two ladders"), timeout=10)
    # Alone, or in a bundle with the matches that came at the same moment ("1 · ✉️ Reply").
    (reply,) = [label for label in relay.button_labels if label.endswith(bg("✉️ Reply"))]
    await taps(leaving, reply)
    await says(leaving, f"Thanks, {NAME} here, from the town hall.")
    await other.wait_for_bot_message(containing("town hall"), timeout=10)
    await leaving.press_data(relay.id, relay.inline_keyboard[0][0]["callback_data"])
    await leaving.wait_for_bot_message()
    await other.wait_for_bot_message(containing(NAME), timeout=10)

    await says(leaving, f"/start l{his.id}")  # a view
    await bot.storage.open_contact(LEAVING, his.id, f"{NAME} would like some paint.", NOW)
    await bot.storage.report_listing(theirs.id, LEAVING, "spam", NOW)
    await bot.storage.request_verification(LEAVING, email="zdravka@obshtina.bg", note=None, now=NOW)
    await bot.storage.save_alert(
        LEAVING, AlertDraft(kind="offer", categories=(), tags=(), area="europe"), now=NOW
    )
    await says(leaving, "/post")  # a draft dialog in progress (PTB conversation state)
    await bot.storage.save_draft(LEAVING, {"title": f"{NAME}'s draft"}, NOW)
    return leaving, other


async def everything(bot) -> dict[str, list[tuple]]:
    tables = await bot.storage._fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'listings_text_%'"
    )
    return {
        name: [tuple(row) for row in await bot.storage._fetchall(f'SELECT * FROM "{name}"')]
        for (name,) in tables
    }


def mentions(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == LEAVING
    if isinstance(value, str):
        return str(LEAVING) in value or NAME in value or USERNAME in value
    return False


async def test_mydata_is_everything_stored(server, bot):
    leaving, _other = await world(server, bot)
    sent = await says(leaving, "/mydata")
    assert sent.document["file_name"] == "community-sharing-my-data.json"
    data = json.loads(server.file_bytes(sent.document["file_id"]))
    assert data["telegram_id"] == LEAVING
    assert data["profile"]["first_name"] == NAME and data["profile"]["username"] == USERNAME
    assert data["profile"]["municipality_name"] == "Sveti Vlas"
    assert sorted(listing["title"] for listing in data["listings"]) == ["Ladders", "Old desks"]
    contacts = {contact["listing_title"]: contact for contact in data["contacts"]}
    assert contacts["Ladders"]["side"] == "owner" and contacts["Ladders"]["status"] == "accepted"
    assert [m["sender"] for m in contacts["Ladders"]["messages"]] == ["them", "you"]
    assert contacts["Paint"]["side"] == "asker"
    assert data["reports_made"][0]["reason"] == "spam"
    assert data["verification_requests"][0]["email"] == "zdravka@obshtina.bg"
    assert data["alerts"][0]["area"] == "europe"
    assert data["draft"] == {"title": f"{NAME}'s draft"}
    assert "contact_request" in {n["kind"] for n in data["notifications"]}
    assert server.errors() == []


async def test_deleteme_leaves_no_personal_data(server, bot):
    leaving, other = await world(server, bot)
    before = await everything(bot)
    assert any(mentions(value) for rows in before.values() for row in rows for value in row)
    asked = await says(leaving, "/deleteme")
    await leaving.press(bg("🗑 Yes, erase everything"))
    done = await leaving.wait_for_bot_message(include_edits=True)
    assert done.id == asked.id
    assert done.text == bg(
        "Your data is erased. Goodbye! If you come back one day, /start sets you up afresh."
    )
    # The bot flushes PTB's data right after the update: wait for that.
    deadline = time.monotonic() + 5
    while True:
        after = await everything(bot)
        found = {
            (table, row)
            for table, rows in after.items()
            for row in rows
            if any(mentions(value) for value in row)
        }
        if not found or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert found == set()
    assert after["ptb_conversations"] == [] and after["drafts"] == []
    assert not [row for row in after["listings"] if row[1] == LEAVING]

    # The other side keeps the contact, anonymised, with its title and his own message.
    contacts = await bot.storage.contacts_of(OTHER)
    titles = {contact.listing_title: contact for contact, _side in contacts}
    assert set(titles) == {"Ladders", "Paint"}
    ladders = titles["Ladders"]
    assert (ladders.status, ladders.asker_id, ladders.owner_id, ladders.listing_id) == (
        "accepted",
        OTHER,
        None,
        None,
    )
    assert [m.text for m in await bot.storage.contact_messages(ladders.id)] == [
        "I have two ladders for you."
    ]
    assert titles["Paint"].status == "withdrawn"
    listing = await says(other, "/contacts")
    assert "Ladders" in listing.text
    number = next(line for line in listing.text.splitlines() if "Ladders" in line).split(".")[0]
    opened = await taps(other, number)
    assert en("(this account was deleted)") in opened.text

    # Coming back starts afresh.
    menu = await says(leaving, "/start")
    assert menu.text != done.text
    member = await bot.storage.get_member(LEAVING)
    assert member is not None and not member.onboarded
    assert server.errors() == []


async def test_forged_erase_and_keep_on_another_message_change_nothing(server, bot):
    """The confirmation's buttons name no message: copied onto another of the bot's messages
    (a listing card), "erase" with a fresh time erases nothing unread and "keep" rewrites
    nothing; both are refused and that message keeps its text. "Erase" with an old time is
    refused the same way: a forged press is not told that its confirmation expired."""
    await seed.member(bot.storage, LEAVING, language="bg", country="BG", place="Sveti Vlas")
    leaving = server.create_user(NAME, "bg", username=USERNAME, user_id=LEAVING)
    await says(leaving, "/start")
    listing = await seed.listing(bot.storage, LEAVING, NOW, title="Ladders «pv-card»")
    card = await says(leaving, f"/start l{listing.id}")
    for data in (f"me:del:{bot.now()}", "me:keep", "me:del:0"):
        await leaving.press_data(card.id, data)
        answer = await leaving.wait_for_callback_answer()
        assert answer.show_alert and answer.text == bg("This button is no longer valid."), data
        assert leaving.chat.messages[card.id].text == card.text
    assert await bot.storage.get_member(LEAVING) is not None
    assert await bot.storage.get_listing(listing.id) is not None
    assert server.errors() == []
