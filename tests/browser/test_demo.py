"""The demo world: every demo person onboards and posts by talking to the real bot (the seeding
never writes the bot's database)."""

from __future__ import annotations

import time

from bot.sandbox.demo import DEMO_ADMIN_ID, DEMO_PEOPLE, DemoWorld


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
    # Their offers and requests are published listings, marked as demo data.
    posted = {
        listing.title
        for account in server.users()
        for listing in await bot.storage.listings_of(account.id)
    }
    wanted = {listing.title for person in DEMO_PEOPLE for listing in person.listings}
    assert wanted and posted == wanted
    assert all(title.startswith("[Demo] ") for title in posted)
