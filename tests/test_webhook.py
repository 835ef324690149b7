"""Webhook mode end to end over HTTP: the local Bot API server posts updates to the bot's
listener with the secret header, dialogs complete; an update posted straight to the listener
without the right header (a forged /stats or /broadcast from an admin's id) is refused with
403, logged, and changes nothing; /healthz answers on the same listener."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import running
from bot.config import Settings
from bot.context import CommunityApplication
from bot.sandbox.server import BotApiServer
from bot.web.webhook import SECRET_HEADER
from tests.conftest import ADMIN_ID, TOKEN
from tests.processes import free_port
from tests.talk import onboard, says


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    port = free_port()
    return dataclasses.replace(settings, webhook_url=f"http://127.0.0.1:{port}", webhook_port=port)


@pytest.fixture
async def hooked(webhook_settings: Settings) -> AsyncIterator[CommunityApplication]:
    async with running(webhook_settings) as application:
        yield application


def forged(text: str, update_id: int = 990_001) -> dict[str, Any]:
    """An update that claims to be a message from the admin."""
    person = {"id": ADMIN_ID, "is_bot": False, "first_name": "Admin", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10_000 + update_id % 1000,
            "date": int(time.time()),
            "chat": {"id": ADMIN_ID, "type": "private", "first_name": "Admin"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def tables(application: CommunityApplication) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the forged commands could touch."""
    storage = application.storage
    return {
        name: [tuple(row) for row in await storage._fetchall(f"SELECT * FROM {name}")]
        for name in ("broadcasts", "outbox", "ptb_conversations", "ptb_user_data", "users")
    }


async def test_updates_arrive_by_webhook_and_a_dialog_completes(server, webhook_settings, hooked):
    info = await httpx.AsyncClient().get(f"{server.base_url}{TOKEN}/getWebhookInfo")
    url = info.json()["result"]["url"]
    assert info.json()["result"]["max_connections"] == 1  # in order, like polling
    assert url == webhook_settings.webhook_endpoint
    assert url.startswith(f"{webhook_settings.webhook_url}/telegram/")
    assert len(url.rsplit("/", 1)[1]) == 32  # the derived path: not guessable from the host

    user = server.create_user("Marie", language_code="fr")
    await onboard(user, "fr", country="FR", place="Saint-Dié", region="Vosges")
    member = await hooked.storage.get_member(user.id)
    assert member is not None and member.role == "municipality"
    webhook = server.bot().webhook
    assert webhook.delivered >= 8 and webhook.last_error_message is None
    assert not [c for c in server.calls if c.method == "getUpdates"]
    assert server.errors() == []


async def test_a_forged_admin_update_is_refused_logged_and_changes_nothing(
    server, webhook_settings, hooked, caplog
):
    admin = server.create_user("Admin", language_code="en", user_id=ADMIN_ID)
    await onboard(admin, "en")
    seen = len(admin.messages)
    before = await tables(hooked)
    endpoint = webhook_settings.webhook_endpoint
    caplog.set_level(logging.WARNING, logger="bot.web.webhook")
    async with httpx.AsyncClient() as http:
        for number, (text, headers) in enumerate(
            [
                ("/stats", {}),
                ("/broadcast", {}),
                ("/stats", {SECRET_HEADER: "guessed-secret"}),
                ("/broadcast", {SECRET_HEADER: webhook_settings.webhook_secret_token[:-1]}),
                ("/broadcast", {SECRET_HEADER: ""}),
            ]
        ):
            answer = await http.post(endpoint, json=forged(text, 990_001 + number), headers=headers)
            assert answer.status_code == 403, (text, headers)
        assert "refused 1 webhook request without the right" in caplog.text
        assert "guessed-secret" not in caplog.text

        # The refusals were answered before anything was queued; what the admin says next is
        # answered next, and nothing else came before it.
        await says(admin, "/help")
        assert len(admin.messages) == seen + 2  # the /help and its answer, nothing forged
        assert await tables(hooked) == before

        # The same update with the right header is acted on: the refusal above is what kept
        # the forged ones out.
        answer = await http.post(
            endpoint,
            json=forged("/stats", 990_100),
            headers={SECRET_HEADER: webhook_settings.webhook_secret_token},
        )
        assert answer.status_code == 200
        figures = await admin.wait_for_bot_message()
        assert "Figures: last 30 days" in (figures.text or "")


async def test_the_listener_answers_only_its_path_and_well_formed_updates(
    server, webhook_settings, hooked
):
    secret = {SECRET_HEADER: webhook_settings.webhook_secret_token}
    base = webhook_settings.webhook_url
    async with httpx.AsyncClient() as http:
        # The host alone leads nowhere, even with the secret.
        assert (
            await http.post(f"{base}/", json=forged("/stats"), headers=secret)
        ).status_code == 404
        assert (await http.post(f"{base}/telegram", headers=secret)).status_code == 404
        endpoint = webhook_settings.webhook_endpoint
        assert (await http.get(endpoint, headers=secret)).status_code == 405
        garbage = await http.post(endpoint, content=b"{not json", headers=secret)
        assert garbage.status_code == 400
        assert (await http.post(endpoint, json=[1, 2], headers=secret)).status_code == 400
        health = await http.get(f"{base}/healthz")
        assert health.status_code == 200, health.text
        assert health.json()["checks"] == {"updates": True, "scheduler": True, "database": True}


async def test_the_sandbox_keeps_an_update_until_the_webhook_accepts_it(
    server: BotApiServer, webhook_settings, hooked
):
    """Telegram's semantics, which the sandbox follows: a webhook registered with another
    secret gets refused (403), getWebhookInfo shows the error, the update waits and is
    delivered once the right secret is registered again."""
    bot_api = f"{server.base_url}{TOKEN}"
    async with httpx.AsyncClient() as http:
        wrong = {"url": webhook_settings.webhook_endpoint, "secret_token": "not-the-bots-secret"}
        assert (await http.post(f"{bot_api}/setWebhook", json=wrong)).json()["ok"]
        user = server.create_user("Jan", language_code="en")
        await user.send_text("/start")
        webhook = server.bot().webhook
        for _attempt in range(200):
            if webhook.last_error_message:
                break
            await asyncio.sleep(0.05)
        assert webhook.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        info = (await http.get(f"{bot_api}/getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 1
        assert not user.messages[1:]  # nothing answered: the bot never saw it

        right = {**wrong, "secret_token": webhook_settings.webhook_secret_token}
        assert (await http.post(f"{bot_api}/setWebhook", json=right)).json()["ok"]
        welcome = await user.wait_for_bot_message()
        assert "Welcome" in welcome.text


async def test_an_explicit_secret_and_path_are_used(server, webhook_settings):
    chosen = dataclasses.replace(
        webhook_settings, webhook_secret="Our_own-secret-42", webhook_path="/hooks/community"
    )
    async with running(chosen):
        webhook = server.bot().webhook
        assert webhook.url == f"{chosen.webhook_url}/hooks/community"
        assert webhook.secret_token == "Our_own-secret-42"
        user = server.create_user("Ana", language_code="en")
        assert "Welcome" in (await says(user, "/start")).text


async def test_polling_again_removes_the_webhook(server, settings, webhook_settings):
    async with running(webhook_settings):
        assert server.bot().webhook is not None
    # Stopping keeps the webhook: Telegram holds the updates until the bot is back.
    assert server.bot().webhook is not None
    async with running(settings):
        assert server.bot().webhook is None
        user = server.create_user("Piet", language_code="nl")
        assert "Welkom" in (await says(user, "/start")).text
