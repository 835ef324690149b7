"""Offline reverse geocoding, and distances.

Reverse geocoding reads the place extract of :mod:`bot.places.index` (GeoNames towns and
villages, no network). :func:`locate` refuses a point whose nearest place is further than
:data:`MAX_PLACE_DISTANCE_KM` (the middle of the sea); :func:`bot.places.index.nearest_places`
gives the few nearest places to choose from.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.places import index
from bot.places.index import distance_km

__all__ = ["Place", "distance_km", "locate", "valid_coordinates"]

MAX_PLACE_DISTANCE_KM = 30.0


@dataclass(frozen=True)
class Place:
    """A located place: what onboarding and listings store. ``region`` is an ISO 3166-2 code
    and ``key`` the place's key in the extract (names in every language)."""

    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    population: int | None = None
    key: str | None = None


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def locate(latitude: float, longitude: float) -> Place | None:
    """The inhabited place at a point, or None when the point is far from any (sea, desert).

    Points outside the served countries are returned too, with their country only; callers
    decide what to accept.
    """
    if not valid_coordinates(latitude, longitude):
        return None
    found = index.nearest_anywhere(latitude, longitude, MAX_PLACE_DISTANCE_KM)
    if found is None:
        return None
    return Place(
        name=found.place.name,
        region=found.place.region,
        country=found.place.country,
        latitude=latitude,
        longitude=longitude,
        population=found.place.population or None,
        key=found.place.key if found.place.served else None,
    )
