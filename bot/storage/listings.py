"""Offers and requests: drafts, publishing, search, and each listing's life.

Who may change a listing is decided here, on every change, in the statement or transaction
that changes it: its owner, or a verified official of the municipality it was posted for
(belonging to a municipality is a claim; an admin's approval makes it a power). A forged
button names a listing; the query checks the person. Times are Unix seconds and every method
that depends on the time takes ``now``, so tests and jobs control the clock.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from bot.places.index import EARTH_RADIUS_KM, distance_km
from bot.storage.base import Database, Refused, fold, row_mapper
from bot.storage.vectors import StoredVector, write_vector
from bot.storage.verification import (
    not_unattended,
    on_listing_side,
    verified,
    verified_municipality,
)

DAY = 86_400

SAVE_DRAFT = """INSERT INTO drafts (user_id, data, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at"""


@dataclass(frozen=True)
class NewListing:
    """What the posting dialog hands over to publish."""

    kind: str
    category: str
    tags: tuple[str, ...]
    title: str
    description: str
    language: str
    country: str
    region: str
    place: str
    reach: str
    duration_days: int
    latitude: float | None = None
    longitude: float | None = None
    photo_file_id: str | None = None
    # The place's key in bot/places (named in each reader's language); None: typed.
    place_key: str | None = None


@dataclass(frozen=True)
class Listing:
    id: int
    owner_id: int
    municipality_id: int | None
    organisation_id: int | None
    kind: str
    category: str
    title: str
    description: str
    language: str
    country: str
    region: str
    place: str
    latitude: float | None
    longitude: float | None
    reach: str
    photo_file_id: str | None
    status: str
    outcome: str | None
    published_at: int
    expires_at: int
    status_changed_at: int
    views: int
    contacts: int
    author_role: str | None
    author_name: str | None  # the municipality's or organisation's name
    author_verified: bool
    tags: tuple[str, ...] = ()
    distance_km: float | None = None
    place_key: str | None = None

    def state(self, now: int) -> str:
        """open, expired, fulfilled, closed or hidden."""
        if self.status == "open" and self.expires_at <= now:
            return "expired"
        return self.status


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a listing's life: its status word ('open', 'edited', 'hidden'...), when,
    by whom (None: automatic, or the person was erased since), what about it ('moderator',
    the edited fields, the days renewed...), and that person's name and country now."""

    status: str
    at: int
    by_user: int | None
    detail: str | None
    by_name: str | None = None
    by_country: str | None = None


_history_entry = row_mapper(HistoryEntry)


@dataclass(frozen=True)
class SearchQuery:
    """Filters for browsing and search; None means any."""

    kind: str | None = None
    category: str | None = None
    country: str | None = None
    region: str | None = None
    words: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float = 50.0
    exclude_owner: int | None = None


class ListingRefused(Refused):
    """Why a person may not act on a listing: gone (no such listing, or hidden by a
    moderator), not_yours, left (its owner no longer represents the municipality it was
    posted for: it is the municipality's), closed or fulfilled (``at``: since when)."""


# The person :user may change the listing l: its owner while it is theirs (not once they no
# longer represent the municipality it was posted for), or a verified official of it.
_MANAGES = on_listing_side("l", ":user")


class PostingLimit(Exception):
    """The person has published their daily allowance; they may post again at ``next_at``."""

    def __init__(self, limit: int, next_at: int) -> None:
        super().__init__(f"{limit} listings a day; next at {next_at}")
        self.limit = limit
        self.next_at = next_at


_LISTING_COLUMNS = """
    l.id, l.owner_id, l.municipality_id, l.organisation_id, l.kind, l.category, l.title,
    l.description, l.language, l.country, l.region, l.place, l.latitude, l.longitude, l.reach,
    l.photo_file_id, l.status, l.outcome, l.published_at, l.expires_at, l.status_changed_at,
    l.views, l.contacts, u.role, COALESCE(m.name, o.name), l.author_verified,
    (SELECT group_concat(tag, ' ') FROM listing_tags t WHERE t.listing_id = l.id), l.place_key
"""
_LISTING_FROM = """
FROM listings l
JOIN users u ON u.id = l.owner_id
LEFT JOIN municipalities m ON m.id = l.municipality_id
LEFT JOIN organisations o ON o.id = l.organisation_id
"""


LISTING_WIDTH = 28  # the columns of _LISTING_COLUMNS: 26 fields, the tags, the place key


def _listing(row: aiosqlite.Row | tuple[Any, ...], distance: float | None = None) -> Listing:
    values: list[Any] = list(row[:26])
    tags = tuple(sorted((row[26] or "").split()))
    values[25] = bool(values[25])
    values += (tags, distance, row[27])  # the three fields that follow the 26 columns
    return Listing(*values)


def fts_query(words: str) -> str | None:
    """An FTS5 query matching every word (as a prefix), or None when nothing is searchable.

    Words are folded like the indexed text and quoted, so FTS syntax typed by a user (quotes,
    NEAR, *, -) is searched as text, never interpreted.
    """
    tokens = [token for token in re.split(r"[\W_]+", fold(words)) if token]
    if not tokens:
        return None
    return " ".join(f'"{token}"*' for token in tokens[:12])


def _bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * max(0.01, math.cos(math.radians(lat)))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
# A page near a point is first read from a circle this many times smaller (see
# ListingQueries._closest_within).
NEAR_FIRST = 8
# Near a point, listings are kept and ordered by the squared distance on a flat map scaled at
# the point's latitude (a few multiplications a row, where the great-circle formula took a
# dozen functions: every listing in the box is measured); within 200 km it is off by at most
# a few percent at the radius. The distance shown is the great circle's (distance_km).
_PLANAR_SQL = (
    "((l.latitude - :lat) * (l.latitude - :lat) "
    "+ (l.longitude - :lon) * (l.longitude - :lon) * :lon_scale)"
)


def _away(point: tuple[float, float], listing: Listing) -> float | None:
    if listing.latitude is None or listing.longitude is None:
        return None
    return distance_km(point[0], point[1], listing.latitude, listing.longitude)


LISTING_BY_ID = f"SELECT {_LISTING_COLUMNS} {_LISTING_FROM} WHERE l.id = ?"

# A count stops here: past it a page says "1,000+ results" (an exact count of a broad search
# reads every match; this reads at most COUNT_CAP + 1 index entries).
COUNT_CAP = 1000
NEWEST = "ORDER BY l.published_at DESC, l.id DESC"
# Browsing without a category: the area's listings newest first (migration 0009). With one:
# the matching indexes (0004), exactly that kind and category in the area, newest first.
_AREA_INDEXES = {
    "europe": "listings_open_newest",
    "country": "listings_open_newest_in_country",
    "region": "listings_open_newest_in_region",
}
_CATEGORY_INDEXES = {
    "europe": "listings_match_anywhere",
    "country": "listings_match_country",
    "region": "listings_match_region",
}

Statement = tuple[str, dict[str, Any]]


def page_key(listing: Listing) -> tuple[int, int]:
    """Where a page of newest-first results ends: the next page starts after this."""
    return listing.published_at, listing.id


def search_statements(
    query: SearchQuery,
    *,
    now: int,
    offset: int = 0,
    limit: int = 5,
    after: tuple[int, int] | None = None,
) -> tuple[Statement | None, Statement] | None:
    """The capped count and the page of :meth:`ListingQueries.search`, as SQL and parameters
    (the same text tests/test_query_plans.py explains); no count when the page counts too
    (words); None when words have nothing to search for.

    Newest-first pages read an index in date order and stop at the LIMIT (INDEXED BY: without
    statistics SQLite would rather filter by an equality and sort every match). Both kinds
    with a category are two ordered slices, merged. Words rank the newest COUNT_CAP + 1
    matches (:func:`_by_words`); near a point, every listing of the radius is measured (the
    page is first tried within a smaller circle: ListingQueries._closest_within).
    """
    where, params = search_filters(query, now)
    params.update(limit=limit, offset=offset, cap=COUNT_CAP + 1)
    if query.words is not None:
        match = fts_query(query.words)
        if match is None:
            return None
        params["match"] = match
        return _by_words(where, params)
    if query.near is not None:
        where += near_filters(query.near, query.radius_km, params)
        return _by_distance(where, params)
    return _newest(query, where, params, after)


def search_filters(query: SearchQuery, now: int) -> tuple[list[str], dict[str, Any]]:
    """The conditions (on ``listings l``) and parameters of a search's filters but its words
    and point: open, unexpired and attended (someone answers for it), category, country,
    region, owner left out, kind."""
    params: dict[str, Any] = {"now": now}
    where = ["l.status = 'open'", "l.expires_at > :now", not_unattended("l")]
    for column in ("category", "country", "region"):
        value = getattr(query, column)
        if value:
            where.append(f"l.{column} = :{column}")
            params[column] = value
    if query.exclude_owner is not None:
        where.append("l.owner_id != :exclude_owner")
        params["exclude_owner"] = query.exclude_owner
    if query.kind:
        where.append("l.kind = :kind")
        params["kind"] = query.kind
    return where, params


def near_filters(point: tuple[float, float], radius_km: float, params: dict[str, Any]) -> list[str]:
    """The conditions of "within ``radius_km`` of ``point``" (their parameters added to
    ``params``): the box's one-degree bands of latitude, each read over the box's longitudes
    only (listings_open_by_band), then the flat-map distance (:data:`_PLANAR_SQL`)."""
    lat, lon = point
    south, north, west, east = _bounding_box(lat, lon, radius_km)
    bands = range(int(south), int(north) + 1)
    params.update({f"band{n}": band for n, band in enumerate(bands)})
    marks = ", ".join(f":band{n}" for n in range(len(bands)))
    params.update(
        lat=lat, lon=lon, south=south, north=north, west=west, east=east,
        lon_scale=math.cos(math.radians(lat)) ** 2,
        reach=(radius_km / KM_PER_DEGREE) ** 2,
    )  # fmt: skip
    return [
        f"CAST(l.latitude AS INTEGER) IN ({marks})",
        "l.latitude BETWEEN :south AND :north",
        "l.longitude BETWEEN :west AND :east",
        f"{_PLANAR_SQL} <= :reach",
    ]


def _kind_filters(query: SearchQuery) -> list[str]:
    """One more condition per slice read: a category search over both kinds reads two slices
    (the kind itself, when chosen, is already among the conditions)."""
    if query.category and not query.kind:
        return ["l.kind = 'offer'", "l.kind = 'request'"]
    return ["1"]


# Every page statement picks its listings' ids first (CTE ``page``), then reads the columns and
# tags of those few only (the tags subquery would run for every candidate before a sort).
_COLUMNS_OF_PAGE = (
    f"SELECT {_LISTING_COLUMNS}, NULL FROM page JOIN listings l ON l.id = page.id "
    "JOIN users u ON u.id = l.owner_id "
    "LEFT JOIN municipalities m ON m.id = l.municipality_id "
    "LEFT JOIN organisations o ON o.id = l.organisation_id "
)


def _newest(
    query: SearchQuery,
    where: list[str],
    params: dict[str, Any],
    after: tuple[int, int] | None,
) -> tuple[Statement, Statement]:
    area = "region" if query.region and query.country else "country" if query.country else "europe"
    index = (_CATEGORY_INDEXES if query.category else _AREA_INDEXES)[area]
    source = f"listings l INDEXED BY {index}"
    kinds = _kind_filters(query)
    counts = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {condition} {NEWEST} LIMIT :cap))"
        for condition in (" AND ".join([*where, kind]) for kind in kinds)
    )
    if after is not None:  # the next page starts after the last one shown, not at an offset
        params.update(after_at=after[0], after_id=after[1], offset=0)
        where = [
            *where,
            "l.published_at <= :after_at",
            "(l.published_at, l.id) < (:after_at, :after_id)",
        ]
    slices = [" AND ".join([*where, kind]) for kind in kinds]
    ids = " UNION ALL ".join(
        f"SELECT * FROM (SELECT l.id, l.published_at FROM {source} WHERE {condition} {NEWEST} "
        "LIMIT :limit + :offset)"
        for condition in slices
    )
    page = (
        f"WITH page (id, published_at) AS ({ids} "
        "ORDER BY 2 DESC, 1 DESC LIMIT :limit OFFSET :offset) "
        f"{_COLUMNS_OF_PAGE} ORDER BY page.published_at DESC, page.id DESC"
    )
    return (f"SELECT min({counts}, :cap)", params), (page, params)


def _by_words(where: list[str], params: dict[str, Any]) -> tuple[None, Statement]:
    """The best text matches first (bm25) among the newest COUNT_CAP + 1 that pass the
    filters (the full-text index read newest first, stopped there: bm25 costs every match it
    ranks, and a common word is in tens of thousands of listings). One statement: the page,
    each row ending with how many were ranked (the capped count)."""
    ranked = (
        "SELECT l.id, bm25(listings_text), l.published_at "
        "FROM listings_text JOIN listings l ON l.id = listings_text.rowid "
        f"WHERE listings_text MATCH :match AND {' AND '.join(where)} "
        "ORDER BY listings_text.rowid DESC LIMIT :cap"
    )
    page = (
        f"WITH ranked (id, score, published_at) AS ({ranked}), "
        "page (id, score, published_at, total) AS ("
        "SELECT *, (SELECT count(*) FROM ranked) FROM ranked "
        "ORDER BY score, published_at DESC LIMIT :limit OFFSET :offset) "
        f"{_COLUMNS_OF_PAGE.replace(', NULL FROM page', ', NULL, page.total FROM page')} "
        "ORDER BY page.score, page.published_at DESC"
    )
    return None, (page, params)


def _by_distance(where: list[str], params: dict[str, Any]) -> tuple[Statement, Statement]:
    """The closest first: every open listing in the radius is measured, then one page read."""
    source = f"FROM listings l INDEXED BY listings_open_by_band WHERE {' AND '.join(where)}"
    count = f"SELECT count(*) FROM (SELECT 1 {source} LIMIT :cap)"
    page = (
        f"WITH page (id, away, published_at) AS (SELECT l.id, {_PLANAR_SQL}, l.published_at "
        f"{source} ORDER BY 2, 3 DESC LIMIT :limit OFFSET :offset) "
        f"{_COLUMNS_OF_PAGE} ORDER BY page.away, page.published_at DESC"
    )
    return (count, params), (page, params)


class ListingQueries(Database):
    # --- drafts ----------------------------------------------------------------------------

    async def save_draft(self, user_id: int, data: dict[str, Any], now: int) -> None:
        """Write the posting dialog's answers so far (a dialog step writes it together with
        its checkpoint instead: PersistenceQueries.save_dialog_step)."""
        await self._write((SAVE_DRAFT, (user_id, json.dumps(data), now)))

    async def get_draft(self, user_id: int) -> dict[str, Any] | None:
        row = await self._fetchone("SELECT data FROM drafts WHERE user_id = ?", (user_id,))
        return json.loads(row[0]) if row else None

    async def delete_draft(self, user_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    # --- publishing ------------------------------------------------------------------------

    async def posting_allowance(self, user_id: int, now: int, daily_limit: int) -> int:
        """When the person may publish next: ``now`` if they may now, else a later time."""
        recent = await self._first_column(
            """SELECT published_at FROM listings WHERE owner_id = ? AND published_at > ?
               ORDER BY published_at""",
            (user_id, now - DAY),
        )
        if len(recent) < daily_limit:
            return now
        return int(recent[len(recent) - daily_limit]) + DAY

    async def publish(
        self,
        user_id: int,
        new: NewListing,
        *,
        now: int,
        daily_limit: int,
        vector: StoredVector | None = None,
    ) -> Listing | None:
        """Publish the person's draft as a listing, in one transaction with deleting the draft
        and storing the vector of its text (None: it could not be made; the listing is queued
        for the background job). The listing keeps the badge its author has now, as a verified
        official of the municipality it is posted for (a later move or revocation does not
        change it).

        Returns None when there is no draft any more (already published: a second tap on
        Publish); raises :class:`PostingLimit` when the daily allowance is used up.
        """
        async with self.transaction() as db:
            async with db.execute("SELECT 1 FROM drafts WHERE user_id = ?", (user_id,)) as cur:
                if await cur.fetchone() is None:
                    return None
            async with db.execute(
                "SELECT count(*), min(published_at) FROM listings "
                "WHERE owner_id = ? AND published_at > ?",
                (user_id, now - DAY),
            ) as cur:
                (recent, _oldest) = await cur.fetchone()  # type: ignore[misc]
            if recent >= daily_limit:
                next_at = await self.posting_allowance(user_id, now, daily_limit)
                raise PostingLimit(daily_limit, next_at)
            async with db.execute(
                f"""INSERT INTO listings (owner_id, municipality_id, organisation_id, kind,
                       category, title, description, language, country, region, place,
                       latitude, longitude, reach, photo_file_id, published_at, expires_at,
                       status_changed_at, place_key, author_verified)
                   SELECT id, municipality_id, organisation_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                          ?, ?, ?, ?, ?, {verified("u")}
                   FROM users u WHERE id = ?
                   RETURNING id""",
                (
                    new.kind,
                    new.category,
                    new.title,
                    new.description,
                    new.language,
                    new.country,
                    new.region,
                    new.place,
                    new.latitude,
                    new.longitude,
                    new.reach,
                    new.photo_file_id,
                    now,
                    now + new.duration_days * DAY,
                    now,
                    new.place_key,
                    user_id,
                ),
            ) as cur:
                (listing_id,) = await cur.fetchone()  # type: ignore[misc]
            await db.executemany(
                "INSERT INTO listing_tags (listing_id, tag) VALUES (?, ?)",
                [(listing_id, tag) for tag in sorted(set(new.tags))],
            )
            await db.execute(
                "INSERT INTO listings_text (rowid, title, description) VALUES (?, ?, ?)",
                (listing_id, fold(new.title), fold(new.description)),
            )
            await write_vector(db, listing_id, vector)
            await self._history(db, listing_id, "open", now, user_id)
            await db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
        return await self.get_listing(listing_id)

    @staticmethod
    async def _history(
        db: aiosqlite.Connection,
        listing_id: int,
        status: str,
        now: int,
        by_user: int | None,
        detail: str | None = None,
    ) -> None:
        await db.execute(
            "INSERT INTO listing_history (listing_id, status, at, by_user, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (listing_id, status, now, by_user, detail),
        )

    # --- reading ---------------------------------------------------------------------------

    async def get_listing(self, listing_id: int) -> Listing | None:
        return await self._record(_listing, LISTING_BY_ID, (listing_id,))

    async def record_view(self, listing_id: int, viewer_id: int, now: int) -> None:
        """Count a person once as a viewer (owners viewing their own listing do not count)."""
        async with self.transaction() as db:
            async with db.execute(
                """INSERT INTO listing_views (listing_id, viewer_id, seen_at)
                   SELECT id, ?, ? FROM listings WHERE id = ? AND owner_id != ?
                   ON CONFLICT DO NOTHING""",
                (viewer_id, now, listing_id, viewer_id),
            ) as cur:
                counted = cur.rowcount
            if counted:
                await db.execute(
                    "UPDATE listings SET views = views + 1 WHERE id = ?", (listing_id,)
                )

    async def history(self, listing_id: int) -> list[HistoryEntry]:
        """The listing's life, the oldest first."""
        return await self._records(
            _history_entry,
            """SELECT h.status, h.at, h.by_user, h.detail, u.first_name, u.country
               FROM listing_history h LEFT JOIN users u ON u.id = h.by_user
               WHERE h.listing_id = ? ORDER BY h.id""",
            (listing_id,),
        )

    async def search(
        self,
        query: SearchQuery,
        *,
        now: int,
        offset: int = 0,
        limit: int = 5,
        after: tuple[int, int] | None = None,
    ) -> tuple[list[Listing], int]:
        """Open, unexpired listings matching ``query``: one page, and how many there are, up to
        ``COUNT_CAP`` (``COUNT_CAP + 1`` means more than that).

        With words, the best text matches come first (bm25); near a point, the closest;
        otherwise the newest, and ``after`` (the last shown listing's ``page_key``) gives the
        next page from an index instead of ``offset`` (see :func:`search_statements`).
        """
        statements = search_statements(query, now=now, offset=offset, limit=limit, after=after)
        if statements is None:
            return [], 0
        count, (page_sql, params) = statements
        if count is not None:
            (total,) = await self._fetchone(*count)  # type: ignore[misc]
        rows = None
        if query.near is not None:
            rows = await self._closest_within(query, now=now, offset=offset, limit=limit)
        if rows is None:
            rows = await self._fetchall(page_sql, params)
        if count is None:  # counted by the page itself, after its columns (see _by_words)
            total = rows[0][29] if rows else 0
        found = [_listing(row) for row in rows]
        if query.near is not None:
            found = [replace(x, distance_km=_away(query.near, x)) for x in found]
        return found, int(total)

    async def _closest_within(
        self, query: SearchQuery, *, now: int, offset: int, limit: int
    ) -> list[aiosqlite.Row] | None:
        """The page of a search near a point, read from a circle NEAR_FIRST times smaller
        when that one holds the whole page (then nothing outside it can be closer), so that a
        crowded city does not measure and sort every listing of the radius; None otherwise."""
        inner = replace(query, radius_km=query.radius_km / NEAR_FIRST)
        statements = search_statements(inner, now=now, offset=offset, limit=limit)
        assert statements is not None
        rows = await self._fetchall(*statements[1])
        return rows if len(rows) == limit else None

    async def listings_of(self, user_id: int) -> list[Listing]:
        """The person's listings and, if they are its verified official, their
        municipality's, newest first, in any state."""
        listings, _gone = await self.listed_for(user_id)
        return listings

    async def listed_for(self, user_id: int) -> tuple[list[Listing], set[int]]:
        """:meth:`listings_of`, and the ids among them of the person's own listings that are
        no longer theirs to act on (posted for a municipality they no longer represent: the
        municipality's now), in one read."""
        rows = await self._fetchall(
            # IS NOT 1: NULL (someone who is nobody's verified official) is not a yes either.
            f"""SELECT {_LISTING_COLUMNS}, l.owner_id = :user AND ({_MANAGES}) IS NOT 1
                {_LISTING_FROM}
                WHERE l.owner_id = :user
                   OR l.municipality_id = {verified_municipality(":user")}
                ORDER BY l.published_at DESC, l.id DESC
                LIMIT 100""",
            {"user": user_id},
        )
        gone = {row[0] for row in rows if row[LISTING_WIDTH]}
        return [_listing(row) for row in rows], gone

    # --- changing a listing -----------------------------------------------------------------

    async def manageable_listing(self, listing_id: int, user_id: int) -> Listing | None:
        """The listing if this person may change it (see :data:`_MANAGES`), unless hidden."""
        return await self._record(
            _listing,
            f"""SELECT {_LISTING_COLUMNS} {_LISTING_FROM}
                WHERE l.id = :id AND l.status != 'hidden' AND {_MANAGES}""",
            {"id": listing_id, "user": user_id},
        )

    async def listing_to_manage(self, listing_id: int, user_id: int) -> Listing:
        """The listing an owner's button names, while it may still change (open, or expired:
        it may be renewed), or :class:`ListingRefused` saying why not, at the first tap."""
        listing = await self.manageable_listing(listing_id, user_id)
        if listing is None:
            found = await self.get_listing(listing_id)
            if found is None or found.status == "hidden":
                raise ListingRefused("gone")
            raise ListingRefused("left" if found.owner_id == user_id else "not_yours")
        if listing.status in ("closed", "fulfilled"):
            raise ListingRefused(listing.status, listing.status_changed_at)
        return listing

    @staticmethod
    async def _may_change(
        db: aiosqlite.Connection, listing_id: int, user_id: int, now: int, *, unexpired: bool
    ) -> bool:
        """Inside the changing transaction: the listing is open (and not expired, if
        ``unexpired``) and the person may change it."""
        expiry = "AND l.expires_at > :now" if unexpired else ""
        async with db.execute(
            f"SELECT 1 FROM listings l WHERE l.id = :id AND l.status = 'open' {expiry} "
            f"AND {_MANAGES}",
            {"id": listing_id, "user": user_id, "now": now},
        ) as cursor:
            return await cursor.fetchone() is not None

    @property
    def texts_version(self) -> int:
        """Counts edits of published listings' texts made through this connection: the
        matching pass keeps candidates' texts and vectors until it changes
        (bot.matching.matcher.Lookups). Vectors the job stores need no count: a listing
        without one of the model is never kept, and is read again until it has one."""
        return int(getattr(self, "_texts_version", 0))

    def _texts_changed(self) -> None:
        self._texts_version = self.texts_version + 1

    async def edit_listing(
        self,
        listing_id: int,
        user_id: int,
        changes: dict[str, Any],
        *,
        now: int,
        vector: tuple[str, str, StoredVector] | None = None,
    ) -> Listing | None:
        """Change fields of an open listing; None if the person may not or it is not open.

        ``changes`` keys: title, description, language, category and tags, country/region/
        place/place_key/latitude/longitude, reach, photo_file_id. ``vector``: when the title or
        description changes, the title and description it was made of and the vector, stored
        in the same transaction if that is the text the listing now has (another edit may
        have been committed while it was embedded); else, or None, the listing is queued.
        """
        editable = {
            "title", "description", "language", "category", "country", "region", "place",
            "place_key", "latitude", "longitude", "reach", "photo_file_id",
        }  # fmt: skip
        unknown = set(changes) - editable - {"tags"}
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        columns = {name: value for name, value in changes.items() if name in editable}
        async with self.transaction() as db:
            if not await self._may_change(db, listing_id, user_id, now, unexpired=True):
                return None
            if columns:
                assignments = ", ".join(f"{name} = :{name}" for name in columns)
                await db.execute(
                    f"UPDATE listings SET {assignments} WHERE id = :id",
                    {**columns, "id": listing_id},
                )
            if "tags" in changes:
                await db.execute("DELETE FROM listing_tags WHERE listing_id = ?", (listing_id,))
                await db.executemany(
                    "INSERT INTO listing_tags (listing_id, tag) VALUES (?, ?)",
                    [(listing_id, tag) for tag in sorted(set(changes["tags"]))],
                )
            if "title" in changes or "description" in changes:
                await _text_edited(db, listing_id, vector)
            await self._history(db, listing_id, "edited", now, user_id, ",".join(sorted(changes)))
        if "title" in changes or "description" in changes:
            self._texts_changed()
        return await self.get_listing(listing_id)

    async def close_listing(
        self, listing_id: int, user_id: int, *, fulfilled: bool, outcome: str | None, now: int
    ) -> Listing | None:
        """Close an open (or expired) listing as fulfilled or not; None if not allowed."""
        status = "fulfilled" if fulfilled else "closed"
        async with self.transaction() as db:
            if not await self._may_change(db, listing_id, user_id, now, unexpired=False):
                return None
            await db.execute(
                "UPDATE listings SET status = ?, outcome = ?, status_changed_at = ? "
                "WHERE id = ? AND status = 'open'",
                (status, outcome, now, listing_id),
            )
            await self._history(db, listing_id, status, now, user_id, outcome)
        return await self.get_listing(listing_id)

    async def renew_listing(
        self, listing_id: int, user_id: int, *, days: int, now: int
    ) -> Listing | None:
        """Keep a listing open ``days`` more days from now (also reopens an expired one)."""
        async with self.transaction() as db:
            if not await self._may_change(db, listing_id, user_id, now, unexpired=False):
                return None
            await db.execute(
                "UPDATE listings SET expires_at = ?, status_changed_at = ? WHERE id = ?",
                (now + days * DAY, now, listing_id),
            )
            await self._history(db, listing_id, "renewed", now, user_id, str(days))
        return await self.get_listing(listing_id)


async def _text_edited(
    db: aiosqlite.Connection, listing_id: int, vector: tuple[str, str, StoredVector] | None
) -> None:
    """Inside the editing transaction: the words searched and the vector follow the text as
    it now reads, read here rather than before the transaction, where another edit of the
    other field may not yet have been committed."""
    async with db.execute(
        "SELECT title, description FROM listings WHERE id = ?", (listing_id,)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # _may_change found it in this transaction
    title, description = row
    await db.execute(
        "UPDATE listings_text SET title = ?, description = ? WHERE rowid = ?",
        (fold(title), fold(description), listing_id),
    )
    current = vector is not None and (vector[0], vector[1]) == (title, description)
    await write_vector(db, listing_id, vector[2] if vector is not None and current else None)
