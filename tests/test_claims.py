"""Owner powers come with a verified membership, not a claim (issue 16, rule 4): someone who
onboards into a municipality that already has a verified official may not close, edit, renew
or mark fulfilled its listings, nor read or answer the messages people sent about them,
until an admin approves them; every such press is refused by storage and changes nothing."""

from __future__ import annotations

import time

from bot.i18n import translator
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, says, started, taps

NOW = int(time.time())
MAYOR, NEWCOMER, ASKER = 7_040_001, 7_040_002, 7_040_003
bg = translator("bg").gettext


async def verify(bot, user_id: int) -> None:
    request = await bot.storage.request_verification(user_id, email=None, note=None, now=NOW)
    await bot.storage.decide_verification(request.id, ADMIN_ID, approve=True, now=NOW)


async def world(server, bot):
    """A verified mayor of Kotel with a request someone answered, and a newcomer who joined
    Kotel since, unverified."""
    for user_id in (MAYOR, NEWCOMER):
        await seed.member(bot.storage, user_id, language="bg", country="BG", place="Kotel")
    await seed.member(bot.storage, ASKER, role="volunteer")
    await verify(bot, MAYOR)
    mayor, newcomer, asker = await started(
        server, ("Mayor", "bg", MAYOR), ("Newcomer", "bg", NEWCOMER), ("Asker", "en", ASKER)
    )
    listing = await seed.listing(
        bot.storage, MAYOR, NOW, kind="request", title="Ladders", country="BG", place="Kotel"
    )
    await says(asker, f"/start l{listing.id}")
    await taps(asker, "🙋 I can help")
    await says(asker, "I have two ladders for the school.")
    await mayor.wait_for_bot_message(containing("two ladders"), timeout=10)
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    return mayor, newcomer, listing, contact


async def test_an_unverified_newcomer_cannot_act_for_the_municipality(server, bot):
    _mayor, newcomer, listing, contact = await world(server, bot)
    card = await says(newcomer, f"/start l{listing.id}")
    assert card.button_labels == [bg("🙋 I can help"), bg("📤 Share"), bg("🚩 Report")]
    assert (await says(newcomer, "/mylistings")).text == bg(
        "You have no listings yet. Send /post to publish one."
    )
    assert "Ladders" not in (await says(newcomer, "/contacts")).text
    forged = {
        f"ls:cls:{listing.id}": bg("You cannot change this listing."),
        f"ls:close:{listing.id}": bg("You cannot change this listing."),
        f"ls:done:{listing.id}": bg("You cannot change this listing."),
        f"ls:ful:{listing.id}:platform": bg("You cannot change this listing."),
        f"ls:renew:{listing.id}": bg("You cannot change this listing."),
        f"ls:rnw:{listing.id}:6m": bg("You cannot change this listing."),
        f"ls:edit:{listing.id}": bg("You cannot change this listing."),
        f"ct:show:{contact.id}": bg("This is not your contact."),
        f"ct:ok:{contact.id}": bg("This is not your contact."),
        f"ct:no:{contact.id}": bg("This is not your contact."),
        f"ct:nox:{contact.id}": bg("This is not your contact."),
        f"ct:undo:{contact.id}": bg("This is not your contact."),
        f"ct:rl:{contact.id}": bg("This is not your contact."),
        f"ct:end:{contact.id}": bg("This is not your contact."),
        f"ls:with:{listing.id}:{contact.id}": bg("You cannot change this listing."),
        f"ls:else:{listing.id}": bg("You cannot change this listing."),
        f"ct:msg:{contact.id}": bg("This is not your contact."),
    }
    for data, refusal in forged.items():
        await newcomer.press_data(card.id, data)
        assert (await newcomer.wait_for_callback_answer()).text == refusal, data

    stored = await bot.storage.get_listing(listing.id)
    assert (stored.status, stored.expires_at) == ("open", listing.expires_at)
    assert (await bot.storage.get_contact(contact.id)).status == "pending"
    assert len(await bot.storage.contact_messages(contact.id)) == 1
    told = await bot.storage._fetchall("SELECT kind FROM outbox WHERE user_id = ?", (NEWCOMER,))
    assert told == []  # the request was not relayed to them either
    assert server.errors() == []


async def test_once_verified_the_newcomer_may(server, bot):
    _mayor, newcomer, listing, contact = await world(server, bot)
    await verify(bot, NEWCOMER)
    card = await says(newcomer, f"/start l{listing.id}")
    assert bg("✏️ Edit") in card.button_labels
    await newcomer.press_data(card.id, f"ct:show:{contact.id}")
    shown = await newcomer.wait_for_bot_message()
    assert "two ladders" in shown.text
    await newcomer.press_data(card.id, f"ls:cls:{listing.id}")
    await newcomer.wait_for_bot_message()
    assert (await bot.storage.get_listing(listing.id)).status == "closed"
    assert server.errors() == []
