"""The bot's own jobs, through PTB's JobQueue: the matching pass, expiry reminders, the
digest safety net (outbox delivery is scheduled by :mod:`bot.outbox`), and the listings'
vectors (embedding what waits, keeping the search index caught up: bot/semantic/backfill.py).

No job trusts memory: every run scans the database for what is due (listings not matched
yet, listings expiring within three days and not reminded, digest items without a digest on
its way), so a restart, a crash or a missed run loses nothing; and whatever a run queues has
an outbox key, so a rerun tells nobody twice.

The matching pass itself is in :mod:`bot.matcher`, without Telegram.
"""

from __future__ import annotations

import asyncio
import logging

from telegram.ext import Application, ContextTypes, Job

from bot.delivery.pacing import run_every
from bot.delivery.timing import next_digest
from bot.logs import Tally, counted
from bot.matching.matcher import Lookups, matching_pass
from bot.matching.types import digest_key
from bot.semantic.backfill import embed_waiting
from bot.storage import Enqueued, Storage
from bot.storage.outbox import DIGEST, PERSONAL

log = logging.getLogger(__name__)

DAY = 86_400
REMIND_BEFORE = 3 * DAY
# Seconds. A new listing is matched within about this long of being published; an idle run
# is one indexed lookup.
MATCH_EVERY = 2.0
CHORES_EVERY = 60.0  # reminders and the digest safety net
VECTORS_EVERY = 5.0  # embedding what waits (about 2 s of a worker thread a run, at most)


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
            not_before=now,  # the outbox holds it through quiet hours
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
    prefs = await storage.preferences_of(user for user, _due, _frequency in waiting)
    queued = []
    for user, due, frequency in waiting:
        if user not in prefs:
            continue
        if due <= now:
            due = next_digest(now, prefs[user], frequency)
        payload = {"due": due, "frequency": frequency}
        key = digest_key(user, due, frequency)
        queued.append(Enqueued(user, "digest", key, payload, due, priority=DIGEST))
    return await storage.enqueue(queued, now=now)


# --- the jobs ----------------------------------------------------------------------------


class Scheduler:
    """The jobs of one application, and a way to run them at once (tests do). Runs of one
    job never overlap."""

    def __init__(self, application: Application, storage: Storage) -> None:  # type: ignore[type-arg]
        self.application = application
        self.storage = storage
        self.matching_lock = asyncio.Lock()
        self.chores_lock = asyncio.Lock()
        self.vectors_lock = asyncio.Lock()
        self.jobs: dict[str, Job] = {}  # type: ignore[type-arg]
        self.lookups = Lookups(storage, application.meaning.semantics)  # type: ignore[attr-defined]
        self.matched = Tally(log, lambda n: f"matched {counted(n, 'new listing')}")
        self.reminded = Tally(log, lambda n: f"queued {counted(n, 'expiry reminder')}")
        self.digested = Tally(log, lambda n: f"queued {counted(n, 'waiting digest')}")

    def now(self) -> int:
        return int(self.application.clock())  # type: ignore[attr-defined]

    async def match_new_listings(self) -> int:
        """One matching run; wakes the outbox when something is due now."""
        async with self.matching_lock:
            done, instant = await matching_pass(self.storage, self.now, lookups=self.lookups)
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

    async def embed_listings(self) -> int:
        """One run of the vectors job: listings embedded and stored."""
        async with self.vectors_lock:
            meaning = self.application.meaning  # type: ignore[attr-defined]
            return await embed_waiting(self.storage, meaning, self.now())


async def _vectors_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.scheduler.embed_listings()  # type: ignore[attr-defined]


async def _matching_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    scheduler: Scheduler = context.application.scheduler  # type: ignore[attr-defined]
    scheduler.matched.add(await scheduler.match_new_listings())


async def _chores_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    scheduler: Scheduler = context.application.scheduler  # type: ignore[attr-defined]
    reminders, digests = await scheduler.chores()
    scheduler.reminded.add(reminders)
    scheduler.digested.add(digests)


def schedule(application: Application, storage: Storage) -> Scheduler:  # type: ignore[type-arg]
    """Create the scheduler, attach it to the application, and start its jobs."""
    scheduler = Scheduler(application, storage)
    application.scheduler = scheduler  # type: ignore[attr-defined]
    jobs = scheduler.jobs
    jobs["matching"] = run_every(application, _matching_job, MATCH_EVERY, first=1, name="matching")
    jobs["chores"] = run_every(application, _chores_job, CHORES_EVERY, first=5, name="chores")
    if application.meaning.semantics.wanted:  # type: ignore[attr-defined]
        jobs["vectors"] = run_every(
            application, _vectors_job, VECTORS_EVERY, first=0.5, name="vectors"
        )
    return scheduler
