"""GET /healthz on HEALTH_PORT in polling mode: 200 while updates come in, the scheduler runs
and the database answers; 503 naming the part that does not."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from bot.app import running
from bot.web.health import ListenerError
from tests.processes import free_port

ALL_WELL = {"updates": True, "scheduler": True, "database": True}


async def probe(url: str) -> tuple[int, dict[str, bool]]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(url)
    return answer.status_code, answer.json()["checks"]


async def test_health_follows_the_scheduler_and_the_database(settings):
    port = free_port()
    url = f"http://127.0.0.1:{port}/healthz"
    async with running(dataclasses.replace(settings, health_port=port)) as application:
        assert await probe(url) == (200, ALL_WELL)

        scheduler = application.job_queue.scheduler
        scheduler.pause()  # jobs no longer run: matching, delivery and reminders stand still
        assert await probe(url) == (503, {**ALL_WELL, "scheduler": False})
        scheduler.resume()
        assert await probe(url) == (200, ALL_WELL)

        await application.updater.stop()  # no more updates coming in
        assert await probe(url) == (503, {**ALL_WELL, "updates": False})
        await application.updater.start_polling(poll_interval=0, timeout=1)
        assert await probe(url) == (200, ALL_WELL)

        await application.storage.close()
        assert await probe(url) == (503, {**ALL_WELL, "database": False})

        await application.job_queue.stop()
        assert await probe(url) == (503, {**ALL_WELL, "database": False, "scheduler": False})


async def test_health_listens_only_where_told(settings):
    port = free_port()
    async with (
        running(dataclasses.replace(settings, health_port=port)),
        httpx.AsyncClient() as http,
    ):
        assert (await http.get(f"http://127.0.0.1:{port}/other")).status_code == 404
        assert (await http.post(f"http://127.0.0.1:{port}/healthz")).status_code == 405


async def test_a_health_port_in_use_is_one_line_naming_the_setting(settings):
    port = free_port()
    async with running(dataclasses.replace(settings, health_port=port)):
        with pytest.raises(ListenerError) as taken:
            async with running(dataclasses.replace(settings, health_port=port)):
                pass
    message = str(taken.value)
    assert message.startswith(f"HEALTH_PORT={port}: port {port} on 127.0.0.1 is already in use")
    assert "\n" not in message
