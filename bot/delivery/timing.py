"""When to tell a person: their notification preferences, quiet hours and digest time.

Pure functions over Unix seconds (no clock of their own, no I/O), so the scheduler and the tests
decide what "now" is. Daylight saving time is zoneinfo's business: "09:00 local" is built as a
wall-clock time in the zone and converted, never computed as a fixed UTC offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.places.timezones import DEFAULT_ZONE, local

DIGEST_HOUR = 9
WEEKLY_DAY = 0  # Monday
DEFAULT_QUIET = (22, 8)


@dataclass(frozen=True)
class Preferences:
    """When a person wants to be told (defaults for someone who never changed anything)."""

    frequency: str = "instant"
    timezone: str = DEFAULT_ZONE
    quiet_start: int | None = DEFAULT_QUIET[0]
    quiet_end: int | None = DEFAULT_QUIET[1]
    timezone_chosen: bool = False


def _at(day: datetime, hour: int) -> int:
    """``hour``:00 on ``day``'s date in ``day``'s zone, as Unix seconds."""
    wall = datetime.combine(day.date(), time(hour), tzinfo=day.tzinfo)
    return int(wall.timestamp())


def in_quiet_hours(hour: int, start: int | None, end: int | None) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # across midnight, e.g. 22 → 8


def after_quiet_hours(now: int, prefs: Preferences) -> int:
    """``now``, or the end of the quiet hours if ``now`` falls in them."""
    today = local(now, prefs.timezone)
    if not in_quiet_hours(today.hour, prefs.quiet_start, prefs.quiet_end):
        return now
    assert prefs.quiet_end is not None
    end = _at(today, prefs.quiet_end)
    if end <= now:  # the quiet hours end tomorrow morning
        end = _at(today + timedelta(days=1), prefs.quiet_end)
    return end


def next_digest(now: int, prefs: Preferences, frequency: str | None = None) -> int:
    """When the next digest of ``frequency`` (default: the person's) is due: the next 09:00
    local (daily) or the next Monday 09:00 (weekly); for 'instant', now (out of quiet hours).
    Never earlier than ``now``; quiet hours that cover 09:00 push it to their end."""
    frequency = frequency or prefs.frequency
    if frequency == "instant":
        return after_quiet_hours(now, prefs)
    today = local(now, prefs.timezone)
    day = today
    while True:
        due = _at(day, DIGEST_HOUR)
        if due > now and (frequency == "daily" or day.weekday() == WEEKLY_DAY):
            return after_quiet_hours(due, prefs)
        day = day + timedelta(days=1)
