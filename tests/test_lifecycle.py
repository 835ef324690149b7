"""Buttons of a listing that ended (issue 16, rule 8), over HTTP: on a fulfilled or closed
listing, every button of an old card (edit, close, fulfilled, renew, contact, report) refuses
at the first tap, saying that it ended and when, and opens no question or dialog; its card
no longer says "open until", but that it was closed or fulfilled, and when."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.i18n import translator
from bot.storage.listings import DAY
from tests import seed
from tests.talk import joined, says, seeded
from tests.test_buttons import settle

NOW = int(time.time())
OWNER, VISITOR = 7_080_001, 7_080_002
fr = translator("fr")
de = translator("de")


def on(t, at: int) -> str:
    return t.date(datetime.fromtimestamp(at, UTC))


async def people(server, bot):
    return await joined(
        server,
        bot.storage,
        seeded("Odile", "fr", OWNER),
        seeded("Volker", "de", VISITOR, country="DE", place="Kassel"),
    )


async def presses_on(server, bot, user, message_id: int, data: list[str]) -> list[str | None]:
    """Press each button, wait until the bot handled them all; their answers."""
    shown = len(user.messages)
    queries = [await user.press_data(message_id, item) for item in data]
    await settle(server, bot)
    answers = {answer.callback_query_id: answer.text for answer in user.callback_answers}
    assert len(user.messages) == shown, "a question or dialog was opened"
    return [answers.get(query) for query in queries]


async def test_the_buttons_of_a_closed_listing_refuse_at_the_first_tap(server, bot):
    owner, visitor = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW - 3 * DAY, title="Pompe à incendie")
    owners_card = await says(owner, f"/start l{listing.id}")
    visitors_card = await says(visitor, f"/start l{listing.id}")
    assert len(owners_card.button_labels) == 4 and len(visitors_card.button_labels) == 3
    closed = await bot.storage.close_listing(
        listing.id, OWNER, fulfilled=False, outcome="withdrawn", now=NOW - DAY
    )
    assert closed is not None

    ended = fr.gettext("This listing was closed on {date}.").format(date=on(fr, NOW - DAY))
    owners = [f"ls:{action}:{listing.id}" for action in ("edit", "close", "done", "renew")]
    assert await presses_on(server, bot, owner, owners_card.id, owners) == [ended] * 4
    ended = de.gettext("This listing was closed on {date}.").format(date=on(de, NOW - DAY))
    visitors = [f"ct:ask:{listing.id}", f"rp:{listing.id}"]
    assert await presses_on(server, bot, visitor, visitors_card.id, visitors) == [ended] * 2
    # The last steps of those questions, forged, refuse the same way and change nothing.
    finals = [f"ls:cls:{listing.id}", f"ls:ful:{listing.id}:platform", f"ls:rnw:{listing.id}:1m"]
    ended = fr.gettext("This listing was closed on {date}.").format(date=on(fr, NOW - DAY))
    assert await presses_on(server, bot, owner, owners_card.id, finals) == [ended] * 3
    await presses_on(server, bot, visitor, visitors_card.id, [f"rp:{listing.id}:spam"])
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.status, stored.expires_at) == ("closed", listing.expires_at)
    assert await bot.storage._fetchall("SELECT * FROM reports") == []
    assert await bot.storage._fetchall("SELECT * FROM contacts") == []

    # Its card says closed and when, not "open until".
    card = await says(visitor, f"/start l{listing.id}")
    assert de.gettext("✖️ Closed on {date}").format(date=on(de, NOW - DAY)) in card.text
    open_until = de.gettext("🕒 Posted {age} · open until {date}").split("·")[1].split("{")[0]
    assert open_until.strip() not in card.text
    assert card.button_labels == [de.gettext("📤 Share")]
    assert server.errors() == []


async def test_a_fulfilled_listing_says_so_and_when(server, bot):
    owner, visitor = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW - 3 * DAY, kind="request")
    owners_card = await says(owner, f"/start l{listing.id}")
    visitors_card = await says(visitor, f"/start l{listing.id}")
    await bot.storage.close_listing(
        listing.id, OWNER, fulfilled=True, outcome="platform", now=NOW - 2 * DAY
    )
    ended = fr.gettext("This listing was fulfilled on {date}.").format(date=on(fr, NOW - 2 * DAY))
    pressed = await presses_on(server, bot, owner, owners_card.id, [f"ls:renew:{listing.id}"])
    assert pressed == [ended]
    ended = de.gettext("This listing was fulfilled on {date}.").format(date=on(de, NOW - 2 * DAY))
    pressed = await presses_on(server, bot, visitor, visitors_card.id, [f"ct:ask:{listing.id}"])
    assert pressed == [ended]
    card = await says(owner, f"/start l{listing.id}")
    assert fr.gettext("✅ Fulfilled on {date}").format(date=on(fr, NOW - 2 * DAY)) in card.text
    assert card.button_labels == []
    assert server.errors() == []
