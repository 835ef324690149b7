"""How a match explains itself: how far apart the two listings are, and a reason naming what
matched ("same category · 1 shared tag: *fire and rescue* · 27 km away"), in the reader's language.

The stored reasons are short keys (bot/matching/scoring.py); the tags are named here from the
two listings as they are now. Any reason this module does not word itself (a new signal of
matching) is worded by :func:`bot.matching.scoring.describe`, so a reason added there shows up
here without a change.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot import taxonomy
from bot.i18n import Translator
from bot.matching import scoring
from bot.places.geocoding import distance_km
from bot.storage import Listing


def kilometres_between(a: Listing, b: Listing) -> float | None:
    """The great-circle distance, when both listings have a point."""
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    return distance_km(a.latitude, a.longitude, b.latitude, b.longitude)  # type: ignore[arg-type]


def distance_from(point: tuple[float, float] | None, listing: Listing) -> float | None:
    if point is None or listing.latitude is None or listing.longitude is None:
        return None
    return distance_km(point[0], point[1], listing.latitude, listing.longitude)


def shared_tags(t: Translator, mine: Listing, other: Listing) -> str | None:
    """'1 shared tag: <i>fire and rescue</i>', or None when they share no tag (any more)."""
    shared = [tag for tag in sorted(set(mine.tags) & set(other.tags)) if tag in taxonomy.TAG_NAMES]
    if not shared:
        return None
    names = ", ".join(f"<i>{t.gettext(taxonomy.TAG_NAMES[tag])}</i>" for tag in shared)
    # Translators: {tags} is one or more tag names in italics, separated by commas.
    return t.ngettext(
        "{count} shared tag: {tags}", "{count} shared tags: {tags}", len(shared)
    ).format(count=t.number(len(shared)), tags=names)


def reason_line(t: Translator, reasons: Iterable[str], mine: Listing, other: Listing) -> str:
    """What matched, each reason named, in the order matching found them."""
    parts = []
    for reason in reasons:
        if reason.startswith("tags:"):
            named = shared_tags(t, mine, other)
            if named is not None:
                parts.append(named)
                continue
        worded = scoring.describe(t, [reason])
        if worded:
            parts.append(worded)
    return " · ".join(parts)
