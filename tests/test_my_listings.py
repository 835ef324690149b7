"""/mylistings and the owner's buttons, over HTTP: fulfilled, close, renew, and refusals."""

from __future__ import annotations

import time

from bot.i18n import translator
from bot.storage.listings import DAY
from bot.views import cards
from tests import seed
from tests.talk import says, taps

NOW = int(time.time())
OWNER, COLLEAGUE, STRANGER = 501, 502, 503


async def people(server, bot, language="en"):
    for user_id in (OWNER, COLLEAGUE):
        await seed.member(bot.storage, user_id, language=language)
        await seed.verified(bot.storage, user_id)
    await seed.member(bot.storage, STRANGER, language=language, country="AT", place="Graz")
    return (
        server.create_user("Owner", language_code=language, user_id=OWNER),
        server.create_user("Stranger", language_code=language, user_id=STRANGER),
    )


async def test_no_listings_yet(server, bot):
    owner, _stranger = await people(server, bot)
    assert (await says(owner, "/mylistings")).text == (
        "You have no listings yet. Send /post to publish one."
    )


async def test_the_list_pages_and_includes_the_municipalitys(server, bot):
    owner, _stranger = await people(server, bot)
    for index in range(9):
        await seed.listing(bot.storage, OWNER, NOW - 100 + index, title=f"Mine <{index}>")
    await seed.listing(bot.storage, COLLEAGUE, NOW, title="My colleague's")
    await seed.listing(bot.storage, STRANGER, NOW, title="Elsewhere")
    first = await says(owner, "/mylistings")
    assert "10" in first.text.splitlines()[0]
    assert "1. 🟢 My colleague's" in first.text and "Mine <8>" in first.text
    assert "Elsewhere" not in first.text
    await owner.press("Next ▶")
    second = await owner.wait_for_bot_message(include_edits=True)
    assert second.id == first.id and "9. 🟢 Mine <1>" in second.text
    assert "open · 👁 0 · 💬 0" in second.text
    assert server.errors() == []


async def test_owner_marks_a_listing_fulfilled(server, bot):
    owner, _stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await says(owner, "/mylistings")
    card = await taps(owner, "1")
    assert card.button_labels == ["✏️ Edit", "🔁 Renew", "✅ Fulfilled", "✖️ Close"]
    await taps(owner, "✅ Fulfilled")
    await owner.press("🤝 Thanks to Community Sharing")
    updated = await owner.wait_for_bot_message()
    assert "✅ Fulfilled" in updated.text and updated.button_labels == []
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.status, stored.outcome) == ("fulfilled", "platform")
    assert (await bot.storage.get_listing(listing.id)).views == 0  # owners do not count
    assert server.errors() == []


async def test_a_colleague_closes_and_a_replay_changes_nothing(server, bot):
    _owner, _stranger = await people(server, bot, language="fr")
    _ = translator("fr").gettext
    colleague = server.create_user("Colleague", language_code="fr", user_id=COLLEAGUE)
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await says(colleague, f"/start l{listing.id}")
    await taps(colleague, _("✖️ Close"))
    confirm = await taps(colleague, _("✖️ Yes, close it"), lambda m: m.text.startswith("🟢"))
    assert confirm.text.startswith("🟢")  # the fresh card
    assert (await bot.storage.get_listing(listing.id)).status == "closed"
    await colleague.press_data(confirm.id, f"ls:cls:{listing.id}")
    answer = await colleague.wait_for_callback_answer()
    closed_on = (await bot.storage.get_listing(listing.id)).status_changed_at
    assert answer.text == cards.ended(translator("fr"), "closed", closed_on)
    assert server.errors() == []


async def test_renewing_an_expired_listing(server, bot):
    owner, _stranger = await people(server, bot)
    listing = await seed.listing(bot.storage, OWNER, NOW - 10 * DAY, duration_days=7)
    card = await says(owner, f"/start l{listing.id}")
    assert "⌛ Expired" in card.text and card.button_labels == [
        "🔁 Renew",
        "✅ Fulfilled",
        "✖️ Close",
    ]
    await taps(owner, "🔁 Renew")
    await owner.press("1 month")
    renewed = await owner.wait_for_bot_message()
    stored = await bot.storage.get_listing(listing.id)
    assert stored.state(bot.now()) == "open"
    assert abs(stored.expires_at - (bot.now() + 30 * DAY)) < 60
    assert "Expired" not in renewed.text


async def test_a_strangers_forged_buttons_change_nothing(server, bot):
    _owner, stranger = await people(server, bot, language="bg")
    _ = translator("bg").gettext
    listing = await seed.listing(bot.storage, OWNER, NOW)
    card = await says(stranger, f"/start l{listing.id}")
    assert card.button_labels == [_("🙋 I'm interested"), _("📤 Share"), _("🚩 Report")]
    for data in (
        f"ls:cls:{listing.id}",
        f"ls:ful:{listing.id}:platform",
        f"ls:rnw:{listing.id}:6m",
        f"ls:done:{listing.id}",
        "ls:cls:99999",
        "ls:cls:not-a-number",
        "my:p:999",
    ):
        await stranger.press_data(card.id, data)
        answer = await stranger.wait_for_callback_answer()
        assert answer.text in (
            _("You cannot change this listing."),
            _("This button is no longer valid."),
            _("This listing does not exist or is no longer available."),
        ), data
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.status, stored.expires_at) == ("open", listing.expires_at)
    assert stored.views == 1  # the stranger opened it once
    assert server.errors() == []
