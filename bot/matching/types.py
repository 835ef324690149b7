"""What matching works with: a listing's features, the listings waiting for the pass, the
matches found and what to tell whom. Plain values: storage builds and stores them, scoring
and the pass compute with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Text similarity uses at most this many distinctive words of the new listing.
QUERY_WORDS = 16


class Features(NamedTuple):
    """What matching knows about a listing (a named tuple: the pass makes a hundred of
    these per listing, and tuples are the cheapest to make)."""

    id: int
    owner_id: int
    municipality_id: int | None
    kind: str
    category: str
    tags: frozenset[str]
    country: str
    region: str
    place: str
    latitude: float | None
    longitude: float | None
    reach: str
    language: str
    published_at: int


@dataclass(frozen=True)
class Subject:
    """A listing the matching pass has to match: its features, state and folded text."""

    features: Features
    status: str
    expires_at: int
    text: str  # folded title and description
    # The last line of its history when read: an edit while the pass works on it adds one,
    # and the listing is then left to the next pass (see Matched.history).
    history: int = 0

    def is_open(self, now: int) -> bool:
        return self.status == "open" and self.expires_at > now


@dataclass(frozen=True)
class FoundMatch:
    """A match to store: the pair (any order), its score and reasons."""

    listing: int
    other: int
    score: float
    reasons: tuple[str, ...]

    @property
    def pair(self) -> tuple[int, int]:
        return (min(self.listing, self.other), max(self.listing, self.other))


class Delivery(NamedTuple):
    """One thing to tell one person: now-ish (``digest_due`` None) or in a digest. (A named
    tuple: the pass makes about 200,000, and a frozen dataclass costs three times as much to
    make.)"""

    user_id: int
    kind: str  # 'match' or 'alert'
    dedup_key: str
    payload: dict[str, Any]
    not_before: int
    digest_due: int | None = None
    digest_frequency: str = "daily"  # which digest it waits for: 'daily' or 'weekly'


@dataclass(frozen=True)
class Matched:
    """What the pass found for one listing: its matches and the deliveries they make.
    ``unembedded``: matched without its vector while a model is loaded (on words alone)."""

    listing_id: int
    found: list[FoundMatch]
    deliveries: list[Delivery]
    unembedded: bool = False
    # The Subject's history when read (None: not known): the listing is marked matched only
    # if no edit came since, else the next pass matches it as it now is.
    history: int | None = None


@dataclass(frozen=True)
class StoredMatch:
    id: int
    listing_a: int
    listing_b: int
    score: float
    reasons: tuple[str, ...]

    def other(self, listing_id: int) -> int:
        return self.listing_b if listing_id == self.listing_a else self.listing_a


@dataclass(frozen=True)
class DigestItem:
    id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def digest_key(user_id: int, due: int, frequency: str) -> str:
    """The outbox key of a person's digest due at ``due`` (a daily and a weekly one due at
    the same time, on a Monday, are two messages)."""
    key = f"digest:{user_id}:{due}"
    return key if frequency == "daily" else f"{key}:{frequency}"


def distinctive_words(folded: str, limit: int = QUERY_WORDS) -> list[str]:
    """The words of a folded text worth comparing: four letters or more (short words are
    mostly articles and prepositions in every language), no numbers, each once, in order."""
    seen: dict[str, None] = {}
    for token in re.split(r"[\W_]+", folded):
        if len(token) >= 4 and not token.isdigit():
            seen.setdefault(token, None)
            if len(seen) == limit:
                break
    return list(seen)
