"""Saved searches (alerts) and each person's notification settings.

Who may change an alert is checked here, on every change: only the person who saved it. A
forged button names an alert; the query checks the person.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.delivery.timing import Preferences
from bot.places.timezones import zone_of
from bot.storage.base import Database, changed_one, row_mapper, space_separated
from bot.storage.listings import (
    _AREA_INDEXES,
    _CATEGORY_INDEXES,
    _COLUMNS_OF_PAGE,
    NEWEST,
    Listing,
    Statement,
    _listing,
    near_filters,
)
from bot.storage.verification import not_unattended

AREAS = ("region", "country", "europe", "radius")
MAX_ALERTS = 20


def fitting_statement(alert: Alert, now: int, scan: int) -> Statement | None:
    """What may fit a new alert, as SQL (tests/test_query_plans.py explains it): the newest
    ``scan`` listings, read as browsing reads them, from an index in date order stopped at
    the LIMIT (with categories: one slice per kind and category, merged), so that saving an
    alert among a million listings reads a few thousand index entries, not every open
    listing of a kind. Around a point: the box's listings (a few) sorted. None for a radius
    alert without its point."""
    params: dict[str, Any] = {"now": now, "user": alert.user_id, "scan": scan}
    where = [
        "l.status = 'open'",
        "l.expires_at > :now",
        "l.matched_at IS NOT NULL",
        "l.owner_id != :user",
        not_unattended("l"),
    ]
    if alert.tags:
        params.update({f"tag{n}": tag for n, tag in enumerate(alert.tags)})
        marks = ", ".join(f":tag{n}" for n in range(len(alert.tags)))
        where.append(
            "EXISTS (SELECT 1 FROM listing_tags t "
            f"WHERE t.listing_id = l.id AND t.tag IN ({marks}))"
        )
    area = "europe"
    if alert.area in ("country", "region"):
        where.append("l.country = :country")
        params["country"] = alert.country
        area = "country"
    if alert.area == "region":
        where.append("l.region = :region")
        params["region"] = alert.region
        area = "region"
    if alert.kind:
        where.append("l.kind = :kind")
        params["kind"] = alert.kind
    slices: list[str] = ["1"]
    if alert.area == "radius":
        if alert.latitude is None or alert.longitude is None or alert.radius_km is None:
            return None
        # The box only (a superset of the circle): the exact distance is the pass's rule.
        where += near_filters((alert.latitude, alert.longitude), alert.radius_km, params)[:3]
        if alert.categories:
            params.update({f"category{n}": key for n, key in enumerate(alert.categories)})
            marks = ", ".join(f":category{n}" for n in range(len(alert.categories)))
            where.append(f"l.category IN ({marks})")
        source = "listings l INDEXED BY listings_open_by_band"
    elif alert.categories:
        source = f"listings l INDEXED BY {_CATEGORY_INDEXES[area]}"
        # Each (kind, category) is a slice of the index in date order; an alert's own kind is
        # already among the conditions.
        kinds = ["1"] if alert.kind else ["l.kind = 'offer'", "l.kind = 'request'"]
        params.update({f"category{n}": key for n, key in enumerate(alert.categories)})
        slices = [
            f"{kind} AND l.category = :category{n}"
            for kind in kinds
            for n in range(len(alert.categories))
        ]
    else:
        source = f"listings l INDEXED BY {_AREA_INDEXES[area]}"
    ids = " UNION ALL ".join(
        f"SELECT * FROM (SELECT l.id, l.published_at FROM {source} "
        f"WHERE {' AND '.join([*where, condition])} {NEWEST} LIMIT :scan)"
        for condition in slices
    )
    # The text of the chosen few only: joined in the plan, the full-text table was read first.
    text = "(SELECT x.title || ' ' || x.description FROM listings_text x WHERE x.rowid = l.id)"
    page = (
        f"WITH page (id, published_at) AS ({ids} ORDER BY 2 DESC, 1 DESC LIMIT :scan) "
        f"{_COLUMNS_OF_PAGE.replace(', NULL FROM page', f', NULL, {text} FROM page')} "
        "ORDER BY page.published_at DESC, page.id DESC"
    )
    return page, params


@dataclass(frozen=True)
class Alert:
    """A saved search. Empty tuples and strings mean "any"."""

    id: int
    user_id: int
    kind: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    area: str
    country: str | None
    region: str | None
    latitude: float | None
    longitude: float | None
    radius_km: float | None
    keywords: str
    frequency: str
    paused: bool


@dataclass(frozen=True)
class AlertDraft:
    """What the alert dialog hands over to save."""

    kind: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    area: str
    country: str | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    keywords: str = ""
    frequency: str = "instant"


_ALERT = """
SELECT id, user_id, kind, categories, tags, area, country, region, latitude, longitude,
       radius_km, keywords, frequency, paused FROM alerts
"""


_alert = row_mapper(Alert, categories=space_separated, tags=space_separated)


class AlertQueries(Database):
    # --- alerts ----------------------------------------------------------------------------

    async def alerts_of(self, user_id: int) -> list[Alert]:
        return await self._records(_alert, _ALERT + "WHERE user_id = ? ORDER BY id", (user_id,))

    async def get_alert(self, alert_id: int) -> Alert | None:
        return await self._record(_alert, _ALERT + "WHERE id = ?", (alert_id,))

    async def own_alert(self, alert_id: int, user_id: int) -> Alert | None:
        return await self._record(
            _alert, _ALERT + "WHERE id = ? AND user_id = ?", (alert_id, user_id)
        )

    async def save_alert(
        self, user_id: int, draft: AlertDraft, *, now: int, alert_id: int | None = None
    ) -> Alert | None:
        """Create an alert, or replace an existing one of this person's (``alert_id``).
        None when the alert is not theirs (any more) or they have too many."""
        values = {
            "user": user_id,
            "kind": draft.kind,
            "categories": " ".join(sorted(set(draft.categories))),
            "tags": " ".join(sorted(set(draft.tags))),
            "area": draft.area,
            "country": draft.country,
            "region": draft.region,
            "latitude": draft.latitude,
            "longitude": draft.longitude,
            "radius": draft.radius_km,
            "keywords": draft.keywords,
            "frequency": draft.frequency,
            "now": now,
            "id": alert_id,
        }
        async with self.transaction() as db:
            if alert_id is None:
                async with db.execute(
                    f"""INSERT INTO alerts (user_id, kind, categories, tags, area, country,
                            region, latitude, longitude, radius_km, keywords, frequency,
                            created_at, updated_at)
                        SELECT :user, :kind, :categories, :tags, :area, :country, :region,
                               :latitude, :longitude, :radius, :keywords, :frequency, :now, :now
                        WHERE (SELECT count(*) FROM alerts WHERE user_id = :user) < {MAX_ALERTS}
                        RETURNING id""",
                    values,
                ) as cursor:
                    row = await cursor.fetchone()
                if row is None:
                    return None
                alert_id = row[0]
            else:
                if not await changed_one(
                    db,
                    """UPDATE alerts SET kind = :kind, categories = :categories, tags = :tags,
                           area = :area, country = :country, region = :region,
                           latitude = :latitude, longitude = :longitude, radius_km = :radius,
                           keywords = :keywords, frequency = :frequency, updated_at = :now
                       WHERE id = :id AND user_id = :user""",
                    values,
                ):
                    return None
        self._alerts_changed()
        return await self.get_alert(alert_id)

    async def set_alert_paused(
        self, alert_id: int, user_id: int, paused: bool, now: int
    ) -> Alert | None:
        async with self.transaction() as db:
            if not await changed_one(
                db,
                "UPDATE alerts SET paused = ?, updated_at = ? WHERE id = ? AND user_id = ?",
                (int(paused), now, alert_id, user_id),
            ):
                return None
        self._alerts_changed()
        return await self.get_alert(alert_id)

    async def delete_alert(self, alert_id: int, user_id: int) -> bool:
        async with self.transaction() as db:
            deleted = await changed_one(
                db, "DELETE FROM alerts WHERE id = ? AND user_id = ?", (alert_id, user_id)
            )
        self._alerts_changed()
        return deleted

    async def open_listings_for(
        self, alert: Alert, *, now: int, scan: int
    ) -> list[tuple[Listing, str]]:
        """Open listings of others that may fit ``alert``, newest first, at most ``scan``,
        each with its folded title and description: everything the alert asks but its words
        (and, around a point, the exact distance), which
        :func:`bot.matching.fitting.already_fitting` checks as the matching pass does.
        Listings the pass has not matched yet are left out: it will tell about them as new."""
        statement = fitting_statement(alert, now, scan)
        if statement is None:
            return []
        rows = await self._fetchall(*statement)
        return [(_listing(row), row[29] or "") for row in rows]

    async def active_alerts(self) -> list[Alert]:
        """Every alert that is on, of people who have not blocked the bot and are not banned:
        the matching pass keeps them in memory, by category, until :attr:`alerts_version`
        changes or a minute passes (a hit queued meanwhile for someone banned since is
        dropped when sent)."""
        return await self._records(
            _alert,
            _ALERT
            + """WHERE paused = 0 AND NOT EXISTS (SELECT 1 FROM users u
                   WHERE u.id = alerts.user_id AND u.blocked_at IS NOT NULL)
                 AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.user_id = alerts.user_id)""",
        )

    @property
    def alerts_version(self) -> int:
        """Counts changes to alerts made through this connection."""
        return int(getattr(self, "_alerts_version", 0))

    def _alerts_changed(self) -> None:
        self._alerts_version = self.alerts_version + 1

    # --- notification settings -------------------------------------------------------------

    async def preferences(self, user_id: int) -> Preferences:
        return (await self.preferences_of([user_id], blocked_too=True)).get(user_id, Preferences())

    async def preferences_of(
        self, user_ids: Iterable[int], *, blocked_too: bool = False
    ) -> dict[int, Preferences]:
        """Each person's notification preferences (the defaults where they set none);
        people who blocked the bot are left out unless ``blocked_too``."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        rows = await self._fetchall(*preferences_statement(wanted, blocked_too=blocked_too))
        return preferences_by_person(rows)

    @property
    def preferences_version(self) -> int:
        """Counts changes to notification settings made through this connection."""
        return int(getattr(self, "_preferences_version", 0))

    async def save_preferences(self, user_id: int, prefs: Preferences, now: int) -> None:
        """Store all of a person's settings (the timezone only if they chose one)."""
        async with self.transaction() as db:
            await db.execute(
                """INSERT INTO notification_settings
                       (user_id, frequency, timezone, quiet_start, quiet_end, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET
                       frequency = excluded.frequency, timezone = excluded.timezone,
                       quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
                       updated_at = excluded.updated_at""",
                (
                    user_id,
                    prefs.frequency,
                    prefs.timezone if prefs.timezone_chosen else None,
                    prefs.quiet_start,
                    prefs.quiet_end,
                    now,
                ),
            )
        self._preferences_version = self.preferences_version + 1


def preferences_statement(wanted: list[int], *, blocked_too: bool = False) -> tuple[str, list[int]]:
    """The statement of :meth:`AlertQueries.preferences_of` for these people (some)."""
    marks = ", ".join("?" * len(wanted))
    blocked = "" if blocked_too else "AND u.blocked_at IS NULL"
    sql = f"""SELECT u.id, u.country, s.frequency, s.timezone, s.quiet_start, s.quiet_end,
                     s.user_id IS NOT NULL
              FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id
              WHERE u.id IN ({marks}) {blocked}"""
    return sql, wanted


def preferences_by_person(rows: Iterable[Sequence[Any]]) -> dict[int, Preferences]:
    """The rows of :func:`preferences_statement`, as each person's preferences."""
    return {row[0]: _preferences(tuple(row[1:])) for row in rows}


# Most people share their preferences (a country's zone, the defaults): one value for each
# combination rather than one per person (the matching pass reads tens of thousands).
@functools.lru_cache(maxsize=4096)
def _preferences(row: tuple[Any, ...]) -> Preferences:
    country, frequency, timezone, quiet_start, quiet_end, has_row = row
    if not has_row:
        return Preferences(timezone=zone_of(country))
    return Preferences(
        frequency=frequency,
        timezone=zone_of(country, timezone),
        quiet_start=quiet_start,
        quiet_end=quiet_end,
        timezone_chosen=timezone is not None,
    )
