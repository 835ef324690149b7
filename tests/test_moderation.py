"""Reports and moderation over HTTP: report → hide → restore, warnings, bans (a banned member
keeps /mydata and /deleteme only), members hidden pending review after several reports,
admins made in the bot, and every admin button forged by a non-admin."""

from __future__ import annotations

import re
import time

from bot.handlers import moderation, reports
from bot.i18n import translator
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, joined, newcomer, plain, says, seeded, taps

NOW = int(time.time())
OWNER, REPORTER, OTHER, THIRD = 701, 702, 703, 704
en = translator("en").gettext
fr = translator("fr").gettext
de = translator("de").gettext


async def people(server, bot):
    """An owner (fr), a reporter (de), two more members, and the admin, all started."""
    kassel = dict(country="DE", place="Kassel")
    users = await joined(
        server,
        bot.storage,
        seeded("Odile", "fr", OWNER),
        seeded("Rita", "de", REPORTER, **kassel),
        seeded("Otto", "de", OTHER, **kassel),
        seeded("Theo", "de", THIRD, **kassel),
        newcomer("Ada", "en", ADMIN_ID),
    )
    await seed.set_quiet_hours(bot.storage, ADMIN_ID)  # what the admin is told, at any hour
    return {user.id: user for user in users}


async def report(user, listing_id: int, reason_label: str):
    card = await says(user, f"/start l{listing_id}")
    _ = translator(user.account.language_code).gettext
    await user.press_data(card.id, f"rp:{listing_id}")
    await user.wait_for_bot_message()
    await user.press(_(reason_label))
    return await user.wait_for_bot_message(include_edits=True)


async def decide(admin, label: str, reason: str | None = None) -> str:
    """Press a decision's button on the newest card, give the reason (or none), confirm;
    the bot's answer."""
    # The reason question, not a late redraw of the card by the decision before this one
    # (the press is answered first, then the card is edited).
    await taps(admin, label, lambda m: "➡ No reason" in m.button_labels)
    if reason is None:
        await taps(admin, "➡ No reason")
    else:
        await says(admin, reason)
    return (await taps(admin, label)).text


async def open_queue(admin):
    await says(admin, "/admin")
    await admin.press(next(label for label in admin.messages[-1].button_labels if "🚩" in label))
    return await admin.wait_for_bot_message()


async def test_report_hide_restore_and_the_log(server, bot):
    users = await people(server, bot)
    owner, reporter, admin = users[OWNER], users[REPORTER], users[ADMIN_ID]
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Cheap <pumps>")
    thanks = await report(reporter, listing.id, reports.REASON_LABELS["scam"])
    assert thanks.text == de(
        "Thank you. A moderator will look at it; the author will not know it was you."
    )
    told = await admin.wait_for_bot_message(containing("Cheap <pumps>"), timeout=10)
    quoted = translator("en").quote("Cheap <pumps>")
    assert told.text == plain(en(reports.REPORTED)).format(title=quoted)
    menu = await says(admin, "/admin")
    assert menu.button_labels == [
        "🪪 Verifications (0)",
        "🚩 Reports (1)",
        "✅ Verified people",
        "📜 Admin log",
    ]
    card = await taps(admin, "🚩 Reports (1)")
    assert "Cheap <pumps>" in card.text and "💸 Scam or fraud ×1" in card.text
    assert card.button_labels == ["🚫 Hide", "✔️ Dismiss", "⚠️ Warn", "⛔ Ban", "📜 History"]

    await admin.press("🚫 Hide")
    assert (await admin.wait_for_callback_answer()).text == "Hidden."
    assert (await bot.storage.get_listing(listing.id)).status == "hidden"
    hidden = await owner.wait_for_bot_message(containing("Cheap <pumps>"), timeout=10)
    quoted = translator("fr").quote("Cheap <pumps>")
    assert hidden.text == plain(fr(moderation.HIDDEN)).format(title=quoted)
    gone = await says(reporter, f"/start l{listing.id}")
    assert gone.text == de("This listing does not exist or is no longer available.")
    await admin.press_data(card.id, f"mod:hide:{listing.id}")  # a replay
    assert (await admin.wait_for_callback_answer()).text.startswith("Ada already did this on ")
    refreshed = admin.messages[[m.id for m in admin.messages].index(card.id)]
    assert refreshed.button_labels == ["♻️ Restore", "⚠️ Warn", "⛔ Ban", "📜 History"]

    await admin.press("♻️ Restore")
    assert (await admin.wait_for_callback_answer()).text == "Restored."
    assert (await bot.storage.get_listing(listing.id)).status == "open"
    await owner.wait_for_bot_message(containing(plain(fr(moderation.RESTORED))[:8]), timeout=10)
    history = await taps(admin, "📜 History")
    assert "Ada hid the listing" in history.text and "Ada restored the listing" in history.text
    assert "Odile (FR) published the listing" in history.text
    assert "💸 Scam or fraud · acted on" in history.text
    log = await bot.storage._fetchall(
        "SELECT admin_id, action, target_listing, at FROM admin_actions ORDER BY id"
    )
    assert [(row[0], row[1], row[2]) for row in log] == [
        (ADMIN_ID, "hide", listing.id),
        (ADMIN_ID, "restore", listing.id),
    ]
    assert all(abs(row[3] - bot.now()) < 60 for row in log)
    await says(admin, "/admin")
    entries = await taps(admin, "📜 Admin log")
    quoted = translator("en").quote("Cheap &lt;pumps&gt;")
    assert f"Ada hid the listing {plain(quoted)} #{listing.id}: 💸 Scam or fraud" in entries.text
    assert f"Ada restored the listing {plain(quoted)} #{listing.id}" in entries.text
    assert str(ADMIN_ID) not in entries.text
    assert server.errors() == []


async def test_admin_buttons_and_commands_forged_by_a_member(server, bot):
    users = await people(server, bot)
    member = users[REPORTER]
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await bot.storage.report_listing(listing.id, OTHER, "spam", NOW)
    request = await bot.storage.request_verification(OWNER, email=None, note=None, now=NOW)
    at = member.messages[-1].id
    for data in (
        f"mod:hide:{listing.id}",
        f"mod:rest:{listing.id}",
        f"mod:dis:{listing.id}",
        f"mod:warn:{listing.id}",
        f"mod:ban:{listing.id}",
        f"mod:unban:{OWNER}",
        f"mod:hist:{listing.id}",
        f"vf:no:{request.id}",
        f"vf:rv:{request.id}",
        f"vf:of:{request.id}",
        "vf:pg:1",
        "ad:rq",
        "ad:vq",
        "ad:vm",
        "ad:log",
    ):
        await member.press_data(at, data)
        answer = await member.wait_for_callback_answer()
        assert answer.text == de("This is for administrators only."), data
    # Approving is also for the municipality's verified officials: the member is not one.
    await member.press_data(at, f"vf:ok:{request.id}")
    assert (await member.wait_for_callback_answer()).text == de(
        "Only an administrator or a verified representative of that municipality can "
        "approve this request."
    )
    for command in ("/admin", f"/unban {OWNER}"):
        assert (await says(member, command)).text == de("This is for administrators only.")
    made = await says(member, f"/makeadmin {REPORTER}")
    assert made.text == de("Only the administrators named in ADMIN_IDS can do this.")
    assert (await bot.storage.get_listing(listing.id)).status == "open"
    assert (await bot.storage.get_verification(request.id)).status == "pending"
    for table in ("admin_actions", "bans", "warnings"):
        assert await bot.storage._fetchall(f"SELECT * FROM {table}") == [], table
    assert (await bot.storage.moderation_counts())["reports"] == 1

    # Made admin by a root admin, the member may moderate; unmade, no more.
    await says(users[ADMIN_ID], f"/makeadmin {REPORTER}")
    menu = await says(member, "/admin")
    assert menu.button_labels[1] == de("🚩 Reports ({count})").format(count=1)
    assert (await says(member, f"/makeadmin {OTHER}")).text == de(
        "Only the administrators named in ADMIN_IDS can do this."
    )
    await says(users[ADMIN_ID], f"/unadmin {REPORTER}")
    await member.press_data(menu.id, "ad:rq")
    assert (await member.wait_for_callback_answer()).text == de("This is for administrators only.")
    assert server.errors() == []


async def test_warn_once_and_ban_leaves_only_the_members_data(server, bot):
    users = await people(server, bot)
    owner, admin = users[OWNER], users[ADMIN_ID]
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Dubious offer")
    other = await seed.listing(bot.storage, OWNER, NOW, title="Second offer")
    await report(users[REPORTER], listing.id, reports.REASON_LABELS["spam"])
    card = await open_queue(admin)
    assert await decide(admin, "⚠️ Warn") == "Warned."
    warned = await owner.wait_for_bot_message(containing("Dubious offer"), timeout=10)
    quoted = translator("fr").quote("Dubious offer")
    assert warned.text == plain(fr(moderation.WARNED)).format(title=quoted)
    await admin.press_data(card.id, f"mod:warn:{listing.id}")
    replay = await admin.wait_for_callback_answer()
    assert replay.text.startswith("Ada already did this on ")

    assert await decide(admin, "⛔ Ban") == "Banned."
    await owner.wait_for_bot_message(containing("/deleteme"), timeout=10)
    for hidden in (listing, other):
        assert (await bot.storage.get_listing(hidden.id)).status == "hidden"
    await admin.press_data(card.id, f"mod:ban:{listing.id}")
    assert (await admin.wait_for_callback_answer()).text.startswith("Ada already did this on ")
    suspended = fr(
        "Your account is suspended by a moderator. You can still get your data with /mydata "
        "or erase it with /deleteme."
    )
    for command in ("/browse", "/post", "/start", "hello", "/contacts"):
        assert (await says(owner, command)).text == suspended, command
    await owner.press_data(owner.messages[-1].id, "menu:profile")
    assert (await owner.wait_for_callback_answer()).text == suspended
    data = await says(owner, "/mydata")
    assert data.document["file_name"] == "community-sharing-my-data.json"
    confirm = await says(owner, "/deleteme")
    assert confirm.button_labels == [fr("🗑 Yes, erase everything"), fr("Keep my data")]
    await taps(owner, fr("Keep my data"), include_edits=True)

    await admin.press("✅ Lift ban")
    assert (await admin.wait_for_callback_answer()).text == "Ban lifted."
    await owner.wait_for_bot_message(containing(plain(fr(moderation.UNBANNED))), timeout=10)
    assert (await says(owner, "/contacts")).text != suspended
    actions = await bot.storage._fetchall("SELECT action FROM admin_actions ORDER BY id")
    assert [row[0] for row in actions] == ["warn", "ban", "unban"]
    assert server.errors() == []


async def test_a_member_reported_by_several_is_hidden_pending_review(server, bot):
    users = await people(server, bot)
    owner, admin = users[OWNER], users[ADMIN_ID]
    first = await seed.listing(bot.storage, OWNER, NOW, title="First")
    second = await seed.listing(bot.storage, OWNER, NOW, title="Second")
    await bot.storage.report_listing(first.id, REPORTER, "spam", NOW)
    await bot.storage.report_listing(second.id, OTHER, "spam", NOW)
    assert (await bot.storage.get_listing(first.id)).status == "open"
    await report(users[THIRD], second.id, reports.REASON_LABELS["offensive"])
    told = await owner.wait_for_bot_message(containing("👁"), timeout=10)
    assert told.text == fr(reports.HIDDEN_FOR_REVIEW)
    await admin.wait_for_bot_message(containing("Odile"), timeout=10)
    for listing in (first, second):
        assert (await bot.storage.get_listing(listing.id)).status == "hidden"
    menu = await says(admin, "/admin")
    assert "1" in menu.text.splitlines()[-1]
    card = await open_queue(admin)
    assert "👁 under review" in card.text
    await admin.press_data(card.id, f"mod:rest:{first.id}")
    assert (await admin.wait_for_callback_answer()).text == "Restored."
    for listing in (first, second):
        assert (await bot.storage.get_listing(listing.id)).status == "open"
    assert (await bot.storage.moderation_counts()) == {
        "reports": 0,
        "review": 0,
        "verifications": 0,
    }
    assert server.errors() == []


async def test_a_ban_outlives_the_members_erasure(server, bot):
    users = await people(server, bot)
    owner = users[OWNER]
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await bot.storage.ban(OWNER, ADMIN_ID, NOW, listing_id=listing.id)
    await says(owner, "/deleteme")
    await owner.press(fr("🗑 Yes, erase everything"))
    await owner.wait_for_bot_message(include_edits=True)
    assert await bot.storage.get_member(OWNER) is None
    # Only the ban itself keeps the id (the admin log is anonymised).
    assert await bot.storage._fetchall("SELECT user_id, banned_by FROM bans") == [(OWNER, ADMIN_ID)]
    assert (
        await bot.storage._fetchall("SELECT 1 FROM admin_actions WHERE target_user = ?", (OWNER,))
        == []
    )
    back = await says(owner, "/start")
    assert back.text == fr(
        "Your account is suspended by a moderator. You can still get your data with /mydata "
        "or erase it with /deleteme."
    )
    assert server.errors() == []


async def test_usage_lines_show_their_angle_brackets_as_text(server, bot):
    users = await people(server, bot)
    admin = users[ADMIN_ID]
    assert (await says(admin, "/unban")).text == "Usage: /unban <member id>"
    assert (await says(admin, "/makeadmin")).text == (
        "Usage: /makeadmin <member id> or /unadmin <member id>"
    )
    assert server.errors() == []


async def test_a_long_history_fits_in_one_message_and_says_what_it_left_out(server, bot):
    """A listing edited 90 times, whose author was warned about ten others with reasons of
    500 characters: its History is one message within Telegram's 4096 characters, each part
    the newest first (its reports and the admin actions too), saying how many older entries
    of the listing's life it left out."""
    users = await people(server, bot)
    admin = users[ADMIN_ID]
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Used fire pump")
    await bot.storage.report_listing(listing.id, REPORTER, "spam", NOW)
    for i in range(90):
        changes = {"title": f"Used fire pump {i}", "description": f"In good order, v{i}."}
        await bot.storage.edit_listing(listing.id, OWNER, changes, now=NOW + i)
    for i in range(10):
        other = await seed.listing(bot.storage, OWNER, NOW, title=f"Other {i}")
        reason = f"Warning {i}: " + "the same advert again and again. " * 15
        await bot.storage.warn_owner(other.id, ADMIN_ID, NOW + 100 + i, reason=reason[:500])

    card = await open_queue(admin)
    await admin.press_data(card.id, f"mod:hist:{listing.id}")
    history = await admin.wait_for_bot_message(containing("History of"), timeout=10)
    assert len(history.text) <= 4096  # the sandbox counts as Telegram does: it was accepted
    edits = [line for line in history.text.splitlines() if " edited the listing: " in line]
    left_out = 91 - len(edits)  # opened, then edited 90 times: the opening is the oldest
    assert 10 < len(edits) < 90
    assert f"Not shown: {left_out} older entries" in history.text
    assert (
        "Used fire pump" in history.text
        and "📢 Spam or advertising · awaiting a decision" in history.text
    )
    assert "Warning 9: " in history.text  # the newest admin action about the author
    assert server.errors() == []


async def test_a_history_is_in_the_admins_language(server, bot):
    """A listing's life and its reports read by an admin writing in Bulgarian: whole
    sentences naming who acted, the days of a renewal counted, never the words the database
    stores ('hidden', 'moderator', 'description,title', 'dismissed')."""
    *_members, admin = await joined(
        server,
        bot.storage,
        seeded("Odile", "fr", OWNER),
        seeded("Rita", "de", REPORTER, country="DE", place="Kassel"),
        seeded("Otto", "de", OTHER, country="DE", place="Kassel"),
        newcomer("Ada", "bg", ADMIN_ID),
    )
    await seed.set_quiet_hours(bot.storage, ADMIN_ID)
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Pompe à incendie")
    await bot.storage.report_listing(listing.id, REPORTER, "spam", NOW)
    await bot.storage.dismiss_reports(listing.id, ADMIN_ID, NOW + 1)
    await bot.storage.report_listing(listing.id, OTHER, "scam", NOW + 2)
    changes = {"title": "Pompe à incendie, bon état", "description": "Prête à servir, 2019."}
    await bot.storage.edit_listing(listing.id, OWNER, changes, now=NOW + 3)
    await bot.storage.renew_listing(listing.id, OWNER, days=30, now=NOW + 4)
    await bot.storage.hide_listing(listing.id, ADMIN_ID, NOW + 5)
    await bot.storage.restore_listing(listing.id, ADMIN_ID, NOW + 6)

    card = await open_queue(admin)
    await admin.press_data(card.id, f"mod:hist:{listing.id}")
    bg = translator("bg")
    _ = bg.gettext
    restored = plain(_("{person} restored the listing").format(person="Ada"))
    text = (await admin.wait_for_bot_message(containing(restored), timeout=10)).text
    for sentence in (
        "{person} published the listing",
        "{person} edited the listing",
        "{person} hid the listing",
        "{person} restored the listing",
    ):
        assert _(sentence) != sentence  # translated
    assert plain(_("{person} published the listing").format(person="Odile (FR)")) in text
    edited = _("{person} edited the listing").format(person="Odile (FR)")
    assert f"{plain(bg.colon(edited))} {_('Description')}, {_('Title')}" in text
    renewed = bg.ngettext(
        "{person} renewed the listing for {count} day",
        "{person} renewed the listing for {count} days",
        30,
    )
    assert plain(renewed.format(person="Odile (FR)", count="30")) in text
    assert plain(_("{person} hid the listing").format(person="Ada")) in text
    assert f"{_('📢 Spam or advertising')} · {_('dismissed')}" in text
    assert f"{_('💸 Scam or fraud')} · {_('acted on')}" in text
    stored = (
        r"\b(open|edited|renewed|hidden|restored|moderator|resolved|dismissed|title|description)\b"
    )
    assert re.search(stored, text, re.IGNORECASE) is None, text
    assert str(OWNER) not in text and str(ADMIN_ID) not in text
    assert server.errors() == []
