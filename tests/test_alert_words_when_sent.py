"""An alert hit that waited (quiet hours, a digest) is weighed again when sent by the rule the
matching pass found it with: the alert's filters and its words, or what they mean in any
language (relayq, item 2). Words edited meanwhile so that they no longer fit the listing: the
hit is dropped; words that still fit, by prefix or by meaning only: it goes."""

from __future__ import annotations

import dataclasses

from bot.delivery.timing import Preferences
from bot.storage import AlertDraft
from bot.storage.listings import DAY
from tests import seed
from tests.talk import containing, says, taps
from tests.test_alerts import NOON, member
from tests.test_quiet_hours import held
from tests.waiting import settled, wait_until

NIGHT = NOON + 11 * 3600 + 1800  # 23:30 in Paris
MORNING = NOON + DAY - 2 * 3600 + 30  # 08:00:30 in Paris
PUMPS = AlertDraft(
    kind="request", categories=("equipment",), tags=(), area="country", country="FR",
    keywords="pompe",
)  # fmt: skip


async def choose(user, shown, label: str):
    """Tap ``label`` on ``shown``, ticked (the current choice) or not; what comes next."""
    return await taps(user, label if label in shown.button_labels else "✓ " + label)


def told(user) -> str:
    return "\n".join(m.text or "" for m in user.messages if m.from_bot)


async def test_words_edited_while_a_hit_waits_for_the_morning_drop_it(server, bot):
    """Two pumps wait for Léa's morning; at night she edits the alert's words (over HTTP) to
    "pompe eau": the water pump still fits and comes at 08:00, the other never does."""
    bot.clock = lambda: NIGHT
    lea = await member(server, bot)
    await seed.set_quiet_hours(bot.storage, lea.id, (22, 8))
    asker = await member(server, bot, "Asker")
    await bot.storage.save_alert(lea.id, PUMPS, now=NIGHT)
    await seed.listing(bot.storage, asker.id, NIGHT, kind="request", title="Pompe thermique «k1»")
    await seed.listing(bot.storage, asker.id, NIGHT, kind="request", title="Pompe à eau «k2»")
    await bot.scheduler.match_new_listings()
    await wait_until(held(bot.storage, lea.id, 2))

    step = await says(lea, "/alerts")
    for label in ("✏️ Edit", "🟢🔴 Both", "✅ Done", "✅ Any tag"):
        step = await choose(lea, step, label)
    area = await lea.wait_for_bot_message(containing("Choose the area:"))
    await choose(lea, area, "🏳️ My country")
    frequency = await says(lea, "pompe eau")
    await choose(lea, frequency, "⚡ Right away")
    await lea.wait_for_bot_message(containing("Your alerts"))
    assert (await bot.storage.alerts_of(lea.id))[0].keywords == "pompe eau"

    bot.clock = lambda: MORNING
    bot.outbox.wake()
    await lea.wait_for_bot_message(containing("«k2»"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert "«k1»" not in told(lea)
    assert server.errors() == []


async def test_a_digest_leaves_out_what_the_edited_words_no_longer_find(server, bot):
    """The same in a daily digest: the listing's title is edited (its words change too) and
    the alert's words are edited; only the entry that still fits is in the digest."""
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    await bot.storage.save_preferences(lea.id, Preferences("daily", "Europe/Paris", None, None), 0)
    asker = await member(server, bot, "Asker")
    alert = await bot.storage.save_alert(
        lea.id, dataclasses.replace(PUMPS, keywords="pompe", frequency="daily"), now=NOON
    )
    ladders = await bot.storage.save_alert(
        lea.id, dataclasses.replace(PUMPS, keywords="échelle", frequency="daily"), now=NOON
    )
    renamed = await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Pompe «d1»")
    await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Pompe vide-cave «d2»")
    await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Échelle «d3»")
    await bot.scheduler.match_new_listings()
    await bot.storage.edit_listing(renamed.id, asker.id, {"title": "Groupe électrogène «d1»"},
                                   now=NOON)  # fmt: skip
    narrower = dataclasses.replace(PUMPS, keywords="pompe cave", frequency="daily")
    assert await bot.storage.save_alert(lea.id, narrower, now=NOON, alert_id=alert.id)
    wider = dataclasses.replace(PUMPS, keywords="échelles", frequency="daily")
    assert await bot.storage.save_alert(lea.id, wider, now=NOON, alert_id=ladders.id)

    bot.clock = lambda: NOON + DAY  # past 09:00 in Paris the next day
    bot.outbox.wake()
    digest = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    assert "«d2»" in digest.text
    assert "«d1»" not in digest.text and "«d3»" not in digest.text
    assert server.errors() == []
