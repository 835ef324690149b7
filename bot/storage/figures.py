"""Figures for admins: people, listings, interactions, over the last N days.

Listings and people are counted from their own tables. Matches and contacts live in tables
that other parts of the bot create (matching, contacts): :meth:`FigureQueries.interactions`
is the one place that reads them, and answers None for whatever is not there yet.

"Expired" is not stored (see 0002_listings.sql): an open listing past its expires_at is
expired, so the state is computed against the caller's ``now``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.storage.base import Database

DAY = 86_400
# A listing's state as shown in figures: status, with open-but-past-expiry as 'expired'.
_STATE = "CASE WHEN l.status = 'open' AND l.expires_at <= :now THEN 'expired' ELSE l.status END"


def iso(seconds: int) -> str:
    """Unix seconds as the ISO text users.created_at is stored in."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Interactions:
    """Matches, contacts and how fast listings get them; None = not available yet."""

    matches: int | None = None
    contacts: int | None = None
    accepted_contacts: int | None = None
    median_first_contact: float | None = None  # seconds from publishing to the first contact


Place = tuple[str | None, str | None]  # (place, country) of one side of an exchange


@dataclass(frozen=True)
class Exchanges:
    """Exchanges recorded in the period (bot/storage/outcomes.py): how many, how many across
    borders, per country (an exchange counts once for each country it involves), per category,
    and between places (giver → receiver, both known), most first."""

    total: int = 0
    across_borders: int = 0
    by_country: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    between: list[tuple[Place, Place, int]] = field(default_factory=list)


@dataclass(frozen=True)
class ExchangeSeries:
    """Exchanges per bucket (a day or a week) from ``start``: within one country, across
    borders, with someone unknown; and the pairs of countries across borders, most first."""

    start: int
    bucket: int
    within: list[int]
    across: list[int]
    unknown: list[int]
    country_pairs: list[tuple[str, str, int]]


@dataclass(frozen=True)
class Figures:
    days: int
    since: int
    now: int
    users_total: int
    users_new: int
    # key → (everyone, joined in the period); the key None means not set (no role yet)
    users_by_role: dict[str | None, tuple[int, int]]
    users_by_language: dict[str, tuple[int, int]]
    users_by_country: dict[str | None, tuple[int, int]]
    # listings published in the period: (category, kind) → {state: count}
    listings: dict[tuple[str, str], dict[str, int]]
    # listings fulfilled in the period, by outcome
    outcomes: dict[str | None, int]
    interactions: Interactions = field(default_factory=Interactions)
    exchanges: Exchanges = field(default_factory=Exchanges)

    def listings_by_state(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for states in self.listings.values():
            for state, count in states.items():
                total[state] = total.get(state, 0) + count
        return total


@dataclass(frozen=True)
class Series:
    """Counts per bucket (a day or a week) from ``start``; contacts None if not available."""

    start: int
    bucket: int
    offers: list[int]
    requests: list[int]
    contacts: list[int] | None


class FigureQueries(Database):
    async def figures(self, days: int, now: int) -> Figures:
        since = now - days * DAY
        users = await self._users_by(since)
        rows = await self._fetchall(
            f"""SELECT l.category, l.kind, {_STATE}, count(*) FROM listings l
                WHERE l.published_at >= :since AND l.published_at <= :now
                GROUP BY 1, 2, 3""",
            {"since": since, "now": now},
        )
        listings: dict[tuple[str, str], dict[str, int]] = {}
        for category, kind, state, count in rows:
            listings.setdefault((category, kind), {})[state] = count
        outcomes = await self._fetchall(
            "SELECT outcome, count(*) FROM listings WHERE status = 'fulfilled' "
            "AND status_changed_at >= ? AND status_changed_at <= ? GROUP BY outcome",
            (since, now),
        )
        total = await self._fetchone(
            "SELECT count(*), count(*) FILTER (WHERE created_at >= ?) FROM users", (iso(since),)
        )
        assert total is not None
        return Figures(
            days=days,
            since=since,
            now=now,
            users_total=total[0],
            users_new=total[1],
            users_by_role=users["role"],
            users_by_language=users["language"],  # type: ignore[arg-type]
            users_by_country=users["country"],
            listings=listings,
            outcomes={outcome: count for outcome, count in outcomes},
            interactions=await self.interactions(since, now),
            exchanges=await self.exchanges(since, now),
        )

    async def _users_by(self, since: int) -> dict[str, dict[str | None, tuple[int, int]]]:
        found: dict[str, dict[str | None, tuple[int, int]]] = {}
        for column in ("role", "language", "country"):
            rows = await self._fetchall(
                f"SELECT {column}, count(*), count(*) FILTER (WHERE created_at >= ?) "
                f"FROM users GROUP BY {column} ORDER BY count(*) DESC, {column}",
                (iso(since),),
            )
            found[column] = {key: (total, new) for key, total, new in rows}
        return found

    # --- matches and contacts (tables made by the matching and contacts features) ------------

    async def _columns(self, table: str) -> set[str]:
        """The columns of ``table``, empty when it does not exist (yet)."""
        return set(await self._first_column(f"SELECT name FROM pragma_table_info('{table}')"))

    async def interactions(self, since: int, now: int) -> Interactions:
        """Matches, contacts, accepted contacts and the median time to a first contact in the
        period, from the tables of matching (``matches``, migration 0004) and contacts
        (``contacts``, migration 0005). THE one place to change if they change: each figure is
        computed only if its table has the columns read here, else it stays None ("not yet
        available")."""
        period = {"since": since, "now": now}
        matches = contacts = accepted = None
        median = None
        match_columns = await self._columns("matches")
        if "created_at" in match_columns:
            row = await self._fetchone(
                "SELECT count(*) FROM matches WHERE created_at BETWEEN :since AND :now", period
            )
            matches = row[0] if row else 0
        contact_columns = await self._columns("contacts")
        if {"listing_id", "created_at"} <= contact_columns:
            row = await self._fetchone(
                "SELECT count(*) FROM contacts WHERE created_at BETWEEN :since AND :now", period
            )
            contacts = row[0] if row else 0
            if {"status", "decided_at"} <= contact_columns:
                row = await self._fetchone(
                    "SELECT count(*) FROM contacts WHERE status = 'accepted' "
                    "AND decided_at BETWEEN :since AND :now",
                    period,
                )
                accepted = row[0] if row else 0
            waits = await self._fetchall(
                """SELECT min(c.created_at) - l.published_at FROM listings l
                   JOIN contacts c ON c.listing_id = l.id
                   WHERE l.published_at BETWEEN :since AND :now GROUP BY l.id""",
                period,
            )
            if waits:
                median = float(statistics.median(max(0, w[0]) for w in waits))
        return Interactions(matches, contacts, accepted, median)

    async def _contact_times(self, since: int, now: int) -> list[int] | None:
        if not {"listing_id", "created_at"} <= await self._columns("contacts"):
            return None
        return await self._first_column(
            "SELECT created_at FROM contacts WHERE created_at BETWEEN ? AND ?", (since, now)
        )

    # --- exchanges (bot/storage/outcomes.py) ---------------------------------------------------

    async def exchanges(self, since: int, now: int) -> Exchanges:
        """The exchanges recorded in the period, counted every way the figures show them."""
        period = {"since": since, "now": now}
        within = "recorded_at > :since AND recorded_at <= :now"
        total, across = await self._fetchone(  # type: ignore[misc]
            f"SELECT count(*), count(*) FILTER (WHERE giver_country <> receiver_country) "
            f"FROM exchanges WHERE {within}",
            period,
        )
        countries = await self._fetchall(
            f"""SELECT country, count(*) FROM (
                    SELECT id, giver_country AS country FROM exchanges WHERE {within}
                    UNION SELECT id, receiver_country FROM exchanges WHERE {within})
                WHERE country IS NOT NULL GROUP BY country ORDER BY 2 DESC, 1""",
            period,
        )
        categories = await self._fetchall(
            f"SELECT category, count(*) FROM exchanges WHERE {within} "
            "GROUP BY category ORDER BY 2 DESC, 1",
            period,
        )
        between = await self._fetchall(
            f"""SELECT giver_place, giver_country, receiver_place, receiver_country, count(*)
                FROM exchanges WHERE {within}
                  AND giver_country IS NOT NULL AND receiver_country IS NOT NULL
                GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC, 2, 1, 4, 3""",
            period,
        )
        return Exchanges(
            total=total,
            across_borders=across,
            by_country=dict(countries),  # type: ignore[arg-type]
            by_category=dict(categories),  # type: ignore[arg-type]
            between=[((a, b), (c, d), n) for a, b, c, d, n in between],
        )

    async def exchange_series(self, days: int, now: int) -> ExchangeSeries:
        """Exchanges per day (up to a month) or per week over the last ``days`` days, within a
        country, across borders or with someone unknown; and the country pairs across borders."""
        bucket = DAY if days <= 31 else 7 * DAY
        since = now - days * DAY
        count = -(-days * DAY // bucket)
        series = {"within": [0] * count, "across": [0] * count, "unknown": [0] * count}
        rows = await self._fetchall(
            """SELECT recorded_at, CASE WHEN giver_country IS NULL OR receiver_country IS NULL
                                        THEN 'unknown'
                                        WHEN giver_country = receiver_country THEN 'within'
                                        ELSE 'across' END
               FROM exchanges WHERE recorded_at > ? AND recorded_at <= ?""",
            (since, now),
        )
        for at, where in rows:
            series[where][min(count - 1, (at - since - 1) // bucket)] += 1
        pairs = await self._fetchall(
            """SELECT giver_country, receiver_country, count(*) FROM exchanges
               WHERE recorded_at > ? AND recorded_at <= ? AND giver_country <> receiver_country
               GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""",
            (since, now),
        )
        return ExchangeSeries(
            since, bucket, series["within"], series["across"], series["unknown"],
            [(giver, receiver, n) for giver, receiver, n in pairs],
        )  # fmt: skip

    # --- for the chart and the exports --------------------------------------------------------

    async def weekly_series(self, days: int, now: int) -> Series:
        """Listings published (offers, requests) and contacts per day (up to a month) or per
        week, over the last ``days`` days."""
        bucket = DAY if days <= 31 else 7 * DAY
        since = now - days * DAY
        count = -(-days * DAY // bucket)
        offers, requests = [0] * count, [0] * count
        rows = await self._fetchall(
            "SELECT kind, published_at FROM listings WHERE published_at > ? AND published_at <= ?",
            (since, now),
        )
        for kind, published in rows:
            index = min(count - 1, (published - since - 1) // bucket)
            (offers if kind == "offer" else requests)[index] += 1
        contacts: list[int] | None = None
        times = await self._contact_times(since, now)
        if times is not None:
            contacts = [0] * count
            for at in times:
                contacts[min(count - 1, max(0, (at - since - 1) // bucket))] += 1
        return Series(since, bucket, offers, requests, contacts)

    async def listing_rows(self, days: int, now: int) -> list[dict[str, Any]]:
        """The listings published in the period, for the CSV export (no personal data)."""
        rows = await self._fetchall(
            f"""SELECT l.id, l.published_at, l.kind, l.category, l.country, {_STATE}, l.outcome,
                       l.expires_at, l.views, l.contacts, l.language, l.title
                FROM listings l WHERE l.published_at >= :since AND l.published_at <= :now
                ORDER BY l.id""",
            {"since": now - days * DAY, "now": now},
        )
        names = (
            "id",
            "published_at",
            "kind",
            "category",
            "country",
            "state",
            "outcome",
            "expires_at",
            "views",
            "contacts",
            "language",
            "title",
        )
        return [dict(zip(names, row, strict=True)) for row in rows]
