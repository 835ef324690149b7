"""Matching, pure and fast: whether two listings meet, how well they match and why, and
whether a listing satisfies a saved search. No Telegram, no I/O: storage hands over
:class:`~bot.storage.matching.Features`, word weights and texts; this module scores them.

A match needs the opposite kind, the same category, different owners (and municipalities), and
the reach rule: listing A *covers* B when B lies in A's reach area (Europe: always; country:
same country; region: same country and region; municipality: same place); two listings meet
when each covers the other: a listing's reach bounds whom it meets in both directions, so an
offer "across the country" in Bulgaria never meets a request in Greece, even one that reaches
all of Europe. Above that floor, points add up:

- the category (language-neutral keys, so a Bulgarian request meets a French offer);
- each shared tag, up to three;
- nearness: the same place, region or country, or the distance when both have coordinates
  (whichever says more); the distance is always among the reasons when both have them;
- what the two texts say, in any two languages: the cosine of their vectors (bot/semantic),
  :func:`meaning_points`; when either has no vector (words only, or not embedded yet), similar
  words within one language: :func:`text_similarity`.

A pair is a match from :data:`THRESHOLD` points: the category alone (3) is not enough, the
category and anything else is. The reasons are short keys (``tags:2``, ``km:12``) stored with
the match and translated when shown, in the reader's language at that moment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache

from bot.i18n import Translator
from bot.matching.types import Features, FoundMatch
from bot.places.geocoding import distance_km
from bot.storage import Alert, fold

CATEGORY_POINTS = 3.0
TAG_POINTS = 1.5
MAX_TAGS_COUNTED = 3
PLACE_POINTS, REGION_POINTS, COUNTRY_POINTS = 2.0, 1.5, 1.0
# (within km, points): the first that applies.
DISTANCE_POINTS = ((10.0, 2.0), (50.0, 1.5), (150.0, 0.75))
TEXT_MAX_POINTS = 2.5
# Sharing this share of the new listing's weighted words earns all the text points.
TEXT_FULL_AT = 0.5
WORDS_SHOWN_FROM = 1.0  # "similar words" is said from this many text points
# Words are compared by their first letters, a cheap stemmer for every language: a word of
# up to six letters by its first four, a longer one by its first six ("pompe" and "pompes",
# "помпа" and "помпи", "engine" and "engines", "Feuerwehr" and "Feuerwehren" meet).
SHORT_STEM, LONG_STEM = 4, 6
THRESHOLD = 4.0
BEST = 10
# Cross-language similarity of two listings' texts (cosine of their vectors): no points up to
# MEANING_LOW, all the text points from MEANING_FULL. Tuned on the quality set (bot/semantic,
# docs/BENCHMARKS.md): listings about the same thing in two languages have a median cosine of
# 0.77 (90 % above 0.70); listings of the same category about another thing a median of 0.65
# (90 % below 0.72). "similar description" is said from WORDS_SHOWN_FROM points (cosine 0.71).
MEANING_LOW, MEANING_FULL = 0.66, 0.78
# An alert's keywords meet a listing by meaning from this cosine of the keywords (embedded as a
# search) to the listing: about the best 5 % of unrelated pairs of the quality set lie above.
ALERT_MEANING_FROM = 0.60


@lru_cache(maxsize=65_536)
def place_key(place: str) -> str:
    return fold(place)


def _same_place(a: Features, b: Features) -> bool:
    return a.country == b.country and bool(a.place) and place_key(a.place) == place_key(b.place)


def _same_region(a: Features, b: Features) -> bool:
    # A typed place has no region: then only the same place counts as the same region.
    if a.country != b.country:
        return False
    if a.region and b.region:
        return a.region == b.region
    return _same_place(a, b)


def covers(a: Features, b: Features) -> bool:
    """True when ``b`` lies in the area ``a`` reaches."""
    if a.reach == "europe":
        return True
    if a.reach == "country":
        return a.country == b.country
    if a.reach == "region":
        return _same_region(a, b)
    return _same_region(a, b) and _same_place(a, b)


def meets(a: Features, b: Features) -> bool:
    """The reach rule: each listing reaches where the other is."""
    return covers(a, b) and covers(b, a)


def may_match(a: Features, b: Features) -> bool:
    """Everything a match needs before points: opposite kinds, the same category, not the
    same people, and the reach rule."""
    if a.kind == b.kind or a.category != b.category or a.id == b.id:
        return False
    if a.owner_id == b.owner_id:
        return False
    if a.municipality_id is not None and a.municipality_id == b.municipality_id:
        return False  # colleagues of one municipality do not need the bot to meet
    return meets(a, b)


def stem(word: str) -> str:
    return word[:SHORT_STEM] if len(word) <= LONG_STEM else word[:LONG_STEM]


@dataclass(frozen=True)
class Wording:
    """The new listing's words as :func:`text_similarity` looks for them: each stem, as the
    start of a word (" pomp"), with how telling it is."""

    probes: tuple[tuple[str, float], ...]
    total: float


def wording(listings: int, counts: Mapping[str, int], words: Iterable[str]) -> Wording:
    """Weigh each word by its inverse document frequency as bm25 computes it (``listings``
    in all, ``counts[word]`` of them containing the word); one probe per stem."""
    weights: dict[str, float] = {}
    for word in words:
        found = counts.get(word, 0)
        weight = math.log(1 + (listings - found + 0.5) / (found + 0.5))
        probe = " " + stem(word)
        weights[probe] = max(weight, weights.get(probe, 0.0))
    return Wording(tuple(weights.items()), sum(weights.values()))


# Everything that separates words in folded text (fold keeps punctuation) becomes a space.
_SEPARATORS = str.maketrans(
    {ch: " " for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»‹›“”„‟‘’‚‛–—―…·•¡¿\n\t\u00a0\u202f"}
)


def searchable(folded: str) -> str:
    """A folded text made ready for :func:`text_similarity`: words separated by spaces, and
    a space before the first."""
    return " " + folded.translate(_SEPARATORS)


def text_similarity(wording: Wording, text: str) -> float:
    """How much of the new listing's wording another listing (its :func:`searchable` text)
    shares, from 0 to 1: the weights of the stems that begin one of its words, over all.

    Why not bm25 itself: FTS5 ranks by bm25 only inside a MATCH over the whole index, and
    restricting that to a few hundred candidate rowids re-runs the query for each (about
    40 ms at 100,000 listings). This is bm25's idea at a fraction of the cost: each word
    weighs its inverse document frequency (:func:`wording`, from the full-text index's
    statistics), so a rare shared word counts for much and a common one for little; only
    the length normalisation is left out, which matters little for short texts. Stems are
    looked for as substrings ("in", in C) rather than by splitting the other text into words.
    """
    if not wording.total:
        return 0.0
    return sum(weight for probe, weight in wording.probes if probe in text) / wording.total


def text_points(similarity: float | None) -> float:
    if not similarity:
        return 0.0
    return TEXT_MAX_POINTS * min(1.0, similarity / TEXT_FULL_AT)


def meaning_points(cosine: float) -> float:
    """Text points for two listings whose vectors have this cosine (any two languages)."""
    share = (cosine - MEANING_LOW) / (MEANING_FULL - MEANING_LOW)
    return TEXT_MAX_POINTS * min(1.0, max(0.0, share))


def score(
    a: Features, b: Features, similarity: float | None = None, meaning: float | None = None
) -> tuple[float, tuple[str, ...]]:
    """Points and reasons for a pair that :func:`may_match` (the new listing first);
    ``similarity``: :func:`text_similarity` of their texts, counted within one language;
    ``meaning``: the cosine of their vectors, in any languages (used instead when known)."""
    points, reasons = _score_without_words(a, b)
    return _with_words(a, b, points, reasons, similarity, meaning)


def _score_without_words(a: Features, b: Features) -> tuple[float, tuple[str, ...]]:
    points = CATEGORY_POINTS
    reasons = ["category"]
    shared = len(a.tags & b.tags)
    if shared:
        points += TAG_POINTS * min(shared, MAX_TAGS_COUNTED)
        reasons.append(f"tags:{shared}")
    near, why = 0.0, ""
    if _same_place(a, b):
        near, why = PLACE_POINTS, "place"
    elif _same_region(a, b):
        near, why = REGION_POINTS, "region"
    elif a.country == b.country:
        near, why = COUNTRY_POINTS, "country"
    if None not in (a.latitude, a.longitude, b.latitude, b.longitude):
        km = distance_km(a.latitude, a.longitude, b.latitude, b.longitude)  # type: ignore[arg-type]
        for within, worth in DISTANCE_POINTS:
            if km <= within:
                if worth > near:
                    near = worth
                break
        if why != "place":
            why = (why + " " if why else "") + f"km:{round(km)}"
    if why:
        reasons.extend(why.split())
    return points + near, tuple(reasons)


def _with_words(
    a: Features,
    b: Features,
    points: float,
    reasons: tuple[str, ...],
    similarity: float | None,
    meaning: float | None = None,
) -> tuple[float, tuple[str, ...]]:
    if meaning is not None:
        extra = meaning_points(meaning)
        if extra >= WORDS_SHOWN_FROM:
            reasons = (*reasons, "meaning")
        return points + extra, reasons
    if a.language != b.language:
        return points, reasons
    words = text_points(similarity)
    if words >= WORDS_SHOWN_FROM:
        reasons = (*reasons, "words")
    return points + words, reasons


class Ranking:
    """A new listing's candidates scored without their words, so that only those whose
    words could still matter are compared by text (:meth:`worth_comparing`)."""

    def __init__(self, subject: Features, candidates: Iterable[Features]) -> None:
        self.subject = subject
        self.scored = [
            (*_score_without_words(subject, other), other)
            for other in candidates
            if may_match(subject, other)
        ]

    def worth_comparing(self, limit: int = BEST) -> list[int]:
        """Candidates in the new listing's language whose text points could lift them over
        the threshold and into the best ``limit``: a candidate below the ``limit``-th best
        score even with all the text points never makes it."""
        points = sorted((p for p, _reasons, _other in self.scored), reverse=True)
        bar = max(THRESHOLD, points[limit - 1] if len(points) >= limit else 0.0)
        language = self.subject.language
        return [
            other.id
            for p, _reasons, other in self.scored
            if other.language == language and p + TEXT_MAX_POINTS >= bar
        ]

    def best(
        self,
        similarity: Mapping[int, float] | None = None,
        limit: int = BEST,
        meaning: Mapping[int, float] | None = None,
    ) -> list[FoundMatch]:
        """The best ``limit`` matches from :data:`THRESHOLD` points, best first (newer first
        among equals). ``meaning``: cosines of the candidates' vectors to the new listing's."""
        similarity = similarity or {}
        meaning = meaning or {}
        found: list[tuple[float, int, int, tuple[str, ...]]] = []
        for points, reasons, other in self.scored:
            points, reasons = _with_words(
                self.subject,
                other,
                points,
                reasons,
                similarity.get(other.id),
                meaning.get(other.id),
            )
            if points >= THRESHOLD:
                found.append((points, other.published_at, other.id, reasons))
        found.sort(key=_by_points_then_newest, reverse=True)
        mine = self.subject.id
        return [
            FoundMatch(mine, other, points, reasons)
            for points, _published, other, reasons in found[:limit]
        ]


def _by_points_then_newest(item: tuple[float, int, int, tuple[str, ...]]) -> tuple[float, int]:
    return item[0], item[1]


def best_matches(
    subject: Features,
    candidates: Iterable[Features],
    similarity: Mapping[int, float] | None = None,
    *,
    limit: int = BEST,
) -> list[FoundMatch]:
    """The best ``limit`` candidates matching ``subject`` (see :class:`Ranking`)."""
    return Ranking(subject, candidates).best(similarity, limit)


def describe(t: Translator, reasons: Iterable[str]) -> str:
    """'same category · 2 shared tags · same region · 12 km away', in the reader's language
    (the distance with CLDR's unit: '12 km', '12 χλμ.')."""
    _ = t.gettext
    parts = []
    for reason in reasons:
        key, _sep, value = reason.partition(":")
        if key == "category":
            parts.append(_("same category"))
        elif key == "tags" and value.isdigit():
            count = int(value)
            parts.append(
                t.ngettext("{count} shared tag", "{count} shared tags", count).format(
                    count=t.number(count)
                )
            )
        elif key == "place":
            parts.append(_("same place"))
        elif key == "region":
            parts.append(_("same region"))
        elif key == "country":
            parts.append(_("same country"))
        elif key == "km" and value.isascii() and value.isdigit():
            # Translators: {distance} is a distance with its unit, e.g. "27 km".
            parts.append(_("{distance} away").format(distance=t.kilometres(int(value))))
        elif key == "words":
            parts.append(_("similar words"))
        elif key == "meaning":
            parts.append(_("similar description"))
    return " · ".join(parts)


# --- saved searches --------------------------------------------------------------------------


def words_of(text: str) -> set[str]:
    """The folded words of a text, as alerts compare them."""
    return {token for token in re.split(r"[\W_]+", fold(text)) if token}


def alert_matches(
    alert: Alert, listing: Features, words: set[str], meaning: float | None = None
) -> bool:
    """Does a new listing satisfy a saved search? ``words``: the listing's folded words.
    Each keyword must begin a word of the listing ("pomp" finds "pompes"), or the keywords
    must mean what the listing says, in any language: ``meaning``, the cosine of the keywords'
    vector to the listing's, from :data:`ALERT_MEANING_FROM`."""
    return within_alert_filters(alert, listing) and keywords_match(alert, words, meaning)


def keywords_match(alert: Alert, words: AbstractSet[str], meaning: float | None = None) -> bool:
    """:func:`alert_matches` but for the filters: the saved search's words (none: any)."""
    if meaning is not None and meaning >= ALERT_MEANING_FROM:
        return True
    return all(any(word.startswith(key) for word in words) for key in _keywords(alert.keywords))


# The same few alerts meet every new listing of their category and area: their words are
# folded once, not once for each listing.
_keywords = lru_cache(maxsize=4096)(words_of)


def within_alert_filters(alert: Alert, listing: Features) -> bool:
    """The saved search's filters, its words aside: active, someone else's listing, of its
    kind, categories, tags and area (what a hit that waited is checked against again)."""
    if alert.paused or alert.user_id == listing.owner_id:
        return False
    if alert.kind is not None and alert.kind != listing.kind:
        return False
    if alert.categories and listing.category not in alert.categories:
        return False
    if alert.tags and listing.tags.isdisjoint(alert.tags):
        return False
    return _in_alert_area(alert, listing)


def _in_alert_area(alert: Alert, listing: Features) -> bool:
    if alert.area == "europe":
        return True
    if alert.area == "country":
        return listing.country == alert.country
    if alert.area == "region":
        return listing.country == alert.country and listing.region == alert.region
    if None in (alert.latitude, alert.longitude, alert.radius_km):
        return False
    if listing.latitude is None or listing.longitude is None:
        return False
    km = distance_km(alert.latitude, alert.longitude, listing.latitude, listing.longitude)  # type: ignore[arg-type]
    return km <= alert.radius_km  # type: ignore[operator]
