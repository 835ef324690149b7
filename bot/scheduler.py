"""The bot's own jobs, through PTB's JobQueue: the matching pass, expiry reminders, and the
digest safety net (outbox delivery is scheduled by :mod:`bot.outbox`).

No job trusts memory: every run scans the database for what is due (listings not matched
yet, listings expiring within three days and not reminded, digest items without a digest on
its way), so a restart, a crash or a missed run loses nothing; and whatever a run queues has
an outbox key, so a rerun tells nobody twice.

The matching pass is usable without Telegram (:func:`matching_pass`), for the benchmark.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram.ext import Application, ContextTypes, Job

from bot import notifications  # noqa: F401  (registers the renderers of our kinds)
from bot.localtime import Preferences, after_quiet_hours, next_digest
from bot.matching import alert_matches, best_matches, may_match, words_of
from bot.storage import Alert, Enqueued, Storage
from bot.storage.matching import Delivery, FoundMatch, Subject, distinctive_words
from bot.storage.outbox import DIGEST, PERSONAL

log = logging.getLogger(__name__)

DAY = 86_400
# The person who posts gets a card for at most this many of their listing's best matches
# (the owners of the listings matched get one card each): a new listing must not bury its
# author under ten messages.
CARDS_FOR_NEW_LISTING = 3
REMIND_BEFORE = 3 * DAY
MATCH_EVERY = 2.0  # seconds; an idle run is one indexed lookup
CHORES_EVERY = 60.0  # reminders and the digest safety net
PASS_SECONDS = 5.0  # one run matches for at most about this long, then yields


# --- the matching pass (no Telegram) ---------------------------------------------------------


async def match_listing(
    storage: Storage, subject: Subject, now: int
) -> tuple[list[FoundMatch], list[Delivery]]:
    """A listing's best matches and alert hits, and what to tell whom (nothing written)."""
    features = subject.features
    candidates = await storage.match_candidates(features, now)
    same_language = [
        c.id for c in candidates if c.language == features.language and may_match(features, c)
    ]
    bm25 = await storage.text_scores(distinctive_words(subject.text), same_language)
    found = best_matches(features, candidates, bm25)
    words = words_of(subject.text)
    hits = [
        alert
        for alert in await storage.alerts_for_listing(features.country, features.owner_id)
        if alert_matches(alert, features, words)
    ]
    owners = {c.id: c.owner_id for c in candidates}
    people = {features.owner_id, *(owners[m.other] for m in found), *(a.user_id for a in hits)}
    prefs = await storage.preferences_of(people)
    return found, plan(subject, found, owners, hits, prefs, now)


def plan(
    subject: Subject,
    found: list[FoundMatch],
    owners: dict[int, int],
    hits: list[Alert],
    prefs: dict[int, Preferences],
    now: int,
) -> list[Delivery]:
    """Who is told what, and when: each match's other owner gets a card about the new
    listing, its author a card for each of the best few; alert owners not already told
    about it by a match get one alert hit. Instant ones wait out quiet hours; the others
    wait for the person's digest."""
    listing = subject.features
    deliveries: list[Delivery] = []
    told: set[int] = set()

    def tell(user: int, kind: str, key: str, payload: dict, frequency: str | None) -> None:
        wanted = prefs.get(user)
        if wanted is None:  # blocked the bot, or gone
            return
        frequency = frequency or wanted.frequency
        if frequency == "instant":
            deliveries.append(Delivery(user, kind, key, payload, after_quiet_hours(now, wanted)))
        else:
            due = next_digest(now, wanted, frequency)
            deliveries.append(Delivery(user, kind, key, payload, due, digest_due=due))

    for rank, match in enumerate(found):
        a, b = match.pair
        owner = owners[match.other]
        tell(
            owner,
            "match",
            f"match:{owner}:{a}:{b}",
            {"listing": match.other, "other": listing.id},
            None,
        )
        told.add(owner)
        if rank < CARDS_FOR_NEW_LISTING:
            tell(
                listing.owner_id,
                "match",
                f"match:{listing.owner_id}:{a}:{b}",
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
    storage: Storage, now: Callable[[], int], *, seconds: float = PASS_SECONDS, batch: int = 100
) -> tuple[int, int]:
    """Match the listings waiting for it, each in its own transaction, for up to about
    ``seconds``. Returns (listings done, notifications queued for now or soon)."""
    started = time.monotonic()
    done = instant = 0
    while time.monotonic() - started < seconds:
        subjects = await storage.unmatched_listings(batch)
        if not subjects:
            break
        for subject in subjects:
            moment = now()
            if not subject.is_open(moment):
                await storage.mark_matched(subject.features.id, moment)
            else:
                found, deliveries = await match_listing(storage, subject, moment)
                if await storage.save_matches(subject.features.id, found, deliveries, moment):
                    instant += sum(1 for d in deliveries if d.digest_due is None)
            done += 1
            if time.monotonic() - started >= seconds:
                break
    return done, instant


# --- chores ----------------------------------------------------------------------------------


async def queue_reminders(storage: Storage, now: int) -> int:
    """Queue a reminder for each open listing expiring within three days whose owner was not
    reminded of that expiry date (a renewed listing gets a new one). Returns how many."""
    expiring = await storage.expiring_soon(now, REMIND_BEFORE)
    prefs = await storage.preferences_of(owner for _listing, owner, _at in expiring)
    queued = [
        Enqueued(
            owner,
            "reminder",
            f"reminder:{listing}:{expires_at}",
            {"listing": listing, "expires_at": expires_at},
            not_before=after_quiet_hours(now, prefs[owner]),
            priority=PERSONAL,
        )
        for listing, owner, expires_at in expiring
        if owner in prefs
    ]
    return await storage.enqueue(queued, now=now)


async def queue_waiting_digests(storage: Storage, now: int) -> int:
    """A digest for everyone with digest items but none on its way (items left over from a
    full digest, a digest that could not be sent, settings changed)."""
    waiting = await storage.waiting_digests(now)
    prefs = await storage.preferences_of(user for user, _due in waiting)
    queued = []
    for user, due in waiting:
        if user not in prefs:
            continue
        if due <= now:
            due = next_digest(now, prefs[user])
        queued.append(
            Enqueued(user, "digest", f"digest:{user}:{due}", {"due": due}, due, priority=DIGEST)
        )
    return await storage.enqueue(queued, now=now)


# --- the jobs ----------------------------------------------------------------------------


class Scheduler:
    """The jobs of one application, and a way to run them at once (after a publish, or in
    tests). Runs of one job never overlap."""

    def __init__(self, application: Application, storage: Storage) -> None:  # type: ignore[type-arg]
        self.application = application
        self.storage = storage
        self.matching_lock = asyncio.Lock()
        self.chores_lock = asyncio.Lock()
        self.jobs: dict[str, Job] = {}  # type: ignore[type-arg]

    def now(self) -> int:
        return int(self.application.clock())  # type: ignore[attr-defined]

    async def match_new_listings(self) -> int:
        """One matching run; wakes the outbox when something is due now."""
        async with self.matching_lock:
            done, instant = await matching_pass(self.storage, self.now)
        if instant:
            self.application.outbox.wake()  # type: ignore[attr-defined]
        return done

    async def chores(self) -> tuple[int, int]:
        """Reminders and the digest safety net: (reminders, digests) queued."""
        async with self.chores_lock:
            now = self.now()
            reminders = await queue_reminders(self.storage, now)
            digests = await queue_waiting_digests(self.storage, now)
        if reminders:
            self.application.outbox.wake()  # type: ignore[attr-defined]
        return reminders, digests

    def wake(self) -> None:
        """Run the matching pass now rather than at its next tick."""
        job = self.jobs.get("matching")
        if job is not None and job.job is not None and job.job.next_run_time is not None:
            job.job.modify(next_run_time=datetime.now(job.job.next_run_time.tzinfo))


async def _matching_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.scheduler.match_new_listings()  # type: ignore[attr-defined]


async def _chores_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.scheduler.chores()  # type: ignore[attr-defined]


def schedule(application: Application, storage: Storage) -> Scheduler:  # type: ignore[type-arg]
    """Create the scheduler, attach it to the application, and start its jobs."""
    assert application.job_queue is not None
    scheduler = Scheduler(application, storage)
    application.scheduler = scheduler  # type: ignore[attr-defined]
    once = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.jobs["matching"] = application.job_queue.run_repeating(
        _matching_job,
        interval=timedelta(seconds=MATCH_EVERY),
        first=1.0,
        name="matching",
        job_kwargs=once,
    )
    scheduler.jobs["chores"] = application.job_queue.run_repeating(
        _chores_job,
        interval=timedelta(seconds=CHORES_EVERY),
        first=5.0,
        name="chores",
        job_kwargs=once,
    )
    return scheduler
