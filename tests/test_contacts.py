"""Contacts over HTTP: a Bulgarian asker and a French municipality, accept and decline, names
and links only after an Accept, follow-up messages before it, forged and replayed buttons,
the anti-abuse limits, /contacts, and the 30/90-day follow-ups with a controlled clock."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_relative_datetime, get_relative_name

from bot.i18n import translator
from bot.storage.contacts import CONTACTS_PER_DAY, DAY, MESSAGES_PER_SIDE, UNDO_WINDOW
from bot.views import cards
from tests import seed
from tests.talk import containing, plain, says, taps

NOW = int(time.time())
OWNER, COLLEAGUE, ASKER, STRANGER = 601, 602, 603, 604
bg = translator("bg").gettext
fr = translator("fr").gettext
en = translator("en").gettext


async def people(server, bot):
    """Two verified officials of Saint-Dié (fr), a Bulgarian mayor and a stranger, all
    started."""
    await seed.member(bot.storage, OWNER, language="fr")
    await seed.member(bot.storage, COLLEAGUE, language="fr")
    for official in (OWNER, COLLEAGUE):
        await seed.verified(bot.storage, official)
    await seed.member(bot.storage, ASKER, language="bg", country="BG", place="Sveti Vlas")
    await seed.member(bot.storage, STRANGER, country="AT", place="Graz")
    users = (
        server.create_user("Amélie", "fr", username="amelie_sd", user_id=OWNER),
        server.create_user("Bernard", "fr", user_id=COLLEAGUE),
        server.create_user("Zornitsa", "bg", username="zornitsa_sv", user_id=ASKER),
        server.create_user("Stranger", "en", user_id=STRANGER),
    )
    for user in users:
        await says(user, "/start")
    return users


def shown(user, after: int = 0) -> str:
    """Everything the bot showed the user (text and links), from message ``after`` on."""
    return "\n".join(m.html for m in user.messages if m.from_bot and m.id > after)


async def ask(asker, listing_id: int, text: str):
    card = await says(asker, f"/start l{listing_id}")
    await taps(asker, card.button_labels[0])
    return await says(asker, text)


async def test_accepted_contact_names_and_links_only_after_accept(server, bot):
    owner, colleague, asker, _stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW, kind="request", title="Pompe <à> eau")
    card = await says(asker, f"/start l{listing.id}")
    assert card.button_labels == [bg("🙋 I can help"), bg("📤 Share"), bg("🚩 Report")]
    prompt = await taps(asker, bg("🙋 I can help"))
    assert "Pompe <à> eau" in prompt.text and prompt.button_labels == [bg("✖️ Cancel")]
    sent = await says(asker, "Здравейте! We have a spare <b>pump</b> & hoses.")
    assert sent.text == plain(
        bg("✉️ Sent! You will be told here when they answer. Your contacts: /contacts")
    )

    relay = await owner.wait_for_bot_message(containing("spare <b>pump</b>"), timeout=10)
    assert "Bulgarie" in relay.text  # the asker's country, in the owner's language
    assert relay.button_labels == [fr("✅ Accept"), fr("✖️ Decline"), fr("✉️ Reply")]
    await colleague.wait_for_bot_message(containing("spare <b>pump</b>"), timeout=10)

    # A follow-up each way before accepting, still without names.
    await taps(owner, fr("✉️ Reply"))
    await says(owner, "Merci ! Quand pouvez-vous livrer ?")
    answer = await asker.wait_for_bot_message(containing("Quand pouvez"), timeout=10)
    await asker.press_data(answer.id, answer.inline_keyboard[0][0]["callback_data"])
    await asker.wait_for_bot_message()
    await says(asker, "Next week.")
    await owner.wait_for_bot_message(containing("Next week."), timeout=10)
    for user, other in ((asker, "Amélie"), (owner, "Zornitsa"), (colleague, "Zornitsa")):
        assert other not in shown(user) and "t.me/" not in shown(user), user
    assert "amelie_sd" not in shown(asker) and "zornitsa_sv" not in shown(owner)

    last = asker.messages[-1].id
    await owner.press_data(relay.id, relay.inline_keyboard[0][0]["callback_data"])
    accepted = await owner.wait_for_bot_message()
    # Their public usernames: links that open the chat whatever their privacy settings.
    assert "Zornitsa" in accepted.text and '"https://t.me/zornitsa_sv"' in accepted.html
    assert "@zornitsa_sv" in accepted.text and "Sveti Vlas" in accepted.text
    assert accepted.inline_keyboard == [] and "tg://user" not in accepted.html
    told = await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    assert '"https://t.me/amelie_sd"' in told.html and "@amelie_sd" in told.text
    assert told.id > last and told.inline_keyboard == []
    team = await colleague.wait_for_bot_message(containing("Zornitsa"), timeout=10)
    assert '"https://t.me/zornitsa_sv"' in team.html and "Amélie" in team.text

    # Replayed and forged: nothing changes.
    contact_id = int(relay.inline_keyboard[0][0]["callback_data"].rsplit(":", 1)[1])
    await owner.press_data(relay.id, f"ct:no:{contact_id}")
    assert (await owner.wait_for_callback_answer()).text == fr("This contact was already answered.")
    stored = await bot.storage.get_contact(contact_id)
    assert (stored.status, stored.decided_by) == ("accepted", OWNER)
    assert (await bot.storage.get_listing(listing.id)).contacts == 1

    mine = await says(asker, "/contacts")
    assert "Pompe <à> eau" in mine.text and bg("✅ accepted") in mine.text
    opened = await taps(asker, "1")
    assert "Amélie" in opened.text and "Next week." in opened.text
    assert server.errors() == []


async def test_declined_contact_is_polite_and_anonymous(server, bot):
    owner, colleague, asker, stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW, kind="offer", title="Tables de fête")
    card = await says(asker, f"/start l{listing.id}")
    assert card.button_labels[0] == bg("🙋 I'm interested")
    await taps(asker, bg("🙋 I'm interested"))
    await says(asker, "Could we borrow twenty tables in June?")
    relay = await colleague.wait_for_bot_message(containing("twenty tables"), timeout=10)
    contact_id = int(relay.inline_keyboard[0][0]["callback_data"].rsplit(":", 1)[1])

    # Neither the asker nor a stranger may answer it.
    for user in (asker, stranger):
        await user.press_data(user.messages[-1].id, f"ct:ok:{contact_id}")
        refused = await user.wait_for_callback_answer()
        assert refused.text == translator(user.account.language_code).gettext(
            "This is not your contact."
        )
    bot.clock = lambda: NOW
    await colleague.press(fr("✖️ Decline"))
    await colleague.wait_for_bot_message()  # are you sure?
    await colleague.press(fr("✖️ Yes, decline"))
    done = await colleague.wait_for_bot_message(include_edits=True)
    assert done.button_labels == [fr("↩️ Undo")]
    bot.clock = lambda: NOW + UNDO_WINDOW  # told once the Undo window is over
    polite = await asker.wait_for_bot_message(containing("Tables de fête"), timeout=10)
    assert polite.text == plain(
        bg(
            "Thank you for your interest in {title}. The author cannot take it up this time. "
            "Other offers may suit you: /browse. A request of your own (/post) lets those who "
            "can help find you."
        ).format(title=translator("bg").quote("Tables de fête"))
    )
    assert "Bernard" not in shown(asker) and "Amélie" not in shown(asker)
    assert "t.me/" not in shown(asker) and "Zornitsa" not in shown(owner)

    # Decided: no more accept, no more messages.
    await owner.press_data(owner.messages[-1].id, f"ct:ok:{contact_id}")
    assert (await owner.wait_for_callback_answer()).text == fr("This contact was already answered.")
    await asker.press_data(polite.id, f"ct:msg:{contact_id}")
    assert (await asker.wait_for_callback_answer()).text == bg("This contact was already answered.")
    assert (await bot.storage.get_contact(contact_id)).status == "declined"
    assert server.errors() == []


async def test_forged_contact_buttons_change_nothing(server, bot):
    owner, _colleague, asker, stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW, kind="request")
    await ask(asker, listing.id, "I can bring it on Monday.")
    contact_id = (await bot.storage.contacts_of(ASKER))[0][0].id
    at = stranger.messages[-1].id
    for data in (
        f"ct:show:{contact_id}",
        f"ct:msg:{contact_id}",
        f"ct:no:{contact_id}",
        f"ct:ok:{contact_id}",
        "ct:ok:99999",
        "ct:ok:x",
        f"fu:{contact_id}:30:y",
    ):
        await stranger.press_data(at, data)
        answer = await stranger.wait_for_callback_answer()
        assert answer.text in (
            en("This is not your contact."),
            en("This button is no longer valid."),
        ), data
    assert (await bot.storage.get_contact(contact_id)).status == "pending"
    # One's own listing, twice the same listing, a closed listing.
    await owner.press_data(owner.messages[-1].id, f"ct:ask:{listing.id}")
    assert (await owner.wait_for_callback_answer()).text == fr(
        "This is your own listing (or your municipality's)."
    )
    await asker.press_data(asker.messages[-1].id, f"ct:ask:{listing.id}")
    assert (await asker.wait_for_callback_answer()).text == bg(
        "You have already contacted the author of this listing: see /contacts."
    )
    await bot.storage.close_listing(listing.id, OWNER, fulfilled=False, outcome="x", now=NOW)
    await stranger.press_data(at, f"ct:ask:{listing.id}")
    assert (await stranger.wait_for_callback_answer()).text == cards.ended(
        translator("en"), "closed", NOW
    )
    assert server.errors() == []


async def test_limits_per_day_duplicates_and_follow_ups(server, bot):
    bot.clock = lambda: NOW
    _owner, _colleague, asker, _stranger = await people(server, bot)
    listings = [
        await seed.listing(bot.storage, OWNER, NOW, title=f"Listing {i}")
        for i in range(CONTACTS_PER_DAY + 2)
    ]
    # The same message twice is refused; another one goes.
    await ask(asker, listings[0].id, "Hello, we can help you with this!")
    card = await says(asker, f"/start l{listings[1].id}")
    await taps(asker, card.button_labels[0])
    refused = await says(asker, "Hello,  we can HELP you with this!")
    assert refused.text == bg(
        "You already sent this exact message. Please write a message for this contact."
    )
    sent = await says(asker, "Hello, the tables are free in June.")
    assert sent.text.startswith("✉️")
    # Follow-ups: a few, then wait for an answer.
    contact_id = (await bot.storage.contacts_of(ASKER))[0][0].id
    for number in range(MESSAGES_PER_SIDE + 1):
        await asker.press_data(asker.messages[-1].id, f"ct:msg:{contact_id}")
        await asker.wait_for_bot_message()
        answer = await says(asker, f"One more detail, number {number}.")
    assert answer.text == translator("bg").ngettext(
        "You have sent {count} follow-up message already; please wait for an answer.",
        "You have sent {count} follow-up messages already; please wait for an answer.",
        MESSAGES_PER_SIDE,
    ).format(count=MESSAGES_PER_SIDE)
    # The daily limit: counted over 24 hours, with when the next one is possible.
    for index in range(2, CONTACTS_PER_DAY):
        await bot.storage.open_contact(ASKER, listings[index].id, f"Message {index}", NOW - index)
    await asker.press_data(asker.messages[-1].id, f"ct:ask:{listings[-1].id}")
    limit = await asker.wait_for_callback_answer()
    # When the oldest of the ten leaves the 24 hours, in the asker's time (Sofia), as CLDR
    # says it in Bulgarian ("утре, 10:54 ч."), and the sentence ends with one full stop.
    sofia = ZoneInfo("Europe/Sofia")
    then, now = datetime.fromtimestamp(NOW - 9 + DAY, sofia), datetime.fromtimestamp(NOW, sofia)
    day = get_relative_name("day", (then.date() - now.date()).days, locale="bg")
    when = format_relative_datetime(day, then, format="short", tzinfo=sofia, locale="bg")
    full = bg("You have sent many contact requests today. You can send the next one {when}.")
    assert limit.text.rstrip(".") == full.format(when=when).rstrip(".")
    assert "UTC" not in limit.text and not limit.text.endswith("..")
    bot.clock = lambda: NOW + DAY
    await asker.press_data(asker.messages[-1].id, f"ct:ask:{listings[-1].id}")
    await asker.wait_for_bot_message()  # asked for the message: allowed again
    assert server.errors() == []


def followup_buttons(message, contact_id: int) -> list[tuple[str, str]]:
    """A follow-up's buttons (label, data), in its own message or in a bundle ("1 · ...")."""
    return [
        (button["text"].split(" · ", 1)[-1], button["callback_data"])
        for row in message.inline_keyboard
        for button in row
        if button["callback_data"].startswith(f"fu:{contact_id}:")
    ]


async def test_follow_ups_30_and_90_days_after_accept(server, bot):
    owner, _colleague, asker, stranger = await people(server, bot)
    contacts = {}
    for title in ("Chairs", "Benches"):
        listing = await seed.listing(bot.storage, OWNER, NOW, kind="request", title=title)
        async with seed.untold(bot.storage):
            contact, _to = await bot.storage.open_contact(ASKER, listing.id, title, NOW)
            contacts[title] = await bot.storage.accept_contact(contact.id, OWNER, now=NOW)
    job = bot.job_queue.get_jobs_by_name("followups")[0]
    await job.run(bot)
    assert await bot.storage.outbox_counts() == {}  # nothing due yet

    bot.clock = lambda: NOW + 31 * DAY
    await job.run(bot)
    await job.run(bot)  # a rerun asks nobody twice
    # Two follow-ups at once: two messages, or one bundle if the chat was busy a moment ago.
    chairs = await asker.wait_for_bot_message(containing("Chairs"), timeout=10)
    benches = chairs
    if "Benches" not in chairs.text:
        benches = await asker.wait_for_bot_message(containing("Benches"), timeout=10)
    await owner.wait_for_bot_message(containing("Chairs"), timeout=10)
    chairs_buttons = followup_buttons(chairs, contacts["Chairs"].id)
    assert [label for label, _data in chairs_buttons] == [
        bg("✅ Yes, it happened"),
        bg("⏳ Still in progress"),
        bg("✖️ No"),
    ]
    yes = chairs_buttons[0][1]
    await stranger.press_data(stranger.messages[-1].id, yes)
    assert (await stranger.wait_for_callback_answer()).text == en("This is not your contact.")
    await asker.press_data(chairs.id, yes)
    # In its own message, edited; in a bundle, a new one (the other item stays).
    whom = await asker.wait_for_bot_message(
        containing(bg("Wonderful! With whom did it happen?")), include_edits=True
    )
    assert whom.button_labels == ["👤 Amélie", bg("👥 Someone else")]
    await asker.press("👤 Amélie")
    await asker.wait_for_bot_message(include_edits=True)
    await asker.press(bg("✅ All that was needed"))
    thanks = await asker.wait_for_bot_message(include_edits=True)
    assert thanks.text == bg("Wonderful! Thank you for telling us: it is marked as done.")
    listing = await bot.storage.get_listing(contacts["Chairs"].listing_id)
    assert (listing.status, listing.outcome) == ("fulfilled", "platform")
    await asker.press_data(chairs.id, chairs_buttons[1][1])
    answer = await asker.wait_for_callback_answer()
    assert answer.text == bg("You have already answered. Thank you!")
    await asker.press_data(benches.id, f"fu:{contacts['Benches'].id}:30:p")
    await asker.wait_for_bot_message(include_edits=True)

    bot.clock = lambda: NOW + 91 * DAY
    await job.run(bot)
    late = await asker.wait_for_bot_message(containing("Benches"), timeout=10)
    assert late.text == plain(
        bg("🕊 Three months ago you were put in touch about {title}. Did it lead somewhere?")
    ).format(title=translator("bg").quote("Benches"))
    rows = await bot.storage._fetchall("SELECT dedup_key FROM outbox WHERE kind = 'followup'")
    # Both people at 30 days for both contacts; at 90 only for the one still in progress.
    assert sorted(row[0] for row in rows) == sorted(
        f"followup:{contacts[title].id}:{days}:{person}"
        for title, days in (("Chairs", 30), ("Benches", 30), ("Benches", 90))
        for person in (ASKER, OWNER)
    )
    assert server.errors() == []


async def test_writing_and_posting_do_not_mix(server, bot):
    _owner, _colleague, asker, _stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW, kind="request")

    # Asked for a message, the person starts posting instead: the next text is posting's.
    card = await says(asker, f"/start l{listing.id}")
    await taps(asker, card.button_labels[0])
    kinds = await says(asker, "/post")
    assert any(data.startswith("po:kind:") for data in callback_data(kinds))
    await says(asker, "This is not a message for the author.")
    assert await bot.storage.contacts_of(ASKER) == []

    # In the middle of posting, the person writes to an author (a match card's button):
    # the message goes to the author, then the posting question is asked again.
    await asker.press_data(kinds.id, f"ct:ask:{listing.id}")
    await asker.wait_for_bot_message()
    await asker.send_text("We can lend you ours.")
    await asker.wait_for_bot_message(containing("✉️"))
    again = await asker.wait_for_bot_message()
    assert any(data.startswith("po:kind:") for data in callback_data(again))
    [(contact, side)] = await bot.storage.contacts_of(ASKER)
    assert side == "asker" and contact.listing_id == listing.id
    assert server.errors() == []


def callback_data(message) -> list[str]:
    return [button.get("callback_data", "") for row in message.inline_keyboard for button in row]


async def _outbox_kinds(storage, contact_id: int) -> list[tuple[int, str]]:
    rows = await storage._fetchall(
        "SELECT user_id, kind FROM outbox WHERE dedup_key LIKE ? ORDER BY id",
        (f"ct:%:{contact_id}:%",),
    )
    return [(row[0], row[1]) for row in rows]


async def test_a_request_and_its_notice_are_written_together_or_not_at_all(server, bot):
    """A kill between writing a contact request and queueing its notice would leave a request
    its owner is never told about: both are one transaction. Shown both ways: the notice is
    queued by the write itself, and when queueing it fails, no request is left behind."""
    storage, asker, owner = bot.storage, 901, 902
    await seed.member(storage, asker, role="volunteer")
    await seed.member(storage, owner)
    listing = await seed.listing(storage, owner, NOW)
    contact, told = await storage.open_contact(asker, listing.id, "I can help on Saturday.", NOW)
    assert told == [owner]
    assert await _outbox_kinds(storage, contact.id) == [(owner, "contact_request")]
    await storage.accept_contact(contact.id, owner, now=NOW)
    assert (asker, "contact_accepted") in await _outbox_kinds(storage, contact.id)

    other = await seed.listing(storage, owner, NOW, title="Second fire pump")
    async with seed.refused_notices(storage):
        with pytest.raises(Exception, match=seed.REFUSED):
            await storage.open_contact(asker, other.id, "And this one too, please.", NOW)
    left = await storage._fetchall("SELECT id FROM contacts WHERE listing_id = ?", (other.id,))
    assert left == []
