"""What a notification of matching is checked against when the outbox sends it, in one read
each (:mod:`bot.delivery.notifications` decides from it whether the news still holds): a
match card's pair of listings, their match, the reader's "not relevant", whether the
reader still keeps their listing and whether someone answers for the other; an alert hit's
alert, its listing, whether someone answers for it and whether the reader is banned. The
outbox sends many of them a second: a read each, not five.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bot.matching.types import StoredMatch
from bot.storage.alerts import Alert, _alert
from bot.storage.base import Database
from bot.storage.listings import (
    _LISTING_COLUMNS,
    _LISTING_FROM,
    LISTING_WIDTH,
    Listing,
    _listing,
)
from bot.storage.matching import _stored
from bot.storage.verification import not_unattended, on_listing_side

KEEPS, ATTENDED, MATCH = LISTING_WIDTH, LISTING_WIDTH + 1, LISTING_WIDTH + 2

# Both listings of a pair (a row each), each with whether the reader is on its side (may
# still be told of its matches: see on_listing_side) and whether someone answers for it
# (attended, as the kept set says: not_unattended), and their match with whether the reader
# marked it not relevant (NULLs: no match).
MATCH_AT_SENDING = f"""
SELECT {_LISTING_COLUMNS}, {on_listing_side("l", ":user")}, {not_unattended("l")},
       pair.id, pair.listing_a, pair.listing_b, pair.score, pair.reasons,
       EXISTS (SELECT 1 FROM match_feedback f WHERE f.match_id = pair.id AND f.user_id = :user)
{_LISTING_FROM}
LEFT JOIN matches pair ON pair.listing_a = :a AND pair.listing_b = :b
WHERE l.id IN (:a, :b)"""

# The listing and the alert (no row: either is gone, or the alert's person), where the alert's
# person is, whether someone answers for the listing and whether the person is banned.
HIT_AT_SENDING = f"""
SELECT {_LISTING_COLUMNS}, {", ".join("a." + field.name for field in fields(Alert))},
       reader.latitude, reader.longitude, {not_unattended("l")},
       EXISTS (SELECT 1 FROM bans b WHERE b.user_id = a.user_id)
{_LISTING_FROM}
JOIN alerts a ON a.id = :alert
JOIN users reader ON reader.id = a.user_id
WHERE l.id = :listing"""


@dataclass(frozen=True)
class MatchAtSending:
    """A match card's facts when it is sent: None for what no longer exists."""

    mine: Listing | None
    other: Listing | None
    match: StoredMatch | None
    dismissed: bool  # the reader marked the match not relevant
    keeps: bool  # the reader is still on their listing's side
    other_attended: bool  # someone answers for the other listing


@dataclass(frozen=True)
class HitAtSending:
    """An alert hit's facts when it is sent: the alert (whoever's it is now) and its listing."""

    alert: Alert
    listing: Listing
    reader_banned: bool
    home: tuple[float, float] | None  # the alert's person's place, if it has a position
    attended: bool  # someone answers for the listing


class LiveQueries(Database):
    async def match_at_sending(self, mine: int, other: int, user_id: int) -> MatchAtSending:
        """The pair ``mine`` (the reader's listing) and ``other``, as one read."""
        a, b = min(mine, other), max(mine, other)
        rows = await self._fetchall(MATCH_AT_SENDING, {"a": a, "b": b, "user": user_id})
        by_id = {row[0]: row for row in rows}
        mine_row, other_row = by_id.get(mine), by_id.get(other)
        match = None if not rows or rows[0][MATCH] is None else rows[0]
        return MatchAtSending(
            mine=None if mine_row is None else _listing(mine_row),
            other=None if other_row is None else _listing(other_row),
            match=None if match is None else _stored(match[MATCH:]),
            dismissed=bool(rows and rows[0][-1]),
            keeps=mine_row is not None and bool(mine_row[KEEPS]),
            other_attended=other_row is not None and bool(other_row[ATTENDED]),
        )

    async def hit_at_sending(self, alert_id: int, listing_id: int) -> HitAtSending | None:
        """The alert and the listing of a hit, as one read; None if either is gone."""
        row = await self._fetchone(HIT_AT_SENDING, {"alert": alert_id, "listing": listing_id})
        if row is None:
            return None
        latitude, longitude, answered, banned = row[-4:]
        home = None if latitude is None or longitude is None else (latitude, longitude)
        alert, listing = _alert(row[LISTING_WIDTH:]), _listing(row)
        return HitAtSending(alert, listing, bool(banned), home, bool(answered))
