"""A municipality's listing whose author no longer represents it: its match cards go to the
municipality's verified officials, once each; with none left it is unattended, and a visitor
is not offered a door nobody answers: it is out of browsing, search and matching, and its
link says why, until the municipality has a verified official again (then it is matched)."""

from __future__ import annotations

from bot.i18n import translator
from bot.storage import Profile, SearchQuery, Storage
from bot.storage.listings import DAY
from bot.views import cards
from tests import seed
from tests.talk import containing, says
from tests.test_matching_flow import NOON, started
from tests.waiting import settled, wait_until

en = translator("en").gettext
bg = translator("bg").gettext


def texts(user) -> list[str]:
    return [m.text or m.caption or "" for m in user.messages if m.from_bot]


async def saint_die(server, bot, *, deputy: bool):
    """Léa (fr) posted an offer for Saint-Dié as its verified official, then left it; Denis
    (fr), of Saint-Dié, is its other verified official if ``deputy``, else a member only;
    Мария (bg) in Sofia and Rita (en) read listings."""
    bot.clock = lambda: NOON
    lea = await started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié")
    denis = await started(server, bot, "Denis", "fr", country="FR", place="Saint-Dié")
    maria = await started(server, bot, "Мария", "bg", country="BG", place="Sofia")
    rita = await started(server, bot, "Rita", "en", country="AT", place="Graz", role="volunteer")
    await seed.verified(bot.storage, lea.id, NOON - 2 * DAY)
    if deputy:
        await seed.verified(bot.storage, denis.id, NOON - 2 * DAY)
    offer = await seed.listing(bot.storage, lea.id, NOON - DAY, title="Motopompe", reach="europe")
    await bot.scheduler.match_new_listings()
    assert await bot.storage.leave_municipality(lea.id, NOON - 100) is not None
    return lea, denis, maria, rita, offer


async def request_from(bot, maria) -> None:
    await seed.listing(
        bot.storage, maria.id, NOON, kind="request", title="Търсим помпа", country="BG",
        region="Sofia", place="Sofia", reach="europe",
    )  # fmt: skip
    await bot.scheduler.match_new_listings()


async def test_match_cards_go_to_the_municipalitys_officials_once(server, bot):
    """Léa left: a request that meets her offer tells Denis, who speaks for Saint-Dié, once
    (matched again, nobody is told twice); not Léa."""
    lea, denis, maria, _rita, offer = await saint_die(server, bot, deputy=True)
    await request_from(bot, maria)
    await maria.wait_for_bot_message(containing("Motopompe"), timeout=10)
    card = await denis.wait_for_bot_message(containing("Търсим помпа"), timeout=10)
    assert "Motopompe" in card.text  # a match for the offer he now speaks for
    # Matched again (an edit by Denis): nobody is told twice about the same pair.
    await bot.storage.edit_listing(offer.id, denis.id, {"title": "Motopompe 2"}, now=NOON + 1)
    await bot.scheduler.match_new_listings()
    await wait_until(lambda: settled(bot.storage))
    assert len([t for t in texts(denis) if "Търсим помпа" in t]) == 1
    assert not [t for t in texts(lea) if "Търсим помпа" in t]
    assert server.errors() == []


async def test_an_unattended_listing_is_out_of_sight_until_someone_speaks_for_it(server, bot):
    """Léa was Saint-Dié's only verified official: her offer is in no search, meets no
    request, and its link says why rather than offering to write. Denis is then approved:
    it is back, matched, and its cards go to him."""
    lea, denis, maria, rita, offer = await saint_die(server, bot, deputy=False)
    assert await bot.storage.unattended(offer.id)
    europe = SearchQuery(kind="offer")
    assert [listing.id for listing in (await bot.storage.search(europe, now=NOON))[0]] == []
    linked = await says(rita, f"/start l{offer.id}")
    assert linked.text == cards.unattended_notice(translator("en"), "Saint-Dié")
    assert linked.button_labels == []
    await request_from(bot, maria)
    await wait_until(lambda: settled(bot.storage))
    assert not [t for t in texts(maria) if "Motopompe" in t]
    assert not [t for t in texts(lea) + texts(denis) if "Търсим помпа" in t]

    await seed.verified(bot.storage, denis.id, NOON + 10)
    assert not await bot.storage.unattended(offer.id)
    assert [listing.id for listing in (await bot.storage.search(europe, now=NOON))[0]] == [offer.id]
    card = await says(rita, f"/start l{offer.id}")
    assert "Motopompe" in card.text and en("🙋 I'm interested") in card.button_labels
    await bot.scheduler.match_new_listings()
    await maria.wait_for_bot_message(containing("Motopompe"), timeout=10)
    await denis.wait_for_bot_message(containing("Търсим помпа"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    assert not [t for t in texts(lea) if "Търсим помпа" in t]
    assert server.errors() == []


async def test_the_unattended_set_follows_who_speaks_for_the_municipality(tmp_path):
    """The kept set of unattended listings (read by every browse and search) agrees with the
    rule at each step: a member leaving, the last verified official moving away, another
    approved, revoked, erased."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    amelie, bruno, chloe, denis = 1, 2, 3, 4
    for person in (amelie, bruno, chloe, denis):
        await seed.member(storage, person)
    await seed.verified(storage, amelie, NOON - DAY)
    first = await seed.listing(storage, amelie, NOON, title="Amélie's")
    second = await seed.listing(storage, bruno, NOON, title="Bruno's")
    both = {first.id, second.id}

    async def kept_and_ruled() -> set[int]:
        kept = {
            row[0] for row in await storage._fetchall("SELECT listing_id FROM unattended_listings")
        }
        assert kept == {i for i in both if await storage.unattended(i)}
        return kept

    assert await kept_and_ruled() == set()
    await storage.leave_municipality(bruno, NOON + 1)  # Amélie answers for Saint-Dié
    assert await kept_and_ruled() == set()
    await storage.save_profile(
        amelie, Profile(role="municipality", country="FR", place="Épinal"), now=NOON + 2
    )
    assert await kept_and_ruled() == both
    await seed.verified(storage, chloe, NOON + 3)
    assert await kept_and_ruled() == set()
    [official] = await storage.verified_officials(first.municipality_id)
    await storage.revoke_verification(official.request_id, 0, reason=None, now=NOON + 4)
    assert await kept_and_ruled() == both
    await seed.verified(storage, denis, NOON + 5)
    assert await kept_and_ruled() == set()
    await storage.erase_member(denis, NOON + 6)
    assert await kept_and_ruled() == both
    await storage.close()
