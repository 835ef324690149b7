"""Local times for people who schedule things: a country's usual timezone, and reading a date
and time typed in it.

Every served country but Spain and Portugal has one timezone on the mainland; the capital's
is the one people mean when they type "9:00" there (the Canaries and Azores can type theirs).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def local_datetime(seconds: int, timezone: str) -> datetime:
    return datetime.fromtimestamp(seconds, ZoneInfo(timezone))
