"""Digests over HTTP with a controllable clock (issue 17, item 2): one message grouped by the
listing or alert each entry is for, with distance and age, titles escaped; a digest longer than
Telegram's 4096 characters keeps the rest for the next one; a person with a daily alert and
weekly matches never reads the same listing twice, on a Monday when both come at 09:00 too;
the weekly digest reads as the week's summary."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery.timing import Preferences
from bot.i18n import translator
from bot.places.geocoding import distance_km
from bot.storage import AlertDraft
from bot.views import cards
from tests import seed
from tests.talk import containing, plain
from tests.test_alerts import member
from tests.waiting import wait_until

SAINT_DIE = (48.28, 6.95)  # Léa's place (tests.test_alerts.member)
EPINAL = (48.17, 6.45)


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


WEDNESDAY = utc(2030, 6, 5, 10, 0)  # noon in Paris
THURSDAY_NINE = utc(2030, 6, 6, 7, 0, 30)  # 09:00:30 in Paris
SUNDAY = utc(2030, 6, 9, 13, 0)
MONDAY_NINE = utc(2030, 6, 10, 7, 0, 30)

REQUEST = dict(
    kind="request", category="equipment", tags=("fire_rescue",), country="FR",
    region="Grand Est", place="Épinal", latitude=EPINAL[0], longitude=EPINAL[1],
)  # fmt: skip
OFFER = dict(
    kind="offer", category="equipment", tags=("fire_rescue",), country="FR",
    region="Grand Est", place="Saint-Dié", latitude=SAINT_DIE[0], longitude=SAINT_DIE[1],
)  # fmt: skip


async def due_digests_sent(storage, now: int) -> bool:
    rows = await storage._fetchall(
        "SELECT count(*) FROM outbox WHERE kind = 'digest' "
        "AND (state = 'sending' OR (state = 'pending' AND not_before <= ?))",
        (now,),
    )
    return rows[0][0] == 0


async def test_a_daily_digest_grouped_with_distance_and_age(server, bot):
    bot.clock = lambda: WEDNESDAY
    lea = await member(server, bot, language="fr")
    await bot.storage.save_preferences(
        lea.id, Preferences(frequency="daily", timezone="Europe/Paris"), WEDNESDAY
    )
    asker = await member(server, bot, "Asker")
    await bot.storage.save_alert(
        lea.id,
        AlertDraft(
            kind="request",
            categories=("goods",),
            tags=(),
            area="country",
            country="FR",
            frequency="daily",
        ),
        now=WEDNESDAY,
    )
    mine = await seed.listing(bot.storage, lea.id, WEDNESDAY - 3600, **OFFER,
                              title="Ma <i>motopompe</i>", language="fr")  # fmt: skip
    await bot.scheduler.match_new_listings()
    pumps = [
        await seed.listing(bot.storage, asker.id, WEDNESDAY, **REQUEST, title=f"<b>Pompe</b> {n}")
        for n in range(2)
    ]
    wood = await seed.listing(
        bot.storage, asker.id, WEDNESDAY, **{**REQUEST, "category": "goods", "tags": ("wood",)},
        title="Bois & planches",
    )  # fmt: skip
    await bot.scheduler.match_new_listings()

    bot.clock = lambda: THURSDAY_NINE
    fr = translator("fr")
    digest = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    head = fr.ngettext(
        "📬 <b>Your digest</b>: {count} new listing for you",
        "📬 <b>Your digest</b>: {count} new listings for you",
        3,
    ).format(count=3)
    assert digest.text.startswith(plain(head))
    for_offer = plain(fr.gettext("🤝 <b>For your offer {title}</b>")).format(
        title=fr.quote("Ma <i>motopompe</i>")
    )
    for_alert = plain(fr.gettext("🔔 <b>For your alert</b>: {alert}")).split("{alert}")[0]
    # Grouped: the two pumps under Léa's offer, the wood under her alert, numbered on.
    assert digest.text.index(for_offer) < digest.text.index("1. 🔴 <b>Pompe</b> 0")
    assert digest.text.index("2. 🔴 <b>Pompe</b> 1") < digest.text.index(for_alert)
    assert digest.text.index(for_alert) < digest.text.index("3. 🔴 Bois & planches")
    away = fr.kilometres(distance_km(*SAINT_DIE, *EPINAL))
    for listing in (*pumps, wood):
        line = digest.text[digest.text.index(listing.title) :].split("\n")[1]
        assert away in line and cards.age(fr, listing, THURSDAY_NINE) in line
    assert "💡 " + fr.gettext("same category") in digest.text
    assert digest.button_labels == ["1", "2", "3"]
    assert mine.id
    await lea.press("3")
    assert (await lea.wait_for_bot_message(containing("Bois & planches"))).text.startswith("🔴")
    assert server.errors() == []


async def test_a_digest_over_4096_characters_keeps_the_rest_for_the_next(server, bot):
    bot.clock = lambda: WEDNESDAY
    lea = await member(server, bot)
    await bot.storage.save_preferences(
        lea.id, Preferences(frequency="daily", timezone="Europe/Paris"), WEDNESDAY
    )
    asker = await member(server, bot, "Asker")
    every_tag = ("fire_rescue", "vehicles", "machinery", "it_equipment", "emergency", "medical")
    await seed.listing(bot.storage, lea.id, WEDNESDAY - 3600, **{**OFFER, "tags": every_tag},
                       title="Everything a fire brigade needs")  # fmt: skip
    await bot.scheduler.match_new_listings()
    titles = [f"{n:02d} " + "Wanted: a portable pump with its hoses " * 3 for n in range(20)]
    for title in titles:
        await seed.listing(
            bot.storage, asker.id, WEDNESDAY, title=title, **{**REQUEST, "tags": every_tag,
            "place": "Saint-Michel-sur-Meurthe-et-Vallée-de-la-Haute-Meurthe"},
        )  # fmt: skip
    await bot.scheduler.match_new_listings()

    bot.clock = lambda: THURSDAY_NINE
    first = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    shown = len(first.button_labels)
    left = 20 - shown
    assert 1 <= shown <= 15
    assert f"…and {left} more in your next digest." in first.text
    sent = next(c for c in server.calls if c.method == "sendMessage" and "📬" in c.params["text"])
    assert len(sent.params["text"].encode("utf-16-le")) // 2 > 3500  # it was full
    in_first = [t[:2] for t in titles if t[:60] in first.text]
    assert len(in_first) == shown

    # The rest wait for the next morning's digest: none of the first again.
    await wait_until(lambda: due_digests_sent(bot.storage, THURSDAY_NINE))
    assert await bot.scheduler.chores() == (0, 1)
    bot.clock = lambda: THURSDAY_NINE + 86_400
    second = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    in_second = [t[:2] for t in titles if t[:60] in second.text]
    assert not set(in_first) & set(in_second)
    assert len(second.button_labels) == min(left, 15)
    assert server.errors() == []


async def test_a_monday_with_a_daily_and_a_weekly_digest_tells_nothing_twice(server, bot):
    """Léa wants her matches weekly, and has a daily alert for requests. A request her alert
    hit on Wednesday (shown in Thursday's daily digest) matches the offer she posts after it:
    the weekly summary leaves it out. On Monday both come at 09:00: a listing waiting in both
    is in one of them only."""
    bot.clock = lambda: WEDNESDAY
    lea = await member(server, bot)
    await bot.storage.save_preferences(
        lea.id, Preferences(frequency="weekly", timezone="Europe/Paris"), WEDNESDAY
    )
    await bot.storage.save_alert(
        lea.id,
        AlertDraft(
            kind="request", categories=(), tags=(), area="country", country="FR",
            frequency="daily",
        ),
        now=WEDNESDAY,
    )  # fmt: skip
    asker = await member(server, bot, "Asker")
    early = [
        await seed.listing(bot.storage, asker.id, WEDNESDAY, **REQUEST, title=f"Early {n}")
        for n in range(2)
    ]
    await bot.scheduler.match_new_listings()  # Léa's daily alert: both
    await seed.listing(bot.storage, lea.id, WEDNESDAY + 60, **OFFER, title="Pump to give")
    await bot.scheduler.match_new_listings()  # her offer matches both: weekly
    bot.clock = lambda: THURSDAY_NINE
    daily = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    assert all(x.title in daily.text for x in early)

    # Friday: a request only her offer's matches tell her about (the alert is told by then).
    friday = utc(2030, 6, 7, 12, 0)
    bot.clock = lambda: friday
    late = await seed.listing(bot.storage, asker.id, friday, **REQUEST, title="Late <b>one</b>")
    await bot.scheduler.match_new_listings()
    # Sunday: a request for goods her alert hits (daily), then her offer of goods matches it
    # (weekly): both due on Monday at 09:00.
    bot.clock = lambda: SUNDAY
    goods = {**REQUEST, "category": "goods", "tags": ("wood",)}
    both = await seed.listing(bot.storage, asker.id, SUNDAY, **goods, title="Planks wanted")
    await bot.scheduler.match_new_listings()
    await seed.listing(bot.storage, lea.id, SUNDAY + 60, **{**OFFER, **goods, "kind": "offer"},
                       title="Planks to give")  # fmt: skip
    await bot.scheduler.match_new_listings()

    bot.clock = lambda: MONDAY_NINE
    weekly = await lea.wait_for_bot_message(containing("🗓"), timeout=10)
    await wait_until(lambda: due_digests_sent(bot.storage, MONDAY_NINE))
    monday = [
        m.text for m in lea.messages if m.from_bot and m.text and m.text.startswith(("📬", "🗓"))
    ][1:]  # Thursday's daily digest left out
    assert sum(text.count(both.title) for text in monday) == 1
    assert all(x.title not in weekly.text for x in early)
    assert late.title in weekly.text
    # The week's summary: how many, by category, then the best.
    en = translator("en")
    count = len(weekly.button_labels)
    head = en.ngettext(
        "🗓 <b>Your week</b>: {count} new listing for you",
        "🗓 <b>Your week</b>: {count} new listings for you",
        count,
    ).format(count=count)
    assert weekly.text.startswith(plain(head))
    assert f"{cards.category_label(en, 'equipment')}: 1" in weekly.text
    assert plain(en.gettext("⭐ <b>The best of the week</b>")) in weekly.text
    assert weekly.button_labels[0] == "1"
    assert server.errors() == []


async def test_a_paused_alert_tells_nothing_in_the_digest(server, bot):
    """Léa pauses her daily alert after it was hit and before 09:00: the digest still tells
    her offer's matches, and nothing of the paused alert."""
    bot.clock = lambda: WEDNESDAY
    lea = await member(server, bot, language="fr")
    await bot.storage.save_preferences(
        lea.id, Preferences(frequency="daily", timezone="Europe/Paris"), WEDNESDAY
    )
    asker = await member(server, bot, "Asker")
    alert = await bot.storage.save_alert(
        lea.id,
        AlertDraft(
            kind="request", categories=("goods",), tags=(), area="country", country="FR",
            frequency="daily",
        ),
        now=WEDNESDAY,
    )  # fmt: skip
    await seed.listing(bot.storage, lea.id, WEDNESDAY - 3600, **OFFER, title="Ma motopompe")
    await bot.scheduler.match_new_listings()
    await seed.listing(bot.storage, asker.id, WEDNESDAY, **REQUEST, title="Pompe cherchée")
    await seed.listing(
        bot.storage, asker.id, WEDNESDAY, **{**REQUEST, "category": "goods", "tags": ("wood",)},
        title="Bois & planches",
    )  # fmt: skip
    await bot.scheduler.match_new_listings()
    assert await bot.storage.set_alert_paused(alert.id, lea.id, True, WEDNESDAY)

    bot.clock = lambda: THURSDAY_NINE
    digest = await lea.wait_for_bot_message(containing("📬"), timeout=10)
    assert "Pompe cherchée" in digest.text
    assert "Bois & planches" not in digest.text
    assert digest.button_labels == ["1"]
