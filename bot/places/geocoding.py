"""Offline reverse geocoding, and distances.

Reverse geocoding uses the ``reverse-geocode`` package, which ships a GeoNames extract of
places with more than 1,000 inhabitants and needs no network. It always answers with the
*nearest* such place, even for a point in the middle of the sea, so :func:`locate` refuses a
point whose nearest place is further than :data:`MAX_PLACE_DISTANCE_KM`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

MAX_PLACE_DISTANCE_KM = 30.0
EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    """A located place: what onboarding and listings store."""

    name: str
    region: str
    country: str
    latitude: float
    longitude: float
    population: int | None = None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


@cache
def _geocoder() -> Any:
    # Imported on first use: loading the place index takes about half a second, which
    # start-up should not pay for.
    import reverse_geocode

    return reverse_geocode


def locate(latitude: float, longitude: float) -> Place | None:
    """The inhabited place at a point, or None when the point is far from any (sea, desert).

    Points outside the served countries are returned too; callers decide what to accept.
    """
    if not valid_coordinates(latitude, longitude):
        return None
    found = _geocoder().get((latitude, longitude))
    if distance_km(latitude, longitude, found["latitude"], found["longitude"]) > (
        MAX_PLACE_DISTANCE_KM
    ):
        return None
    return Place(
        name=found["city"],
        region=found.get("state") or found.get("county") or "",
        country=found["country_code"],
        latitude=latitude,
        longitude=longitude,
        population=found.get("population") or None,
    )
