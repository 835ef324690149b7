"""Contact handles that work (issue 17, item 7): once accepted, two people without public
usernames talk through the bot; nothing is relayed before an Accept, to a third person, after
either side stopped it, to someone erased or blocking the bot, or beyond the hourly limit;
each message is relayed once."""

from __future__ import annotations

import time

from telegram import Update

from bot.i18n import translator
from bot.storage.contacts import MESSAGE_MAX
from bot.storage.relay import RELAY_PER_HOUR
from tests import seed
from tests.talk import containing, plain, says, taps
from tests.test_outbox import settled, wait_until

OWNER, ASKER, STRANGER = 621, 622, 623
fr = translator("fr").gettext
bg = translator("bg").gettext
en = translator("en").gettext


async def accepted(server, bot, now: int):
    """Amélie (fr, Saint-Dié) accepted Zornitsa's offer of help (bg); neither has a username."""
    bot.clock = lambda: now
    await seed.member(bot.storage, OWNER, language="fr")
    await seed.member(bot.storage, ASKER, language="bg", country="BG", place="Sveti Vlas")
    await seed.member(bot.storage, STRANGER, country="AT", place="Graz")
    owner = server.create_user("Amélie", "fr", user_id=OWNER)
    asker = server.create_user("Zornitsa", "bg", user_id=ASKER)
    stranger = server.create_user("Stranger", "en", user_id=STRANGER)
    for user in (owner, asker, stranger):
        await says(user, "/start")
    listing = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe à eau")
    card = await says(asker, f"/start l{listing.id}")
    await taps(asker, card.button_labels[0])
    await says(asker, "We have a spare pump.")
    request = await owner.wait_for_bot_message(containing("spare pump"), timeout=10)
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    return owner, asker, stranger, request, contact


async def write(user, button_message, label: str, texts: list[str]) -> list[str]:
    """Open writing through the bot with ``label`` and send ``texts``; the bot's answers."""
    await user.press_data(
        button_message.id,
        next(b["callback_data"] for row in button_message.inline_keyboard for b in row
             if b["text"] == label),
    )  # fmt: skip
    await user.wait_for_bot_message()
    return [(await says(user, text)).text for text in texts]


def relayed_to(user) -> list[str]:
    """The relayed messages the user received, in order."""
    return [m.text for m in user.messages if m.from_bot and m.html.startswith("✉️ <b>")]


async def test_a_relay_conversation_between_two_people_without_usernames(server, bot):
    now = int(time.time())
    owner, asker, _stranger, _request, contact = await accepted(server, bot, now)
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    no_username = fr("✉️ No public username: write to them through the bot, with the button below.")
    assert "Zornitsa" in accepted_here.text and plain(no_username) in accepted_here.text
    assert accepted_here.button_labels == [fr("✉️ Write through the bot")]
    assert "t.me/" not in accepted_here.html and "tg://" not in accepted_here.html
    told = await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    assert told.button_labels == [bg("✉️ Write through the bot")]

    # Amélie writes twice; each message reaches Zornitsa once, in order, with Reply and Stop.
    answers = await write(
        owner, accepted_here, fr("✉️ Write through the bot"), ["Bonjour !", "Jeudi à 10 h ?"]
    )
    assert answers == [fr("✓ Forwarded to {name}.").format(name="Zornitsa")] * 2
    first = await asker.wait_for_bot_message(containing("Bonjour !"), timeout=10)
    second = await asker.wait_for_bot_message(containing("Jeudi à 10 h ?"), timeout=10)
    assert first.text.startswith(
        plain(bg("✉️ <b>{name}</b> writes about {title}:")).format(
            name="Amélie", title=translator("bg").quote("Pompe à eau")
        )
    )
    assert second.button_labels == [bg("✉️ Reply"), bg("🔕 Stop messages through the bot")]

    # Zornitsa replies from the message; Amélie taps Done.
    assert await write(asker, second, bg("✉️ Reply"), ["Да, в четвъртък."]) == [
        bg("✓ Forwarded to {name}.").format(name="Amélie")
    ]
    back = await owner.wait_for_bot_message(containing("в четвъртък"), timeout=10)
    assert back.button_labels == [fr("✉️ Reply"), fr("🔕 Stop messages through the bot")]
    await owner.press(fr("✅ Done"))
    assert (await owner.wait_for_bot_message()).text == fr(
        "Done. To write to them again: /contacts"
    )
    # After Done, a text is no message to anyone.
    await says(owner, "Ceci n'est pas pour Zornitsa.")
    await says(asker, "/contacts")
    card = await taps(asker, "1")
    assert "Jeudi à 10 h ?" in card.text and "в четвъртък" in card.text
    assert card.button_labels == [
        bg("✉️ Write through the bot"),
        bg("🔕 Stop messages through the bot"),
    ]

    # The same Telegram update again (as after a crash) relays nothing twice.
    update = next(
        u
        for call in server.calls
        if call.method == "getUpdates" and call.ok
        for u in call.result or []
        if u.get("message", {}).get("text") == "Jeudi à 10 h ?"
    )
    await bot.update_queue.put(Update.de_json(update, bot.bot))
    await write(owner, back, fr("✉️ Reply"), ["À jeudi."])
    await asker.wait_for_bot_message(containing("À jeudi."), timeout=10)
    assert [text.rsplit("\n", 1)[-1] for text in relayed_to(asker)] == [
        "Bonjour !",
        "Jeudi à 10 h ?",
        "À jeudi.",
    ]
    assert "Ceci n'est pas" not in "\n".join(relayed_to(asker))
    await wait_until(lambda: settled(bot.storage))
    rows = await bot.storage._fetchall(
        "SELECT state, count(*) FROM outbox WHERE kind = 'contact_relay' GROUP BY state"
    )
    assert [tuple(row) for row in rows] == [("sent", 4)]
    again = await bot.storage.relay_message(
        contact.id, OWNER, "Jeudi à 10 h ?", telegram_message_id=update["message"]["message_id"],
        now=now,
    )  # fmt: skip
    assert again.text == "Jeudi à 10 h ?"  # what was stored for that message, not a new one
    assert len(await bot.storage.contact_messages(contact.id)) == 5  # the request and 4
    assert server.errors() == []


async def test_forged_and_stopped_relays_change_nothing(server, bot):
    now = int(time.time())
    owner, asker, stranger, _request, contact = await accepted(server, bot, now)
    relay = f"ct:rl:{contact.id}"

    # Not accepted yet: no relay, for either of them.
    for user, language in ((owner, "fr"), (asker, "bg")):
        await user.press_data(user.messages[-1].id, relay)
        answer = await user.wait_for_callback_answer()
        assert answer.text == translator(language).gettext(
            "Messages through the bot are possible once the contact is accepted."
        )
    await taps(owner, fr("✅ Accept"))
    await asker.wait_for_bot_message(containing("Amélie"), timeout=10)

    # A third person: not their contact, whatever they press.
    for data in (relay, f"ct:end:{contact.id}", "ct:rl:99999", "ct:rl:x"):
        await stranger.press_data(stranger.messages[-1].id, data)
        answer = await stranger.wait_for_callback_answer()
        assert answer.text in (
            en("This is not your contact."),
            en("This button is no longer valid."),
        )

    # Zornitsa starts writing; meanwhile Amélie stops the relay: her text goes nowhere.
    await asker.press_data(asker.messages[-1].id, relay)
    await asker.wait_for_bot_message()
    await write(owner, owner.last_bot_message, fr("✉️ Write through the bot"), ["Bonjour !"])
    relayed = await asker.wait_for_bot_message(containing("Bonjour !"), timeout=10)
    await owner.press(fr("✅ Done"))
    await owner.wait_for_bot_message()
    await owner.press_data(owner.messages[-1].id, f"ct:end:{contact.id}")
    stopped = await owner.wait_for_bot_message()
    assert stopped.text == fr(
        "Stopped: no more messages through the bot about {title}, either way."
    ).format(title=translator("fr").quote("Pompe à eau"))
    told = await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    assert told.text == bg("🔕 {name} stopped the messages through the bot about {title}.").format(
        name="Amélie", title=translator("bg").quote("Pompe à eau")
    )
    refused = await says(asker, "Still there?")
    assert refused.text == bg("Messages through the bot about this contact have been stopped.")
    for data, user, language in ((relay, asker, "bg"), (relay, owner, "fr"),
                                 (f"ct:end:{contact.id}", asker, "bg")):  # fmt: skip
        await user.press_data(relayed.id if user is asker else stopped.id, data)
        answer = await user.wait_for_callback_answer()
        assert answer.text == translator(language).gettext(
            "Messages through the bot about this contact have been stopped."
        )
    assert [text.rsplit("\n", 1)[-1] for text in relayed_to(owner)] == []
    assert [m.text for m in await bot.storage.contact_messages(contact.id)] == [
        "We have a spare pump.",
        "Bonjour !",
    ]
    assert server.errors() == []


async def test_a_declined_contact_has_no_relay(server, bot):
    now = int(time.time())
    owner, asker, _stranger, _request, contact = await accepted(server, bot, now)
    await owner.press(fr("✖️ Decline"))
    await owner.wait_for_bot_message()
    await owner.press(fr("✖️ Yes, decline"))
    await owner.wait_for_bot_message(include_edits=True)
    for user, language in ((owner, "fr"), (asker, "bg")):
        await user.press_data(user.messages[-1].id, f"ct:rl:{contact.id}")
        answer = await user.wait_for_callback_answer()
        assert answer.text == translator(language).gettext(
            "Messages through the bot are possible once the contact is accepted."
        )
    assert server.errors() == []


async def test_the_relay_ends_with_a_blocked_or_erased_person_and_has_a_limit(server, bot):
    now = int(time.time())
    owner, asker, _stranger, request, contact = await accepted(server, bot, now)
    await taps(owner, fr("✅ Accept"))
    told = await asker.wait_for_bot_message(containing("Amélie"), timeout=10)

    # The hourly limit: what was sent in the last hour, then the next one's time.
    for n in range(RELAY_PER_HOUR):
        await bot.storage.relay_message(
            contact.id, ASKER, f"Message {n}", telegram_message_id=10_000 + n, now=now - 60 + n
        )
    answers = await write(asker, told, bg("✉️ Write through the bot"), ["One more."])
    limit = translator("bg").ngettext(
        "You have sent {count} message through the bot in the last hour. You can write again "
        "{when}.",
        "You have sent {count} messages through the bot in the last hour. You can write again "
        "{when}.",
        RELAY_PER_HOUR,
    )
    assert answers[0].startswith(limit.split("{when}")[0].format(count=RELAY_PER_HOUR))
    bot.clock = lambda: now + 3600
    assert (await says(asker, "One more.")).text == bg("✓ Forwarded to {name}.").format(
        name="Amélie"
    )

    # Amélie blocks the bot: the next message ends the relay, for good.
    owner.block_bot()

    async def blocked() -> bool:
        member = await bot.storage.get_member(OWNER)
        return member is not None and member.blocked

    await wait_until(blocked)
    ended = await says(asker, "Are you there?")
    assert ended.text == bg("They can no longer be reached through the bot.")
    owner.unblock_bot()
    await says(owner, "/start")
    await owner.press_data(request.id, f"ct:rl:{contact.id}")
    answer = await owner.wait_for_callback_answer()
    assert answer.text == fr("Messages through the bot about this contact have been stopped.")
    assert "Are you there?" not in [m.text for m in await bot.storage.contact_messages(contact.id)]
    assert server.errors() == []


async def test_an_erased_person_cannot_be_written_to(server, bot):
    now = int(time.time())
    owner, asker, _stranger, _request, contact = await accepted(server, bot, now)
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    await bot.storage.erase_member(ASKER, now)
    await owner.press_data(accepted_here.id, f"ct:rl:{contact.id}")
    answer = await owner.wait_for_callback_answer()
    assert answer.text == fr("They can no longer be reached through the bot.")
    assert (await bot.storage.get_contact(contact.id)).relay_ended_at == now
    assert server.errors() == []


async def test_a_longest_message_full_of_html_arrives_as_typed(server, bot):
    """A message at the length limit, made of characters HTML escapes into five or six, is
    relayed as typed (escaped, within Telegram's 4096 after the bot's own head, whatever the
    sender's name and the listing's title); one character more is refused, nothing sent."""
    now = int(time.time())
    owner, asker, _stranger, _request, _contact = await accepted(server, bot, now)
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    typed = ("<b>&amp;</b> " * 100)[:MESSAGE_MAX]
    answers = await write(owner, accepted_here, fr("✉️ Write through the bot"), [typed])
    assert answers == [fr("✓ Forwarded to {name}.").format(name="Zornitsa")]
    got = await asker.wait_for_bot_message(containing("<b>&amp;</b>"), timeout=10)
    assert got.text.endswith(typed.strip())
    too_long = await says(owner, typed + "x")
    assert too_long.text != fr("✓ Forwarded to {name}.").format(name="Zornitsa")
    assert relayed_to(asker) == [got.text]
    assert server.errors() == []
