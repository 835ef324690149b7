"""What a match card and an alert hit are checked against when the outbox sends them, in one
read each (:meth:`Storage.match_at_sending`, :meth:`Storage.hit_at_sending`), on a real
SQLite database: the news goes while it holds, and every way it stops holding drops it -
either listing closed, the match marked not relevant, the reader no longer keeping their
listing, forged or swapped ids; an alert paused, someone else's, its person banned, its
listing closed. The statements are counted with SQLite's own trace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.delivery.notifications import live_hit, live_match
from bot.matching.types import FoundMatch, Matched
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import AlertDraft, Listing, Profile, Storage
from tests import seed
from tests.sqltrace import traced

NOW = 1_800_000_000
READER, AUTHOR, OTHER_READER, ADMIN = 901, 902, 903, 904


@pytest.fixture
async def storage(tmp_path) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "bot.sqlite3")
    for user_id in (READER, OTHER_READER, ADMIN):
        await seed.member(opened, user_id)
    await seed.member(opened, AUTHOR, role="volunteer", place="Épinal")  # of no municipality
    yield opened
    await opened.close()


async def pair(storage: Storage) -> tuple[Listing, Listing, int]:
    """The reader's request, an author's offer for it, and their stored match."""
    mine = await seed.listing(storage, READER, NOW, kind="request", title="Need a pump")
    other = await seed.listing(storage, AUTHOR, NOW, title="Pump to lend")
    found = FoundMatch(mine.id, other.id, 0.9, ("category", "tags:1"))
    await storage.save_matches([Matched(mine.id, [found], [])], NOW)
    match = await storage.match_between(mine.id, other.id)
    assert match is not None
    return mine, other, match.id


def payload(mine: Listing, other: Listing) -> dict[str, object]:
    return {"listing": mine.id, "other": other.id}


async def test_a_match_card_is_checked_in_one_read(storage):
    mine, other, match_id = await pair(storage)
    statements = await traced(storage)
    found = await live_match(storage, payload(mine, other), READER, NOW + 60)
    assert found is not None
    assert (found[0].id, found[1].id, found[2].id) == (mine.id, other.id, match_id)
    assert found[2].reasons == ("category", "tags:1")
    assert found[1].title == "Pump to lend" and found[1].tags == other.tags
    assert len(statements.run) == 1, statements.run  # it was six


async def test_a_match_card_is_dropped_when_the_news_no_longer_holds(storage):
    mine, other, match_id = await pair(storage)
    later = NOW + 60
    # Not the reader's listing, the pair swapped, ids that do not exist or are not ids.
    assert await live_match(storage, payload(mine, other), OTHER_READER, later) is None
    assert await live_match(storage, payload(other, mine), READER, later) is None
    assert await live_match(storage, {"listing": mine.id, "other": 10**9}, READER, later) is None
    forged = {"listing": str(mine.id), "other": other.id}
    assert await live_match(storage, forged, READER, later) is None
    assert await live_match(storage, {"listing": mine.id, "other": mine.id}, READER, later) is None
    # Expired.
    assert await live_match(storage, payload(mine, other), READER, mine.expires_at) is None
    # Marked not relevant by the reader (the other side may still hear of it).
    assert await storage.dismiss_match(match_id, READER, later)
    assert await live_match(storage, payload(mine, other), READER, later) is None
    assert await live_match(storage, payload(other, mine), AUTHOR, later) is not None
    # The other side's listing closed.
    assert await storage.close_listing(mine.id, READER, fulfilled=False, outcome=None, now=later)
    assert await live_match(storage, payload(other, mine), AUTHOR, later) is None


async def test_a_match_card_is_dropped_once_the_reader_left_the_municipality(storage):
    mine, other, _match_id = await pair(storage)
    assert mine.municipality_id is not None
    assert await live_match(storage, payload(mine, other), READER, NOW + 60) is not None
    assert await storage.leave_municipality(READER, NOW + 120) is not None
    assert await live_match(storage, payload(mine, other), READER, NOW + 180) is None


async def test_news_of_a_listing_nobody_answers_for_any_more_is_not_sent(storage):
    """Its author left the municipality it was posted for, which has no verified official:
    neither the match card nor the alert hit about it goes."""
    await seed.member(storage, OTHER_READER, place="Épinal")  # an author for Épinal
    mine = await seed.listing(storage, READER, NOW, kind="request", title="Need a pump")
    other = await seed.listing(storage, OTHER_READER, NOW, title="Pump to lend", place="Épinal")
    found = FoundMatch(mine.id, other.id, 0.9, ("category",))
    await storage.save_matches([Matched(mine.id, [found], [])], NOW)
    draft = AlertDraft(kind="offer", categories=("equipment",), tags=(), area="europe")
    alert = await storage.save_alert(READER, draft, now=NOW)
    assert alert is not None
    meaning = Meaning(Semantics("none"))
    hit = {"alert": alert.id, "listing": other.id}
    assert await live_match(storage, payload(mine, other), READER, NOW + 60) is not None
    assert await live_hit(storage, meaning, hit, READER, NOW + 60) is not None
    assert await storage.leave_municipality(OTHER_READER, NOW + 120) is not None
    assert await storage.unattended(other.id)
    assert await live_match(storage, payload(mine, other), READER, NOW + 180) is None
    assert await live_hit(storage, meaning, hit, READER, NOW + 180) is None


async def test_a_match_without_a_stored_match_is_not_sent(storage):
    mine = await seed.listing(storage, READER, NOW, kind="request", title="Need a pump")
    other = await seed.listing(storage, AUTHOR, NOW, title="Pump to lend")
    assert await live_match(storage, payload(mine, other), READER, NOW + 60) is None


async def hit(storage: Storage) -> tuple[int, Listing]:
    draft = AlertDraft(kind="offer", categories=("equipment",), tags=(), area="europe")
    alert = await storage.save_alert(READER, draft, now=NOW)
    assert alert is not None
    listing = await seed.listing(
        storage, AUTHOR, NOW, title="Pump to lend", place="Épinal", latitude=48.17, longitude=6.45
    )
    return alert.id, listing


async def test_an_alert_hit_is_checked_in_one_read(storage):
    """With where distances are measured from: the reader's place (the card and the digest
    read the reader no more), or the alert's own centre."""
    place = Profile("municipality", "FR", "Saint-Dié", latitude=48.28, longitude=6.95)
    await storage.save_profile(READER, place)
    alert_id, listing = await hit(storage)
    meaning = Meaning(Semantics("none"))
    statements = await traced(storage)
    sent = {"alert": alert_id, "listing": listing.id}
    found = await live_hit(storage, meaning, sent, READER, NOW)
    assert found is not None
    alert, hit_listing, point = found
    assert (alert.id, alert.categories, hit_listing.id) == (alert_id, ("equipment",), listing.id)
    assert point == (48.28, 6.95)
    assert len(statements.run) == 1, statements.run  # it was four, and the card read the reader

    centred = AlertDraft("offer", ("equipment",), (), "radius", latitude=48.6, longitude=7.7,
                         radius_km=500)  # fmt: skip
    around = await storage.save_alert(READER, centred, now=NOW)
    assert around is not None
    found = await live_hit(storage, meaning, {**sent, "alert": around.id}, READER, NOW)
    assert found is not None and found[2] == (48.6, 7.7)


async def test_an_alert_hit_is_dropped_when_the_news_no_longer_holds(storage):
    alert_id, listing = await hit(storage)
    meaning = Meaning(Semantics("none"))
    sent = {"alert": alert_id, "listing": listing.id}
    assert await live_hit(storage, meaning, sent, OTHER_READER, NOW) is None  # not theirs
    assert await live_hit(storage, meaning, {**sent, "alert": 10**9}, READER, NOW) is None
    assert await live_hit(storage, meaning, {**sent, "listing": None}, READER, NOW) is None
    assert await live_hit(storage, meaning, sent, READER, listing.expires_at) is None
    assert await storage.set_alert_paused(alert_id, READER, True, NOW)
    assert await live_hit(storage, meaning, sent, READER, NOW) is None
    assert await storage.set_alert_paused(alert_id, READER, False, NOW)
    assert await live_hit(storage, meaning, sent, READER, NOW) is not None
    await storage.ban(READER, ADMIN, NOW)
    assert await live_hit(storage, meaning, sent, READER, NOW) is None
    await storage.unban(READER, ADMIN, NOW)
    assert await live_hit(storage, meaning, sent, READER, NOW) is not None
    assert await storage.close_listing(listing.id, AUTHOR, fulfilled=False, outcome=None, now=NOW)
    assert await live_hit(storage, meaning, sent, READER, NOW) is None
