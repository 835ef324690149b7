"""The hot queries are served by indexes: SQLite's own ``EXPLAIN QUERY PLAN`` of the very
statements the code runs (their texts live in bot/storage), on a database with the real
schema and no statistics, as a fresh bot has.

A query fails here if it reads a stored table without an index (``SCAN <table>``), or if a
newest-first page or count sorts what an index read (every match collected, then sorted,
instead of reading in date order and stopping at the page).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.matching.types import Features
from bot.storage import Alert, SearchQuery, Storage
from bot.storage.alerts import fitting_statement
from bot.storage.listings import LISTING_BY_ID, search_statements
from bot.storage.live import HIT_AT_SENDING, MATCH_AT_SENDING
from bot.storage.matching import candidates_statement
from bot.storage.members import MEMBER_BY_ID, MEMBER_FOR_UPDATE
from bot.storage.outbox import OUTBOX_CLAIM, OUTBOX_DUE, OUTBOX_FINISH
from bot.storage.vectors import vectors_statement
from bot.storage.verification import RELEASED_LISTINGS

NOW = 1_760_000_000
# What a plan may scan whole: a constant, a subquery's or a CTE's few rows, the full-text index.
DERIVED = ("CONSTANT ROW", "(subquery-", "page", "pool", "w", "asked", "ranked")
# Partial indexes of a few rows each, read whole: the people whose representation of a
# municipality ended (the only owners of listings no longer theirs, RELEASED_LISTINGS).
FEW = ("ow USING INDEX users_who_left",)

Plan = list[tuple[int, int, str]]


@pytest.fixture
async def storage(tmp_path) -> AsyncIterator[Storage]:
    opened = await Storage.open(tmp_path / "plans.sqlite3")
    yield opened
    await opened.close()


async def plan(storage: Storage, sql: str, params: object = ()) -> Plan:
    rows = await storage._fetchall("EXPLAIN QUERY PLAN " + sql, params)  # type: ignore[arg-type]
    return [(row[0], row[1], row[3]) for row in rows]


def full_scans(steps: Plan, ordered: str | None = None) -> list[str]:
    """Reads of a whole stored table, or of a whole index, except the ``ordered`` index: one
    read in its order and stopped at a LIMIT (all of Europe, newest first)."""
    found = []
    for _id, _parent, detail in steps:
        if not detail.startswith("SCAN ") or "VIRTUAL TABLE" in detail:
            continue
        name = detail.removeprefix("SCAN ")
        if name.startswith(DERIVED) or (ordered and detail.endswith(f" INDEX {ordered}")):
            continue
        if name in FEW:
            continue
        found.append(detail)
    return found


def sorted_index_reads(steps: Plan) -> list[str]:
    """Sorts of rows read from an index (every match sorted), as opposed to sorting the few
    rows of a page or of a LIMITed slice, or ties within a date (RIGHT PART)."""
    found = []
    for _id, parent, detail in steps:
        if detail != "USE TEMP B-TREE FOR ORDER BY":
            continue
        siblings = [d for _i, p, d in steps if p == parent and d != detail]
        read = ("SEARCH l USING INDEX", "SCAN l USING INDEX", "SCAN listings_text VIRTUAL")
        if any(d.startswith(read) for d in siblings):
            found.append(f"sorts {siblings}")
    return found


def without_id_lists(steps: Plan) -> Plan:
    """The steps but those of ``x IN (SELECT ...)`` lists, read once per statement (the few
    unattended listings left out of browsing: see test_unattended_listings_are_read_from_few)."""
    dropped: set[int] = set()
    kept = []
    for step in steps:
        id_, parent, detail = step
        if detail.startswith("LIST SUBQUERY") or parent in dropped:
            dropped.add(id_)
        else:
            kept.append(step)
    return kept


def indexes_used(steps: Plan) -> set[str]:
    used = set()
    for _id, _parent, detail in steps:
        if " USING INDEX " in detail or " USING COVERING INDEX " in detail:
            used.add(detail.split(" INDEX ", 1)[1].split(" ")[0])
    return used


async def test_member_listing_and_update_lookups_use_keys(storage):
    # MEMBER_FOR_UPDATE reads the person's last handled update too (one statement per update).
    for sql in (MEMBER_BY_ID, MEMBER_FOR_UPDATE, LISTING_BY_ID):
        steps = await plan(storage, sql, (1,))
        assert not full_scans(steps), (sql, steps)


async def test_outbox_claim_and_due_rows_use_indexes(storage):
    due = await plan(storage, OUTBOX_DUE, (NOW, 100))
    # Read in priority and due-time order, stopped at the LIMIT.
    assert not full_scans(due, ordered="outbox_due") and "outbox_due" in indexes_used(due), due
    assert not sorted_index_reads(due), due
    for sql, params in ((OUTBOX_CLAIM, (1, NOW)), (OUTBOX_FINISH, ("sent", NOW, 5, None, 1))):
        steps = await plan(storage, sql, params)
        assert not full_scans(steps), (sql, steps)


AREAS = {
    "europe": {},
    "country": {"country": "FR"},
    "region": {"country": "FR", "region": "Grand Est"},
}


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("kind", [None, "offer"])
@pytest.mark.parametrize("category", [None, "equipment"])
@pytest.mark.parametrize("after", [None, (NOW - 60, 12345)])
async def test_browse_pages_read_an_index_in_date_order(storage, area, kind, category, after):
    query = SearchQuery(kind=kind, category=category, **AREAS[area])
    statements = search_statements(query, now=NOW, limit=5, after=after)
    assert statements is not None
    count, (page, params) = statements
    assert count is not None
    expected = {
        (None, "europe"): "listings_open_newest",
        (None, "country"): "listings_open_newest_in_country",
        (None, "region"): "listings_open_newest_in_region",
        ("equipment", "europe"): "listings_match_anywhere",
        ("equipment", "country"): "listings_match_country",
        ("equipment", "region"): "listings_match_region",
    }[(category, area)]
    for sql in (count[0], page):
        steps = await plan(storage, sql, params)
        assert not full_scans(steps, ordered=expected), steps
        assert not sorted_index_reads(steps), steps
        assert indexes_used(without_id_lists(steps)) == {expected}, steps


async def test_unattended_listings_are_read_from_few(storage):
    """The listings kept out of browsing, search and matching are found from the people whose
    representation ended (a partial index), then their own listings: never every listing of
    every municipality."""
    steps = await plan(storage, RELEASED_LISTINGS)
    assert not full_scans(steps), steps
    assert steps[0][2] == "SCAN ow USING INDEX users_who_left", steps
    assert "listings_by_owner" in indexes_used(steps), steps


async def test_word_search_and_near_use_the_text_and_position_indexes(storage):
    words = search_statements(SearchQuery(words="fire engine", kind="offer"), now=NOW)
    near = search_statements(SearchQuery(near=(48.58, 7.75), radius_km=50), now=NOW)
    assert words is not None and near is not None
    for statement in (*words, *near):
        if statement is None:  # a word search's page counts too
            continue
        steps = await plan(storage, *statement)
        assert not full_scans(steps), steps
    _count, (page, params) = near
    assert "listings_open_by_band" in indexes_used(await plan(storage, page, params))
    _count, (page, params) = words
    steps = await plan(storage, page, params)
    # The full-text index itself gives the newest matches first (no sort of every match).
    assert any("VIRTUAL TABLE INDEX" in d for _i, _p, d in steps) and not sorted_index_reads(steps)


@pytest.mark.parametrize("reach", ["municipality", "europe"])
@pytest.mark.parametrize("tags", [frozenset(), frozenset({"vehicles", "tools"})])
async def test_matching_candidates_read_bounded_index_slices(storage, reach, tags):
    subject = Features(
        id=1, owner_id=2, municipality_id=None, kind="offer", category="equipment", tags=tags,
        country="BG", region="Burgas", place="Sveti Vlas", latitude=42.7, longitude=27.76,
        reach=reach, language="bg", published_at=NOW,
    )  # fmt: skip
    # Reach bounds the slices (both listings must reach each other): the region for a
    # listing kept to its municipality; the country and Europe too for one reaching Europe.
    slices = {"listings_match_region"}
    if reach == "europe":
        slices |= {"listings_match_country", "listings_match_reach"}
    steps = await plan(storage, *candidates_statement(subject, NOW))
    assert not full_scans(steps), steps
    assert not sorted_index_reads(steps), steps
    assert indexes_used(steps) >= slices
    # Their vectors, as the pass reads them after a group's candidates: by listing id.
    steps = await plan(storage, *vectors_statement([3, 1, 2], "multilingual-e5-small"))
    assert not full_scans(steps), steps
    assert any("INTEGER PRIMARY KEY" in detail for _i, _p, detail in steps), steps


def test_the_checks_catch_what_they_are_for():
    """The two rules on plans SQLite printed for the slow shapes."""
    scan = [(2, 0, "SCAN l"), (5, 0, "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)")]
    assert full_scans(scan) == ["SCAN l"]
    whole_index = [(2, 0, "SCAN outbox USING INDEX outbox_due")]
    assert full_scans(whole_index) and not full_scans(whole_index, ordered="outbox_due")
    sort_all = [(3, 0, "SEARCH l USING INDEX listings_by_owner (owner_id=?)"),
                (9, 0, "USE TEMP B-TREE FOR ORDER BY")]  # fmt: skip
    assert sorted_index_reads(sort_all)
    every_match = [(4, 2, "SCAN listings_text VIRTUAL TABLE INDEX 0:M2"),
                   (9, 2, "USE TEMP B-TREE FOR ORDER BY")]  # fmt: skip
    assert sorted_index_reads(every_match)
    page = [(5, 3, "SCAN (subquery-1)"), (7, 3, "USE TEMP B-TREE FOR ORDER BY")]
    assert not sorted_index_reads(page) and not full_scans(page)


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("kind", [None, "offer"])
@pytest.mark.parametrize("categories", [(), ("equipment", "health")])
async def test_what_fits_a_new_alert_is_read_in_date_order(storage, area, kind, categories):
    """Saving an alert reads the newest candidates from an index in date order, stopped at
    the LIMIT, never every open listing of a kind sorted (seconds at a million listings)."""
    alert = Alert(
        id=1, user_id=2, kind=kind, categories=categories, tags=("doctor",) if categories else (),
        area=area, country=AREAS[area].get("country"), region=AREAS[area].get("region"),
        latitude=None, longitude=None, radius_km=None, keywords="pompe", frequency="instant",
        paused=False,
    )  # fmt: skip
    statement = fitting_statement(alert, NOW, 1000)
    assert statement is not None
    steps = await plan(storage, *statement)
    expected = {
        ((), "europe"): "listings_open_newest",
        ((), "country"): "listings_open_newest_in_country",
        ((), "region"): "listings_open_newest_in_region",
    }.get((categories, area), f"listings_match_{'anywhere' if area == 'europe' else area}")
    assert not full_scans(steps, ordered=expected), steps
    assert not sorted_index_reads(steps), steps
    assert expected in indexes_used(steps), steps


async def test_what_fits_an_alert_around_a_point_reads_its_box(storage):
    alert = Alert(
        id=1, user_id=2, kind=None, categories=(), tags=(), area="radius", country=None,
        region=None, latitude=48.3, longitude=6.9, radius_km=50, keywords="", frequency="daily",
        paused=False,
    )  # fmt: skip
    statement = fitting_statement(alert, NOW, 1000)
    assert statement is not None
    steps = await plan(storage, *statement)
    assert not full_scans(steps), steps
    assert "listings_open_by_band" in indexes_used(steps), steps


async def test_what_the_outbox_checks_at_sending_reads_by_key(storage):
    """A match card's and an alert hit's checks (a read each, for every one sent): the
    listings, the alert, the match and the reader's feedback are read by their keys. The
    one scan is owner_answers' revocations of a person (verification_requests, by user:
    no index for revoked rows, and every change of a listing reads it the same way)."""
    match = await plan(storage, MATCH_AT_SENDING, {"a": 1, "b": 2, "user": 3})
    assert full_scans(match) in ([], ["SCAN rv"]), match
    assert {"sqlite_autoindex_matches_1"} <= indexes_used(match), match
    assert any(d.startswith("SEARCH f USING PRIMARY KEY") for _i, _p, d in match), match
    hit = await plan(storage, HIT_AT_SENDING, {"alert": 1, "listing": 2})
    assert not full_scans(hit), hit
