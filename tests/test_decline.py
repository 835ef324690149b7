"""Declining a contact (issue 16, rule 9): confirmed first, undoable for a few minutes; the
notices wait in the outbox for the window, are never sent if undone, are sent once after it,
across a restart too, and are worded for the part the asker offered to play (help with a
request, an interest in an offer)."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.app import running
from bot.i18n import translator
from bot.storage.contacts import UNDO_WINDOW
from bot.storage.outbox import Enqueued
from tests import seed
from tests.talk import containing, plain, says, started

OWNER, COLLEAGUE, ASKER, STRANGER = 611, 612, 613, 614
fr = translator("fr").gettext
bg = translator("bg").gettext
en = translator("en").gettext
MARK = "marker {n}"
HELPING = (
    "Thank you for offering your help with {title}. The author cannot take it up this time. "
    "Other requests may need you: /browse"
)
INTERESTED = (
    "Thank you for your interest in {title}. The author cannot take it up this time. Other "
    "offers may suit you: /browse. A request of your own (/post) lets those who can help find "
    "you."
)


def undo_ends(language: str) -> str:
    """'dans 5 minutes': when the Undo window ends, in CLDR's words for ``language``."""
    return translator(language).timedelta(timedelta(seconds=UNDO_WINDOW), direction=True)


async def members(storage) -> None:
    """Two verified officials of Saint-Dié (fr), a Bulgarian mayor (bg) and a stranger."""
    await seed.member(storage, OWNER, language="fr")
    await seed.member(storage, COLLEAGUE, language="fr")
    for official in (OWNER, COLLEAGUE):
        await seed.verified(storage, official)
    await seed.member(storage, ASKER, language="bg", country="BG", place="Sveti Vlas")
    await seed.member(storage, STRANGER, country="AT", place="Graz")


async def people(server):
    return await started(
        server,
        ("Amélie", "fr", OWNER),
        ("Bernard", "fr", COLLEAGUE),
        ("Zornitsa", "bg", ASKER),
        ("Stranger", "en", STRANGER),
    )


def told(user, title: str, after: int) -> list[str]:
    """The bot's messages to ``user`` that name ``title``, from message ``after`` on."""
    return [
        m.text for m in user.messages if m.from_bot and m.id > after and title in (m.text or "")
    ]


async def marker(bot, user, n: int, at: int):
    """A notice due at ``at``, and its arrival: the outbox sends in the order rows are due, so
    once it is there, anything due before it that was going to be sent has been."""
    key = f"marker:{n}:{user.id}"
    await bot.storage.enqueue(
        [Enqueued(user.id, "notice", key, {"msgid": MARK, "params": {"n": n}}, at)], now=at
    )
    bot.outbox.wake()
    await user.wait_for_bot_message(containing(MARK.format(n=n)), timeout=10)


async def ask(owner, asker, listing_id: int, text: str):
    """The asker writes to the listing's author; returns the request as the owner gets it."""
    card = await says(asker, f"/start l{listing_id}")
    await asker.press_data(card.id, card.inline_keyboard[0][0]["callback_data"])
    await asker.wait_for_bot_message()
    await says(asker, text)
    return await owner.wait_for_bot_message(containing(text), timeout=10)


async def decline(owner, relay):
    """Decline from the request's message, and confirm; returns the confirmation message."""
    await owner.press_data(relay.id, relay.inline_keyboard[0][1]["callback_data"])
    question = await owner.wait_for_bot_message()
    await owner.press_data(question.id, question.inline_keyboard[0][0]["callback_data"])
    return await owner.wait_for_bot_message(include_edits=True)


async def test_decline_is_confirmed_and_undone_within_the_window_tells_nobody(server, bot):
    now = int(time.time())
    bot.clock = lambda: now
    await members(bot.storage)
    owner, colleague, asker, stranger = await people(server)
    listing = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe à eau")
    await ask(owner, asker, listing.id, "I have a spare pump.")
    await colleague.wait_for_bot_message(containing("spare pump"), timeout=10)
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    before = {user.id: user.messages[-1].id for user in (asker, colleague)}

    # Decline asks first; nothing changes until confirmed.
    await owner.press(fr("✖️ Decline"))
    question = await owner.wait_for_bot_message()
    assert question.text == plain(
        fr(
            "Decline the contact about {title}? They will be told politely, without your "
            "name, {when}; until then you can undo it."
        ).format(title=translator("fr").quote("Pompe à eau"), when=undo_ends("fr"))
    )
    assert question.button_labels == [fr("✖️ Yes, decline")]
    assert (await bot.storage.get_contact(contact.id)).status == "pending"

    await owner.press(fr("✖️ Yes, decline"))
    done = await owner.wait_for_bot_message(include_edits=True)
    assert done.id == question.id and done.button_labels == [fr("↩️ Undo")]
    assert done.text == fr(
        "Declined. They will be told politely, without your name, {when}."
    ).format(when=undo_ends("fr"))
    # A second tap, forged or replayed, declines nothing twice; nobody else may undo.
    await owner.press_data(question.id, f"ct:nox:{contact.id}")
    assert (await owner.wait_for_callback_answer()).text == fr("This contact was already answered.")
    for user in (colleague, stranger, asker):
        await user.press_data(user.messages[-1].id, f"ct:undo:{contact.id}")
        answer = await user.wait_for_callback_answer()
        assert answer.text == translator(user.account.language_code).gettext(
            "This is not your contact."
        )
    await stranger.press_data(stranger.messages[-1].id, "ct:undo:x")
    assert (await stranger.wait_for_callback_answer()).text == en("This button is no longer valid.")
    assert await bot.storage.outbox_counts() == {"pending": 2, "sent": 2}  # asker and colleague

    # Undone a second before the window ends: the request waits for an answer again.
    bot.clock = lambda: now + UNDO_WINDOW - 1
    await owner.press(fr("↩️ Undo"))
    undone = await owner.wait_for_bot_message(include_edits=True)
    assert undone.id == question.id
    assert undone.button_labels == [fr("✅ Accept"), fr("✖️ Decline"), fr("✉️ Reply")]
    assert (await bot.storage.get_contact(contact.id)).status == "pending"
    await owner.press_data(question.id, f"ct:undo:{contact.id}")
    assert (await owner.wait_for_callback_answer()).text == fr("There is nothing to undo.")

    # The window passes: neither the asker nor the colleague is told anything.
    bot.clock = lambda: now + UNDO_WINDOW + 10
    await marker(bot, asker, 1, now + UNDO_WINDOW + 1)
    await marker(bot, colleague, 2, now + UNDO_WINDOW + 1)
    assert told(asker, "Pompe à eau", before[ASKER]) == []
    assert told(colleague, "Pompe à eau", before[COLLEAGUE]) == []
    rows = await bot.storage._fetchall(
        "SELECT kind, state FROM outbox WHERE batch = ?", (f"decline:{contact.id}:1",)
    )
    assert sorted(rows) == [
        ("contact_declined", "cancelled"),
        ("contact_declined_team", "cancelled"),
    ]

    # Declined again (the Undo button now answers it): told once, after its own window.
    again = await decline(owner, undone)
    assert again.button_labels == [fr("↩️ Undo")]
    bot.clock = lambda: now + 2 * UNDO_WINDOW + 20
    notice = await asker.wait_for_bot_message(containing("Pompe à eau"), timeout=10)
    assert notice.text == plain(bg(HELPING)).format(title=translator("bg").quote("Pompe à eau"))
    team = await colleague.wait_for_bot_message(containing("Pompe à eau"), timeout=10)
    assert team.text == fr("✖️ {colleague} declined the contact about {title}.").format(
        colleague="Amélie", title=translator("fr").quote("Pompe à eau")
    )
    await owner.press(fr("↩️ Undo"))
    late = await owner.wait_for_callback_answer()
    assert late.text == fr("Too late to undo: they have already been told.")
    await marker(bot, asker, 3, now + 2 * UNDO_WINDOW + 20)
    assert len(told(asker, "Pompe à eau", before[ASKER])) == 1
    assert (await bot.storage.get_contact(contact.id)).status == "declined"
    assert server.errors() == []


async def test_declines_survive_a_restart_undone_or_told_once(server, settings):
    """Two declines before a restart, their notices waiting in the outbox: after it, one is
    undone inside its window (nobody is told); the other's notice goes once its window is
    over, once, worded for an interest in an offer."""
    now = int(time.time())
    async with running(settings) as bot:
        bot.clock = lambda: now
        await members(bot.storage)
        owner, colleague, asker, _stranger = await people(server)
        pump = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe")
        tables = await seed.listing(bot.storage, OWNER, now, kind="offer", title="Tables")
        to_undo = await decline(owner, await ask(owner, asker, pump.id, "I have a pump."))
        bot.clock = lambda: now + 60
        await decline(owner, await ask(owner, asker, tables.id, "May we borrow?"))
        await colleague.wait_for_bot_message(containing("May we borrow?"), timeout=10)
        kept, refused = [c for c, _side in reversed(await bot.storage.contacts_of(ASKER))]
        before = {user.id: user.messages[-1].id for user in (asker, colleague)}
    # The bot is down; it comes back with the same database.

    async with running(settings) as bot:
        bot.clock = lambda: now + UNDO_WINDOW - 10  # the first one's window is not over
        await owner.press_data(to_undo.id, to_undo.inline_keyboard[0][0]["callback_data"])
        undone = await owner.wait_for_bot_message(include_edits=True)
        assert undone.button_labels == [fr("✅ Accept"), fr("✖️ Decline"), fr("✉️ Reply")]
        bot.clock = lambda: now + 60 + UNDO_WINDOW  # the second one's is
        notice = await asker.wait_for_bot_message(containing("Tables"), timeout=10)
        assert notice.text == plain(bg(INTERESTED)).format(title=translator("bg").quote("Tables"))
        await marker(bot, asker, 1, now + 60 + UNDO_WINDOW)
        await marker(bot, colleague, 2, now + 60 + UNDO_WINDOW)
        assert told(asker, "Pompe", before[ASKER]) == []
        assert told(asker, "Tables", before[ASKER]) == [notice.text]
        assert len(told(colleague, "Tables", before[COLLEAGUE])) == 1
        states = await bot.storage._fetchall(
            "SELECT batch, state, count(*) FROM outbox WHERE batch LIKE 'decline:%' "
            "GROUP BY 1, 2 ORDER BY 1"
        )
        assert [tuple(row) for row in states] == [
            (f"decline:{kept.id}:1", "cancelled", 2),
            (f"decline:{refused.id}:1", "sent", 2),
        ]
        assert (await bot.storage.get_contact(kept.id)).status == "pending"
    assert server.errors() == []
