"""A new alert shows what already fits it (issue 17, item 4), over HTTP: the count (with its
plural, and capped), the best few closest first with distance and age and a button each,
never the person's own listings nor closed ones, titles escaped; then only what is new."""

from __future__ import annotations

import json

import pytest

from bot.i18n import translator
from bot.matching.fitting import COUNT_CAP, SHOWN, Fitting, already_fitting
from bot.places.geocoding import distance_km
from bot.storage import Alert, AlertDraft
from bot.views import cards
from bot.views.alerts import saved_text
from tests import seed
from tests.talk import containing, plain, says, taps
from tests.test_alerts import NOON, member

REQUEST = dict(kind="request", category="equipment", country="FR", region="Grand Est")


async def make_alert(person, language: str = "en"):
    """Requests for equipment in my country, any tag, no words, right away; returns the
    message that says it was saved."""
    _ = translator(language).gettext
    await person.send_text("/alerts")
    await person.wait_for_bot_message()
    await taps(person, _("➕ New alert"))
    await taps(person, _("🔴 Requests (someone needs something)"))
    await person.press(cards.category_label(translator(language), "equipment"))
    await person.wait_for_bot_message(include_edits=True)
    await taps(person, _("✅ Done"))
    await taps(person, _("✅ Any tag"))
    await person.wait_for_bot_message(containing(_("Choose the area:")))
    await taps(person, _("🏳️ My country"))
    await taps(person, _("➡ No words, skip"))
    await person.press(_("⚡ Right away"))
    saved = await person.wait_for_bot_message(
        containing(_("✅ Alert saved: {alert}").split("{alert}")[0])
    )
    await person.wait_for_bot_message(containing(plain(_("🔔 <b>Your alerts</b>"))))
    return saved


async def test_an_alert_with_nothing_open_that_fits(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    asker = await member(server, bot, "Asker")
    await seed.listing(bot.storage, asker.id, NOON, kind="offer")  # an offer: not a request
    await seed.listing(bot.storage, asker.id, NOON, **{**REQUEST, "country": "DE"})  # abroad
    await bot.scheduler.match_new_listings()
    saved = await make_alert(lea)
    assert "No open listing fits it yet" in saved.text
    assert saved.button_labels == []
    assert server.errors() == []


async def test_fifty_that_fit_show_the_closest_five_then_only_new_ones(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot, language="fr")  # Saint-Dié, 48.28 N 6.95 E
    asker = await member(server, bot, "Asker")
    # Lea's own request and a closed one sit closest: neither is shown nor counted.
    await seed.listing(bot.storage, lea.id, NOON, **REQUEST, latitude=48.28, longitude=6.95)
    closed = await seed.listing(
        bot.storage, asker.id, NOON, **REQUEST, latitude=48.281, longitude=6.95
    )
    await bot.storage.close_listing(closed.id, asker.id, fulfilled=False, outcome=None, now=NOON)
    posted = []
    for n in range(50):  # 0 is the closest; older ones were published earlier
        posted.append(
            await seed.listing(
                bot.storage, asker.id, NOON - (50 - n) * 3600, **REQUEST,
                title=f"<b>Pompe</b> & tuyau n°{n}", latitude=48.29 + n * 0.05, longitude=6.95,
            )
        )  # fmt: skip
    await bot.scheduler.match_new_listings()

    fr = translator("fr")
    saved = await make_alert(lea, "fr")
    count = fr.ngettext(
        "📋 {count} open listing already fits it.", "📋 {count} open listings already fit it.", 50
    ).format(count=fr.number(50))
    assert count in saved.text
    best = fr.ngettext("The best {count}:", "The best {count}:", SHOWN).format(count=SHOWN)
    assert best in saved.text
    # The closest five, in order, titles shown as typed (escaped, not bold).
    for n in range(SHOWN):
        assert f"{n + 1}. 🔴 <b>Pompe</b> & tuyau n°{n}\n" in saved.text
    assert "n°5\n" not in saved.text
    assert saved.button_labels == ["1", "2", "3", "4", "5"]
    # Distance from Lea's place, in French units, and the age.
    for n in range(SHOWN):
        away = fr.kilometres(distance_km(48.28, 6.95, 48.29 + n * 0.05, 6.95))
        place_line = saved.text[saved.text.index(f"n°{n}\n") :].split("\n")[1]
        assert away in place_line and cards.age(fr, posted[n], NOON) in place_line
    # A button opens the listing.
    await lea.press("2")
    card = await lea.wait_for_bot_message(containing("n°1"))
    assert card.text.startswith("🔴")

    # Then only what is new: one new request brings one alert message, nothing about the rest.
    new = await seed.listing(bot.storage, asker.id, NOON, **REQUEST, title="Neuve")
    await bot.scheduler.match_new_listings()
    hit = await lea.wait_for_bot_message(containing("Neuve"), timeout=5)
    assert plain(fr.gettext("📄 Open")) in hit.button_labels
    (alert,) = await bot.storage.alerts_of(lea.id)
    alerts_told = await bot.storage._fetchall(
        "SELECT payload FROM outbox WHERE user_id = ? AND kind = 'alert'", (lea.id,)
    )
    assert [row[0] for row in alerts_told] == [json.dumps({"alert": alert.id, "listing": new.id})]
    assert server.errors() == []


async def edit_paused(bot, person, language: str, category: str):
    """Pause the person's alert for requests of goods, then edit it to ``category`` (same
    kind, area and frequency) in ``language``; the message that says it was saved."""
    alert = await bot.storage.save_alert(
        person.id,
        AlertDraft(kind="request", categories=("goods",), tags=(), area="country", country="FR"),
        now=NOON,
    )
    assert await bot.storage.set_alert_paused(alert.id, person.id, True, NOON)
    t = translator(language)
    _ = t.gettext
    await says(person, "/alerts")
    await taps(person, _("✏️ Edit"))
    await taps(person, "✓ " + _("🔴 Requests (someone needs something)"))
    await person.press("✓ " + cards.category_label(t, "goods"))  # off
    await person.wait_for_bot_message(include_edits=True)
    await person.press(cards.category_label(t, category))  # on
    await person.wait_for_bot_message(include_edits=True)
    await taps(person, _("✅ Done"))
    await taps(person, _("✅ Any tag"))
    await person.wait_for_bot_message(containing(plain(_("Choose the area:"))))
    await taps(person, "✓ " + _("🏳️ My country"))
    await taps(person, _("➡ No words, skip"))
    await person.press("✓ " + _("⚡ Right away"))
    saved = await person.wait_for_bot_message(
        containing(_("✅ Alert saved: {alert}").split("{alert}")[0])
    )
    assert (await bot.storage.get_alert(alert.id)).paused  # edited, still paused
    return saved


async def test_editing_a_paused_alert_shows_what_fits_it(server, bot):
    """A paused alert is edited (it stays paused): what already fits it is counted all the
    same, not "no open listing fits it" while two do; and it does not promise the new ones
    it will not tell about while paused."""
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    asker = await member(server, bot, "Asker")
    for n in range(2):
        await seed.listing(bot.storage, asker.id, NOON, **REQUEST, title=f"Pompe {n}")
    await bot.scheduler.match_new_listings()
    saved = await edit_paused(bot, lea, "en", "equipment")
    _ = translator("en").gettext
    assert "📋 2 open listings already fit it." in saved.text
    assert saved.text.endswith(
        _(
            "Tap a number to open it. This alert is paused: send /alerts to resume it and be "
            "told about new ones."
        )
    )
    assert "From now on" not in saved.text
    assert saved.button_labels == ["1", "2"]
    assert server.errors() == []


async def test_a_paused_alert_edited_with_nothing_that_fits_says_it_is_paused(server, bot):
    """In French: nothing fits, and the text says the alert is paused, not that new ones
    will be told."""
    bot.clock = lambda: NOON
    lea = await member(server, bot, language="fr")
    saved = await edit_paused(bot, lea, "fr", "equipment")
    _ = translator("fr").gettext
    assert saved.text.endswith(
        _(
            "No open listing fits it yet. This alert is paused: send /alerts to resume it "
            "and be told when a new one does."
        )
    )
    assert "suspendue" in saved.text
    assert _("No open listing fits it yet. I will tell you when a new one does.") not in saved.text
    assert server.errors() == []


async def test_the_count_is_capped_and_own_listings_never_fit(server, bot):
    await seed.member(bot.storage, 7)
    await seed.member(bot.storage, 8)
    alert = await bot.storage.save_alert(
        7, AlertDraft(kind="request", categories=(), tags=(), area="europe"), now=NOON
    )
    others = [
        await seed.listing(bot.storage, 8, NOON, **REQUEST, title=f"n{n}")
        for n in range(COUNT_CAP + 3)
    ]
    own = await seed.listing(bot.storage, 7, NOON, **REQUEST)
    found = already_fitting(alert, [(x, "n") for x in [own, *others]], None)
    assert found == Fitting(COUNT_CAP + 1, others[:SHOWN]) and found.more_than_cap
    en = translator("en")
    text = saved_text(en, alert, found, NOON)
    assert f"📋 More than {COUNT_CAP} open listings already fit it." in text


@pytest.mark.parametrize("area", ["radius", "country", "europe"])
async def test_newer_listings_that_cannot_fit_never_crowd_out_one_that_does(bot, area):
    """Candidates are read newest first, at most SCAN of them: the alert's kind and
    categories are among the conditions whatever its area, so newer requests and newer
    offers of another category never take the place of an older offer that fits."""
    owner = 9001
    await seed.member(bot.storage, owner)
    here = {"latitude": 48.3, "longitude": 6.9}
    fits = await seed.listing(bot.storage, owner, NOON - 3600, **here)  # an equipment offer
    for n in range(3):
        await seed.listing(bot.storage, owner, NOON - n * 60, kind="request", **here)
        await seed.listing(
            bot.storage, owner, NOON - n * 60, category="health", tags=("doctor",), **here
        )
    bot.clock = lambda: NOON
    await bot.scheduler.match_new_listings()
    alert = Alert(
        id=1, user_id=1, kind="offer", categories=("equipment",), tags=(), area=area,
        country="FR", region=None, latitude=48.3, longitude=6.9, radius_km=10,
        keywords="", frequency="instant", paused=False,
    )  # fmt: skip
    found = await bot.storage.open_listings_for(alert, now=NOON, scan=1)
    assert [listing.id for listing, _text in found] == [fits.id]
