"""Matching: the listings waiting for the matching pass, their candidates, the matches found,
"not relevant" feedback, and the digest items waiting for a person's digest.

Candidates come from a few bounded slices of open listings (see :meth:`match_candidates` and
the indexes of migration 0004), so matching one listing reads a few hundred index entries
whatever the size of the table. Scoring is done by :mod:`bot.matching.scoring`, in Python; the
types exchanged are :mod:`bot.matching.types`.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.delivery.timing import Preferences
from bot.matching.types import (
    Delivery,
    DigestItem,
    Features,
    Matched,
    StoredMatch,
    Subject,
    digest_key,
)
from bot.storage.alerts import preferences_by_person, preferences_statement
from bot.storage.base import Database, row_mapper, space_separated
from bot.storage.vectors import vectors_statement
from bot.storage.verification import on_listing_side, owner_answers, verified

# At most this many candidates from each slice; the tag slices look at the newest WINDOW of
# their area and keep the ones sharing a tag with the new listing.
POOL = 20
TAG_POOL = 15
WINDOW = 300
TEXT_COMPARED = 300  # characters of a candidate's description
# Listings whose matches and notifications always commit together; a write of more listings
# commits after any such step when another write waits (save_matches).
STEP = 25


_FEATURES = """
    l.id, l.owner_id, l.municipality_id, l.kind, l.category,
    (SELECT group_concat(tag, ' ') FROM listing_tags t WHERE t.listing_id = l.id),
    l.country, l.region, l.place, l.latitude, l.longitude, l.reach, l.language, l.published_at
"""


# The last line of a listing's history (0: none): every edit adds one, in its transaction.
_HISTORY = "coalesce((SELECT max(h.id) FROM listing_history h WHERE h.listing_id = l.id), 0)"


def _features(row: Sequence[Any]) -> Features:
    # By position, not by names: the pass makes about 360,000 of these (1.0 µs, not 1.8).
    return Features(
        row[0],  # id
        row[1],  # owner_id
        row[2],  # municipality_id
        row[3],  # kind
        row[4],  # category
        _tags(row[5]),
        *row[6:14],  # country, region, place, latitude, longitude, reach, language, published_at
    )


@functools.lru_cache(maxsize=4096)
def _tags(listed: str | None) -> frozenset[str]:
    """The tags of a listing as listed (space-separated), one set for each way of listing
    them: a category's few tags make few (the pass reads 360,000 candidates' tags)."""
    return frozenset((listed or "").split())


OTHER_KIND = {"offer": "request", "request": "offer"}


@dataclass(frozen=True)
class Candidates:
    """What :meth:`MatchingQueries.candidates_of` reads for several listings: each one's
    candidates (in the listings' order), the stored vectors (bytes and scale) of those
    listings and their candidates, by listing, and people's preferences."""

    listings: list[list[Features]]
    vectors: dict[int, tuple[bytes, float]]
    preferences: dict[int, Preferences]


# A notification the pass queues, in the outbox (as OutboxQueries.enqueue writes it) or in a
# digest, on the pass's own transaction (the listings' matches, notifications and marks
# commit together). Blocked people are skipped, and so is a key already waiting in the other
# queue: each is queued once, in one of them. Each queue has its own last three columns.
# Parameters by position (user, kind, key, payload, then each statement's own): binding a
# tuple costs half of binding a dict by names, and the pass binds 200,000 rows.
_QUEUED_ONCE = """
INSERT INTO {queue} (user_id, kind, dedup_key, payload, {own})
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND blocked_at IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM {other} WHERE dedup_key = ?3)
ON CONFLICT (dedup_key) DO NOTHING
"""
_OUTBOX_INSERT = _QUEUED_ONCE.format(
    queue="outbox", own="priority, not_before, created_at", other="digest_items"
)
_DIGEST_INSERT = _QUEUED_ONCE.format(
    queue="digest_items", own="due_at, created_at, frequency", other="outbox"
)
PERSONAL, DIGEST = 0, 1  # outbox priorities (bot/storage/outbox.py)
# The listing a digest item tells about: the other side of a match, an alert's hit.
_ITEM_LISTING = (
    "(CASE {t}.kind WHEN 'match' THEN json_extract({t}.payload, '$.other') "
    "ELSE json_extract({t}.payload, '$.listing') END)"
)


def candidates_statement(subject: Features, now: int) -> tuple[str, dict[str, Any]]:
    """The statement of :meth:`MatchingQueries.match_candidates` (tests/test_query_plans.py
    explains the same text): open listings of the other kind and the same category whose reach
    and the subject's admit each other (bot.matching.meets), the union of bounded slices,
    newest first in each, never a scan of the table.

    Reach is applied here, in SQL, as far as an index can: the same region (any reach; a
    municipality's is checked by place in bot.matching); elsewhere in the country only if
    both reach the whole country (or Europe); abroad only if both reach Europe. So a
    listing's slices hold no candidate that could never meet it, and none crowds out one
    that could."""
    params: dict[str, Any] = {
        "other": OTHER_KIND[subject.kind],
        "category": subject.category,
        "country": subject.country,
        "region": subject.region,
        "now": now,
        "pool": POOL,
        "tag_pool": TAG_POOL,
        "window": WINDOW,
    }
    same = "kind = :other AND category = :category AND status = 'open' AND expires_at > :now"
    newest = "ORDER BY published_at DESC"
    # INDEXED BY: without statistics (the bot never runs ANALYZE) SQLite would pick the
    # browse indexes for the expiry range and sort every open listing of the category;
    # these indexes serve the slices in order and stop at the LIMIT (reach is the last
    # column of the country index: tested in the index, without a lookup).
    areas = [
        (
            "listings INDEXED BY listings_match_region",
            f"{same} AND country = :country AND region = :region",
        )
    ]
    if subject.reach in ("country", "europe"):
        areas.append(
            (
                "listings INDEXED BY listings_match_country",
                f"{same} AND country = :country AND reach IN ('country', 'europe')",
            )
        )
    if subject.reach == "europe":
        areas.append(("listings INDEXED BY listings_match_reach", f"{same} AND reach = 'europe'"))
    slices = [
        f"SELECT id FROM {table} WHERE {where} {newest} LIMIT :pool" for table, where in areas
    ]
    if subject.tags:
        tags = sorted(subject.tags)
        params.update({f"tag{i}": tag for i, tag in enumerate(tags)})
        shared = ", ".join(f":tag{i}" for i in range(len(tags)))
        # A window's listing's tags read in one descent of the key (listing, tag), the few
        # rows compared with the subject's tags ("+": not a descent for each of them).
        for table, where in areas:
            slices.append(
                f"SELECT id FROM (SELECT id FROM {table} WHERE {where} {newest} "
                f"LIMIT :window) AS w WHERE EXISTS (SELECT 1 FROM listing_tags t "
                f"WHERE t.listing_id = w.id AND +t.tag IN ({shared})) LIMIT :tag_pool"
            )
    union = " UNION ".join(f"SELECT id FROM ({part})" for part in slices)
    return f"SELECT {_FEATURES} FROM ({union}) AS pool JOIN listings l ON l.id = pool.id", params


class MatchingQueries(Database):
    # --- the pass's work list ----------------------------------------------------------------

    async def unmatched_listings(self, limit: int = 100) -> list[Subject]:
        """Listings not matched yet (new, or edited since), oldest first."""
        rows = await self._fetchall(
            f"""SELECT {_FEATURES}, l.status, l.expires_at,
                       COALESCE(x.title, '') || ' ' || COALESCE(x.description, ''), {_HISTORY}
                FROM listings l LEFT JOIN listings_text x ON x.rowid = l.id
                WHERE l.matched_at IS NULL ORDER BY l.id LIMIT ?""",
            (limit,),
        )
        return [Subject(_features(row), row[14], row[15], row[16], row[17]) for row in rows]

    # --- candidates --------------------------------------------------------------------------

    async def match_candidates(self, subject: Features, now: int) -> list[Features]:
        """Open listings of the other kind and the same category that may meet ``subject``
        (see :func:`candidates_statement`)."""
        rows = await self._fetchall(*candidates_statement(subject, now))
        return [_features(row) for row in rows]

    async def candidates_of(
        self,
        subjects: Sequence[Features],
        now: int,
        model: str | None,
        known: Container[int],
        kept: Container[int] = (),
    ) -> Candidates:
        """:meth:`match_candidates` for several listings, with the vectors of ``model`` (the
        subjects', and their candidates' but those ``kept`` already, those that have one),
        and the preferences of the people who may be told about them (their owners and
        their candidates'; as :meth:`~bot.storage.alerts.AlertQueries.preferences_of`) but
        the ``known`` ones: all in one trip to the database's thread, which costs more than
        a small statement. ``known`` and ``kept`` are only asked whether they hold someone,
        on that thread.

        The vectors are read once for the group, in the listings' order, after the
        candidates: a candidate comes with several listings of a group (the same area and
        category), and most with listings before it (``kept``); a vector a candidate's row
        brought along was read again for each (a third of the pass's page reads)."""
        statements = [candidates_statement(subject, now) for subject in subjects]

        def read(db: sqlite3.Connection) -> tuple[list[list[Any]], list[Any], list[Any]]:
            found = [db.execute(*statement).fetchall() for statement in statements]
            owners = {s.owner_id for s in subjects} | {row[1] for rows in found for row in rows}
            wanted = sorted(person for person in owners if person not in known)
            people = db.execute(*preferences_statement(wanted)).fetchall() if wanted else []
            if model is None:
                return found, people, []
            # The subjects' own always: one edited since it was kept is matched as it now is.
            others = {row[0] for rows in found for row in rows if row[0] not in kept}
            ids = others.union(subject.id for subject in subjects)
            return found, people, db.execute(*vectors_statement(ids, model)).fetchall()

        found, people, stored = await self._in_thread(read)
        vectors = {row[0]: (row[1], row[2]) for row in stored}
        listings = [[_features(row) for row in rows] for rows in found]
        return Candidates(listings, vectors, preferences_by_person(people))

    async def word_counts(self, words: list[str]) -> tuple[int, dict[str, int]]:
        """How many listings there are, and how many contain each word (the full-text
        index's own statistics, through fts5vocab): what bm25 weighs words by."""
        marks = ", ".join("?" * len(words))
        rows = await self._fetchall(
            f"""SELECT '', max(id) FROM listings
                UNION ALL
                SELECT term, doc FROM listings_vocab WHERE term IN ({marks})""",
            words,
        )
        return int(rows[0][1] or 0), {term: doc for term, doc in rows[1:]}

    async def folded_texts(self, ids: Iterable[int]) -> dict[int, str]:
        """The folded title and the beginning of the description of each listing (the
        full-text index's copy): enough to compare wording, and quick to search."""
        wanted = list(ids)
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = await self._fetchall(
            f"SELECT rowid, title || ' ' || substr(description, 1, {TEXT_COMPARED}) "
            f"FROM listings_text "
            f"WHERE rowid IN ({marks})",
            wanted,
        )
        return {row[0]: row[1] for row in rows}

    # --- storing a listing's matches --------------------------------------------------------

    async def save_matches(self, results: list[Matched], now: int) -> None:
        """Store the matches found for some listings, queue what to tell whom, and mark the
        listings matched: :data:`STEP` listings at a time, each step in one transaction with
        the others while no other write waits (see :meth:`~bot.storage.base.Database.
        _write_steps`), so a listing is never marked without its notifications, nor notified
        about without being marked. (Many listings at a time rather than one: each
        statement is a round trip to the database's thread, and each commit sends the
        pages it changed to the WAL; at a thousand new listings a minute those, not the
        rows, were the cost.)"""
        steps = [results[at : at + STEP] for at in range(0, len(results), STEP)]
        await self._write_steps(functools.partial(_save_step, step, now) for step in steps)

    # --- reading matches, feedback -------------------------------------------------------------

    async def match_between(self, listing: int, other: int) -> StoredMatch | None:
        return await self._record(
            _stored,
            _MATCH_SELECT + "WHERE listing_a = ? AND listing_b = ?",
            (min(listing, other), max(listing, other)),
        )

    async def matches_of(self, listing_id: int) -> list[StoredMatch]:
        return await self._records(
            _stored,
            _MATCH_SELECT + "WHERE listing_a = ?1 OR listing_b = ?1 ORDER BY score DESC, id",
            (listing_id,),
        )

    async def dismissed(self, match_id: int, user_id: int) -> bool:
        row = await self._fetchone(
            "SELECT 1 FROM match_feedback WHERE match_id = ? AND user_id = ?", (match_id, user_id)
        )
        return row is not None

    async def dismiss_match(self, match_id: int, user_id: int, now: int) -> bool:
        """ "Not relevant": this person is never told about this pair again. Only someone the
        pair concerns (an owner of either listing, or a verified official of its municipality) may
        say so; False for anyone else or an unknown match."""
        async with self.transaction() as db:
            async with db.execute(
                f"""SELECT m.listing_a, m.listing_b FROM matches m
                   JOIN listings l ON l.id IN (m.listing_a, m.listing_b)
                   WHERE m.id = :match AND {on_listing_side("l", ":user")}
                   LIMIT 1""",
                {"match": match_id, "user": user_id},
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return False
            await db.execute(
                "INSERT INTO match_feedback (user_id, match_id, at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (user_id, match_id, now),
            )
            # Whatever about this pair still waits for them (a digest item) goes too.
            key = f"match:{user_id}:{row[0]}:{row[1]}"
            await db.execute(
                "DELETE FROM digest_items WHERE dedup_key = ? AND digest_id IS NULL", (key,)
            )
            await db.execute(
                "UPDATE outbox SET state = 'cancelled', error = 'not relevant' "
                "WHERE dedup_key = ? AND state = 'pending'",
                (key,),
            )
        return True

    # --- digests ---------------------------------------------------------------------------

    async def claim_digest(
        self, user_id: int, digest_id: int, now: int, limit: int, frequency: str = "daily"
    ) -> tuple[list[DigestItem], int]:
        """The items a digest shows: those it took before (a retried digest), then the
        person's waiting items of its ``frequency`` that are due, up to ``limit``. Returns
        them and how many due items are left for the next digest.

        A waiting item about a listing that another digest of this person already took (the
        daily one showed it, and the weekly one would again) is dropped: nobody is told
        about the same listing twice."""
        params = {
            "digest": digest_id,
            "user": user_id,
            "now": now,
            "limit": limit,
            "frequency": frequency,
        }
        waiting = (
            "user_id = :user AND digest_id IS NULL AND due_at <= :now AND frequency = :frequency"
        )
        async with self.transaction() as db:
            await db.execute(
                f"""DELETE FROM digest_items AS w WHERE {waiting}
                    AND {_ITEM_LISTING.format(t="w")} IN (
                        SELECT {_ITEM_LISTING.format(t="s")} FROM digest_items AS s
                        WHERE s.user_id = :user AND s.digest_id IS NOT NULL
                          AND s.digest_id != :digest)""",
                params,
            )
            await db.execute(
                f"""UPDATE digest_items SET digest_id = :digest
                   WHERE id IN (SELECT id FROM digest_items WHERE {waiting}
                                ORDER BY id
                                LIMIT max(0, :limit - (SELECT count(*) FROM digest_items
                                                       WHERE digest_id = :digest)))""",
                params,
            )
            async with db.execute(
                "SELECT id, kind, payload FROM digest_items WHERE digest_id = ? ORDER BY id",
                (digest_id,),
            ) as cursor:
                items = [
                    DigestItem(row[0], row[1], json.loads(row[2]))
                    for row in await cursor.fetchall()
                ]
            async with db.execute(
                f"SELECT count(*) FROM digest_items WHERE {waiting}", params
            ) as cursor:
                (left,) = await cursor.fetchone()  # type: ignore[misc]
        return items, int(left)

    async def release_digest_items(self, item_ids: list[int]) -> None:
        """Items a digest took but had no room for: they wait for the next one."""
        if not item_ids:
            return
        marks = ", ".join("?" * len(item_ids))
        async with self.transaction() as db:
            await db.execute(
                f"UPDATE digest_items SET digest_id = NULL WHERE id IN ({marks})", item_ids
            )

    async def waiting_digests(self, now: int) -> list[tuple[int, int, str]]:
        """People with digest items but no digest of that frequency on its way: (user,
        earliest due, 'daily' or 'weekly')."""
        rows = await self._fetchall(
            """SELECT d.user_id, min(d.due_at), d.frequency FROM digest_items d
               WHERE d.digest_id IS NULL
                 AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.user_id = d.user_id
                                 AND o.kind = 'digest' AND o.state IN ('pending', 'sending')
                                 AND COALESCE(json_extract(o.payload, '$.frequency'), 'daily')
                                     = d.frequency)
                 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = d.user_id
                                 AND u.blocked_at IS NOT NULL)
               GROUP BY d.user_id, d.frequency"""
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def reschedule_digests(self, user_id: int, due: int, frequency: str) -> None:
        """The person changed when they want digests (``frequency``): what waits is now due
        at ``due``, in a weekly digest if they chose weekly, else in a daily one (what waited
        for a week comes now, as a plain digest, when they chose right away)."""
        values = {
            "due": due,
            "user": user_id,
            "frequency": "weekly" if frequency == "weekly" else "daily",
        }
        async with self.transaction() as db:
            await db.execute(
                "UPDATE digest_items SET due_at = :due, frequency = :frequency "
                "WHERE user_id = :user AND digest_id IS NULL",
                values,
            )
            await db.execute(
                "UPDATE outbox SET not_before = :due, "
                "payload = json_set(payload, '$.frequency', :frequency) "
                "WHERE user_id = :user AND kind = 'digest' AND state = 'pending'",
                values,
            )

    # --- expiry reminders ------------------------------------------------------------------

    async def expiring_soon(self, now: int, within: int) -> list[tuple[int, int, int]]:
        """Open listings expiring within ``within`` seconds whose owner was not reminded of
        this expiry date yet: (listing, who is reminded, expires_at). Who is reminded is the
        owner while the listing is theirs, else one of its municipality's verified officials
        (a listing whose owner left a municipality with none is reminded to nobody)."""
        rows = await self._fetchall(
            f"""SELECT l.id, CASE WHEN {owner_answers("l")} THEN l.owner_id
                       ELSE (SELECT min(o.id) FROM users o
                             WHERE o.municipality_id = l.municipality_id AND {verified("o")})
                       END, l.expires_at
               FROM listings l
               WHERE l.status = 'open' AND l.expires_at > ? AND l.expires_at <= ?
                 AND NOT EXISTS (SELECT 1 FROM outbox o
                                 WHERE o.dedup_key = 'reminder:' || l.id || ':' || l.expires_at)
               ORDER BY l.expires_at LIMIT 500""",
            (now, now + within),
        )
        return [(row[0], row[1], row[2]) for row in rows if row[1] is not None]


async def _save_step(results: list[Matched], now: int, db: aiosqlite.Connection) -> None:
    """One step of :meth:`MatchingQueries.save_matches`, on its open transaction."""
    # Edited since the pass read it (the edit found it unmatched, so its trigger had
    # nothing to undo): left unmatched, and the next pass matches it as it now is.
    await db.executemany(
        f"UPDATE listings AS l SET matched_at = ? WHERE id = ? AND matched_at IS NULL "
        f"AND (? IS NULL OR {_HISTORY} = ?)",
        [
            (now, result.listing_id, result.history, result.history)
            for result in results
            if not result.unembedded
        ],
    )
    # Matched on words alone: marked only if its vector is still missing. One stored
    # while the pass ran (bot/storage/vectors.py, save_vectors) found it not marked
    # yet, so did not ask for it to be matched again: it stays unmatched, and the
    # next pass matches it by meaning.
    await db.executemany(
        f"UPDATE listings AS l SET matched_at = ? WHERE id = ? AND matched_at IS NULL "
        f"AND (? IS NULL OR {_HISTORY} = ?) "
        "AND NOT EXISTS (SELECT 1 FROM listing_vectors WHERE listing_id = l.id)",
        [
            (now, result.listing_id, result.history, result.history)
            for result in results
            if result.unembedded
        ],
    )
    await db.executemany(
        """INSERT INTO matches (listing_a, listing_b, score, reasons, created_at)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT (listing_a, listing_b) DO UPDATE
           SET score = excluded.score, reasons = excluded.reasons""",
        [
            (*m.pair, round(m.score, 3), " ".join(m.reasons), now)
            for result in results
            for m in result.found
        ],
    )
    await _queue(db, [d for result in results for d in result.deliveries], now)


async def _queue(db: aiosqlite.Connection, deliveries: list[Delivery], now: int) -> None:
    """Queue deliveries on an open transaction: instant ones in the outbox, the others as
    digest items with their digest's outbox row (one per person and digest time)."""
    outbox: list[tuple[Any, ...]] = []
    digest: list[tuple[Any, ...]] = []
    # One digest row per person and digest time (its key) is enough: the others would only
    # meet its ON CONFLICT, a statement each.
    digests: set[str] = set()
    for item in deliveries:
        user = item.user_id
        payload = payload_json(item.payload)
        if item.digest_due is None:
            outbox.append(
                (user, item.kind, item.dedup_key, payload, PERSONAL, item.not_before, now)
            )
            continue
        due, frequency = item.digest_due, item.digest_frequency
        digest.append((user, item.kind, item.dedup_key, payload, due, now, frequency))
        key = digest_key(user, due, frequency)
        if key in digests:
            continue
        digests.add(key)
        about = payload_json({"due": due, "frequency": frequency})
        outbox.append((user, "digest", key, about, DIGEST, due, now))
    if digest:
        await db.executemany(_DIGEST_INSERT, digest)
    if outbox:
        await db.executemany(_OUTBOX_INSERT, outbox)


def payload_json(payload: dict[str, Any]) -> str:
    """``json.dumps(payload)``, the same text; a pair of ids (the pass's payloads: listing and
    other, alert and listing) written directly, in a fifth of json.dumps' time (which was a
    tenth of the pass's time on the event loop)."""
    if len(payload) == 2:
        (first, one), (second, two) = payload.items()
        names = first + second
        if type(one) is int and type(two) is int and names.isascii() and names.isidentifier():
            return f'{{"{first}": {one}, "{second}": {two}}}'
    return json.dumps(payload)


_MATCH_SELECT = "SELECT id, listing_a, listing_b, score, reasons FROM matches "


_stored = row_mapper(StoredMatch, reasons=space_separated)
