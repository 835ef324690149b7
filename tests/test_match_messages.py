"""A match message explains itself (issue 17, item 1), over HTTP, in two languages: the other
side's title (escaped), kind and category, place and distance in CLDR's unit, their language,
the author's badge, a reason naming what matched; Open, I can help / I'm interested, Not
relevant."""

from __future__ import annotations

from bot.i18n import translator
from bot.places.geocoding import distance_km
from bot.storage.listings import DAY
from bot.views import cards
from tests import seed
from tests.talk import containing
from tests.test_matching_flow import NOON, started
from tests.waiting import settled, wait_until

SOFIA = (42.6977, 23.3219)
SAINT_DIE = (48.2846, 6.9492)


async def test_each_side_reads_what_matched_in_its_language(server, bot):
    bot.clock = lambda: NOON
    maria = await started(server, bot, "Мария", "bg", country="BG", place="Sofia")
    lea = await started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié")
    await seed.verified(bot.storage, lea.id, NOON)
    offer = await seed.listing(
        bot.storage, lea.id, NOON - DAY, kind="offer", language="fr",
        title="Motopompe <b>incendie</b> & tuyaux", description="En bon état.",
        tags=("fire_rescue", "vehicles"), reach="europe", latitude=SAINT_DIE[0],
        longitude=SAINT_DIE[1],
    )  # fmt: skip
    request = await seed.listing(
        bot.storage, maria.id, NOON, kind="request", language="bg", title="Търсим помпа",
        description="За доброволците.", tags=("fire_rescue", "vehicles"), country="BG",
        region="Sofia", place="Sofia", reach="europe", latitude=SOFIA[0], longitude=SOFIA[1],
    )  # fmt: skip
    await bot.scheduler.match_new_listings()
    km = distance_km(*SOFIA, *SAINT_DIE)

    bg = translator("bg")
    card = await maria.wait_for_bot_message(containing("Motopompe"), timeout=10)
    # The title as typed, not bold: the sandbox renders HTML, so tags typed show as text.
    assert "Motopompe <b>incendie</b> & tuyaux" in card.text
    assert f"🟢 {bg.gettext('Offer')} · {cards.category_label(bg, 'equipment')}" in card.text
    place = card.text.split("📍 ")[1].split("\n")[0]
    assert place.startswith("Saint-Dié") and f" · {bg.kilometres(km)} · " in place
    assert bg.gettext("🗣 {language}").format(language=bg.language_name("fr")) in card.text
    assert " ✅ · " in card.text  # the verified municipality's badge
    tags = bg.ngettext("{count} shared tag: {tags}", "{count} shared tags: {tags}", 2).format(
        count=2, tags=f"{bg.gettext('fire and rescue')}, {bg.gettext('vehicles')}"
    )
    far = bg.gettext("{distance} away").format(distance=bg.kilometres(round(km)))
    assert f"💡 {bg.gettext('same category')} · {tags} · {far}" in card.text
    assert card.button_labels == [
        bg.gettext("📄 Open"),
        bg.gettext("🙋 I'm interested"),
        bg.gettext("🚫 Not relevant"),
    ]

    fr = translator("fr")
    other = await lea.wait_for_bot_message(containing("Търсим помпа"), timeout=10)
    assert f"🔴 {fr.gettext('Request')} · {cards.category_label(fr, 'equipment')}" in other.text
    assert f" · {fr.kilometres(km)} · " in other.text
    assert fr.gettext("🗣 {language}").format(language=fr.language_name("bg")) in other.text
    assert "🤝 " + fr.gettext("A volunteer") not in other.text  # Maria is a municipality
    assert fr.gettext("same category") in other.text and fr.gettext("vehicles") in other.text
    assert other.button_labels[:2] == [fr.gettext("📄 Open"), fr.gettext("🙋 I can help")]
    assert request.id and offer.id
    await wait_until(lambda: settled(bot.storage))
    assert server.errors() == []


async def test_without_coordinates_no_distance_and_one_tag_named(server, bot):
    bot.clock = lambda: NOON
    asker = await started(server, bot, "Asker", "en", country="FR", place="Épinal")
    helper = await started(server, bot, "Helper", "en", country="FR", place="Nancy")
    await seed.listing(bot.storage, helper.id, NOON - DAY, kind="offer")
    await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Pump & hose")
    await bot.scheduler.match_new_listings()
    card = await asker.wait_for_bot_message(containing("Used fire pump"), timeout=10)
    assert (
        "💡 same category · 1 shared tag: fire and rescue · same place · similar words" in card.text
    )
    assert "📍 Saint-Dié, Vosges, France · across the country\n" in card.text
    assert "“Pump & hose”" in card.text
