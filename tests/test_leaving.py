"""An official's listings after they leave the municipality, move or are revoked: the leave
confirmation promises "the listings you posted stay with the municipality", so the listing is
the municipality's (its verified officials act on it, get its new contacts and follow-ups)
and its author no longer acts on it, reads or answers its contacts, nor writes through the
bot about it, whatever button they press."""

from __future__ import annotations

import time

import pytest

from bot.i18n import translator
from bot.storage.contacts import ContactRefused
from bot.storage.listings import DAY
from bot.storage.members import Profile
from bot.views import cards
from tests import seed
from tests.talk import containing, data_of, says, started, taps
from tests.test_matching_flow import NOON
from tests.test_matching_flow import started as flow_started
from tests.waiting import settled, wait_until

NOW = int(time.time())
AUTHOR, DEPUTY, ASKER, LATER = 801, 802, 803, 804
fr = translator("fr").gettext
en = translator("en").gettext


async def municipality(server, bot):
    """Amélie (fr) and Denis (fr), verified officials of Saint-Dié; Amélie posted a request;
    Zornitsa (en) in Graz may offer help."""
    bot.clock = lambda: NOW
    for person in (AUTHOR, DEPUTY):
        await seed.member(bot.storage, person, language="fr")
        await seed.verified(bot.storage, person, NOW - 100)
    await seed.member(bot.storage, ASKER, country="AT", place="Graz")
    people = await started(
        server, ("Amélie", "fr", AUTHOR), ("Denis", "fr", DEPUTY), ("Zornitsa", "en", ASKER)
    )
    listing = await seed.listing(bot.storage, AUTHOR, NOW - 50, kind="request", title="Pompe")
    return (*people, listing)


async def leave(user) -> None:
    status = await says(user, "/verify")
    await user.press_data(status.id, "vf:leave")
    await user.wait_for_bot_message()
    await taps(user, fr("🚪 Yes, leave"))


async def accept_refused(bot, author, request, contact, *, author_id: int, now: int) -> None:
    """The former author's Accept on the request they were sent, pressed and called straight
    in storage: refused both ways, and the contact stays pending."""
    await author.press_data(request.id, data_of(request, fr("✅ Accept")))
    await author.wait_for_callback_answer()
    assert (await bot.storage.get_contact(contact.id)).status == "pending"
    with pytest.raises(ContactRefused, match="not_party"):
        await bot.storage.accept_contact(contact.id, author_id, now=now)


async def every_owner_press_refused(bot, author, card_id: int, listing) -> None:
    """Every owner button of the listing, pressed or forged on its old card by its author who
    no longer represents its municipality (a French reader), is refused saying why, and
    changes nothing."""
    left = cards.left_notice(translator("fr"))
    for data in (
        f"ls:close:{listing.id}",
        f"ls:cls:{listing.id}",
        f"ls:renew:{listing.id}",
        f"ls:rnw:{listing.id}:6m",
        f"ls:done:{listing.id}",
        f"ls:ful:{listing.id}:platform",
        f"ls:edit:{listing.id}",
    ):
        await author.press_data(card_id, data)
        answer = await author.wait_for_callback_answer()
        assert answer.text == left, data
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.status, stored.expires_at, stored.title) == (
        "open", listing.expires_at, listing.title,
    )  # fmt: skip
    assert await bot.storage.manageable_listing(listing.id, author.id) is None


async def offer_help(asker, listing_id: int, text: str) -> None:
    await says(asker, f"/start l{listing_id}")
    await taps(asker, en("🙋 I can help"))
    await says(asker, text)


async def test_the_listing_stays_with_the_municipality_when_its_author_leaves(server, bot):
    """Amélie's card from before she left: every owner button, pressed or forged, is refused
    with the reason and changes nothing; /mylistings opens it without them, saying why; Denis
    closes it."""
    author, deputy, _asker, listing = await municipality(server, bot)
    card = await says(author, f"/start l{listing.id}")
    assert fr("✖️ Close") in card.button_labels
    await leave(author)

    await every_owner_press_refused(bot, author, card.id, listing)

    listed = await says(author, "/mylistings")
    assert "Pompe" in listed.text
    await author.press("1")
    reopened = await author.wait_for_bot_message(containing("Pompe"))
    assert fr("✖️ Close") not in reopened.button_labels
    assert fr("✏️ Edit") not in reopened.button_labels
    await author.wait_for_bot_message(lambda m: m.text == cards.left_notice(translator("fr")))

    # Denis, a verified official of Saint-Dié, acts on it.
    await says(deputy, f"/start l{listing.id}")
    await taps(deputy, fr("✖️ Close"))
    await taps(deputy, fr("✖️ Yes, close it"), containing("Pompe"))
    assert (await bot.storage.get_listing(listing.id)).status == "closed"
    assert server.errors() == []


async def test_contacts_go_to_the_municipality_not_to_who_left(server, bot):
    """A request that came before Amélie left: she can no longer answer it, even with its
    own Accept button; one after goes to Denis alone, with its message and the asker's name;
    /contacts shows her neither."""
    author, deputy, asker, listing = await municipality(server, bot)
    await offer_help(asker, listing.id, "A pump «before».")
    before = await author.wait_for_bot_message(containing("«before»"), timeout=10)
    await deputy.wait_for_bot_message(containing("«before»"), timeout=10)
    await leave(author)
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)

    await accept_refused(bot, author, before, contact, author_id=AUTHOR, now=NOW)
    assert await bot.storage.contact_side(contact, AUTHOR) is None
    assert await bot.storage.owner_side(contact) == [DEPUTY]

    await seed.member(bot.storage, LATER, country="AT", place="Graz")
    [later] = await started(server, ("Later", "en", LATER))
    await offer_help(later, listing.id, "Another pump «after».")
    await deputy.wait_for_bot_message(containing("«after»"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert not [m for m in author.messages if "«after»" in (m.text or "")]
    assert not [m for m in author.messages if "Later" in (m.text or "") and m.id > before.id]
    assert await bot.storage.contacts_of(AUTHOR) == []
    assert {c.asker_id for c, _side in await bot.storage.contacts_of(DEPUTY)} == {ASKER, LATER}

    # Denis answers the request Amélie can no longer answer.
    accepted = await bot.storage.accept_contact(contact.id, DEPUTY, now=NOW)
    assert (accepted.status, accepted.decided_by) == ("accepted", DEPUTY)
    assert server.errors() == []


async def test_a_relay_the_author_accepted_ends_when_they_leave(server, bot):
    """Amélie accepted Zornitsa on her own listing: once she leaves, neither writes through the
    bot any more, and Zornitsa may write to the municipality again (Denis gets it)."""
    author, deputy, asker, listing = await municipality(server, bot)
    await offer_help(asker, listing.id, "A pump.")
    await author.wait_for_bot_message(containing("A pump."), timeout=10)
    await taps(author, fr("✅ Accept"))
    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    await bot.storage.relay_contact(contact.id, AUTHOR, now=NOW)  # open while she speaks for it
    await leave(author)

    ended = await bot.storage.get_contact(contact.id)
    assert ended.relay_ended_at is not None
    for person in (AUTHOR, ASKER):
        with pytest.raises(ContactRefused, match="relay_ended"):
            await bot.storage.relay_message(
                contact.id, person, "still there?", telegram_message_id=70_000 + person, now=NOW
            )
    await bot.storage.check_contact(ASKER, listing.id, NOW)  # may write again
    await offer_help(asker, listing.id, "Who has the pump now «again»?")
    await deputy.wait_for_bot_message(containing("«again»"), timeout=10)
    # Follow-ups of what she accepted go to the municipality's official, not to her.
    assert await bot.storage.followup_people(ended) == [ASKER, DEPUTY]
    assert server.errors() == []


async def test_a_revoked_or_moved_author_no_longer_acts_on_the_listing(server, bot):
    """Revoked: the listing is the municipality's, and a listing posted after the revocation
    (as a member, unverified) stays the author's own. Moved to another municipality: the
    same as leaving. A colleague's listings stay theirs throughout."""
    _author, _deputy, _asker, listing = await municipality(server, bot)
    officials = await bot.storage.verified_officials(listing.municipality_id)
    [request_id] = [official.request_id for official in officials if official.user_id == AUTHOR]
    await bot.storage.revoke_verification(request_id, 0, reason=None, now=NOW)
    assert await bot.storage.manageable_listing(listing.id, AUTHOR) is None
    assert await bot.storage.manageable_listing(listing.id, DEPUTY) is not None
    assert await bot.storage.renew_listing(listing.id, AUTHOR, days=30, now=NOW) is None
    assert (
        await bot.storage.close_listing(listing.id, AUTHOR, fulfilled=False, outcome=None, now=NOW)
        is None
    )
    later = await seed.listing(bot.storage, AUTHOR, NOW + 10, title="Posted afterwards")
    assert await bot.storage.manageable_listing(later.id, AUTHOR) is not None

    deputys = await seed.listing(bot.storage, DEPUTY, NOW, title="Denis's")
    await bot.storage.save_profile(
        DEPUTY, Profile(role="municipality", country="FR", place="Épinal")
    )
    assert await bot.storage.manageable_listing(deputys.id, DEPUTY) is None
    assert await bot.storage.edit_listing(deputys.id, DEPUTY, {"title": "x"}, now=NOW) is None


async def test_nobody_left_to_answer_refuses_new_contacts(server, bot):
    """The only official leaves: the listing asks nobody's answer, so a contact request is
    refused rather than sent to no one, and no expiry reminder goes to who left."""
    bot.clock = lambda: NOW
    await seed.member(bot.storage, AUTHOR, language="fr")
    await seed.verified(bot.storage, AUTHOR, NOW - 100)
    await seed.member(bot.storage, ASKER, country="AT", place="Graz")
    listing = await seed.listing(bot.storage, AUTHOR, NOW - 50, duration_days=7)
    assert [row[0] for row in await bot.storage.expiring_soon(NOW, 8 * 86_400)] == [listing.id]
    assert await bot.storage.leave_municipality(AUTHOR, NOW) is not None
    with pytest.raises(ContactRefused, match="gone"):
        await bot.storage.check_contact(ASKER, listing.id, NOW)
    assert await bot.storage.expiring_soon(NOW, 8 * 86_400) == []


async def test_no_match_cards_for_a_listing_its_author_no_longer_represents(server, bot):
    """Léa's offer was posted for Saint-Dié, which she left, and Denis speaks for it: a
    request that matches it tells its own author and Denis, not Léa (with nobody left to
    speak for it, it meets nothing: tests/test_municipality_listings.py)."""
    bot.clock = lambda: NOON
    maria = await flow_started(server, bot, "Мария", "bg", country="BG", place="Sofia")
    lea = await flow_started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié")
    denis = await flow_started(server, bot, "Denis", "fr", country="FR", place="Saint-Dié")
    await seed.verified(bot.storage, lea.id, NOON - 2 * DAY)
    await seed.verified(bot.storage, denis.id, NOON - 2 * DAY)
    await seed.listing(bot.storage, lea.id, NOON - DAY, title="Motopompe", reach="europe")
    assert await bot.storage.leave_municipality(lea.id, NOON) is not None
    await seed.listing(
        bot.storage, maria.id, NOON, kind="request", title="Търсим помпа", country="BG",
        region="Sofia", place="Sofia", reach="europe",
    )  # fmt: skip
    await bot.scheduler.match_new_listings()
    await maria.wait_for_bot_message(containing("Motopompe"), timeout=10)
    await denis.wait_for_bot_message(containing("Търсим помпа"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert not [m for m in lea.messages if "Търсим помпа" in (m.text or "")]
    assert server.errors() == []


async def test_a_banned_official_no_longer_answers_for_the_municipality(server, bot):
    """Denis posted for Saint-Dié and left; Léa, its only other verified official, spoke for
    his listing. Banned, she speaks for nothing: the listing is unattended (out of sight, a
    contact refused rather than queued to nobody) and her verification ends with the ban."""
    bot.clock = lambda: NOW
    await seed.member(bot.storage, AUTHOR, language="fr")
    await seed.member(bot.storage, DEPUTY, language="fr")
    await seed.member(bot.storage, ASKER, country="AT", place="Graz")
    await seed.verified(bot.storage, AUTHOR, NOW - 100)
    listing = await seed.listing(bot.storage, DEPUTY, NOW - 50, duration_days=7)
    assert await bot.storage.leave_municipality(DEPUTY, NOW - 10) is not None
    assert not await bot.storage.unattended(listing.id)
    await bot.storage.check_contact(ASKER, listing.id, NOW)  # Léa would answer
    assert [row[0] for row in await bot.storage.expiring_soon(NOW, 8 * 86_400)] == [listing.id]

    await bot.storage.ban(AUTHOR, 0, NOW)
    assert await bot.storage.unattended(listing.id)
    with pytest.raises(ContactRefused, match="gone"):
        await bot.storage.check_contact(ASKER, listing.id, NOW)
    assert await bot.storage.expiring_soon(NOW, 8 * 86_400) == []
    (entry,) = await bot.storage._fetchall(
        "SELECT status, revoked_by FROM verification_requests WHERE user_id = ?", (AUTHOR,)
    )
    assert tuple(entry) == ("revoked", 0)
    # Lifting the ban does not make her an official again: an admin approves her anew.
    assert await bot.storage.unban(AUTHOR, 0, NOW + 1)
    assert await bot.storage.unattended(listing.id)


async def test_yes_leave_leaves_only_the_municipality_it_asked_about(server, bot):
    """Amélie asks to stop representing Saint-Dié and does not confirm; she moves to Épinal
    (/profile) and is verified there. The old "Yes, leave" asked about Saint-Dié: pressed now,
    it is a button no longer valid, and she still speaks for Épinal."""
    author, _deputy, _asker, _listing = await municipality(server, bot)
    status = await says(author, "/verify")
    await author.press_data(status.id, "vf:leave")
    asked = await author.wait_for_bot_message()
    assert "Saint-Dié" in asked.text
    await bot.storage.save_profile(
        AUTHOR, Profile(role="municipality", country="FR", place="Épinal")
    )
    await seed.verified(bot.storage, AUTHOR, NOW)
    epinal = (await bot.storage.get_member(AUTHOR)).municipality_id

    await author.press_data(asked.id, data_of(asked, fr("🚪 Yes, leave")))
    assert (await author.wait_for_callback_answer()).text == fr("This button is no longer valid.")
    member = await bot.storage.get_member(AUTHOR)
    assert (member.role, member.municipality_name) == ("municipality", "Épinal")
    assert AUTHOR in [official.user_id for official in await bot.storage.verified_officials(epinal)]
    assert server.errors() == []
