"""Offers and requests: drafts, publishing, search, and each listing's life.

Who may change a listing is decided here, on every change: its owner, or another official of
the municipality it was posted for. A forged button names a listing; the query checks the
person. Times are Unix seconds and every method that depends on the time takes ``now``, so
tests and jobs control the clock.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.storage.base import Database, fold
from bot.storage.vectors import StoredVector, write_vector

DAY = 86_400
EARTH_RADIUS_KM = 6371.0088


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

    def state(self, now: int) -> str:
        """open, expired, fulfilled, closed or hidden."""
        if self.status == "open" and self.expires_at <= now:
            return "expired"
        return self.status


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
    l.views, l.contacts, u.role, COALESCE(m.name, o.name), m.verified_at IS NOT NULL,
    (SELECT group_concat(tag, ' ') FROM listing_tags t WHERE t.listing_id = l.id)
"""
_LISTING_FROM = """
FROM listings l
JOIN users u ON u.id = l.owner_id
LEFT JOIN municipalities m ON m.id = l.municipality_id
LEFT JOIN organisations o ON o.id = l.organisation_id
"""


def _listing(row: aiosqlite.Row | tuple[Any, ...], distance: float | None = None) -> Listing:
    values = list(row[:26])
    tags = tuple(sorted((row[26] or "").split()))
    values[25] = bool(values[25])
    return Listing(*values, tags=tags, distance_km=distance)


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


_DISTANCE_SQL = (
    "(2 * 6371.0088 * asin(min(1, sqrt("
    "pow(sin(radians(l.latitude - :lat) / 2), 2) + "
    "cos(radians(:lat)) * cos(radians(l.latitude)) * "
    "pow(sin(radians(l.longitude - :lon) / 2), 2)))))"
)


def search_filters(query: SearchQuery, now: int) -> tuple[list[str], dict[str, Any]]:
    """The conditions (on ``listings l``) and parameters of a search's filters, words aside:
    open and unexpired, kind, category, country, region, owner, and near a point."""
    where = ["l.status = 'open'", "l.expires_at > :now"]
    params: dict[str, Any] = {"now": now}
    for column in ("kind", "category", "country", "region"):
        value = getattr(query, column)
        if value:
            where.append(f"l.{column} = :{column}")
            params[column] = value
    if query.exclude_owner is not None:
        where.append("l.owner_id != :exclude_owner")
        params["exclude_owner"] = query.exclude_owner
    if query.near is not None:
        lat, lon = query.near
        south, north, west, east = _bounding_box(lat, lon, query.radius_km)
        where.append("l.latitude BETWEEN :south AND :north")
        where.append("l.longitude BETWEEN :west AND :east")
        where.append(f"{_DISTANCE_SQL} <= :radius")
        params.update(
            lat=lat, lon=lon, south=south, north=north, west=west, east=east,
            radius=query.radius_km,
        )  # fmt: skip
    return where, params


class ListingQueries(Database):
    # --- drafts ----------------------------------------------------------------------------

    async def save_draft(self, user_id: int, data: dict[str, Any], now: int) -> None:
        """Write the posting dialog's answers so far; called as each step is answered."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO drafts (user_id, data, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET
                       data = excluded.data, updated_at = excluded.updated_at""",
                (user_id, json.dumps(data), now),
            )

    async def get_draft(self, user_id: int) -> dict[str, Any] | None:
        row = await self._fetchone("SELECT data FROM drafts WHERE user_id = ?", (user_id,))
        return json.loads(row[0]) if row else None

    async def delete_draft(self, user_id: int) -> None:
        async with self.transaction() as db:
            await db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    # --- publishing ------------------------------------------------------------------------

    async def posting_allowance(self, user_id: int, now: int, daily_limit: int) -> int:
        """When the person may publish next: ``now`` if they may now, else a later time."""
        async with self._db.execute(
            """SELECT published_at FROM listings WHERE owner_id = ? AND published_at > ?
               ORDER BY published_at""",
            (user_id, now - DAY),
        ) as cursor:
            recent = [row[0] for row in await cursor.fetchall()]
        if len(recent) < daily_limit:
            return now
        return recent[len(recent) - daily_limit] + DAY

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
        for the background job).

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
                """INSERT INTO listings (owner_id, municipality_id, organisation_id, kind,
                       category, title, description, language, country, region, place,
                       latitude, longitude, reach, photo_file_id, published_at, expires_at,
                       status_changed_at)
                   SELECT id, municipality_id, organisation_id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                          ?, ?, ?, ?
                   FROM users WHERE id = ?
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
        row = await self._fetchone(
            f"SELECT {_LISTING_COLUMNS} {_LISTING_FROM} WHERE l.id = ?", (listing_id,)
        )
        return _listing(row) if row else None

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

    async def history(self, listing_id: int) -> list[tuple[str, int, int | None, str | None]]:
        rows = await self._fetchall(
            "SELECT status, at, by_user, detail FROM listing_history "
            "WHERE listing_id = ? ORDER BY id",
            (listing_id,),
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    async def search(
        self, query: SearchQuery, *, now: int, offset: int = 0, limit: int = 5
    ) -> tuple[list[Listing], int]:
        """Open, unexpired listings matching ``query``: one page, and how many there are.

        With words, the best text matches come first (bm25); near a point, the closest;
        otherwise the newest.
        """
        where, params = search_filters(query, now)
        params.update(limit=limit, offset=offset)
        joins = ""
        order = "l.published_at DESC, l.id DESC"
        if query.words is not None:
            match = fts_query(query.words)
            if match is None:
                return [], 0
            joins = "JOIN listings_text ON listings_text.rowid = l.id"
            where.append("listings_text MATCH :match")
            params["match"] = match
            order = "bm25(listings_text), l.published_at DESC"
        distance = "NULL"
        if query.near is not None:
            distance = _DISTANCE_SQL
            order = f"{_DISTANCE_SQL}, l.published_at DESC"
        condition = " AND ".join(where)
        (total,) = await self._fetchone(  # type: ignore[misc]
            f"SELECT count(*) FROM listings l {joins} WHERE {condition}", params
        )
        rows = await self._fetchall(
            f"SELECT {_LISTING_COLUMNS}, {distance} {_LISTING_FROM} {joins} "
            f"WHERE {condition} ORDER BY {order} LIMIT :limit OFFSET :offset",
            params,
        )
        return [_listing(row, row[27]) for row in rows], int(total)

    async def listings_of(self, user_id: int) -> list[Listing]:
        """The person's listings and their municipality's, newest first, in any state."""
        rows = await self._fetchall(
            f"""SELECT {_LISTING_COLUMNS} {_LISTING_FROM}
                WHERE l.owner_id = :user
                   OR l.municipality_id = (SELECT municipality_id FROM users WHERE id = :user)
                ORDER BY l.published_at DESC, l.id DESC
                LIMIT 100""",
            {"user": user_id},
        )
        return [_listing(row) for row in rows]

    # --- changing a listing -----------------------------------------------------------------

    async def manageable_listing(self, listing_id: int, user_id: int) -> Listing | None:
        """The listing if this person may change it (owner or official of its municipality)."""
        listing = await self.get_listing(listing_id)
        if listing is None or listing.status == "hidden":
            return None
        if listing.owner_id == user_id:
            return listing
        row = await self._fetchone("SELECT municipality_id FROM users WHERE id = ?", (user_id,))
        if row and row[0] is not None and row[0] == listing.municipality_id:
            return listing
        return None

    async def edit_listing(
        self,
        listing_id: int,
        user_id: int,
        changes: dict[str, Any],
        *,
        now: int,
        vector: StoredVector | None = None,
    ) -> Listing | None:
        """Change fields of an open listing; None if the person may not or it is not open.

        ``changes`` keys: title, description, category and tags, country/region/place/
        latitude/longitude, reach, photo_file_id. ``vector``: of the new text, when the title
        or description changes (stored in the same transaction; None queues the listing).
        """
        editable = {
            "title", "description", "category", "country", "region", "place", "latitude",
            "longitude", "reach", "photo_file_id",
        }  # fmt: skip
        unknown = set(changes) - editable - {"tags"}
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        listing = await self.manageable_listing(listing_id, user_id)
        if listing is None or listing.state(now) != "open":
            return None
        columns = {name: value for name, value in changes.items() if name in editable}
        async with self.transaction() as db:
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
                await db.execute(
                    "UPDATE listings_text SET title = ?, description = ? WHERE rowid = ?",
                    (
                        fold(changes.get("title", listing.title)),
                        fold(changes.get("description", listing.description)),
                        listing_id,
                    ),
                )
                await write_vector(db, listing_id, vector)
            await self._history(db, listing_id, "edited", now, user_id, ",".join(sorted(changes)))
        return await self.get_listing(listing_id)

    async def close_listing(
        self, listing_id: int, user_id: int, *, fulfilled: bool, outcome: str | None, now: int
    ) -> Listing | None:
        """Close an open (or expired) listing as fulfilled or not; None if not allowed."""
        listing = await self.manageable_listing(listing_id, user_id)
        if listing is None or listing.status != "open":
            return None
        status = "fulfilled" if fulfilled else "closed"
        async with self.transaction() as db:
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
        listing = await self.manageable_listing(listing_id, user_id)
        if listing is None or listing.status != "open":
            return None
        async with self.transaction() as db:
            await db.execute(
                "UPDATE listings SET expires_at = ?, status_changed_at = ? WHERE id = ?",
                (now + days * DAY, now, listing_id),
            )
            await self._history(db, listing_id, "renewed", now, user_id, str(days))
        return await self.get_listing(listing_id)
