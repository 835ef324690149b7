"""Listings in SQLite: publishing, the daily limit, search, permissions and the life cycle."""

from __future__ import annotations

import pytest

from bot.storage import NewListing, PostingLimit, Profile, SearchQuery, Storage
from bot.storage.listings import COUNT_CAP, DAY, fts_query, page_key
from tests.seed import verified

NOW = 1_800_000_000


def new(title="Used fire pump", description="A portable fire pump in good order.", **kw):
    values = dict(
        kind="offer",
        category="equipment",
        tags=("fire_rescue",),
        title=title,
        description=description,
        language="fr",
        country="FR",
        region="Vosges",
        place="Saint-Dié",
        reach="country",
        duration_days=30,
    )
    values.update(kw)
    return NewListing(**values)


@pytest.fixture
async def storage(tmp_path):
    storage = await Storage.open(tmp_path / "bot.sqlite3")
    # 1 and 2: verified officials of Saint-Dié; 3: elsewhere; 4: joined Saint-Dié, unverified.
    for user_id, place in ((1, "Saint-Dié"), (2, "Saint-Dié"), (3, "Graz"), (4, "Saint-Dié")):
        await storage.register_member(user_id, f"U{user_id}", "fr")
        await storage.save_profile(
            user_id,
            Profile(role="municipality", country="AT" if user_id == 3 else "FR", place=place),
        )
    for user_id in (1, 2):
        await verified(storage, user_id)
    yield storage
    await storage.close()


async def publish(storage, user_id, listing, now=NOW, limit=10):
    await storage.save_draft(user_id, {"title": listing.title}, now)
    return await storage.publish(user_id, listing, now=now, daily_limit=limit)


async def test_publish_stores_everything_and_removes_the_draft(storage):
    listing = await publish(storage, 1, new(tags=("vehicles", "fire_rescue")))
    assert listing.title == "Used fire pump" and listing.tags == ("fire_rescue", "vehicles")
    assert listing.author_name == "Saint-Dié" and listing.author_role == "municipality"
    assert listing.expires_at == NOW + 30 * DAY and listing.state(NOW) == "open"
    assert await storage.get_draft(1) is None
    assert [(h.status, h.at, h.by_user, h.detail) for h in await storage.history(listing.id)] == [
        ("open", NOW, 1, None)
    ]


async def test_a_second_publish_of_the_same_draft_does_nothing(storage):
    assert await publish(storage, 1, new()) is not None
    assert await storage.publish(1, new(), now=NOW, daily_limit=10) is None
    assert (await storage.search(SearchQuery(), now=NOW))[1] == 1


async def test_daily_limit_says_when_posting_is_possible_again(storage):
    for hour in range(3):
        await publish(storage, 1, new(title=f"Listing {hour}"), now=NOW + hour * 3600, limit=3)
    with pytest.raises(PostingLimit) as refused:
        await publish(storage, 1, new(), now=NOW + 4 * 3600, limit=3)
    assert refused.value.next_at == NOW + DAY
    assert await storage.get_draft(1) is not None  # the draft is kept for later
    assert await publish(storage, 1, new(), now=NOW + DAY + 1, limit=3) is not None


@pytest.mark.parametrize(
    ("title", "typed"),
    [
        ("Pompe à incendie d'occasion", "POMPE incendie"),
        ("Feuerwehrpumpe für Köln", "koln feuerwehr"),
        ("Пожарна помпа", "помпа"),
        ("Αντλία πυρκαγιάς", "αντλια"),
        ("Hasičské čerpadlo", "cerpadlo"),
    ],
)
async def test_search_is_case_and_accent_insensitive_in_every_script(storage, title, typed):
    await publish(storage, 1, new(title=title))
    await publish(storage, 1, new(title="Something else entirely"))
    found, total = await storage.search(SearchQuery(words=typed), now=NOW)
    assert total == 1 and found[0].title == title


async def test_typed_search_syntax_is_text_not_a_query():
    assert fts_query('fire" OR pump*') == '"fire"* "or"* "pump"*'
    assert fts_query("  -- ** ") is None


async def test_filters_pagination_and_expiry(storage):
    for index in range(7):
        await publish(storage, 1, new(title=f"Offer {index}"), now=NOW + index)
    await publish(
        storage,
        3,
        new(
            title="Request in Austria",
            kind="request",
            country="AT",
            category="health",
            tags=("doctor",),
        ),
        now=NOW,
    )
    await publish(storage, 3, new(title="Short one", duration_days=7), now=NOW)
    page, total = await storage.search(
        SearchQuery(kind="offer", country="FR"), now=NOW + 10, offset=5, limit=5
    )
    assert total == 8 and [x.title for x in page] == ["Offer 1", "Short one", "Offer 0"]
    assert (await storage.search(SearchQuery(category="health"), now=NOW))[1] == 1
    # A week later the short one has expired: gone from search without any job running.
    later = NOW + 8 * DAY
    _found, total = await storage.search(SearchQuery(words="short"), now=later)
    assert total == 0
    assert (await storage.search(SearchQuery(exclude_owner=1), now=NOW))[1] == 2


async def test_near_me_orders_by_distance(storage):
    await publish(storage, 1, new(title="Strasbourg", latitude=48.5734, longitude=7.7521))
    await publish(storage, 1, new(title="Colmar", latitude=48.0794, longitude=7.3585))
    await publish(storage, 1, new(title="Paris", latitude=48.8566, longitude=2.3522))
    await publish(storage, 1, new(title="Nowhere"))
    found, total = await storage.search(SearchQuery(near=(48.5, 7.7), radius_km=100), now=NOW)
    assert [x.title for x in found] == ["Strasbourg", "Colmar"] and total == 2
    assert found[0].distance_km == pytest.approx(9.4, abs=1)


async def test_only_owner_and_fellow_verified_officials_may_change_a_listing(storage):
    listing = await publish(storage, 1, new())
    assert await storage.manageable_listing(listing.id, 2) is not None  # verified, same place
    for user_id in (3, 4):  # someone else; an unverified newcomer of the same municipality
        assert await storage.manageable_listing(listing.id, user_id) is None
        assert await storage.edit_listing(listing.id, user_id, {"title": "Hacked"}, now=NOW) is None
        closed = await storage.close_listing(
            listing.id, user_id, fulfilled=True, outcome=None, now=NOW
        )
        assert closed is None
        assert await storage.renew_listing(listing.id, user_id, days=30, now=NOW) is None
    stored = await storage.get_listing(listing.id)
    assert (stored.title, stored.status, stored.expires_at) == (
        "Used fire pump",
        "open",
        listing.expires_at,
    )


async def test_edit_close_and_renew(storage):
    listing = await publish(storage, 1, new(duration_days=7))
    edited = await storage.edit_listing(
        listing.id, 2, {"title": "Pompe neuve", "tags": ["vehicles"]}, now=NOW + 1
    )
    assert edited.title == "Pompe neuve" and edited.tags == ("vehicles",)
    assert (await storage.search(SearchQuery(words="neuve"), now=NOW + 1))[1] == 1
    assert (await storage.search(SearchQuery(words="used"), now=NOW + 1))[1] == 0
    expired_at = NOW + 8 * DAY
    assert (await storage.get_listing(listing.id)).state(expired_at) == "expired"
    assert await storage.edit_listing(listing.id, 1, {"title": "x"}, now=expired_at) is None
    renewed = await storage.renew_listing(listing.id, 1, days=30, now=expired_at)
    assert renewed.state(expired_at) == "open" and renewed.expires_at == expired_at + 30 * DAY
    closed = await storage.close_listing(
        listing.id, 1, fulfilled=True, outcome="platform", now=expired_at + 5
    )
    assert closed.state(expired_at + 5) == "fulfilled" and closed.outcome == "platform"
    assert (
        await storage.close_listing(
            listing.id, 1, fulfilled=False, outcome=None, now=expired_at + 6
        )
        is None
    )
    assert [h.status for h in await storage.history(listing.id)] == [
        "open",
        "edited",
        "renewed",
        "fulfilled",
    ]
    with pytest.raises(ValueError):
        await storage.edit_listing(listing.id, 1, {"owner_id": 3}, now=NOW)


async def test_views_count_each_person_once_and_not_the_owner(storage):
    listing = await publish(storage, 1, new())
    for viewer in (1, 3, 3, 2):
        await storage.record_view(listing.id, viewer, NOW)
    assert (await storage.get_listing(listing.id)).views == 2


async def test_my_listings_include_the_municipalitys(storage):
    await publish(storage, 1, new(title="Mine"))
    await publish(storage, 2, new(title="My colleague's"), now=NOW + 1)
    await publish(storage, 3, new(title="Elsewhere"))
    await publish(storage, 4, new(title="The newcomer's"))
    assert [x.title for x in await storage.listings_of(1)] == [
        "My colleague's",
        "The newcomer's",
        "Mine",
    ]
    assert [x.title for x in await storage.listings_of(4)] == ["The newcomer's"]


def bulk(path, rows: list[tuple[int, str, str, str, str, int]]) -> None:
    """Listings straight into the file (owner, kind, category, country, region, published_at):
    thousands in a blink, for what only reads them."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.executemany(
            """INSERT INTO listings (owner_id, kind, category, title, description, language,
                   country, region, place, reach, published_at, expires_at, status_changed_at)
               VALUES (?, ?, ?, 'Bulk', 'A bulk listing.', 'fr', ?, ?, '', 'country', ?, ?, ?)""",
            [(*row, row[5] + 30 * DAY, row[5]) for row in rows],
        )


async def walk(storage, query, pages):
    """Page after page as the browse buttons go: each starts after the last one shown."""
    seen, totals, after = [], set(), None
    for _ in range(pages):
        found, total = await storage.search(query, now=NOW, limit=5, after=after)
        if not found:
            break
        seen.append([x.id for x in found])
        totals.add(total)
        after = page_key(found[-1])
    assert len(totals) <= 1  # every page counts the whole search, not what is left
    return seen


QUERIES = [
    SearchQuery(),
    SearchQuery(kind="offer"),
    SearchQuery(category="equipment"),
    SearchQuery(kind="request", category="equipment", country="FR"),
    SearchQuery(category="health", country="FR", region="Vosges"),
    SearchQuery(country="FR"),
]


@pytest.mark.parametrize("query", QUERIES)
async def test_next_pages_from_the_last_one_shown_equal_pages_by_offset(storage, tmp_path, query):
    # Many listings share a second (keyset ties broken by id), kinds and categories mixed.
    rows = []
    for n in range(60):
        kind = ("offer", "request")[n % 2]
        category = ("equipment", "health", "housing")[n % 3]
        region = ("Vosges", "Alsace")[n % 5 == 0]
        rows.append((1 + n % 2, kind, category, ("FR", "AT")[n % 7 == 0], region, NOW - n // 4))
    bulk(tmp_path / "bot.sqlite3", rows)
    by_offset = []
    for page in range(13):
        found, _total = await storage.search(query, now=NOW, offset=5 * page, limit=5)
        if found:
            by_offset.append([x.id for x in found])
    assert by_offset and await walk(storage, query, 13) == by_offset
    flat = [listing_id for page in by_offset for listing_id in page]
    assert len(flat) == len(set(flat))  # nothing twice
    every = await storage._fetchall("SELECT published_at, id FROM listings")
    assert flat == [i for _at, i in sorted(every, reverse=True) if i in set(flat)]


async def test_counts_stop_past_the_cap(storage, tmp_path):
    bulk(tmp_path / "bot.sqlite3", [(1, "offer", "equipment", "FR", "Vosges", NOW - n)
                                    for n in range(COUNT_CAP + 5)])  # fmt: skip
    for query in (SearchQuery(), SearchQuery(category="equipment"), SearchQuery(country="FR")):
        found, total = await storage.search(query, now=NOW)
        assert total == COUNT_CAP + 1 and len(found) == 5
    _found, total = await storage.search(SearchQuery(country="AT"), now=NOW)
    assert total == 0
    # Exact below the cap: 6 listings of another category, both kinds counted.
    kinds = ["offer", "request"] * 3
    bulk(
        tmp_path / "bot.sqlite3", [(2, k, "health", "FR", "", NOW - n) for n, k in enumerate(kinds)]
    )
    _found, total = await storage.search(SearchQuery(category="health"), now=NOW)
    assert total == 6


async def test_words_rank_the_newest_matches_and_count_to_the_cap(storage, tmp_path):
    import sqlite3

    n = COUNT_CAP + 3
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        for i in range(n):
            # The oldest says "pompe" most (the best text match of all), but is older than the
            # newest COUNT_CAP + 1 matches; listing 500 is the best of those.
            title = "pompe pompe pompe" if i in (0, 500) else f"pompe {i}"
            row = db.execute(
                """INSERT INTO listings (owner_id, kind, category, title, description, language,
                       country, region, place, reach, published_at, expires_at,
                       status_changed_at)
                   VALUES (1, 'offer', 'equipment', ?, 'une pompe à eau en bon état', 'fr',
                       'FR', '', '', 'country', ?, ?, ?) RETURNING id""",
                (title, NOW - n + i, NOW + DAY, NOW),
            ).fetchone()
            db.execute(
                "INSERT INTO listings_text (rowid, title, description) VALUES (?, ?, ?)",
                (row[0], title, "une pompe a eau en bon etat"),
            )
    found, total = await storage.search(SearchQuery(words="Pompe"), now=NOW)
    assert total == COUNT_CAP + 1
    assert found[0].title == "pompe pompe pompe" and found[0].published_at == NOW - n + 500
    nothing, total = await storage.search(SearchQuery(words="pompe", country="AT"), now=NOW)
    assert (nothing, total) == ([], 0)


async def test_near_a_point_south_of_the_equator_and_across_bands(storage):
    # Latitude bands are whole degrees toward zero: a box across the equator reads two.
    await publish(storage, 1, new(title="Quito", latitude=-0.1807, longitude=-78.4678))
    await publish(storage, 1, new(title="North", latitude=0.3, longitude=-78.4))
    await publish(storage, 1, new(title="Far", latitude=-1.9, longitude=-78.4))
    found, total = await storage.search(SearchQuery(near=(0.05, -78.45), radius_km=60), now=NOW)
    assert [x.title for x in found] == ["Quito", "North"] and total == 2
    assert 25 < found[0].distance_km < 26.5 and 27.5 < found[1].distance_km < 29  # great circle


async def test_near_pages_are_the_closest_whether_a_small_circle_holds_them_or_not(storage):
    # Seven listings within 9 km (a circle an eighth of the radius holds a first page), three
    # farther out: the second page needs the whole radius.
    km = [1, 8.5, 3, 6, 2, 9, 5, 20, 60, 35]
    for distance in km:
        await publish(storage, 1, new(title=f"{distance} km", latitude=48.5 + distance / 111.2,
                                      longitude=7.7))  # fmt: skip
    first, total = await storage.search(SearchQuery(near=(48.5, 7.7), radius_km=80), now=NOW)
    second, _ = await storage.search(SearchQuery(near=(48.5, 7.7), radius_km=80), now=NOW, offset=5)
    assert total == 10
    assert [x.title for x in first + second] == [f"{d} km" for d in sorted(km)]
    assert [round(x.distance_km) for x in first] == [1, 2, 3, 5, 6]
