"""The matching pass, without Telegram: take the listings not matched yet, find each one's
best matches and the alerts it satisfies, and store the matches with what to tell whom.
A listing is marked matched in the transaction that stores its matches and notifications
(a few listings to a transaction, bot/storage/matching.py), so a crash mid-pass leaves it
for the next pass, and the outbox keys make that rerun tell nobody twice.

Used by the scheduler's job (bot/matching/jobs.py) and by the benchmark (benchmarks/matching.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import sqlite3
import time
from collections.abc import Callable, Container, Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np

from bot.delivery.timing import Preferences, next_digest
from bot.matching.fitting import features_of
from bot.matching.scoring import (
    Ranking,
    Wording,
    alert_matches,
    keywords_match,
    searchable,
    text_similarity,
    within_alert_filters,
    wording,
    words_of,
)
from bot.matching.types import (
    Delivery,
    Features,
    FoundMatch,
    Matched,
    Subject,
    distinctive_words,
)
from bot.semantic.codes import Vector
from bot.semantic.meaning import Meaning
from bot.semantic.service import Semantics
from bot.storage import Alert, Listing, Storage
from bot.storage.base import Checkpoints
from bot.taxonomy import KINDS

log = logging.getLogger(__name__)

# The person who posts gets a card for at most this many of their listing's best matches
# (the owners of the listings matched get one card each): a new listing must not bury its
# author under ten messages.
CARDS_FOR_NEW_LISTING = 3
PASS_SECONDS = 5.0  # one run matches for at most about this long, then yields
# Listings whose matches are written in one transaction while no other write waits for it
# (one that does waits for at most bot.storage.matching.STEP listings' writes): a commit
# sends every index page it changed to the WAL, and the pass's rows go to random pages of
# the outbox's, the digest items' and the matches' indexes, so the fewer commits, the fewer
# times the same page is written.
WRITE_EVERY = 200
# SQLite's page cache while the pass runs (KiB; 2 MB otherwise). With the default, the
# pages a transaction changes do not fit: they went to the WAL before the commit and again
# when changed once more, and the candidates' pages were read from the file again and again.
PASS_CACHE_KIB = 16_384
# The WAL checkpointed after this many of the pass's writes (of WRITE_EVERY listings), and
# after the pass, beside it (Database.checkpoints_aside) instead of inside each commit:
# every write changes more than the automatic checkpoint's 1,000 pages, mostly the index
# pages the one before changed, so each commit copied them all into the database file
# again. The WAL grows to about 25,000 pages (100 MB) meanwhile.
CHECKPOINT_EVERY = 10
# Listings whose candidates are read in one trip to the database's thread (a trip costs
# about 50 µs of CPU, and more under load: the two threads hand over the interpreter).
READ_TOGETHER = 25

# When a digest is due depends only on the moment and the person's preferences, which most
# people share (a few time zones, the default quiet hours): worked out once per moment, not
# once per notification (zoneinfo's conversions were a tenth of the pass's Python time).
_next_digest = functools.lru_cache(maxsize=4096)(next_digest)


class Lookups:
    """What the matching pass keeps between listings and runs, so that matching one listing
    costs a few indexed reads:

    - the active alerts by category and country, reloaded when they change and every
      :data:`ALERTS_FOR` seconds;
    - how many listings contain each word, for :data:`TEXTS_FOR` seconds (weights do not
      mind the lag), and the texts of recent candidates, that long or until a listing's
      text is edited;
    - people's notification preferences, for :data:`PREFERENCES_FOR` seconds or until
      changed (blocking is checked again when a notification is queued);
    - the vectors of recent candidates (as the texts: never one from before an edit), and
      of alerts' keywords, embedded once (off the event loop) when first needed.
    """

    ALERTS_FOR = 60.0
    TEXTS_FOR = 600.0
    PREFERENCES_FOR = 60.0
    MAX_WORDS = 200_000
    MAX_TEXTS = 20_000  # listings: a few megabytes

    MAX_VECTORS = 20_000  # listings, kept as stored (int8): about 11 MB
    MAX_KEYWORDS = 10_000

    def __init__(self, storage: Storage, semantics: Semantics | None = None) -> None:
        self.storage = storage
        self.semantics = semantics
        self.vectors: dict[int, tuple[bytes, float]] = {}  # as stored
        self.keywords: dict[str, Vector | None] = {}
        self.alerts: dict[tuple[str, str, str], list[Alert]] = {}
        self.alerts_version = -1
        self.alerts_at = -math.inf
        self.counts: dict[str, int] = {}
        self.total = 0
        self.texts: dict[int, str] = {}
        self.texts_at = -math.inf
        self.texts_version = -1
        self.prefs: dict[int, Preferences] = {}
        self.prefs_version = -1
        self.prefs_at = -math.inf
        self.speakers: dict[int, list[int]] | None = None

    async def alerts_for(self, category: str, country: str, kind: str) -> list[Alert]:
        """Active alerts that may want a listing of ``kind`` and ``category`` in
        ``country``: those for that kind (or either), that category (or any) and that
        country (or Europe, or a radius)."""
        storage = self.storage
        fresh = time.monotonic() - self.alerts_at < self.ALERTS_FOR
        if not fresh or storage.alerts_version != self.alerts_version:
            self.alerts_version = storage.alerts_version
            self.alerts_at = time.monotonic()
            buckets: dict[tuple[str, str, str], list[Alert]] = {}
            for alert in await storage.active_alerts():
                where = alert.country or "" if alert.area in ("country", "region") else "*"
                for key in alert.categories or ("",):
                    for wanted in (alert.kind,) if alert.kind else KINDS:
                        buckets.setdefault((key, where, wanted), []).append(alert)
            self.alerts = buckets
        return [
            alert
            for key in ((category, country), (category, "*"), ("", country), ("", "*"))
            for alert in self.alerts.get((*key, kind), ())
        ]

    def _texts_fresh(self) -> None:
        if self.storage.texts_version != self.texts_version:  # a text edited: never compared
            self.texts_version = self.storage.texts_version  # as it was
            self.texts.clear()
            self.vectors.clear()
        too_many = len(self.counts) > self.MAX_WORDS
        if time.monotonic() - self.texts_at > self.TEXTS_FOR or too_many:
            self.counts.clear()
            self.texts.clear()
            self.vectors.clear()
            self.total = 0
            self.texts_at = time.monotonic()

    async def wording(self, words: list[str]) -> Wording:
        """The new listing's words, weighed (:func:`bot.matching.wording`)."""
        self._texts_fresh()
        missing = [word for word in words if word not in self.counts]
        if missing or not self.total:
            self.total, found = await self.storage.word_counts(missing)
            self.counts.update({word: found.get(word, 0) for word in missing})
        return wording(self.total, self.counts, words)

    async def texts_of(self, ids: list[int]) -> dict[int, str]:
        """Each listing's :func:`bot.matching.searchable` text."""
        self._texts_fresh()
        if len(self.texts) + len(ids) > self.MAX_TEXTS:
            self.texts.clear()  # the newest listings come back first, as candidates
        missing = [id_ for id_ in ids if id_ not in self.texts]
        if missing:
            for id_, text in (await self.storage.folded_texts(missing)).items():
                self.texts[id_] = searchable(text)
        return {id_: self.texts[id_] for id_ in ids if id_ in self.texts}

    def model(self) -> str | None:
        """The name of the vectors compared; None when matching runs on words alone."""
        return self.semantics.model_name() if self.semantics is not None else None

    async def meanings(self, listing: int, others: list[int]) -> tuple[Vector | None, Cosines]:
        """:func:`meanings` of the listing and ``others`` (each that has a vector of the
        current model): its unit vector and their cosines to it."""
        return meanings(await self._stored_vectors([listing, *others]), listing, others)

    async def _stored_vectors(self, ids: list[int]) -> dict[int, tuple[bytes, float]]:
        """The kept vectors, with those of ``ids`` read if they were not kept yet."""
        model = self.model()
        if model is None:
            return {}
        self._texts_fresh()
        if len(self.vectors) + len(ids) > self.MAX_VECTORS:
            self.vectors.clear()
        missing = [id_ for id_ in ids if id_ not in self.vectors]
        if missing:
            self.remember_vectors(await self.storage.vectors_of(missing, model))
        return self.vectors

    def kept_vectors(self) -> Container[int]:
        """The listings whose vectors are kept (what :meth:`remember_vectors` need not be
        given but for a listing being matched)."""
        self._texts_fresh()
        return self.vectors

    def remember_vectors(self, stored: dict[int, tuple[bytes, float]]) -> None:
        """Keep stored vectors, for :meth:`meanings`: read with a listing's candidates, or
        by :meth:`meanings` itself. Kept as stored (int8, a quarter of a unit vector's
        float32) and made unit vectors a listing's worth at a time, when compared: a
        listing's candidates are a few dozen of the hundreds read with its group's, and
        most come again with later listings."""
        self._texts_fresh()
        if len(self.vectors) + len(stored) > self.MAX_VECTORS:
            self.vectors.clear()
        self.vectors.update(stored)

    async def keywords_vector(self, keywords: str) -> Vector | None:
        """An alert's keywords as a search's vector (cached: alerts rarely change)."""
        if self.semantics is None or self.model() is None:
            return None
        if keywords not in self.keywords:
            if len(self.keywords) > self.MAX_KEYWORDS:
                self.keywords.clear()
            self.keywords[keywords] = await self.semantics.query(keywords)
        return self.keywords[keywords]

    async def released(self) -> dict[int, list[int]]:
        """The open listings whose owner no longer answers for them, with who speaks for
        each instead (:meth:`~bot.storage.verification.VerificationQueries.
        released_listings`; none: unattended), as read at the start of the pass (a few
        rows): a card that goes out later is checked again when it is sent."""
        if self.speakers is None:
            await self.read_released()
        assert self.speakers is not None
        return self.speakers

    async def read_released(self) -> None:
        self.speakers = await self.storage.released_listings()

    def _prefs_fresh(self) -> None:
        storage = self.storage
        fresh = time.monotonic() - self.prefs_at < self.PREFERENCES_FOR
        if not fresh or storage.preferences_version != self.prefs_version:
            self.prefs.clear()
            self.prefs_version = storage.preferences_version
            self.prefs_at = time.monotonic()

    def known_people(self) -> Container[int]:
        """The people whose preferences are known (what :meth:`remember_preferences` need
        not be given)."""
        self._prefs_fresh()
        return self.prefs

    def remember_preferences(self, read: dict[int, Preferences], version: int) -> None:
        """Keep preferences read with a listing's candidates, for :meth:`preferences_of`,
        unless someone changed theirs since (``version``: the storage's when they were read).
        """
        if version == self.storage.preferences_version:
            self._prefs_fresh()
            self.prefs.update(read)

    async def preferences_of(self, people: Iterable[int]) -> dict[int, Preferences]:
        """Preferences of the people who have not blocked the bot."""
        storage = self.storage
        self._prefs_fresh()
        wanted = set(people)
        missing = {person for person in wanted if person not in self.prefs}
        if missing:
            self.prefs.update(await storage.preferences_of(missing))
        return {person: self.prefs[person] for person in wanted if person in self.prefs}


async def match_listing(
    storage: Storage,
    subject: Subject,
    now: int,
    lookups: Lookups | None = None,
    candidates: list[Features] | None = None,
) -> Matched:
    """A listing's best matches and alert hits, and what to tell whom (nothing written).
    ``candidates``: if already read."""
    lookups = lookups or Lookups(storage)
    features = subject.features
    if candidates is None:
        candidates = await storage.match_candidates(features, now)
    speakers = await lookups.released()
    if speakers.get(features.id) == []:
        # Unattended: nobody would answer whom it meets (it is matched again once its
        # municipality has a verified official: bot/storage/verification.py, _decide).
        return Matched(features.id, [], [], history=subject.history)
    found_candidates = [c for c in candidates if speakers.get(c.id) != []]
    ranking = Ranking(features, found_candidates)
    # Meaning where both listings have vectors; words (within one language) for the others.
    mine, meaning = await lookups.meanings(features.id, [c.id for c in found_candidates])
    similarity: dict[int, float] = {}
    words = distinctive_words(subject.text)
    compared = [id_ for id_ in ranking.worth_comparing() if id_ not in meaning] if words else []
    if compared:
        weighed = await lookups.wording(words)
        texts = await lookups.texts_of(compared)
        similarity = {id_: text_similarity(weighed, text) for id_, text in texts.items()}
    found = ranking.best(similarity, meaning=meaning)
    hits = []
    # The listing's folded words, once an alert has words to look for.
    listing_words: AbstractSet[str] | None = None
    for alert in await lookups.alerts_for(features.category, features.country, features.kind):
        if not within_alert_filters(alert, features):
            continue
        keywords = (
            await lookups.keywords_vector(alert.keywords)
            if mine is not None and alert.keywords
            else None
        )
        closeness = float(keywords @ mine) if keywords is not None and mine is not None else None
        if listing_words is None and alert.keywords:
            listing_words = words_of(subject.text)
        if keywords_match(alert, listing_words or frozenset(), closeness):
            hits.append(alert)
    owners = {c.id: c.owner_id for c in found_candidates}
    told = {features.id: told_about(speakers, features.id, features.owner_id)}
    told.update((m.other, told_about(speakers, m.other, owners[m.other])) for m in found)
    people = {*(p for each in told.values() for p in each), *(a.user_id for a in hits)}
    prefs = await lookups.preferences_of(people)
    deliveries = plan(subject, found, told, hits, prefs, now)
    unembedded = mine is None and lookups.model() is not None
    return Matched(features.id, found, deliveries, unembedded, subject.history)


async def keyword_meanings(
    storage: Storage,
    semantics: Semantics | Meaning,
    keywords: str | None,
    listings: Iterable[int],
) -> dict[int, float]:
    """How close each listing is in meaning to an alert's ``keywords`` (the cosine the pass
    compares with :data:`~bot.matching.scoring.ALERT_MEANING_FROM`), for the listings that
    have a vector of the loaded model; empty without keywords or on words alone. A
    :class:`Meaning` keeps the keywords' vector for the next hit of the same alert."""
    model = semantics.model_name()
    if not keywords or model is None:
        return {}
    vector = await semantics.query(keywords)
    return cosines(vector, unit_vectors(await storage.vectors_of(listings, model)))


async def alert_fits(storage: Storage, meaning: Meaning, alert: Alert, listing: Listing) -> bool:
    """Whether ``alert`` would be told of ``listing`` now, by the pass's own rule
    (:func:`~bot.matching.scoring.alert_matches`: its filters, then its words or what they
    mean): for a hit that waited while either was edited. The model is asked only when the
    filters hold and the words alone do not."""
    features = features_of(listing)
    if not within_alert_filters(alert, features):
        return False
    words = words_of(f"{listing.title} {listing.description}")
    if alert_matches(alert, features, words):
        return True
    meanings = await keyword_meanings(storage, meaning, alert.keywords, [listing.id])
    return alert_matches(alert, features, words, meanings.get(listing.id))


def unit_vectors(stored: dict[int, tuple[bytes, float]]) -> dict[int, Vector]:
    """Stored int8 vectors as unit vectors, all in one matrix (a vector at a time cost more
    in numpy's calls than in arithmetic). Each one's scale is left out: it does not change
    the direction."""
    if not stored:
        return {}
    return dict(zip(stored, _units([vector for vector, _scale in stored.values()]), strict=True))


def _units(vectors: list[bytes]) -> np.ndarray:
    """Stored int8 vectors as the rows of one matrix of unit vectors."""
    matrix = np.frombuffer(b"".join(vectors), np.int8).reshape(len(vectors), -1)
    units = matrix.astype(np.float32)
    units /= np.maximum(np.linalg.norm(units, axis=1, keepdims=True), 1e-6)
    return units


Cosines = dict[int, float]


def meanings(
    stored: Mapping[int, tuple[bytes, float]], listing: int, others: Iterable[int]
) -> tuple[Vector | None, Cosines]:
    """The unit vector of ``listing`` and the cosine to it of each of ``others`` that has a
    vector (none without the listing's own), from ``stored`` vectors: :func:`unit_vectors`
    then :func:`cosines`, bit for bit, in one matrix without a dictionary of rows between
    them (for a listing's few dozen candidates numpy's calls, not its arithmetic, were the
    cost: 10,000 times a pass)."""
    if listing not in stored:
        return None, {}
    ids = [id_ for id_ in others if id_ in stored]
    units = _units([stored[listing][0], *(stored[id_][0] for id_ in ids)])
    mine = units[0]
    if not ids:
        return mine, {}
    return mine, dict(zip(ids, (units[1:] @ mine).tolist(), strict=True))


def cosines(mine: Vector | None, vectors: dict[int, Vector]) -> Cosines:
    """The cosine of each listing's unit vector to ``mine`` (none without ``mine``)."""
    if mine is None or not vectors:
        return {}
    ids = list(vectors)
    found = np.stack([vectors[id_] for id_ in ids]) @ mine
    return dict(zip(ids, found.tolist(), strict=True))


def told_about(speakers: dict[int, list[int]], listing: int, owner: int) -> list[int]:
    """Who hears of a listing's matches: its owner, or, once it is no longer theirs (they
    left its municipality, moved, were revoked), its municipality's verified officials."""
    return speakers.get(listing) or [owner]


def plan(
    subject: Subject,
    found: list[FoundMatch],
    sides: dict[int, list[int]],
    hits: list[Alert],
    prefs: dict[int, Preferences],
    now: int,
) -> list[Delivery]:
    """Who is told what, and when: the people on each match's other side (``sides``: by
    listing, :func:`told_about`) get a card about the new listing, those on its own side a
    card for each of the best few, nobody two cards about one pair (an official on both
    sides hears of it as the other listing's); alert owners not already told about it by a
    match get one alert hit. Instant ones are due now (the outbox holds them through quiet
    hours); the others wait for the person's digest."""
    listing = subject.features
    deliveries: list[Delivery] = []
    told: set[int] = set()

    def tell(
        user: int, kind: str, key: str, payload: dict[str, Any], frequency: str | None
    ) -> None:
        wanted = prefs.get(user)
        if wanted is None:  # blocked the bot, or gone
            return
        frequency = frequency or wanted.frequency
        if frequency == "instant":
            deliveries.append(Delivery(user, kind, key, payload, now))
        else:
            due = _next_digest(now, wanted, frequency)
            deliveries.append(
                Delivery(user, kind, key, payload, due, digest_due=due, digest_frequency=frequency)
            )

    for rank, match in enumerate(found):
        a, b = match.pair
        others = sides[match.other]
        for person in others:
            tell(
                person,
                "match",
                f"match:{person}:{a}:{b}",
                {"listing": match.other, "other": listing.id},
                None,
            )
        told.update(others)
        if rank < CARDS_FOR_NEW_LISTING:
            for person in sides[listing.id]:
                if person in others:
                    continue
                tell(
                    person,
                    "match",
                    f"match:{person}:{a}:{b}",
                    {"listing": listing.id, "other": match.other},
                    None,
                )
    for alert in hits:
        if alert.user_id in told:
            continue
        told.add(alert.user_id)
        tell(
            alert.user_id,
            "alert",
            f"alert:{alert.id}:{listing.id}",
            {"alert": alert.id, "listing": listing.id},
            alert.frequency,
        )
    return deliveries


async def matching_pass(
    storage: Storage,
    now: Callable[[], int],
    *,
    seconds: float = PASS_SECONDS,
    batch: int = 100,
    lookups: Lookups | None = None,
) -> tuple[int, int]:
    """Match the listings waiting for it for up to about ``seconds``, writing every
    :data:`WRITE_EVERY` listings (see :meth:`~bot.storage.matching.MatchingQueries.
    save_matches`: another write waits for one step of it at most). Returns (listings
    done, notifications queued for now or soon)."""
    lookups = lookups or Lookups(storage)
    started = time.monotonic()
    subjects = await storage.unmatched_listings(batch)
    if not subjects:
        return 0, 0  # an idle run: one indexed read
    await lookups.read_released()
    async with storage.page_cache(PASS_CACHE_KIB), storage.checkpoints_aside() as checkpoints:
        return await _match_batches(
            storage, now, subjects, started + seconds, batch, lookups, checkpoints
        )


async def _match_batches(
    storage: Storage,
    now: Callable[[], int],
    subjects: list[Subject],
    until: float,
    batch: int,
    lookups: Lookups,
    checkpoints: Checkpoints,
) -> tuple[int, int]:
    """:func:`matching_pass`'s work, from its first ``subjects`` on, until the monotonic
    clock reads ``until`` or nothing waits."""
    done = instant = writes = 0
    found: list[Matched] = []

    async def write() -> None:
        nonlocal done, instant, writes
        await storage.save_matches(found, now())
        done += len(found)
        instant += sum(1 for r in found for d in r.deliveries if d.digest_due is None)
        found.clear()
        writes += 1
        if writes % CHECKPOINT_EVERY == 0:
            checkpoints.start()

    while subjects:
        # The next few listings' candidates are read in one trip while these are scored:
        # the database's thread and Python work side by side.
        groups = [
            subjects[at : at + READ_TOGETHER] for at in range(0, len(subjects), READ_TOGETHER)
        ]
        reading = _read_candidates(storage, lookups, groups[0], now())
        for number, group in enumerate(groups):
            read = await reading
            if number + 1 < len(groups):
                reading = _read_candidates(storage, lookups, groups[number + 1], now())
            for subject, candidates in zip(group, read, strict=True):
                found.append(await _match_one(storage, subject, now(), lookups, candidates))
                if len(found) >= WRITE_EVERY:
                    await write()
                if time.monotonic() >= until:
                    break
            if time.monotonic() >= until:
                break
        await reading  # never leave a read behind (done already but after a timeout)
        await write()
        if time.monotonic() >= until:
            break
        subjects = await storage.unmatched_listings(batch)
    return done, instant


async def _match_one(
    storage: Storage,
    subject: Subject,
    now: int,
    lookups: Lookups,
    candidates: list[Features] | None,
) -> Matched:
    """One listing's matches (none for a closed or expired one, which is only marked)."""
    if candidates is None:
        return Matched(subject.features.id, [], [], history=subject.history)
    try:
        return await match_listing(storage, subject, now, lookups, candidates)
    except sqlite3.Error:
        raise  # the database's trouble: the next run tries again
    except Exception:
        # One listing the pass cannot match must not hold up all the others forever: it is
        # marked as done without matches, and the error is logged.
        log.exception("listing %s could not be matched", subject.features.id)
        return Matched(subject.features.id, [], [], history=subject.history)


def _read_candidates(
    storage: Storage, lookups: Lookups, group: list[Subject], now: int
) -> asyncio.Task[list[list[Features] | None]]:
    """Each listing's candidates (None for a closed or expired one), read with their
    vectors and their owners' preferences into the lookups."""
    open_ = [subject.features for subject in group if subject.is_open(now)]

    async def read() -> list[list[Features] | None]:
        version = storage.preferences_version
        found = await storage.candidates_of(
            open_, now, lookups.model(), lookups.known_people(), lookups.kept_vectors()
        )
        lookups.remember_vectors(found.vectors)
        lookups.remember_preferences(found.preferences, version)
        each = iter(found.listings)
        return [next(each) if subject.is_open(now) else None for subject in group]

    return asyncio.ensure_future(read())
