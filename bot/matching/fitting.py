"""What already fits a new alert: the open listings a saved search would have been told about
had it existed when they were published, judged by the same rule as the matching pass
(:func:`bot.matching.scoring.alert_matches`), so that what a person is shown at once and what
they are told later never disagree. Pure: storage hands over the listings, and
:func:`bot.matching.matcher.keyword_meanings` how close each is to the alert's words in meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from bot.matching.scoring import alert_matches, words_of
from bot.matching.types import Features
from bot.places.geocoding import distance_km
from bot.storage import Alert, Listing

SHOWN = 5  # the best few shown under the count
COUNT_CAP = 100  # past it: "more than 100"
SCAN = 1_000  # newest candidates read from storage


@dataclass(frozen=True)
class Fitting:
    """How many open listings fit (at most :data:`COUNT_CAP` + 1), and the best few."""

    count: int
    best: list[Listing]

    @property
    def more_than_cap(self) -> bool:
        return self.count > COUNT_CAP


def features_of(listing: Listing) -> Features:
    return Features(
        id=listing.id,
        owner_id=listing.owner_id,
        municipality_id=listing.municipality_id,
        kind=listing.kind,
        category=listing.category,
        tags=frozenset(listing.tags),
        country=listing.country,
        region=listing.region,
        place=listing.place,
        latitude=listing.latitude,
        longitude=listing.longitude,
        reach=listing.reach,
        language=listing.language,
        published_at=listing.published_at,
    )


def already_fitting(
    alert: Alert,
    candidates: Iterable[tuple[Listing, str]],
    point: tuple[float, float] | None,
    meanings: Mapping[int, float] | None = None,
) -> Fitting:
    """The candidates (listing, folded text; newest first) that fit ``alert``, with their
    distance from ``point`` (the alert's centre, else the person's place). ``meanings``: how
    close each candidate is to the alert's keywords in meaning (the pass accepts a listing
    that says what the keywords mean, in any language). The best: the closest first when
    there is a point, else the newest."""
    meanings = meanings or {}
    # What fits a search, whether or not it is paused (a paused alert is edited too): the
    # pass's rule without its "paused alerts tell nobody".
    searched = replace(alert, paused=False)
    fitting = [
        _measured(listing, point)
        for listing, text in candidates
        if alert_matches(searched, features_of(listing), words_of(text), meanings.get(listing.id))
    ]
    if point is not None:
        far = float("inf")
        fitting.sort(key=lambda x: x.distance_km if x.distance_km is not None else far)
    return Fitting(min(len(fitting), COUNT_CAP + 1), fitting[:SHOWN])


def _measured(listing: Listing, point: tuple[float, float] | None) -> Listing:
    if point is None or listing.latitude is None or listing.longitude is None:
        return listing
    return replace(
        listing, distance_km=distance_km(point[0], point[1], listing.latitude, listing.longitude)
    )
