"""An update handed out again after a crash must not move a dialog on twice."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.i18n import translator
from tests.talk import says, taps


def delivered_updates(server) -> list[dict]:
    """Every update the bot fetched, as Telegram sent it."""
    updates = []
    for call in server.calls:
        if call.method == "getUpdates" and call.ok and call.result:
            updates.extend(call.result)
    return updates


async def test_a_redelivered_answer_is_ignored(server, bot):
    _ = translator("en").gettext
    user = server.create_user("Rita", language_code="en")
    await says(user, "/start")
    await taps(user, "✓ English")
    await taps(user, _("🏛 Municipality"))
    await user.tap_reply_button(_("🌍 Choose the country"))
    await user.wait_for_bot_message()
    await taps(user, "🇫🇷 France")
    region_question = await says(user, "Saint-Dié")
    (place_update,) = [
        u for u in delivered_updates(server) if u.get("message", {}).get("text") == "Saint-Dié"
    ]

    # The same update again, as after a crash before its receipt was confirmed.
    await bot.update_queue.put(Update.de_json(place_update, bot.bot))
    await asyncio.wait_for(bot.update_queue.join(), 10)  # PTB has processed it
    assert user.last_bot_message.id == region_question.id  # no reply, no step taken

    population_question = await says(user, "Grand Est")  # the real next answer still works
    assert "Saint-Dié" in population_question.text
    member_answers = bot.user_data[user.id]["onboarding"]
    assert (member_answers["place"], member_answers["region"]) == ("Saint-Dié", "Grand Est")
