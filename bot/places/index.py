"""The places the bot knows, and the nearest ones to a point.

The extract (``data/places.tsv.gz``, built by ``tools/build_places.py`` from GeoNames) has
every town and village of the served countries that GeoNames knows with a population or a
postcode, down to villages of a few hundred people, and the towns of 5,000+ inhabitants
elsewhere (to tell which country a point is in). Its lines are sorted by 0.25° cell and
``data/cells.tsv.gz`` says where each cell starts, so the text stays one bytes object (about
19 MB, read on first use in a fraction of a second) and only the lines of the few cells
around a point are ever parsed. A place's key carries its position ('g726287@42.87,25.50'):
the key finds its cell, so no index of keys is kept.
"""

from __future__ import annotations

import gzip
import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from bot.memory import give_back

DATA = Path(__file__).parent / "data"
EARTH_RADIUS_KM = 6371.0088
CELL = 0.25  # degrees
CELL_KM = 111.2 * CELL
# Searched first: the cells next to the point; further only when too few places are there.
NEAR_KM = 8.0


def cell_of(latitude: float, longitude: float) -> int:
    """The 0.25° cell of a point, as one sortable number."""
    return (math.floor(latitude / CELL) + 1000) * 10_000 + math.floor(longitude / CELL) + 1000


def place_key(ident: str, latitude: float, longitude: float) -> str:
    """'g726287@42.87,25.5': the extract's identifier and where to look for it."""
    return f"{ident}@{round(latitude, 2)},{round(longitude, 2)}"


@dataclass(frozen=True)
class KnownPlace:
    """A place of the extract. ``region`` is an ISO 3166-2 code ('' when unknown)."""

    key: str
    country: str
    region: str
    latitude: float
    longitude: float
    population: int
    name: str  # the international (Latin-script) name
    local: str  # the local spelling, in the country's language and script
    served: bool  # False: a town outside the served countries, known only by its country


@dataclass(frozen=True)
class Nearby:
    place: KnownPlace
    distance_km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _parse(line: bytes) -> KnownPlace:
    ident, country, region, lat, lon, population, name, local = line.decode().split("\t")
    latitude, longitude = float(lat), float(lon)
    return KnownPlace(
        key=place_key(ident, latitude, longitude),
        country=country,
        region=region,
        latitude=latitude,
        longitude=longitude,
        population=int(population),
        name=name,
        local=local or name,
        served=bool(name),
    )


class PlaceIndex:
    """The extract's text, and where each cell's lines start."""

    def __init__(self, text: bytes, cells: bytes) -> None:
        self._text = text
        self._cells = array("q")
        self._starts = array("Q")
        for line in cells.splitlines():
            cell, start = line.split(b"\t")
            self._cells.append(int(cell))
            self._starts.append(int(start))
        self._starts.append(len(text))

    def __len__(self) -> int:
        return self._text.count(b"\n")

    def __iter__(self) -> Iterator[KnownPlace]:
        """Every place, cell by cell: for checks over the whole extract, not for lookups."""
        return (_parse(line) for line in self._text.splitlines())

    def _chunk(self, first: int, last: int) -> bytes:
        """The lines of cells ``first`` to ``last`` (numbers from :func:`cell_of`)."""
        low = bisect_left(self._cells, first)
        high = bisect_right(self._cells, last)
        if low >= high:
            return b""
        return self._text[self._starts[low] : self._starts[high]]

    def _chunks_around(self, latitude: float, longitude: float, cells: int) -> list[bytes]:
        cols = math.ceil(cells / max(math.cos(math.radians(latitude)), 0.05))
        chunks = []
        for r in range(-cells, cells + 1):
            middle = cell_of(latitude + r * CELL, longitude)
            chunks.append(self._chunk(middle - cols, middle + cols))
        return chunks

    def get(self, key: str) -> KnownPlace | None:
        """The place with this key: in the cell its key names, or next to it."""
        ident, _, position = key.partition("@")
        try:
            lat, lon = (float(part) for part in position.split(","))
        except ValueError:
            return None
        wanted = b"\n" + ident.encode() + b"\t"
        for cells in (0, 1):
            for chunk in self._chunks_around(lat, lon, cells):
                at = (b"\n" + chunk).find(wanted)
                if at >= 0:
                    found = _parse(chunk[at : chunk.index(b"\n", at)])
                    if found.key == key:
                        return found
        return None

    def nearest(
        self, latitude: float, longitude: float, limit: int, within_km: float, served_only: bool
    ) -> list[Nearby]:
        """Up to ``limit`` places within ``within_km`` of the point, nearest first."""
        for radius in (min(NEAR_KM, within_km), within_km):
            found = []
            for chunk in self._chunks_around(latitude, longitude, math.ceil(radius / CELL_KM)):
                for line in chunk.splitlines():
                    # Only the position is read from every line; the rest from those near.
                    _key, _country, _region, lat, lon, rest = line.split(b"\t", 5)
                    km = distance_km(latitude, longitude, float(lat), float(lon))
                    # Places elsewhere have no name: only their country is known.
                    if km <= radius and (not served_only or rest.split(b"\t", 2)[1]):
                        found.append((km, line))
            if len(found) >= limit:
                break
        found.sort()
        return [Nearby(_parse(line), km) for km, line in found[:limit]]


@cache
def index() -> PlaceIndex:
    with gzip.open(DATA / "places.tsv.gz", "rb") as text, gzip.open(DATA / "cells.tsv.gz") as cells:
        extract = PlaceIndex(text.read(), cells.read())
    give_back()  # the decompressor's buffers
    return extract


def nearest_places(
    latitude: float, longitude: float, limit: int = 5, within_km: float = 30.0
) -> list[Nearby]:
    """The served places nearest to a point, nearest first, each with its distance."""
    return index().nearest(latitude, longitude, limit, within_km, served_only=True)


def nearest_anywhere(latitude: float, longitude: float, within_km: float) -> Nearby | None:
    """The nearest known place, served or not: which country a point is in."""
    found = index().nearest(latitude, longitude, 1, within_km, served_only=False)
    return found[0] if found else None


@lru_cache(maxsize=4096)
def place(key: str) -> KnownPlace | None:
    """A stored place by its key; cached, since every card naming it asks again."""
    return index().get(key)
