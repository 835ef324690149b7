"""What the sender of a message through the bot is told (relayq, item 1): "Forwarded" only
when it goes now; when the outbox holds it for the recipient's quiet hours, that it will be
delivered when those end, without their time zone or hours. Over HTTP, in the sender's
language, with the application's clock under the test's hand."""

from __future__ import annotations

import re

from bot.i18n import translator
from tests import seed
from tests.talk import containing, says, taps
from tests.test_quiet_hours import PARIS_0543, PARIS_0800, SOFIA_0800, held
from tests.test_relay import ASKER, OWNER, accepted, write
from tests.waiting import wait_until

fr = translator("fr").gettext
bg = translator("bg").gettext
FORWARDED = "✓ Forwarded to {name}."
LATER = "✓ Your message to {name} will be delivered when their quiet hours end."


async def both_write(server, bot):
    """Amélie (fr, Paris) and Zornitsa (bg, Sofia), both quiet from 22:00 to 08:00 in their
    own zones, each in the writing dialog of their accepted contact."""
    owner, asker, _stranger, _request, _contact = await accepted(server, bot, PARIS_0543)
    await taps(owner, fr("✅ Accept"))
    accepted_here = owner.last_bot_message
    told = await asker.wait_for_bot_message(containing("Amélie"), timeout=10)
    for user_id in (OWNER, ASKER):
        await seed.set_quiet_hours(bot.storage, user_id, (22, 8))
    return owner, asker, accepted_here, told


async def test_the_sender_is_told_the_truth_in_their_language(server, bot):
    owner, asker, accepted_here, told = await both_write(server, bot)

    # 06:00 UTC: 07:00 in Paris (quiet), 08:00 in Sofia (not). Zornitsa's message waits for
    # Amélie's morning; Amélie's reaches Zornitsa now. Each is told which, in their language.
    bot.clock = lambda: SOFIA_0800
    [later] = await write(asker, told, bg("✉️ Write through the bot"), ["Добро утро!"])
    assert later == bg(LATER).format(name="Amélie")
    assert later != bg(FORWARDED).format(name="Amélie") and bg(LATER) != LATER
    assert not re.search(r"\d", later)  # neither her hours nor her zone
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800))

    [now] = await write(owner, accepted_here, fr("✉️ Write through the bot"), ["Bonjour !"])
    assert now == fr(FORWARDED).format(name="Zornitsa")
    await asker.wait_for_bot_message(containing("Bonjour !"), timeout=10)

    # At 08:00 in Paris, Zornitsa's message arrives, and Amélie's next one is "Forwarded".
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    await owner.wait_for_bot_message(containing("Добро утро!"), timeout=10)
    assert (await says(owner, "Et ensuite ?")).text == fr(FORWARDED).format(name="Zornitsa")
    assert server.errors() == []


async def test_in_the_senders_own_language_when_the_recipient_sleeps(server, bot):
    owner, asker, accepted_here, told = await both_write(server, bot)
    # 05:43 in Paris, 06:43 in Sofia: both quiet; each is told in their own language.
    bot.clock = lambda: PARIS_0543 + 3600
    [french] = await write(owner, accepted_here, fr("✉️ Write through the bot"), ["Bonjour !"])
    assert french == fr(LATER).format(name="Zornitsa") and fr(LATER) != LATER
    [bulgarian] = await write(asker, told, bg("✉️ Write through the bot"), ["Здравейте!"])
    assert bulgarian == bg(LATER).format(name="Amélie")
    # Turning quiet hours off is "now" again (decided per message, from the current settings).
    await seed.set_quiet_hours(bot.storage, ASKER, None)
    assert (await says(owner, "Encore.")).text == fr(FORWARDED).format(name="Zornitsa")
    await asker.wait_for_bot_message(containing("Encore."), timeout=10)
