"""Places: the countries the platform serves, offline reverse geocoding, and distances.

Reverse geocoding reads the place extract of :mod:`bot.places.index` (GeoNames towns and
villages, no network). :func:`locate` refuses a point whose nearest place is further than
:data:`MAX_PLACE_DISTANCE_KM` (the middle of the sea); :func:`bot.places.index.nearest_places`
gives the few nearest places to choose from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.places import index

#: EU member states, the Western Balkans, and the neighbours whose municipalities take part.
COUNTRIES: tuple[str, ...] = (
    # European Union
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    # Western Balkans
    "AL", "BA", "XK", "ME", "MK", "RS",
    # Neighbours
    "UA", "MD", "NO", "IS", "CH", "LI", "GB",
)  # fmt: skip

MAX_PLACE_DISTANCE_KM = 30.0
EARTH_RADIUS_KM = 6371.0088


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


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


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
