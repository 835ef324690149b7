"""Verification over HTTP: a French official asks with an email, a Bulgarian one with a note;
the admin approves one and rejects the other from the queue; each is told in their language;
the badge is the verified person's, not a colleague's; replays decide nothing; an official
leaves (see test_verified_people.py for the badge's rules)."""

from __future__ import annotations

import time

from bot.handlers import verification
from bot.i18n import translator
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, data_of, joined, newcomer, plain, says, seeded, taps

NOW = int(time.time())
MAYOR, DEPUTY, BULGARIAN, VOLUNTEER = 801, 802, 803, 804
en = translator("en").gettext
fr = translator("fr").gettext
bg = translator("bg").gettext


async def people(server, bot):
    users = await joined(
        server,
        bot.storage,
        seeded("Marie", "fr", MAYOR),
        seeded("Denis", "fr", DEPUTY),
        seeded("Boyan", "bg", BULGARIAN, country="BG", place="Sveti Vlas"),
        seeded("Vera", "en", VOLUNTEER, role="volunteer"),
        newcomer("Ada", "en", ADMIN_ID),
    )
    await seed.set_quiet_hours(bot.storage, ADMIN_ID)  # what the admin is told, at any hour
    return {user.id: user for user in users}


async def test_approve_and_reject_told_in_each_language(server, bot):
    users = await people(server, bot)
    mayor, boyan, admin = users[MAYOR], users[BULGARIAN], users[ADMIN_ID]
    listing = await seed.listing(bot.storage, DEPUTY, NOW, title="Bancs")

    asked = await says(mayor, "/verify")
    assert "Saint-Dié" in asked.text
    assert asked.button_labels[0] == fr("📨 Send without a note")
    done = await says(mayor, "mairie@saint-die.fr")
    assert done.text == fr("Thank you! A moderator will check your request; you will be told here.")
    await admin.wait_for_bot_message(containing("Marie"), timeout=10)
    again = await says(mayor, "/verify")
    assert again.text == plain(
        fr("⏳ Your request to represent <b>{municipality}</b> is waiting for a moderator.")
    ).format(municipality="Saint-Dié")

    await says(boyan, "/verify")
    await says(boyan, "Кмет на общината, тел. 0554 12345")
    await admin.wait_for_bot_message(containing("Boyan"), timeout=10)

    menu = await says(admin, "/admin")
    assert menu.button_labels[0] == "🪪 Verifications (2)"
    await admin.press("🪪 Verifications (2)")
    first = await admin.wait_for_bot_message()
    second = await admin.wait_for_bot_message()
    assert "mairie@saint-die.fr" in first.text and "Saint-Dié" in first.text
    assert "0554 12345" in second.text and "Bulgaria" in second.text

    await admin.press_data(first.id, first.inline_keyboard[0][0]["callback_data"])
    approved = await admin.wait_for_bot_message(include_edits=True)
    assert approved.text.endswith("✅ Approved.") and approved.button_labels == []
    told = await mayor.wait_for_bot_message(containing("Saint-Dié"), timeout=10)
    assert told.text == plain(fr(verification.APPROVED)).format(municipality="Saint-Dié")
    await admin.press_data(second.id, second.inline_keyboard[0][1]["callback_data"])
    await admin.wait_for_bot_message()  # the reason: none
    await taps(admin, "➡ No reason")
    assert (await taps(admin, "❌ Reject")).text == "❌ Rejected."
    decided = await admin.wait_for_bot_message(include_edits=True)
    assert decided.id == second.id and decided.text.endswith("❌ Rejected.")
    rejected = await boyan.wait_for_bot_message(containing("Sveti Vlas"), timeout=10)
    assert rejected.text == plain(bg(verification.REJECTED)).format(municipality="Sveti Vlas")

    # Replays decide nothing: on the decided card, its buttons are gone; elsewhere, the
    # answer says who decided.
    await admin.press_data(first.id, first.inline_keyboard[0][1]["callback_data"])
    assert (await admin.wait_for_callback_answer()).text == (
        "This button is no longer active. Send /start to see the menu."
    )
    await admin.press_data(menu.id, first.inline_keyboard[0][0]["callback_data"])
    assert (await admin.wait_for_callback_answer()).text.startswith("Ada already did this on ")
    assert (await bot.storage.get_member(MAYOR)).verified
    assert not (await bot.storage.get_member(BULGARIAN)).verified
    assert not (await bot.storage.get_member(DEPUTY)).verified  # a colleague is not verified
    # The badge is the mayor's: not on a colleague's listing.
    card = await says(users[VOLUNTEER], f"/start l{listing.id}")
    assert "🏛 Saint-Dié\n" in card.text + "\n" and "✅" not in card.text
    status = await says(mayor, "/verify")
    assert status.text == plain(
        fr("✅ You are a verified representative of <b>{municipality}</b>.")
    ).format(municipality="Saint-Dié")
    log = await bot.storage._fetchall("SELECT admin_id, action FROM admin_actions ORDER BY id")
    assert [tuple(row) for row in log] == [(ADMIN_ID, "approve"), (ADMIN_ID, "reject")]
    assert server.errors() == []


async def test_leaving_ends_verification_and_the_badge(server, bot):
    users = await people(server, bot)
    mayor = users[MAYOR]
    request = await bot.storage.request_verification(MAYOR, email=None, note=None, now=NOW)
    await bot.storage.decide_verification(request.id, ADMIN_ID, approve=True, now=NOW)
    listing = await seed.listing(bot.storage, MAYOR, NOW)
    assert (await bot.storage.get_listing(listing.id)).author_verified
    status = await says(mayor, "/verify")
    await mayor.press_data(status.id, "vf:leave")
    confirm = await mayor.wait_for_bot_message()
    assert confirm.button_labels == [fr("🚪 Yes, leave")]
    await mayor.press(fr("🚪 Yes, leave"))
    left = await mayor.wait_for_bot_message(include_edits=True)
    assert "Saint-Dié" in left.text
    member = await bot.storage.get_member(MAYOR)
    assert (member.municipality_id, member.verified, member.role) == (None, False, "volunteer")
    # What was published as a verified mayor keeps the badge it was published with.
    assert (await bot.storage.get_listing(listing.id)).author_verified
    # A replay: the button is no longer on its message (the answer took it), so it is
    # refused as a forged press is, and the answer stays as it reads.
    await mayor.press_data(confirm.id, data_of(confirm, fr("🚪 Yes, leave")))
    answer = await mayor.wait_for_callback_answer()
    assert answer.show_alert and answer.text == fr("This button is no longer valid.")
    assert mayor.chat.messages[confirm.id].text == left.text
    assert server.errors() == []


async def test_a_forged_leave_on_another_message_changes_nothing(server, bot):
    """ "Yes, leave" names its municipality, not its message: copied onto another of the bot's
    messages (a listing card, /verify's answer) it is refused, the member stays verified and
    that message as it was."""
    users = await people(server, bot)
    mayor = users[MAYOR]
    request = await bot.storage.request_verification(MAYOR, email=None, note=None, now=NOW)
    await bot.storage.decide_verification(request.id, ADMIN_ID, approve=True, now=NOW)
    listing = await seed.listing(bot.storage, DEPUTY, NOW, title="Pump «vf-card»")
    card = await says(mayor, f"/start l{listing.id}")
    status = await says(mayor, "/verify")
    leave = f"vf:leave:yes:{(await bot.storage.get_member(MAYOR)).municipality_id}"
    for message in (card, status):
        await mayor.press_data(message.id, leave)
        answer = await mayor.wait_for_callback_answer()
        assert answer.show_alert and answer.text == fr("This button is no longer valid.")
        assert mayor.chat.messages[message.id].text == message.text
    member = await bot.storage.get_member(MAYOR)
    assert member.municipality_id is not None and member.verified
    # Someone of no municipality is refused alike: a forged press learns nothing of them.
    volunteer = users[VOLUNTEER]
    menu = await says(volunteer, "/start")
    await volunteer.press_data(menu.id, leave)
    answer = await volunteer.wait_for_callback_answer()
    assert answer.show_alert and answer.text == en("This button is no longer valid.")
    assert server.errors() == []


async def test_only_municipality_members_and_cancel(server, bot):
    users = await people(server, bot)
    assert (await says(users[VOLUNTEER], "/verify")).text == en(
        "Verification is for people who speak for a municipality. If you do, choose "
        "the municipality role in /profile first."
    )
    deputy = users[DEPUTY]
    await says(deputy, "/verify")
    cancelled = await taps(deputy, fr("✖️ Cancel"))
    assert cancelled.text == fr("Cancelled: no request was sent.")
    assert await bot.storage.pending_verification_of(DEPUTY) is None
    await says(deputy, "/verify")
    await taps(deputy, fr("📨 Send without a note"))
    assert (await bot.storage.pending_verification_of(DEPUTY)) is not None
    waiting = await says(deputy, "/verify")
    assert waiting.text.startswith("⏳")
    assert server.errors() == []
