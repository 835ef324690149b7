"""Leaving a municipality and claiming it again (issue 16's rule where verification meets
membership): the listings an official posted stay with the municipality once they leave, and
claiming the municipality again, unverified, gives back no power over them; only being
verified again does."""

from __future__ import annotations

import time

from bot.i18n import translator
from tests import seed
from tests.talk import containing, plain, says, started, taps
from tests.test_leaving import (
    accept_refused,
    every_owner_press_refused,
    leave,
    offer_help,
)

NOW = int(time.time())
AUTHOR, DEPUTY, ASKER = 851, 852, 853
fr = translator("fr").gettext
en = translator("en").gettext


async def saint_die(server, bot, *, deputy: bool = True):
    """Amélie (fr), a verified official of Saint-Dié, posted a request; Denis (fr) is its other
    verified official (unless not ``deputy``); Zornitsa (en) in Graz may offer help."""
    bot.clock = lambda: NOW
    officials = (AUTHOR, DEPUTY) if deputy else (AUTHOR,)
    for person in officials:
        await seed.member(bot.storage, person, language="fr")
        await seed.verified(bot.storage, person, NOW - 100)
    await seed.member(bot.storage, ASKER, country="AT", place="Graz")
    people = [("Amélie", "fr", AUTHOR), ("Zornitsa", "en", ASKER)]
    if deputy:
        people.append(("Denis", "fr", DEPUTY))
    users = await started(server, *people)
    listing = await seed.listing(bot.storage, AUTHOR, NOW - 50, kind="request", title="Pompe")
    return users, listing


async def claim(user, place: str) -> None:
    """/profile, Edit: the person says they represent the municipality ``place`` in France."""
    await says(user, "/profile")
    await taps(user, fr("✏️ Edit profile"))
    await taps(user, fr("🏛 Municipality"))
    await user.tap_reply_button(fr("🌍 Choose the country"))
    await user.wait_for_bot_message()
    await taps(user, "🇫🇷 France")
    await says(user, place)
    await taps(user, fr("Skip"))
    await says(user, "20000")
    await taps(user, fr("✅ Save"))
    await user.wait_for_bot_message(containing(plain(fr("What would you like to do?"))))


async def rejoin(bot, author) -> None:
    """Amélie claims Saint-Dié again through her profile, as anyone may: unverified."""
    await claim(author, "Saint-Dié")
    member = await bot.storage.get_member(AUTHOR)
    assert (member.municipality_name, member.verified) == ("Saint-Dié", False)


async def test_claiming_the_municipality_again_gives_no_power_over_the_old_listing(server, bot):
    """Amélie leaves Saint-Dié, then claims it again without any approval: every owner button
    of her old card, pressed or forged, is still refused and changes nothing; she cannot answer
    the contact that came before she left; Denis still acts on the listing. Verified again,
    she has the listing back."""
    (author, asker, deputy), listing = await saint_die(server, bot)
    card = await says(author, f"/start l{listing.id}")
    await offer_help(asker, listing.id, "A pump «before».")
    request = await author.wait_for_bot_message(containing("«before»"), timeout=10)
    await leave(author)
    await rejoin(bot, author)
    left_at = await bot.storage._fetchone(
        "SELECT municipality_left_at FROM users WHERE id = ?", (AUTHOR,)
    )
    assert left_at == (NOW,)

    await every_owner_press_refused(bot, author, card.id, listing)

    [(contact, _side)] = await bot.storage.contacts_of(ASKER)
    await accept_refused(bot, author, request, contact, author_id=AUTHOR, now=NOW)
    assert await bot.storage.contacts_of(AUTHOR) == []

    # Denis, still a verified official of Saint-Dié, acts on it.
    await says(deputy, f"/start l{listing.id}")
    await taps(deputy, fr("🔁 Renew"))
    assert await bot.storage.manageable_listing(listing.id, DEPUTY) is not None

    # A listing she posts now, as a member again, is her own; verified again, so is the old one.
    later = await seed.listing(bot.storage, AUTHOR, NOW + 10, title="Posted afterwards")
    assert await bot.storage.manageable_listing(later.id, AUTHOR) is not None
    await seed.verified(bot.storage, AUTHOR, NOW + 20)
    assert await bot.storage.manageable_listing(listing.id, AUTHOR) is not None
    assert server.errors() == []


async def test_moving_away_and_back_counts_as_leaving(server, bot):
    """Moving to Épinal and back through onboarding ends her membership of Saint-Dié like
    leaving does; saving the same municipality again ends nothing."""
    (author, _asker, _deputy), listing = await saint_die(server, bot)
    await claim(author, "Saint-Dié")
    assert await bot.storage.manageable_listing(listing.id, AUTHOR) is not None  # the same one
    await claim(author, "Épinal")
    await claim(author, "Saint-Dié")
    assert await bot.storage.manageable_listing(listing.id, AUTHOR) is None
    assert await bot.storage.manageable_listing(listing.id, DEPUTY) is not None
    assert server.errors() == []


async def test_mylistings_says_which_listings_are_no_longer_theirs(server, bot):
    """After leaving, Amélie's /mylistings lists what she posts now as hers, and the request
    she posted for Saint-Dié apart, as the municipality's now; its card has no owner button.
    Denis, its verified official, has it among his municipality's."""
    (author, _asker, deputy), _listing = await saint_die(server, bot)
    await leave(author)
    await seed.listing(bot.storage, AUTHOR, NOW + 10, title="Chaises")
    t = translator("fr")
    listed = await says(author, "/mylistings")
    mine = t.ngettext("<b>Your listings</b>: {count}", "<b>Your listings</b>: {count}", 1)
    stayed = t.ngettext(
        "<b>Posted by you, now the municipality's</b>: {count}",
        "<b>Posted by you, now the municipality's</b>: {count}",
        1,
    )
    lines = listed.text.splitlines()
    assert lines[0] == plain(mine).format(count=1)
    assert "Chaises" in lines[2]
    assert lines[lines.index(plain(stayed).format(count=1)) + 2].startswith("2. ")
    assert "Pompe" in listed.text.split(plain(stayed).format(count=1))[1]
    assert listed.button_labels == ["1", "2"]
    await author.press("2")
    card = await author.wait_for_bot_message(containing("Pompe"))
    assert fr("✖️ Close") not in card.button_labels

    theirs = await says(deputy, "/mylistings")
    assert "Pompe" in theirs.text and plain(stayed).format(count=1) not in theirs.text
    assert theirs.text.startswith(
        plain(
            t.ngettext(
                "<b>Your listings</b> (and your municipality's): {count}",
                "<b>Your listings</b> (and your municipality's): {count}",
                1,
            )
        ).format(count=1)
    )
    assert server.errors() == []
