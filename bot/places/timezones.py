"""Time zones: each served country's zone, the zones a person may choose, local wall-clock
time, and reading a date and time typed in a zone.

Every served country but Spain and Portugal has one timezone on the mainland; the capital's
is the one people mean when they type "9:00" there (the Canaries and Azores can type theirs).
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The zone of each served country (bot/places/countries.COUNTRIES). Kosovo has no zone of its
# own in the tz database; it keeps Belgrade's time.
COUNTRY_ZONES: dict[str, str] = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia",
    "HR": "Europe/Zagreb", "CY": "Asia/Nicosia", "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn", "FI": "Europe/Helsinki",
    "FR": "Europe/Paris", "DE": "Europe/Berlin", "GR": "Europe/Athens",
    "HU": "Europe/Budapest", "IE": "Europe/Dublin", "IT": "Europe/Rome",
    "LV": "Europe/Riga", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana", "ES": "Europe/Madrid", "SE": "Europe/Stockholm",
    "AL": "Europe/Tirane", "BA": "Europe/Sarajevo", "XK": "Europe/Belgrade",
    "ME": "Europe/Podgorica", "MK": "Europe/Skopje", "RS": "Europe/Belgrade",
    "UA": "Europe/Kyiv", "MD": "Europe/Chisinau", "NO": "Europe/Oslo",
    "IS": "Atlantic/Reykjavik", "CH": "Europe/Zurich", "LI": "Europe/Vaduz",
    "GB": "Europe/London",
}  # fmt: skip
DEFAULT_ZONE = "Europe/Brussels"
# The zones a person may choose: their countries', plus the islands that differ from their
# mainland (Azores, Canaries).
ZONES: tuple[str, ...] = tuple(
    sorted({*COUNTRY_ZONES.values(), "Atlantic/Azores", "Atlantic/Canary"})
)


def zone_of(country: str | None, chosen: str | None = None) -> str:
    """The person's zone: the one they chose, else their country's, else Brussels'."""
    if chosen in ZONES:
        return chosen
    return COUNTRY_ZONES.get((country or "").upper(), DEFAULT_ZONE)


@cache
def _zone(name: str) -> ZoneInfo:
    # zoneinfo keeps only a handful of zones strongly cached; we use forty (and the valid
    # zones broadcasts are scheduled in).
    return ZoneInfo(name)


def local(now: int, zone: str) -> datetime:
    return datetime.fromtimestamp(now, _zone(zone))


# 2030-05-01 09:30, 01.05.2030 9:30, 01/05/2030 09:30; optionally followed by a timezone name.
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2})[:h.](\d{2})(?:\s+(\S+))?$")
_DAY_FIRST = re.compile(
    r"^(\d{1,2})[./](\d{1,2})[./](\d{4}),?\s+(\d{1,2})[:h.](\d{2})(?:\s+(\S+))?$"
)


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_local(text: str, timezone: str) -> tuple[int, str] | None:
    """Unix seconds of a typed date and time, and the timezone it was read in (the one typed
    after it, else ``timezone``); None if it is not a date and time."""
    typed = " ".join(text.split())
    match = _ISO.match(typed)
    if match:
        year, month, day, hour, minute, zone = match.groups()
    else:
        match = _DAY_FIRST.match(typed)
        if match is None:
            return None
        day, month, year, hour, minute, zone = match.groups()
    zone = zone or timezone
    if not valid_timezone(zone):
        return None
    try:
        local = datetime(
            int(year), int(month), int(day), int(hour), int(minute), tzinfo=ZoneInfo(zone)
        )
    except ValueError:  # 31 April, 25:00
        return None
    return int(local.timestamp()), zone
