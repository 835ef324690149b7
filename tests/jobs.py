"""Waiting for the bot's repeating jobs by APScheduler's own events.

A test that asserts something did *not* happen ("nothing is retried", "no digest yet") must
first know that the bot had its chance: the outbox looked again, the matching job ran. Sleeping
a fixed time only guesses at that, and a loaded machine makes the guess wrong without a sound.
:func:`runs_of` waits for the job's runs themselves.
"""

from __future__ import annotations

import asyncio

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from telegram.ext import Application


async def runs_of(
    application: Application,  # type: ignore[type-arg]
    name: str,
    count: int = 2,
    timeout: float = 15.0,  # noqa: ASYNC109
) -> list[JobExecutionEvent]:
    """Return once the job named ``name`` has finished ``count`` more runs, with their events
    (``scheduled_run_time``: when each was due). With 2 (the default), at least one whole run
    began after the call: a run already under way when it was made finishes first and counts
    as one."""
    assert application.job_queue is not None
    (job,) = application.job_queue.get_jobs_by_name(name)
    job_id = job.job.id
    loop = asyncio.get_running_loop()
    runs: list[JobExecutionEvent] = []
    done: asyncio.Future[None] = loop.create_future()

    def count_run(event: JobExecutionEvent) -> None:
        if not done.done():
            runs.append(event)
            if len(runs) >= count:
                done.set_result(None)

    def listener(event: JobExecutionEvent) -> None:
        if event.job_id == job_id:
            loop.call_soon_threadsafe(count_run, event)  # APScheduler may tell from another thread

    scheduler = application.job_queue.scheduler
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    try:
        await asyncio.wait_for(done, timeout)
    finally:
        scheduler.remove_listener(listener)
    return runs
