"""Matching without Telegram: the reach rule, scores and reasons, alerts, and the pass over
SQLite (cross-language, reach, radius, idempotent reruns, edits, not relevant)."""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest

from bot.delivery.timing import Preferences
from bot.i18n import translator
from bot.matching import scoring as matching
from bot.matching.matcher import cosines, matching_pass, meanings, unit_vectors
from bot.matching.types import Features, Matched
from bot.storage import Alert, AlertDraft, Storage
from bot.storage.listings import DAY
from bot.storage.matching import STEP
from tests import seed

NOW = 1_900_000_000  # 17:46 UTC on a Sunday: out of everyone's quiet hours


def features(id_: int = 1, **fields: object) -> Features:
    values: dict[str, object] = dict(
        id=id_,
        owner_id=100 + id_,
        municipality_id=None,
        kind="request",
        category="equipment",
        tags=frozenset({"fire_rescue"}),
        country="FR",
        region="Vosges",
        place="Saint-Dié",
        latitude=None,
        longitude=None,
        reach="country",
        language="fr",
        published_at=NOW,
    )
    values.update(fields)
    return Features(**values)  # type: ignore[arg-type]


# --- the reach rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reach", "other", "covered"),
    [
        ("europe", {"country": "BG", "region": "Burgas", "place": "Sozopol"}, True),
        ("country", {"region": "Alsace", "place": "Colmar"}, True),
        ("country", {"country": "BE", "region": "Liège"}, False),
        ("region", {"place": "Épinal"}, True),
        ("region", {"region": "Alsace", "place": "Colmar"}, False),
        ("municipality", {"place": "saint-die"}, True),  # folded: same place
        ("municipality", {"place": "Épinal"}, False),
        ("municipality", {"country": "BE", "place": "Saint-Dié"}, False),
    ],
)
def test_covers(reach, other, covered):
    a = features(1, reach=reach)
    b = features(2, kind="offer", reach="municipality", **other)
    assert matching.covers(a, b) is covered
    # Both must reach each other: with the other reaching all of Europe, a's reach decides.
    assert matching.meets(b._replace(reach="europe"), a) is covered
    assert matching.meets(a, b._replace(reach="europe")) is covered


@pytest.mark.parametrize(
    ("reach", "other_reach", "other", "meet"),
    [
        # The story: across the country in Bulgaria, Europe-wide in Greece.
        ("country", "europe", {"country": "GR", "region": "Attica", "place": "Athens"}, False),
        ("europe", "country", {"country": "GR", "region": "Attica", "place": "Athens"}, False),
        ("europe", "europe", {"country": "GR", "region": "Attica", "place": "Athens"}, True),
        ("country", "country", {"region": "Alsace", "place": "Colmar"}, True),
        ("country", "region", {"region": "Alsace", "place": "Colmar"}, False),
        ("europe", "region", {"place": "Épinal"}, True),  # in its region
        ("europe", "region", {"region": "Alsace", "place": "Colmar"}, False),
        ("region", "region", {"place": "Épinal"}, True),
        ("municipality", "region", {"place": "Épinal"}, False),
        ("municipality", "europe", {"place": "saint-die"}, True),
    ],
)
def test_both_reaches_must_admit_each_other(reach, other_reach, other, meet):
    a = features(1, reach=reach)
    b = features(2, kind="offer", reach=other_reach, **other)
    assert matching.meets(a, b) is meet
    assert matching.meets(b, a) is meet
    assert matching.may_match(a, b) is meet


def test_a_typed_place_without_region_counts_only_where_it_is():
    a = features(1, reach="region", region="")
    assert matching.covers(a, features(2, region="", place="Saint-Dié"))
    assert not matching.covers(a, features(2, region="", place="Épinal"))


def test_who_never_matches():
    request = features(1)
    assert matching.may_match(request, features(2, kind="offer"))
    assert not matching.may_match(request, features(2))  # same kind
    assert not matching.may_match(request, features(2, kind="offer", category="goods"))
    assert not matching.may_match(request, features(2, kind="offer", owner_id=101))
    colleagues = request._replace(municipality_id=7)
    assert not matching.may_match(colleagues, features(2, kind="offer", municipality_id=7))


# --- points and reasons ----------------------------------------------------------------------


def test_category_alone_is_not_a_match_but_with_anything_else_it_is():
    far = {"country": "BG", "region": "Burgas", "place": "Sozopol", "reach": "europe"}
    alone = features(2, kind="offer", tags=frozenset(), language="bg", **far)
    request = features(1, tags=frozenset(), reach="europe")
    assert matching.best_matches(request, [alone]) == []
    tagged = features(3, kind="offer", language="bg", **far)
    (found,) = matching.best_matches(features(1, reach="europe"), [tagged])
    assert found.reasons == ("category", "tags:1")


def test_nearness_and_words_add_up_and_the_best_come_first():
    request = features(1, latitude=48.28, longitude=6.95)
    near = features(2, kind="offer", place="Raon-l'Étape", latitude=48.40, longitude=6.84)
    same_place = features(3, kind="offer", tags=frozenset())
    elsewhere = features(4, kind="offer", region="Alsace", place="Colmar")
    found = matching.best_matches(request, [elsewhere, near, same_place], {2: 0.6})
    assert [m.other for m in found] == [2, 4, 3]
    assert found[0].reasons == ("category", "tags:1", "region", "km:16", "words")
    assert found[1].reasons == ("category", "tags:1", "country")  # a shared tag counts more
    assert found[2].reasons == ("category", "place")


def test_text_counts_within_one_language_only():
    request = features(1, tags=frozenset(), reach="europe")
    other = features(2, kind="offer", tags=frozenset(), country="BE", reach="europe")
    assert matching.best_matches(request, [other], {2: 1.0})  # same language: words count
    foreign = other._replace(language="de")
    assert matching.best_matches(request, [foreign], {2: 1.0}) == []


def test_rare_shared_words_weigh_more_than_common_ones():
    weighed = matching.wording(1000, {"motopompe": 3, "portable": 400}, ["motopompe", "portable"])
    rare = matching.text_similarity(weighed, matching.searchable("une motopompe, a vendre"))
    common = matching.text_similarity(weighed, matching.searchable("un ordinateur portable"))
    assert rare > 0.75 > 0.25 > common > 0
    # Stems, at the start of words: plural and singular meet, in any script.
    for word, text, similar in (
        ("помпа", "две помпи", True),
        ("engines", "an engine", True),
        ("pompe", "«pompes»", True),
        ("pompe", "une motopompe", False),
    ):
        weighed = matching.wording(1000, {}, [word])
        assert (matching.text_similarity(weighed, matching.searchable(text)) == 1.0) is similar


def test_reasons_read_in_the_readers_language():
    reasons = ("category", "tags:2", "region", "km:12", "words")
    assert matching.describe(translator("en"), reasons) == (
        "same category · 2 shared tags · same region · 12 km away · similar words"
    )
    one = matching.describe(translator("en"), ("category", "tags:1", "bogus", "km:x"))
    assert one == "same category · 1 shared tag"
    for language in ("fr", "de", "bg"):
        t = translator(language)
        assert matching.describe(t, reasons).startswith(t.gettext("same category"))


# --- alerts ----------------------------------------------------------------------------------


def alert(**fields: object) -> Alert:
    values: dict[str, object] = dict(
        id=1,
        user_id=500,
        kind=None,
        categories=(),
        tags=(),
        area="europe",
        country=None,
        region=None,
        latitude=None,
        longitude=None,
        radius_km=None,
        keywords="",
        frequency="instant",
        paused=False,
    )
    values.update(fields)
    return Alert(**values)  # type: ignore[arg-type]


def test_alerts():
    listing = features(1, latitude=48.28, longitude=6.95)
    words = matching.words_of("Besoin d'une motopompe pour les pompiers")
    hits = lambda a: matching.alert_matches(a, listing, words)  # noqa: E731
    assert hits(alert())
    assert hits(alert(kind="request", categories=("equipment", "goods"), tags=("fire_rescue",)))
    assert not hits(alert(kind="offer"))
    assert not hits(alert(categories=("goods",)))
    assert not hits(alert(tags=("vehicles",)))
    assert hits(alert(area="country", country="FR")) and not hits(alert(area="country"))
    assert hits(alert(area="region", country="FR", region="Vosges"))
    assert not hits(alert(area="region", country="FR", region="Alsace"))
    # Saint-Dié is about 73 km from Nancy.
    nancy = {"area": "radius", "latitude": 48.69, "longitude": 6.18}
    assert hits(alert(**nancy, radius_km=100)) and not hits(alert(**nancy, radius_km=50))
    assert not matching.alert_matches(
        alert(**nancy, radius_km=100), listing._replace(latitude=None), words
    )
    assert hits(alert(keywords="Pompier MOTO")) and not hits(alert(keywords="pompe camion"))
    assert not hits(alert(paused=True)) and not hits(alert(user_id=listing.owner_id))


# --- the pass over SQLite ----------------------------------------------------------------------


@pytest.fixture
async def storage(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    people = [
        (1, "bg", "BG", "Sveti Vlas"),
        (2, "fr", "FR", "Saint-Dié"),
        (3, "fr", "FR", "Épinal"),
        (4, "de", "AT", "Graz"),
    ]
    for user, language, country, place in people:
        await seed.member(storage, user, language=language, country=country, place=place)
    yield storage
    await storage.close()


async def outbox(storage: Storage) -> list[tuple]:
    return [
        tuple(row)
        for row in await storage._fetchall(
            "SELECT user_id, kind, dedup_key, payload FROM outbox ORDER BY id"
        )
    ]


async def test_a_bulgarian_request_meets_a_french_offer(storage):
    offer = await seed.listing(storage, 2, NOW - DAY, **seed.FRENCH_OFFER)
    request = await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    assert await matching_pass(storage, lambda: NOW) == (2, 4)
    (match,) = await storage.matches_of(request.id)
    assert (match.listing_a, match.listing_b) == (offer.id, request.id)
    assert match.reasons == ("category", "tags:1")
    a, b = offer.id, request.id
    assert await outbox(storage) == [
        (1, "match", f"match:1:{a}:{b}", f'{{"listing": {b}, "other": {a}}}'),
        (2, "match", f"match:2:{a}:{b}", f'{{"listing": {a}, "other": {b}}}'),
    ]
    # Everything is matched: a rerun (or a restart) finds nothing to do and sends nothing.
    assert await matching_pass(storage, lambda: NOW) == (0, 0)
    assert len(await outbox(storage)) == 2


async def test_reach_decides_who_meets(storage):
    # A municipality-wide request in Saint-Dié meets an offer in Saint-Dié only, even one
    # from Épinal that reaches the region (the request does not reach Épinal); a region-wide
    # request meets that one, not a regional offer from Graz nor one kept to Épinal.
    request = await seed.listing(storage, 2, NOW, kind="request", reach="municipality")
    here = await seed.listing(storage, 4, NOW, kind="offer", reach="municipality")
    epinal = await seed.listing(
        storage, 3, NOW, kind="offer", place="Épinal", reach="region", language="fr"
    )
    await seed.listing(storage, 3, NOW, kind="offer", place="Épinal", reach="municipality")
    await seed.listing(
        storage, 4, NOW, kind="offer", country="AT", region="Styria", place="Graz", reach="region"
    )
    regional = await seed.listing(storage, 1, NOW, kind="request", reach="region")
    await matching_pass(storage, lambda: NOW)
    matched = {m.other(request.id) for m in await storage.matches_of(request.id)}
    assert matched == {here.id}
    matched = {m.other(regional.id) for m in await storage.matches_of(regional.id)}
    assert matched == {here.id, epinal.id}


async def test_candidates_hold_every_listing_the_reach_rule_admits(storage):
    """The candidate query applies reach in SQL: below the slices' limits it returns every
    open listing that may meet the subject, in every combination of reaches and places."""
    import itertools
    import random

    rng = random.Random(16)
    places = [
        ("FR", "Vosges", "Saint-Dié"), ("FR", "Vosges", "Épinal"), ("FR", "Alsace", "Colmar"),
        ("BG", "Burgas", "Sveti Vlas"), ("BG", "Sliven", "Kotel"),
    ]  # fmt: skip
    owners = itertools.cycle([1, 2, 3, 4])
    listings = []
    for (country, region, place), reach, kind in itertools.product(
        places, ("municipality", "region", "country", "europe"), ("offer", "request")
    ):
        listings.append(
            await seed.listing(
                storage, next(owners), NOW - rng.randint(0, 1000), kind=kind, reach=reach,
                country=country, region=region, place=place,
            )
        )  # fmt: skip
    subjects = await storage.unmatched_listings(1000)
    features = {subject.features.id: subject.features for subject in subjects}
    for subject in features.values():
        found = {c.id for c in await storage.match_candidates(subject, NOW)}
        admitted = {x.id for x in features.values() if matching.may_match(subject, x)}
        assert admitted <= found, (subject, admitted - found)
        # Nothing that can never meet it takes a place in the slices, but for another place
        # of the same region (places are compared folded, in bot.matching).
        for other in (features[id_] for id_ in found):
            same_region = (other.country, other.region) == (subject.country, subject.region)
            assert matching.meets(subject, other) or same_region, (subject, other)


async def test_nothing_is_matched_with_closed_or_expired_listings(storage):
    old = await seed.listing(storage, 2, NOW - 40 * DAY, kind="offer", duration_days=30)
    closed = await seed.listing(storage, 3, NOW, kind="offer", place="Épinal")
    await storage.close_listing(closed.id, 3, fulfilled=False, outcome=None, now=NOW)
    request = await seed.listing(storage, 4, NOW, kind="request", country="FR", reach="country")
    assert await matching_pass(storage, lambda: NOW) == (3, 0)
    assert await storage.matches_of(request.id) == []
    assert await storage.matches_of(old.id) == []


async def test_an_edit_matches_again_but_tells_nobody_twice(storage):
    offer = await seed.listing(storage, 2, NOW, **seed.FRENCH_OFFER)
    request = await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    await matching_pass(storage, lambda: NOW)
    told = await outbox(storage)
    await storage.edit_listing(request.id, 1, {"tags": ["fire_rescue", "vehicles"]}, now=NOW)
    assert await matching_pass(storage, lambda: NOW) == (1, 2)
    assert await outbox(storage) == told
    # The pair is stored once, with what it has in common now.
    assert (await storage.matches_of(offer.id))[0].reasons == ("category", "tags:2")


async def test_an_edit_while_the_pass_reads_the_listing_is_matched_again(storage):
    """The pass read the request (reaching its region only: the French offer is out of
    reach), then its owner widened the reach before the pass wrote what it found: the
    listing stays unmatched, and the next pass matches it as it now is."""
    offer = await seed.listing(storage, 2, NOW, **seed.FRENCH_OFFER)
    await matching_pass(storage, lambda: NOW)
    request = await seed.listing(storage, 1, NOW, **{**seed.BULGARIAN_REQUEST, "reach": "region"})
    (read,) = await storage.unmatched_listings()
    await storage.edit_listing(request.id, 1, {"reach": "europe"}, now=NOW)
    await storage.save_matches([Matched(request.id, [], [], history=read.history)], NOW)
    assert [s.features.id for s in await storage.unmatched_listings()] == [request.id]
    assert await matching_pass(storage, lambda: NOW) == (1, 2)
    assert [m.other(request.id) for m in await storage.matches_of(request.id)] == [offer.id]
    # Read and written with nothing in between: marked.
    assert await storage.unmatched_listings() == []


async def test_a_write_during_the_pass_waits_for_one_step_of_its_write(storage):
    """The pass writes many listings a transaction, but someone's write issued meanwhile
    goes in after the first :data:`STEP` listings' rows, which it finds committed whole;
    the pass then writes the rest."""
    offer = await seed.listing(storage, 2, NOW, **seed.FRENCH_OFFER)
    for _ in range(3 * STEP):
        await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    passing = asyncio.create_task(matching_pass(storage, lambda: NOW))
    # Until the pass begins to write (the lock has no event to wait on; each turn lets the
    # pass run on).
    while not storage._write_lock.locked() and not passing.done():  # noqa: ASYNC110
        await asyncio.sleep(0)
    async with (
        storage.transaction() as db,
        db.execute(
            "SELECT count(*), (SELECT count(*) FROM matches) FROM listings "
            "WHERE matched_at IS NOT NULL"
        ) as cursor,
    ):
        marked_then = tuple(await cursor.fetchone())
    done, _told = await passing
    assert done == 3 * STEP + 1
    # The offer and the first 24 requests: the offer's 10 best (the newest requests), and
    # each of the 24 with the offer.
    assert marked_then == (STEP, 10 + STEP - 1)
    assert len(await storage.matches_of(offer.id)) == 3 * STEP
    assert await storage.unmatched_listings() == []
    assert await matching_pass(storage, lambda: NOW) == (0, 0)


async def test_not_relevant_is_kept_for_the_person_who_said_it(storage):
    await storage.save_preferences(1, Preferences(frequency="daily"), NOW)
    await seed.listing(storage, 2, NOW, **seed.FRENCH_OFFER)
    request = await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    await matching_pass(storage, lambda: NOW)
    (match,) = await storage.matches_of(request.id)
    assert not await storage.dismiss_match(match.id, 3, NOW)  # not theirs
    assert not await storage.dismiss_match(match.id + 1, 1, NOW)  # no such match
    assert await storage.dismiss_match(match.id, 1, NOW)
    assert await storage.dismissed(match.id, 1) and not await storage.dismissed(match.id, 2)
    # Their digest no longer holds it; the other side's card is still on its way.
    assert await storage.claim_digest(1, 999, NOW + 7 * DAY, 10) == ([], 0)
    assert [row[0] for row in await outbox(storage) if row[1] == "match"] == [2]


async def test_digest_people_get_items_and_one_digest(storage):
    await storage.save_preferences(2, Preferences(frequency="daily", timezone="Europe/Paris"), NOW)
    for number in range(3):
        await seed.listing(
            storage, 2, NOW, kind="offer", title=f"Offer {number}", place=f"Town {number}"
        )
    await seed.listing(storage, 3, NOW, kind="request", place="Épinal", reach="country")
    await matching_pass(storage, lambda: NOW)
    rows = [row for row in await outbox(storage) if row[0] == 2]
    # 09:00 in Paris the next morning (UTC+2 in summer, UTC+1 in winter).
    assert [row[1] for row in rows] == ["digest"]
    due = int(rows[0][2].rsplit(":", 1)[1])
    assert 0 < due - NOW < DAY
    items, left = await storage.claim_digest(2, 1, due, 2)
    assert (len(items), left) == (2, 1)
    assert (await storage.claim_digest(2, 1, due, 2))[0] == items  # a retry shows the same


async def test_alert_hits_are_queued_once_per_person(storage):
    saved = await storage.save_alert(
        3,
        AlertDraft(kind="request", categories=("equipment",), tags=(), area="europe"),
        now=NOW,
    )
    assert saved is not None
    await storage.save_alert(
        3, AlertDraft(kind=None, categories=(), tags=(), area="country", country="BG"), now=NOW
    )
    await storage.save_alert(
        4, AlertDraft(kind="offer", categories=(), tags=(), area="europe"), now=NOW
    )
    request = await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    await matching_pass(storage, lambda: NOW)
    alerts = [row for row in await outbox(storage) if row[1] == "alert"]
    assert alerts == [
        (
            3,
            "alert",
            f"alert:{saved.id}:{request.id}",
            f'{{"alert": {saved.id}, "listing": {request.id}}}',
        )
    ]
    # Paused alerts stay quiet; a new alert is seen by the next pass at once.
    await storage.set_alert_paused(saved.id, 3, True, NOW)
    await seed.listing(storage, 1, NOW, **{**seed.BULGARIAN_REQUEST, "title": "Втора помпа"})
    await matching_pass(storage, lambda: NOW)
    assert len([row for row in await outbox(storage) if row[1] == "alert"]) == 2  # the BG one


async def test_an_alert_with_words_is_told_of_a_listing_that_begins_them_all(storage):
    """The pass looks for an alert's words only once its filters hold (words only, no
    model): the first letters of each word of the listing count, in any case or accent."""
    wanted = {}
    for user, keywords in ((2, "ПОМПА доброволци"), (3, "помпа камион"), (4, "")):
        draft = AlertDraft(kind=None, categories=(), tags=(), area="europe", keywords=keywords)
        wanted[user] = await storage.save_alert(user, draft, now=NOW)
    elsewhere = AlertDraft(kind=None, categories=(), tags=(), area="country", country="FR")
    await storage.save_alert(3, dataclasses.replace(elsewhere, keywords="помпа"), now=NOW)
    request = await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    await matching_pass(storage, lambda: NOW)
    told = {row[2] for row in await outbox(storage) if row[1] == "alert"}
    assert told == {f"alert:{wanted[user].id}:{request.id}" for user in (2, 4)}


async def test_blocked_people_are_not_queued(storage):
    await storage.mark_blocked(2)
    await seed.listing(storage, 2, NOW, **seed.FRENCH_OFFER)
    await seed.listing(storage, 1, NOW, **seed.BULGARIAN_REQUEST)
    await matching_pass(storage, lambda: NOW)
    assert [row[0] for row in await outbox(storage)] == [1]


async def test_expiring_listings_are_found_once_per_expiry_date(storage):
    from bot.matching.jobs import queue_reminders

    soon = await seed.listing(storage, 2, NOW - 5 * DAY, duration_days=7)
    await seed.listing(storage, 2, NOW, duration_days=30)
    assert await queue_reminders(storage, NOW) == 1
    assert await queue_reminders(storage, NOW + 60) == 0
    await storage.renew_listing(soon.id, 2, days=3, now=NOW)
    assert await queue_reminders(storage, NOW + 60) == 1  # a new expiry date, a new reminder


@pytest.mark.parametrize(
    "payload",
    [
        {"listing": 1_000_123, "other": 7},
        {"alert": 3, "listing": -2},
        {"due": 1_900_000_000, "frequency": "weekly"},  # not two ids: json.dumps
        {"listing": True, "other": 1},  # a bool is not an id
        {"listing": 1, "other": 2, "alert": 3},
        {"über": 1, "other": 2},  # json.dumps escapes the name
        {'a"b': 1, "other": 2},
        {},
    ],
)
def test_payloads_are_written_as_json_dumps_writes_them(payload):
    import json

    from bot.storage.matching import payload_json

    assert payload_json(payload) == json.dumps(payload)
    assert json.loads(payload_json(payload)) == payload


def test_unit_vectors_of_a_few_are_those_of_all_bit_for_bit():
    """The pass keeps candidates' vectors as stored and makes unit vectors a listing's few
    at a time (Lookups.meanings): the cosines, and so the matches, are exactly those of
    vectors made a whole group at once."""
    rng = np.random.default_rng(7)
    stored = {
        id_: (rng.integers(-127, 128, 384, dtype=np.int8).tobytes(), float(rng.random()))
        for id_ in range(1, 901)
    }
    every = unit_vectors(stored)
    few = [900, *range(3, 900, 25)]
    some = unit_vectors({id_: stored[id_] for id_ in few})
    assert all(np.array_equal(some[id_], every[id_]) for id_ in few)
    mine = some.pop(900)
    assert cosines(mine, some) == cosines(every[900], {id_: every[id_] for id_ in few[1:]})


@pytest.mark.parametrize("others", [0, 1, 7, 37, 120])
def test_meanings_are_unit_vectors_then_cosines_bit_for_bit(others):
    """The pass's cosines in one matrix (meanings) are those of unit_vectors then cosines,
    to the last bit, for a listing with its candidates' vectors, some missing; nothing
    without the listing's own."""
    rng = np.random.default_rng(others)
    stored = {
        id_: (rng.integers(-127, 128, 384, dtype=np.int8).tobytes(), float(rng.random()))
        for id_ in range(1, 2 * others + 2)
        if id_ % 3  # every third has no vector
    }
    listing, candidates = 1, list(range(2, 2 * others + 2, 2))
    units = unit_vectors({id_: stored[id_] for id_ in [listing, *candidates] if id_ in stored})
    mine = units.pop(listing)
    found_mine, found = meanings(stored, listing, candidates)
    assert found_mine is not None and np.array_equal(found_mine, mine)
    assert found == cosines(mine, units)
    assert list(found) == list(units)
    assert meanings(stored, 3, candidates) == (None, {})  # 3 has no vector
