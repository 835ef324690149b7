"""The demo world: every demo person onboards by talking to the real bot (no database writes)."""

from __future__ import annotations

import time

from bot.sandbox.demo import DEMO_ADMIN_ID, DemoWorld


async def test_every_demo_person_onboards_through_the_user_side(server, bot):
    world = DemoWorld(bot_languages=("en", "fr", "de", "bg"))
    started = time.monotonic()
    await world.seed(server)
    assert world.problems == []
    assert world.status == "ready"
    assert all(person["ready"] for person in world.seeded)
    assert time.monotonic() - started < 30
    names = [account.first_name for account in server.users()]
    assert all(name.startswith("Demo · ") for name in names)
    assert DEMO_ADMIN_ID in [account.id for account in server.users()]
    # They are real members of the bot now, found through its storage like anyone else.
    for account in server.users():
        member = await bot.storage.get_member(account.id)
        assert member is not None and member.onboarded, account.first_name
