"""Contact handles that work (issue 17, item 7): once accepted, two people without public
usernames talk through the bot; nothing is relayed before an Accept, to a third person, after
either side stopped it, to someone erased or blocking the bot, or beyond the hourly limit;
each message is relayed once."""

from __future__ import annotations

import time

import pytest
from telegram import Update

from bot.handlers.contacts import SHOW_CONTACT
from bot.i18n import translator
from bot.storage.contacts import MESSAGE_MAX, ContactRefused
from bot.storage.relay import RELAY_PER_HOUR
from tests import seed
from tests.talk import containing, joined, plain, says, seeded, started, taps
from tests.waiting import settled, wait_until

OWNER, ASKER, STRANGER = 621, 622, 623
fr = translator("fr").gettext
bg = translator("bg").gettext
en = translator("en").gettext


async def accepted(server, bot, now: int):
    """Amélie (fr, Saint-Dié) accepted Zornitsa's offer of help (bg); neither has a username."""
    bot.clock = lambda: now
    owner, asker, stranger = await joined(
        server,
        bot.storage,
        seeded("Amélie", "fr", OWNER),
        seeded("Zornitsa", "bg", ASKER, country="BG", place="Sveti Vlas"),
        seeded("Stranger", "en", STRANGER, country="AT", place="Graz"),
    )
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


# --- an official who no longer speaks for the municipality -------------------------------------

DEPUTY = 624
NIGHT = 1_894_682_580  # Tuesday 15 January 2030, 05:43 in Paris, 06:43 in Sofia
MORNING = 1_894_690_800  # 08:00 in Paris, 09:00 in Sofia


async def municipality(server, bot, deputy_quiet_hours: tuple[int, int] | None = None):
    """At night: Amélie (fr), mayor of Saint-Dié, has a request; Denis (fr) is a verified
    official of it; Zornitsa (bg) and a stranger (en) may offer help."""
    bot.clock = lambda: NIGHT
    people = await joined(
        server,
        bot.storage,
        seeded("Amélie", "fr", OWNER),
        seeded("Denis", "fr", DEPUTY, quiet_hours=deputy_quiet_hours, verified_at=NIGHT),
        seeded("Zornitsa", "bg", ASKER, country="BG", place="Sveti Vlas"),
        seeded("Stranger", "en", STRANGER, country="AT", place="Graz"),
    )
    listing = await seed.listing(bot.storage, OWNER, NIGHT, kind="request", title="Pompe à eau")
    return (*people, listing)


async def accepted_by_deputy(server, bot):
    """Zornitsa offers help with the mayor's request; Denis accepts it and writes once
    through the bot."""
    mayor, deputy, asker, _stranger, listing = await municipality(server, bot)
    await says(asker, f"/start l{listing.id}")
    await taps(asker, bg("🙋 I can help"))
    await says(asker, "We have a spare pump.")
    await mayor.wait_for_bot_message(containing("spare pump"), timeout=10)
    await deputy.wait_for_bot_message(containing("spare pump"), timeout=10)
    await taps(deputy, fr("✅ Accept"))
    accepted_here = deputy.last_bot_message
    told = await asker.wait_for_bot_message(containing("Denis"), timeout=10)
    await write(deputy, accepted_here, fr("✉️ Write through the bot"), ["Bonjour !"])
    await deputy.press(fr("✅ Done"))
    await deputy.wait_for_bot_message()
    await asker.wait_for_bot_message(containing("Bonjour !"), timeout=10)
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    return mayor, deputy, asker, listing, accepted_here, told, contact


def held_count(bot, people: tuple[int, ...], count: int):
    """A predicate: ``count`` outbox rows held for ``people`` (for their quiet hours)."""

    async def check() -> bool:
        return sum([len(await bot.storage.held_until(p)) for p in people]) == count

    return check


async def test_an_official_who_leaves_no_longer_speaks_through_the_relay(server, bot):
    """Denis leaves the municipality while a message each way waits for the morning: neither
    is delivered, both are told in their language, the relay stays closed to both, and
    Zornitsa can write to the municipality again, where the mayor (not Denis) gets it."""
    mayor, deputy, asker, listing, accepted_here, told, contact = await accepted_by_deputy(
        server, bot
    )
    for person in (DEPUTY, ASKER):
        await seed.set_quiet_hours(bot.storage, person, (22, 8))
    await write(asker, told, bg("✉️ Write through the bot"), ["Чакащо съобщение"])
    await asker.press(bg("✅ Done"))
    await asker.wait_for_bot_message()
    await write(deputy, accepted_here, fr("✉️ Write through the bot"), ["Message en attente"])
    await deputy.press(fr("✅ Done"))
    await deputy.wait_for_bot_message()
    await wait_until(held_count(bot, (ASKER, DEPUTY), 2))

    status = await says(deputy, "/verify")
    await deputy.press_data(status.id, "vf:leave")
    await deputy.wait_for_bot_message()
    await taps(deputy, fr("🚪 Yes, leave"))
    assert (await bot.storage.get_contact(contact.id)).relay_ended_at == NIGHT

    bot.clock = lambda: MORNING
    bot.outbox.wake()
    t_bg, t_fr = translator("bg"), translator("fr")
    to_asker = await asker.wait_for_bot_message(containing("🔕"), timeout=10)
    assert to_asker.text == plain(
        bg(
            "🔕 Messages through the bot about {title} have ended: the person who accepted your "
            "contact no longer represents {municipality}. To write to the municipality again, "
            "open the listing."
        )
    ).format(title=t_bg.quote("Pompe à eau"), municipality="Saint-Dié")
    assert to_asker.button_labels == [bg("📄 Open")]
    to_deputy = await deputy.wait_for_bot_message(containing("🔕"), timeout=10)
    assert to_deputy.text == plain(
        fr(
            "🔕 Messages through the bot about {title} have ended: you no longer represent "
            "{municipality}."
        )
    ).format(title=t_fr.quote("Pompe à eau"), municipality="Saint-Dié")
    await wait_until(lambda: settled(bot.storage))
    assert "Чакащо" not in "\n".join(relayed_to(deputy))
    assert "Message en attente" not in "\n".join(relayed_to(asker))

    # Neither may write through the bot any more, from any old button.
    for user, message, language in ((deputy, accepted_here, "fr"), (asker, told, "bg")):
        await user.press_data(message.id, f"ct:rl:{contact.id}")
        answer = await user.wait_for_callback_answer()
        assert answer.text == translator(language).gettext(
            "Messages through the bot about this contact have been stopped."
        )

    # Zornitsa writes to the municipality again: the mayor is asked, Denis is not.
    await asker.press(bg("📄 Open"))
    card = await asker.wait_for_bot_message(containing("Pompe à eau"))
    assert bg("🙋 I can help") in card.button_labels
    await taps(asker, bg("🙋 I can help"))
    sent = await says(asker, "Still have the pump, who do I talk to now?")
    assert "✉️" in sent.text
    await mayor.wait_for_bot_message(containing("who do I talk to now"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert not [m for m in deputy.messages if "who do I talk to now" in (m.text or "")]
    assert len(await bot.storage.contacts_of(ASKER)) == 2
    # One new request, not more: the rule against asking twice holds for the new one.
    with pytest.raises(ContactRefused, match="already"):
        await bot.storage.check_contact(ASKER, listing.id, MORNING)
    assert server.errors() == []


async def test_a_revoked_official_no_longer_speaks_through_the_relay(server, bot):
    """An admin revokes Denis: the relay he accepted ends, and a message he queued is not
    sent."""
    _mayor, deputy, asker, _listing, _here, _told, contact = await accepted_by_deputy(server, bot)
    await seed.set_quiet_hours(bot.storage, ASKER, (22, 8))
    await bot.storage.relay_message(
        contact.id, DEPUTY, "Message en attente", telegram_message_id=99_002, now=NIGHT
    )
    await wait_until(held_count(bot, (ASKER,), 1))
    (official,) = await bot.storage.verified_officials(contact.municipality_id)
    await bot.storage.revoke_verification(official.request_id, 0, reason=None, now=NIGHT)
    bot.clock = lambda: MORNING
    bot.outbox.wake()
    await asker.wait_for_bot_message(containing("🔕"), timeout=10)
    await deputy.wait_for_bot_message(containing("🔕"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert "Message en attente" not in "\n".join(relayed_to(asker))
    with pytest.raises(ContactRefused, match="relay_ended"):
        await bot.storage.relay_contact(contact.id, DEPUTY, now=MORNING)
    assert server.errors() == []


async def test_a_banned_or_erased_side_ends_the_relay_and_the_other_is_told(server, bot):
    """Amélie's message waits for Zornitsa's morning when Zornitsa is banned: it is never
    delivered to her, and Amélie is told the relay ended; the same when a person erases
    their data (here Amélie, for a second asker)."""
    bot.clock = lambda: NIGHT
    owner, asker, stranger, _request, contact = await accepted(server, bot, NIGHT)
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    await seed.set_quiet_hours(bot.storage, ASKER, (22, 8))
    await write(owner, accepted_here, fr("✉️ Write through the bot"), ["Encore là ?"])
    await owner.press(fr("✅ Done"))
    await owner.wait_for_bot_message()
    await wait_until(held_count(bot, (ASKER,), 1))

    assert await bot.storage.ban(ASKER, 0, NIGHT) is not None
    ended = fr(
        "🔕 Messages through the bot about {title} have ended: the other person can no longer "
        "be reached through the bot."
    ).format(title=translator("fr").quote("Pompe à eau"))
    told = await owner.wait_for_bot_message(containing("🔕"), timeout=10)
    assert told.text == plain(ended)
    bot.clock = lambda: MORNING
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage))
    assert relayed_to(asker) == []
    await owner.press_data(accepted_here.id, f"ct:rl:{contact.id}")
    answer = await owner.wait_for_callback_answer()
    assert answer.text == fr("Messages through the bot about this contact have been stopped.")

    # Erasure: the stranger's accepted contact with Amélie ends when she erases her data.
    second = await seed.listing(bot.storage, OWNER, MORNING, title="Tables")
    card = await says(stranger, f"/start l{second.id}")
    await taps(stranger, card.button_labels[0])
    await says(stranger, "I need tables.")
    await owner.wait_for_bot_message(containing("I need tables."), timeout=10)
    await taps(owner, fr("✅ Accept"))
    told_stranger = await stranger.wait_for_bot_message(containing("Amélie"), timeout=10)
    await write(stranger, told_stranger, en("✉️ Write through the bot"), ["Thursday?"])
    await owner.wait_for_bot_message(containing("Thursday?"), timeout=10)
    await bot.storage.erase_member(OWNER, MORNING)
    gone = await stranger.wait_for_bot_message(containing("🔕"), timeout=10)
    assert gone.text == plain(
        en(
            "🔕 Messages through the bot about {title} have ended: the other person can no "
            "longer be reached through the bot."
        )
    ).format(title=translator("en").quote("Tables"))
    assert server.errors() == []


async def test_what_waited_for_an_official_who_left_is_not_sent_to_them(server, bot):
    """Denis is in his quiet hours while a request comes in, the mayor accepts it (his
    colleagues are told who the asker is) and a second request comes in; he leaves the
    municipality before the morning: neither the requests' messages nor the asker's identity
    reach him; the mayor got everything at once."""
    mayor, deputy, asker, stranger, listing = await municipality(server, bot, (22, 8))
    for person, label, text in (
        (asker, bg("🙋 I can help"), "We have a spare pump «first»."),
        (stranger, en("🙋 I can help"), "Another pump «second»."),
    ):
        await says(person, f"/start l{listing.id}")
        await taps(person, label)
        await says(person, text)
        await mayor.wait_for_bot_message(containing(text), timeout=10)
        if person is asker:
            await taps(mayor, fr("✅ Accept"))
            await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    # Held for Denis: the first request, its acceptance by a colleague, the second request.
    await wait_until(held_count(bot, (DEPUTY,), 3))

    status = await says(deputy, "/verify")
    await deputy.press_data(status.id, "vf:leave")
    await deputy.wait_for_bot_message()
    await taps(deputy, fr("🚪 Yes, leave"))
    left = deputy.last_bot_message.id
    bot.clock = lambda: MORNING
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage))
    after = "\n".join(m.text or "" for m in deputy.messages if m.from_bot and m.id > left)
    assert "«first»" not in after and "«second»" not in after
    assert "Zornitsa" not in after
    assert server.errors() == []


async def test_a_colleague_sees_the_request_not_the_relay(server, bot):
    """Messages written through the bot pass between the contact's two people: a verified
    colleague of the official who accepted sees the request in /contacts, not their talk."""
    now = int(time.time())
    colleague_id = 624
    await seed.member(bot.storage, colleague_id, language="fr")
    owner, asker, _stranger, _request, contact = await accepted(server, bot, now)
    await seed.verified(bot.storage, OWNER, now)
    await seed.verified(bot.storage, colleague_id, now)
    (colleague,) = await started(server, ("Denis", "fr", colleague_id))
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    await write(owner, accepted_here, fr("✉️ Write through the bot"), ["Code du portail : 4711"])
    await asker.wait_for_bot_message(containing("4711"), timeout=10)

    await colleague.press_data(colleague.messages[-1].id, SHOW_CONTACT.data(contact.id))
    card = await colleague.wait_for_bot_message(containing("spare pump"))
    assert "4711" not in card.text
    await taps(owner, fr("✅ Done"))  # out of writing, to their contacts
    await owner.press_data(owner.messages[-1].id, SHOW_CONTACT.data(contact.id))
    assert "4711" in (await owner.wait_for_bot_message(containing("spare pump"))).text
