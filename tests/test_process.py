"""The bot as a real process, on uvloop: killed with SIGKILL mid-dialog, started with no token
(sandbox), in webhook mode, stopped with SIGTERM, refusing a malformed setting with one line."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx

from bot.i18n import translator
from tests.conftest import TOKEN
from tests.processes import ROOT, BotProcess, confirmed_questions, free_port
from tests.talk import containing, plain, says, taps
from tests.waiting import wait_until


async def test_killed_mid_onboarding_resumes_at_the_same_step(server, tmp_path):
    _ = translator("fr").gettext
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "SEND_RATE_LIMIT": "0",
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    try:
        user = server.create_user("Marie", language_code="fr")
        await says(user, "/start", timeout=20)  # the first answer waits for start-up
        await taps(user, "✓ Français")
        await taps(user, _("🏛 Municipality"))
        await user.tap_reply_button(_("🌍 Choose the country"))
        await user.wait_for_bot_message()
        asked = await taps(user, "🇫🇷 France")
        # Killed once the bot has recorded the question as sent (killed between Telegram's
        # answer and that record, it would ask it again: see test_faults, rule 10).
        database = tmp_path / "bot.sqlite3"

        async def recorded() -> bool:
            return confirmed_questions(database, "onboarding").get(user.id) == asked.id

        await wait_until(recorded)
        await bot.kill()

        await bot.start()
        region_question = await says(user, "Saint-Dié", timeout=20)
        assert "Saint-Dié" in region_question.text, bot.log()
        await says(user, "Vosges")
        await says(user, "19500")
        await taps(user, _("✅ Save"))
        await user.wait_for_bot_message(containing(plain(_("What would you like to do?"))))
        # Nothing was asked twice: the name question appears once in the chat.
        assert [m.text for m in user.messages].count(asked.text) == 1
        assert await bot.terminate() == 0
    finally:
        if bot.process and bot.process.returncode is None:
            await bot.kill()


async def test_no_token_starts_the_sandbox_and_a_scripted_user_onboards(tmp_path):
    port = free_port()
    env = {
        "BOT_TOKEN": "",
        "SANDBOX_PORT": str(port),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    base = f"http://127.0.0.1:{port}/sandbox/api"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            for _attempt in range(200):
                if "Sandbox:" in bot.log() and "running in the sandbox" in bot.log():
                    break
                await asyncio.sleep(0.05)
            assert f"http://127.0.0.1:{port}" in bot.log(), bot.log()
            created = (
                await http.post(f"{base}/users", json={"first_name": "Jan", "language_code": "en"})
            ).json()
            uid = created["result"]["id"]

            async def act(action: str, payload: dict, edits: bool = False) -> str:
                """Do something as Jan; return the text of the bot's answer (with ``edits``,
                a message edited into it: a dialog's question after a press)."""
                done = (await http.post(f"{base}/users/{uid}/{action}", json=payload)).json()
                assert done["ok"], done
                params = {"since": done["cursor"], "timeout": 15, "include_edits": int(edits)}
                answer = await http.get(f"{base}/users/{uid}/wait", params=params)
                assert answer.status_code == 200, answer.text
                return answer.json()["result"]["text"]

            assert "Welcome" in await act("send_text", {"text": "/start"})
            await act("press", {"label": "✓ English"}, edits=True)
            await act("press", {"label": "🤝 Volunteer"})  # a new message: a reply keyboard
            town = await act("send_text", {"text": "Belgium"})
            assert town == "Belgium: in which town or village?"
            await act("send_text", {"text": "Liège"})
            await act("press", {"label": "Skip"}, edits=True)
            saved = await act("press", {"label": "✅ Save"})
            assert saved == "✅ Your profile is saved. Welcome!"
        assert TOKEN not in bot.log()
        assert "running in the sandbox on uvloop" in bot.log()  # see bot/event_loop.py
        assert await bot.terminate() == 0
        assert "stopped" in bot.log()
    finally:
        if bot.process and bot.process.returncode is None:
            await bot.kill()


async def test_webhook_mode_runs_on_uvloop_answers_and_stops_on_sigterm(server, tmp_path):
    port = free_port()
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "SEND_RATE_LIMIT": "0",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_PORT": str(port),
    }
    bot = BotProcess(env, tmp_path / "bot.log")
    await bot.start()
    try:
        user = server.create_user("Lena", language_code="de")
        assert "Willkommen" in (await says(user, "/start", timeout=30)).text, bot.log()
        await taps(user, "✓ Deutsch")  # a button press: a callback query by webhook too
        webhook = server.bot().webhook
        assert webhook is not None and webhook.delivered >= 2
        assert not [call for call in server.calls if call.method == "getUpdates"]
        assert "is running on uvloop" in bot.log()  # uvloop's loop, aiohttp's listener on it
        assert await bot.terminate() == 0
        assert bot.log().rstrip().endswith("stopped") and "Traceback" not in bot.log()
    finally:
        if bot.process and bot.process.returncode is None:
            await bot.kill()


def test_a_malformed_setting_stops_start_up_with_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ADMIN_IDS": "12,abc", "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "ADMIN_IDS must be comma-separated numeric Telegram user ids" in result.stderr
    assert "Traceback" not in result.stderr
