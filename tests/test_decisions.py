"""Ban, Warn, Reject and Revoke ask for a reason and confirm; every admin action is in the
admin log with who, what, why and when (issue 16, rule 3), over HTTP.

The reason reaches the decision even from the middle of another dialog; HTML in it is shown
as typed, to the admin and to the person; one of 4,000 characters is refused with a clear
answer and nothing done; two admins acting on one card: one wins, the other is told who and
when; a ban on someone who erased their data says so and changes nothing; someone unmade admin
mid-way decides nothing; the log reads in the reader's language, date format and /settings
time zone, with names instead of ids.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime

from bot.delivery.outbox import REASON_GIVEN
from bot.delivery.timing import Preferences
from bot.handlers import moderation, verification
from bot.i18n import translator
from bot.storage.outbox import Notice
from bot.views.admin_log import SENTENCES
from bot.views.texts import REPORT_REASON_LABELS
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, plain, says, started, taps

NOW = int(time.time())
OWNER, REPORTER, MARIA, ASKER = 721, 722, 723, 724
en = translator("en").gettext
fr = translator("fr").gettext
bg = translator("bg").gettext
GONE = "This listing does not exist any more: its author erased their data. Nothing changed."


async def world(server, bot):
    """An owner (fr) with a reported listing, a reporter, Maria (fr, made admin), and Ada
    (the admin of ADMIN_IDS), all started."""
    await seed.member(bot.storage, OWNER, language="fr")
    await seed.member(bot.storage, REPORTER, language="de", country="DE", place="Kassel")
    await seed.member(bot.storage, MARIA, language="fr", place="Nancy", role="volunteer")
    await bot.storage.set_admin(MARIA, True, by=ADMIN_ID, now=NOW)
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Used fire pump")
    await bot.storage.report_listing(listing.id, REPORTER, "spam", NOW)
    users = await started(
        server,
        ("Odile", "fr", OWNER),
        ("Rita", "de", REPORTER),
        ("Maria", "fr", MARIA),
        ("Ada", "en", ADMIN_ID),
    )
    return {user.id: user for user in users}, listing


async def open_card(admin):
    _ = translator(admin.account.language_code).gettext
    await says(admin, "/admin")
    label = next(label for label in admin.messages[-1].button_labels if "🚩" in label)
    return await taps(admin, label)


def bans(bot):
    return bot.storage._fetchall("SELECT user_id FROM bans")


async def test_ban_asks_a_reason_confirms_and_tells_the_person(server, bot):
    users, listing = await world(server, bot)
    ada, owner = users[ADMIN_ID], users[OWNER]
    card = await open_card(ada)
    await says(ada, "/post")  # in the middle of another dialog: the reason still goes right

    asked = await taps(ada, "⛔ Ban")
    title = translator("en").quote("Used fire pump") + f" #{listing.id}"
    assert asked.text.startswith(f"⛔ Ban Odile (FR), the author of {title}? ")
    assert asked.text.endswith(
        "Type the reason they will read (at most 500 characters), or go on without one."
    )
    assert asked.button_labels == ["➡ No reason", "✖️ Cancel"]
    reason = "Spam <script>alert(1)</script> & links"
    confirm = await says(ada, reason)
    assert confirm.text.endswith("They will read this reason:\n" + reason)
    assert confirm.button_labels == ["⛔ Ban", "⬅ Back", "✖️ Cancel"]
    assert await bans(bot) == []  # nothing done before the confirmation

    # Back to the reason, go on without one, back again, and type it after all.
    await taps(ada, "⬅ Back")
    without = await taps(ada, "➡ No reason")
    assert without.text.endswith("They will be told without a reason.")
    await taps(ada, "⬅ Back")
    await says(ada, reason)
    assert (await taps(ada, "⛔ Ban")).text == "Banned."
    refreshed = await ada.wait_for_bot_message(include_edits=True)
    assert refreshed.id == card.id and "✅ Lift ban" in refreshed.button_labels
    assert [row[0] for row in await bans(bot)] == [OWNER]

    told = await owner.wait_for_bot_message(containing("/deleteme"), timeout=10)
    assert told.text == plain(fr(moderation.BANNED)) + "\n\n" + fr(REASON_GIVEN) + "\n" + reason
    (entry,) = [e for e in await bot.storage.admin_log() if e.action == "ban"]
    assert (entry.admin_id, entry.target_user, entry.reason) == (ADMIN_ID, OWNER, reason)
    assert server.errors() == []


async def test_warn_without_a_reason_and_cancel(server, bot):
    users, _listing = await world(server, bot)
    ada, owner = users[ADMIN_ID], users[OWNER]
    await open_card(ada)
    await taps(ada, "⚠️ Warn")
    assert (await taps(ada, "✖️ Cancel")).text == "Cancelled: nothing was done."
    assert await bot.storage._fetchall("SELECT * FROM warnings") == []
    await taps(ada, "⚠️ Warn")
    confirm = await taps(ada, "➡ No reason")
    assert confirm.text.endswith("They will be told without a reason.")
    assert (await taps(ada, "⚠️ Warn")).text == "Warned."
    told = await owner.wait_for_bot_message(containing("Used fire pump"), timeout=10)
    quoted = translator("fr").quote("Used fire pump")
    assert told.text == plain(fr(moderation.WARNED)).format(title=quoted)  # no reason line
    assert server.errors() == []


async def test_a_reason_of_4000_characters_is_refused_with_a_clear_answer(server, bot):
    await seed.member(bot.storage, ASKER, language="bg", country="BG", place="Kotel")
    request = await bot.storage.request_verification(ASKER, email=None, note=None, now=NOW)
    asker, ada = await started(server, ("Kalina", "bg", ASKER), ("Ada", "en", ADMIN_ID))
    await says(ada, "/admin")
    await taps(ada, "🪪 Verifications (1)")
    asked = await taps(ada, "❌ Reject")
    assert asked.text.startswith("❌ Reject the request of Kalina (BG) to represent Kotel?")
    refused = await says(ada, "x" * 4000)
    assert refused.text == (
        "Please keep the reason under 500 characters (this one has 4,000). Nothing was done yet."
    )
    assert (await bot.storage.get_verification(request.id)).status == "pending"
    reason = "Use the town hall's address: <i>mairie@…</i>"
    await says(ada, reason)
    assert (await taps(ada, "❌ Reject")).text == "❌ Rejected."
    told = await asker.wait_for_bot_message(containing("Kotel"), timeout=10)
    assert told.text == (
        plain(bg(verification.REJECTED)).format(municipality="Kotel")
        + "\n\n"
        + bg(REASON_GIVEN)
        + "\n"
        + reason
    )
    (entry,) = [e for e in await bot.storage.admin_log() if e.action == "reject"]
    assert entry.reason == reason
    assert server.errors() == []


async def test_two_admins_on_one_card_one_wins_the_other_is_told(server, bot):
    users, listing = await world(server, bot)
    ada, maria, owner = users[ADMIN_ID], users[MARIA], users[OWNER]
    ada_card = await open_card(ada)
    maria_card = await open_card(maria)

    await taps(ada, "⛔ Ban")
    await says(ada, "Spam")  # Ada is on the confirmation...
    await taps(maria, fr("⛔ Ban"))  # ...when Maria bans, without a reason.
    await taps(maria, fr("➡ No reason"))
    assert (await taps(maria, fr("⛔ Ban"))).text == fr("Banned.")
    lost = await taps(ada, "⛔ Ban")
    (entry,) = [e for e in await bot.storage.admin_log() if e.action == "ban"]
    at = format_datetime(
        datetime.fromtimestamp(entry.at, ZoneInfo("Europe/Brussels")), "short", locale="en"
    )
    assert lost.text == f"Maria (FR) already did this on {at}. Nothing changed."
    assert entry.admin_id == MARIA and entry.reason is None
    assert [row[0] for row in await bans(bot)] == [OWNER]
    # A tap on Ban now is refused at once, saying who.
    await ada.press_data(ada_card.id, f"mod:ban:{listing.id}")
    assert (await ada.wait_for_callback_answer()).text == lost.text
    # The owner is told once.
    await owner.wait_for_bot_message(containing("/deleteme"), timeout=10)
    told = await bot.storage._fetchall(
        "SELECT count(*) FROM outbox WHERE user_id = ? AND dedup_key LIKE 'mod:ban:%'", (OWNER,)
    )
    assert told[0][0] == 1

    # Hide: Maria first, Ada's older card is told who and shows what is left to do.
    await bot.storage.restore_listing(listing.id, ADMIN_ID, NOW)
    await bot.storage.unban(OWNER, ADMIN_ID, NOW)
    await bot.storage.report_listing(listing.id, REPORTER, "scam", NOW)
    await maria.press_data(maria_card.id, f"mod:hide:{listing.id}")
    assert (await maria.wait_for_callback_answer()).text == fr("Hidden.")
    await ada.press_data(ada_card.id, f"mod:hide:{listing.id}")
    answer = await ada.wait_for_callback_answer()
    assert answer.text.startswith("Maria (FR) already did this on ")
    shown = await ada.wait_for_bot_message(include_edits=True)
    assert shown.id == ada_card.id and "♻️ Restore" in shown.button_labels
    assert server.errors() == []


async def test_a_ban_on_someone_who_erased_their_data_changes_nothing(server, bot):
    users, listing = await world(server, bot)
    ada, owner = users[ADMIN_ID], users[OWNER]
    card = await open_card(ada)
    await taps(ada, "⛔ Ban")
    await taps(ada, "➡ No reason")  # Ada is on the confirmation when the owner leaves
    await says(owner, "/deleteme")
    await owner.press(fr("🗑 Yes, erase everything"))
    await owner.wait_for_bot_message(include_edits=True)
    assert await bot.storage.get_member(OWNER) is None
    assert (await taps(ada, "⛔ Ban")).text == GONE
    # And a tap on the card's Ban (or Warn) says so at once.
    for data in (f"mod:ban:{listing.id}", f"mod:warn:{listing.id}"):
        await ada.press_data(card.id, data)
        assert (await ada.wait_for_callback_answer()).text == GONE, data
    assert await bans(bot) == []
    assert [e.action for e in await bot.storage.admin_log()] == ["make_admin"]
    assert server.errors() == []


async def test_someone_unmade_admin_meanwhile_decides_nothing(server, bot):
    users, _listing = await world(server, bot)
    ada, maria = users[ADMIN_ID], users[MARIA]
    await open_card(maria)
    await taps(maria, fr("⚠️ Warn"))
    await taps(maria, fr("➡ No reason"))
    await says(ada, f"/unadmin {MARIA}")
    await maria.press(fr("⚠️ Warn"))
    assert (await maria.wait_for_callback_answer()).text == fr("This is for administrators only.")
    assert await bot.storage._fetchall("SELECT * FROM warnings") == []
    # The dialog's buttons pressed by someone who never was in it are stale, not obeyed.
    reporter = users[REPORTER]
    for data in ("why:ok", "why:skip", "why:back:1"):
        await reporter.press_data(reporter.messages[-1].id, data)
        answer = await reporter.wait_for_callback_answer()
        assert answer.text == translator("de").gettext(
            "This button is no longer active. Send /start to see the menu."
        ), data
    assert server.errors() == []


async def test_the_log_reads_in_the_readers_language_zone_and_names(server, bot):
    users, listing = await world(server, bot)
    ada, maria = users[ADMIN_ID], users[MARIA]
    lisbon = Preferences(timezone="Atlantic/Azores", timezone_chosen=True)
    await bot.storage.save_preferences(MARIA, lisbon, NOW)
    await open_card(ada)
    # The press is answered first, then the card is edited: wait for the edit, or it would be
    # taken for what Warn shows.
    await taps(ada, "🚫 Hide")
    await taps(ada, "⚠️ Warn")
    await says(ada, "<b>Prix</b> trompeur & répété")
    await taps(ada, "⚠️ Warn")

    await says(maria, "/admin")
    log = await taps(maria, fr("📜 Admin log"))
    lines = log.text.splitlines()
    entries = {e.action: e for e in await bot.storage.admin_log()}
    t = translator("fr")

    def at(action: str) -> str:
        azores = datetime.fromtimestamp(entries[action].at, ZoneInfo("Atlantic/Azores"))
        return format_datetime(azores, "short", locale="fr")

    named = t.quote("Used fire pump") + f" #{listing.id}"
    hid = fr(SENTENCES["hide"]).format(admin="Ada", listing=named)
    warned = fr(SENTENCES["warn"]).format(admin="Ada", member="Odile (FR)", listing=named)
    made = fr(SENTENCES["make_admin"]).format(admin="Ada", member="Maria (FR)")
    spam = fr(REPORT_REASON_LABELS["spam"])
    assert lines[1:] == [
        f"{at('warn')} · {t.colon(warned)} <b>Prix</b> trompeur & répété",
        f"{at('hide')} · {t.colon(hid)} {spam}",
        f"{at('make_admin')} · {made}",
    ]
    assert str(OWNER) not in log.text and str(ADMIN_ID) not in log.text
    assert server.errors() == []


async def test_every_admin_action_is_logged(server, bot):
    """hide, restore, dismiss, warn, ban, unban, approve, reject, revoke, make and unmake
    admin, and the broadcasts' send, schedule, pause, resume and cancel."""
    users, listing = await world(server, bot)
    s = bot.storage
    await s.hide_listing(listing.id, ADMIN_ID, NOW)
    await s.restore_listing(listing.id, ADMIN_ID, NOW)
    await s.report_listing(listing.id, REPORTER, "other", NOW)
    await s.dismiss_reports(listing.id, ADMIN_ID, NOW)
    await s.warn_owner(listing.id, ADMIN_ID, NOW, reason="r")
    await s.ban(OWNER, ADMIN_ID, NOW, reason="r")
    await s.unban(OWNER, ADMIN_ID, NOW)
    await seed.member(bot.storage, ASKER, language="bg", country="BG", place="Kotel")
    first = await s.request_verification(ASKER, email=None, note=None, now=NOW)
    await s.decide_verification(first.id, ADMIN_ID, approve=False, now=NOW, reason="r")
    second = await s.request_verification(ASKER, email=None, note=None, now=NOW)
    await s.decide_verification(second.id, ADMIN_ID, approve=True, now=NOW)
    await s.revoke_verification(second.id, ADMIN_ID, reason="r", now=NOW)
    await s.set_admin(MARIA, False, by=ADMIN_ID, now=NOW)
    broadcasts = []
    for send_at in (None, NOW + 3600, NOW + 3600):
        broadcast = await s.create_broadcast(ADMIN_ID, "Europe/Paris", NOW)
        await s.update_draft(broadcast, texts={"en": "Hello"}, send_at=send_at)
        await s.confirm_broadcast(broadcast, NOW)
        broadcasts.append(broadcast)
    # The first may already be done (nobody to send it to): pause one that is sending.
    await s._db.execute("UPDATE broadcasts SET state = 'sending' WHERE id = ?", (broadcasts[2],))
    await s.pause_broadcast(broadcasts[2], admin=ADMIN_ID, now=NOW)
    await s.resume_broadcast(broadcasts[2], admin=ADMIN_ID, now=NOW)
    await s.cancel_broadcast(broadcasts[1], NOW, admin=ADMIN_ID)
    actions = [e.action for e in reversed(await s.admin_log(limit=100))]
    assert actions == [
        "make_admin", "hide", "restore", "dismiss", "warn", "ban", "unban", "reject",
        "approve", "revoke", "remove_admin", "broadcast_send", "broadcast_schedule",
        "broadcast_schedule", "broadcast_pause", "broadcast_resume", "broadcast_cancel",
    ]  # fmt: skip
    assert set(actions) <= set(SENTENCES)
    await says(users[ADMIN_ID], "/admin")
    log = await taps(users[ADMIN_ID], "📜 Admin log")
    assert len(log.text.splitlines()) == 1 + len(actions)
    assert "Ada revoked the verification of Member 724 (BG) for Kotel: r" in log.text
    assert f"Ada paused the broadcast #{broadcasts[2]}" in log.text
    assert server.errors() == []


async def test_a_double_tap_and_a_replay_of_the_confirmation_act_once(server, bot):
    users, _listing = await world(server, bot)
    ada, owner = users[ADMIN_ID], users[OWNER]
    await open_card(ada)
    await taps(ada, "⛔ Ban")
    confirm = await says(ada, "Spam")
    ok = confirm.inline_keyboard[0][0]["callback_data"]
    first = await ada.press_data(confirm.id, ok)
    second = await ada.press_data(confirm.id, ok)  # before the first is answered
    await ada.wait_for_callback_answer(first)
    await ada.wait_for_callback_answer(second)
    await ada.wait_for_bot_message(containing("Banned."), include_edits=True)
    await ada.press_data(confirm.id, ok)  # a replay, later
    stale = await ada.wait_for_callback_answer()
    assert stale.text == "This button is no longer active. Send /start to see the menu."

    assert [row[0] for row in await bans(bot)] == [OWNER]
    assert [e.action for e in await bot.storage.admin_log()].count("ban") == 1
    await owner.wait_for_bot_message(containing("/deleteme"), timeout=10)
    told = await bot.storage._fetchall(
        "SELECT count(*) FROM outbox WHERE user_id = ? AND dedup_key LIKE 'mod:ban:%'", (OWNER,)
    )
    assert told[0][0] == 1
    assert server.errors() == []


async def test_reject_and_revoke_for_someone_who_erased_their_data_change_nothing(server, bot):
    await seed.member(bot.storage, ASKER, language="bg", country="BG", place="Kotel")
    await seed.member(bot.storage, OWNER, language="fr", country="BG", place="Kotel")
    pending = await bot.storage.request_verification(ASKER, email=None, note=None, now=NOW)
    approved = await bot.storage.request_verification(OWNER, email=None, note=None, now=NOW)
    await bot.storage.decide_verification(approved.id, ADMIN_ID, approve=True, now=NOW)
    asker, owner, ada = await started(
        server, ("Kalina", "bg", ASKER), ("Odile", "fr", OWNER), ("Ada", "en", ADMIN_ID)
    )
    at = ada.messages[-1].id

    # Ada is on each confirmation when the person erases their data.
    for person, data, erase in (
        (asker, f"vf:no:{pending.id}", bg("🗑 Yes, erase everything")),
        (owner, f"vf:rv:{approved.id}", fr("🗑 Yes, erase everything")),
    ):
        await ada.press_data(at, data)
        asked = await ada.wait_for_bot_message()
        assert asked.button_labels == ["➡ No reason", "✖️ Cancel"], data
        await says(ada, "Not the mayor")
        await says(person, "/deleteme")
        await person.press(erase)
        await person.wait_for_bot_message(include_edits=True)
        confirm = ada.messages[-1]
        await ada.press_data(confirm.id, confirm.inline_keyboard[0][0]["callback_data"])
        gone = await ada.wait_for_bot_message(containing("no longer exists"))
        assert gone.text == "This request no longer exists.", data
        # And a tap on the request's button now says so at once.
        await ada.press_data(at, data)
        assert (await ada.wait_for_callback_answer()).text == gone.text, data

    decided = [e.action for e in await bot.storage.admin_log()]
    assert "reject" not in decided and "revoke" not in decided
    assert server.errors() == []


async def test_no_admin_can_ban_an_administrator(server, bot):
    """A ban shuts a person out of everything but /mydata and /deleteme, /unban and
    /unadmin included: an admin who could ban another could lock every other admin out.
    Nobody bans an administrator, asked at the card, forged, or made admin meanwhile."""
    users, listing = await world(server, bot)
    ada, maria = users[ADMIN_ID], users[MARIA]
    adas = await seed.listing(bot.storage, ADMIN_ID, NOW, title="Ada's own offer")
    marias = await seed.listing(bot.storage, MARIA, NOW, title="Maria's own offer")
    card = await open_card(maria)
    # Maria, made admin, forges Ban on a listing of Ada's (ADMIN_IDS); Ada on one of Maria's.
    await maria.press_data(card.id, f"mod:ban:{adas.id}")
    assert (await maria.wait_for_callback_answer()).text == fr(moderation.ADMINS_NOT_BANNED)
    await ada.press_data((await open_card(ada)).id, f"mod:ban:{marias.id}")
    assert (await ada.wait_for_callback_answer()).text == en(moderation.ADMINS_NOT_BANNED)
    # The owner is made admin while Ada stands at the confirmation: the ban is refused then.
    await taps(ada, "⛔ Ban")
    await taps(ada, "➡ No reason")
    await bot.storage.set_admin(OWNER, True, by=ADMIN_ID, now=NOW)
    assert (await taps(ada, "⛔ Ban")).text == en(moderation.ADMINS_NOT_BANNED)
    assert await bans(bot) == []
    assert not [e for e in await bot.storage.admin_log() if e.action == "ban"]
    # Storage holds the rule whoever calls it; unmade, the owner can be banned as anyone.
    assert await bot.storage.ban(ADMIN_ID, MARIA, NOW, administrators=frozenset({ADMIN_ID})) is (
        moderation.Outcome.ADMIN
    )
    await bot.storage.set_admin(OWNER, False, by=ADMIN_ID, now=NOW)
    assert await bot.storage.ban(OWNER, ADMIN_ID, NOW, listing_id=listing.id) is (
        moderation.Outcome.DONE
    )
    assert [row[0] for row in await bans(bot)] == [OWNER]
    # The card redrawn after the refused confirmation had not changed (the bot lets that be).
    assert ["not modified" in repr(error) for error in server.errors()] == [True]


async def test_a_decision_and_its_notice_are_written_together_or_not_at_all(server, bot):
    """A kill between a decision's commit and its notice's would leave a ban, a warning or a
    hidden listing nobody is told of (and the Confirm pressed again is refused as an earlier
    step): both are one transaction. When queueing the notice fails, nothing is decided."""
    storage = bot.storage
    _users, listing = await world(server, bot)

    def told(key: str) -> Notice:
        return Notice(key, moderation.WARNED, {"title": listing.title})

    decisions = {
        "warn": lambda: storage.warn_owner(listing.id, ADMIN_ID, NOW, notice=told("mod:warn:1")),
        "ban": lambda: storage.ban(OWNER, ADMIN_ID, NOW, notice=told("mod:ban:1")),
        "hide": lambda: storage.hide_listing(listing.id, ADMIN_ID, NOW, notice=told("mod:hide:1")),
    }
    async with seed.refused_notices(storage, like="mod:%"):
        for decide in decisions.values():
            with pytest.raises(Exception, match=seed.REFUSED):
                await decide()
    assert await bans(bot) == []
    assert await storage._fetchall("SELECT * FROM warnings") == []
    assert (await storage.get_listing(listing.id)).status == "open"
    assert [e.action for e in await storage.admin_log()] == ["make_admin"]
    assert await storage.hide_listing(listing.id, ADMIN_ID, NOW, notice=told("mod:hide:2"))
    assert await storage.ban(OWNER, ADMIN_ID, NOW, notice=told("mod:ban:2")) is (
        moderation.Outcome.DONE
    )
    queued = await storage._fetchall("SELECT dedup_key FROM outbox WHERE user_id = ?", (OWNER,))
    assert sorted(row[0] for row in queued) == [f"mod:ban:2:{OWNER}", f"mod:hide:2:{OWNER}"]


async def test_a_verification_decision_and_its_notice_are_one_transaction(server, bot):
    """Approve, reject and revoke queue the person's notice with the decision: refused, the
    decision is not made either."""
    storage = bot.storage
    await seed.member(storage, OWNER, language="fr")
    asked = await storage.request_verification(OWNER, email=None, note=None, now=NOW)
    told = Notice("vf:result:1", verification.APPROVED).to([OWNER], NOW)
    async with seed.refused_notices(storage):
        for approve in (True, False):
            with pytest.raises(Exception, match=seed.REFUSED):
                await storage.decide_verification(
                    asked.id, ADMIN_ID, approve=approve, now=NOW, told=told
                )
    assert (await storage.get_verification(asked.id)).status == "pending"
    await storage.decide_verification(asked.id, ADMIN_ID, approve=True, now=NOW, told=told)
    revoked = Notice("vf:revoked:1", verification.REVOKED).to([OWNER], NOW)
    await storage.revoke_verification(asked.id, ADMIN_ID, reason=None, now=NOW, told=revoked)
    queued = await storage._fetchall("SELECT dedup_key FROM outbox WHERE user_id = ?", (OWNER,))
    assert sorted(row[0] for row in queued) == [f"vf:result:1:{OWNER}", f"vf:revoked:1:{OWNER}"]


async def test_a_report_and_its_notices_are_one_transaction(server, bot):
    """A report (and the review it may start, hiding the author's listings) is filed with the
    notices of it, or not at all."""
    storage = bot.storage
    await seed.member(storage, OWNER, language="fr")
    await seed.member(storage, REPORTER, language="de", country="DE", place="Kassel")
    listing = await seed.listing(storage, OWNER, NOW, title="Used fire pump")

    def told(filed):
        return Notice(f"report:{filed.report_id}", moderation.WARNED).to([ADMIN_ID], NOW)

    async with seed.refused_notices(storage):
        with pytest.raises(Exception, match=seed.REFUSED):
            await storage.report_listing(listing.id, REPORTER, "spam", NOW, told=told)
    assert await storage._fetchall("SELECT * FROM reports") == []
    filed = await storage.report_listing(listing.id, REPORTER, "spam", NOW, told=told)
    queued = await storage._fetchall("SELECT dedup_key FROM outbox")
    assert [row[0] for row in queued] == [f"report:{filed.report_id}:{ADMIN_ID}"]


async def test_banning_an_official_says_their_verification_ends(server, bot):
    """A ban ends a verified official's verification (Storage.ban): the question says so
    before the admin confirms, and only for an official."""
    users, _listing = await world(server, bot)
    ada = users[ADMIN_ID]
    await open_card(ada)
    assert "verification" not in (await taps(ada, "⛔ Ban")).text
    await taps(ada, "✖️ Cancel")
    await seed.verified(bot.storage, OWNER, NOW)
    owner = await bot.storage.get_member(OWNER)
    await open_card(ada)
    asked = await taps(ada, "⛔ Ban")
    ends = en("Their verification for {municipality} ends too.")
    assert ends.format(municipality=owner.municipality_name) in asked.text
