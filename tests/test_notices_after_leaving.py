"""Notices that speak to an official, or for a municipality's listing, held by quiet hours
while their reader leaves the municipality: dropped when sent, since the reader no longer
speaks for it; the colleague who stays gets theirs; what comes after the leaving goes to the
municipality's verified officials, not to who left."""

from __future__ import annotations

from bot.dialogs import verification as asking
from bot.handlers import moderation, verification
from bot.i18n import translator
from bot.storage.listings import DAY
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, plain, says, started, taps
from tests.test_leaving import leave
from tests.test_moderation import report
from tests.test_quiet_hours import PARIS_0543, PARIS_0800, bot_texts, held
from tests.waiting import settled, wait_until

AMELIE, DENIS, CHLOE, READER = 861, 862, 863, 864
fr = translator("fr").gettext


async def saint_die(server, bot, *, verified: tuple[int, ...]):
    """Amélie, Denis and Chloé (fr) of Saint-Dié, quiet from 22:00 to 08:00, those in
    ``verified`` its verified officials; Ada the admin and Rita (en), a reader, at any hour.
    The bot's clock: 05:43 in Paris."""
    bot.clock = lambda: PARIS_0543
    for person in (AMELIE, DENIS, CHLOE):
        await seed.member(bot.storage, person, language="fr", quiet_hours=(22, 8))
        if person in verified:
            await seed.verified(bot.storage, person, PARIS_0543 - DAY)
    await seed.member(bot.storage, READER, role="volunteer", country="AT", place="Graz")
    users = await started(
        server,
        ("Amélie", "fr", AMELIE),
        ("Denis", "fr", DENIS),
        ("Chloé", "fr", CHLOE),
        ("Rita", "en", READER),
        ("Ada", "en", ADMIN_ID),
    )
    await seed.set_quiet_hours(bot.storage, ADMIN_ID)
    return users


async def morning(bot) -> None:
    """08:00 in Paris: what was held is sent, or dropped."""
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage))


async def test_verification_notices_held_for_who_left_are_dropped(server, bot):
    """At night Amélie asks to be verified: Denis and Chloé, its verified officials, are told
    in the morning that they may approve her; an admin approves her at once; before the
    morning Denis leaves, and so does Amélie. In the morning Chloé is told, Denis is not, and
    Amélie is not told she represents a municipality she left."""
    amelie, denis, chloe, _reader, admin = await saint_die(server, bot, verified=(DENIS, CHLOE))
    await says(amelie, "/verify")
    await says(amelie, "mairie@saint-die.fr")
    await admin.wait_for_bot_message(containing("Amélie"), timeout=10)
    await wait_until(held(bot.storage, DENIS, 1, PARIS_0800))
    await wait_until(held(bot.storage, CHLOE, 1, PARIS_0800))
    await says(admin, "/admin")
    card = await taps(admin, "🪪 Verifications (1)")
    await admin.press_data(card.id, card.inline_keyboard[0][0]["callback_data"])
    await admin.wait_for_bot_message(include_edits=True)
    assert (await bot.storage.get_member(AMELIE)).verified
    await wait_until(held(bot.storage, AMELIE, 1, PARIS_0800))
    await leave(denis)
    await leave(amelie)

    await morning(bot)
    asked = plain(fr(asking.ASKED_OFFICIALS)).format(name="Amélie", municipality="Saint-Dié")
    told = await chloe.wait_for_bot_message(containing(asked[:40]), timeout=10)
    assert told.text == asked
    assert not [text for text in bot_texts(denis) if asked[:40] in text]
    approved = plain(fr(verification.APPROVED)).format(municipality="Saint-Dié")
    assert not [text for text in bot_texts(amelie) if approved[:30] in text]
    assert (await bot.storage.outbox_counts()).get("cancelled") == 2
    assert server.errors() == []


async def test_listing_notices_go_to_who_speaks_for_it(server, bot):
    """Amélie's listing closes in two days: its reminder waits for her morning; a moderator
    hides it; she leaves before the morning: neither reaches her. Restored after she left, the
    municipality's verified official, Denis, is told, and she is not."""
    amelie, denis, _chloe, reader, admin = await saint_die(server, bot, verified=(AMELIE, DENIS))
    listing = await seed.listing(
        bot.storage, AMELIE, PARIS_0543 - 5 * DAY, title="Motopompe", duration_days=7
    )
    assert (await bot.scheduler.chores())[0] == 1
    await wait_until(held(bot.storage, AMELIE, 1, PARIS_0800))
    await report(reader, listing.id, "📢 Spam or advertising")
    await says(admin, "/admin")
    await taps(admin, "🚩 Reports (1)")
    await admin.press("🚫 Hide")
    assert (await admin.wait_for_callback_answer()).text == "Hidden."
    await wait_until(held(bot.storage, AMELIE, 2, PARIS_0800))
    await leave(amelie)
    await admin.press("♻️ Restore")
    assert (await admin.wait_for_callback_answer()).text == "Restored."
    await wait_until(held(bot.storage, DENIS, 1, PARIS_0800))

    await morning(bot)
    restored = plain(fr(moderation.RESTORED)).format(title=translator("fr").quote("Motopompe"))
    assert (await denis.wait_for_bot_message(containing("Motopompe"), timeout=10)).text == (
        restored
    )
    assert not [text for text in bot_texts(amelie) if "Motopompe" in text]
    assert (await bot.storage.outbox_counts()).get("cancelled") == 2
    assert server.errors() == []
