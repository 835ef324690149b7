"""The verified badge belongs to a person, for a municipality (issue 16, rule 2), over HTTP.

A newcomer who joins a municipality that has a verified mayor shows no badge until approved -
by an admin, or by that mayor (the admins are told); forged approvals (an unverified colleague,
a verified mayor of another municipality, the newcomer themselves) decide nothing; moving to
another municipality ends the badge on what one posts next, while each listing keeps the badge
it was published with; admins list the verified people per municipality and revoke one with
a reason the person reads in their language (HTML in it shown as typed).
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.dialogs import verification as asking
from bot.handlers import verification
from bot.i18n import translator
from bot.storage import Profile
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, onboard, plain, says, started, taps

NOW = int(time.time())
MAYOR, NEWCOMER, COLLEAGUE, KOTEL_MAYOR, READER = 811, 812, 813, 814, 815
en = translator("en").gettext
bg = translator("bg").gettext
fr = translator("fr").gettext

SVETI_VLAS = Profile(role="municipality", country="BG", place="Sveti Vlas", region="Burgas")
KOTEL = Profile(role="municipality", country="BG", place="Kotel", region="Sliven")


async def official(bot, user_id: int, name: str, language: str, profile: Profile, *, verify=True):
    await bot.storage.register_member(user_id, name, language)
    await bot.storage.save_profile(user_id, profile)
    if verify:
        request = await bot.storage.request_verification(user_id, email=None, note=None, now=NOW)
        await bot.storage.decide_verification(request.id, ADMIN_ID, approve=True, now=NOW)


async def listing_of(bot, owner: int, title: str):
    return await seed.listing(
        bot.storage, owner, NOW, title=title, country="BG", region="Burgas", place="Sveti Vlas"
    )


async def card_line(reader, listing_id: int) -> str:
    """The author line of a listing's card as a reader sees it."""
    card = await says(reader, f"/start l{listing_id}")
    return next((line for line in card.text.splitlines() if line.startswith("🏛")), card.text)


async def mayor_admin_and_reader(server, bot, name: str, language: str):
    """The verified mayor of Sveti Vlas, an admin and a volunteer who reads listings, all having
    started the bot; the mayor and the admin without quiet hours (they are told things)."""
    await official(bot, MAYOR, name, language, SVETI_VLAS)
    await seed.member(bot.storage, READER, role="volunteer")
    mayor, admin, reader = await started(
        server, (name, language, MAYOR), ("Ada", "en", ADMIN_ID), ("Rita", "en", READER)
    )
    for told in (MAYOR, ADMIN_ID):
        await seed.set_quiet_hours(bot.storage, told)
    return mayor, admin, reader


async def test_a_newcomer_shows_no_badge_until_the_mayor_approves(server, bot):
    mayor, admin, reader = await mayor_admin_and_reader(server, bot, "Boyan", "bg")
    mayors = await listing_of(bot, MAYOR, "Fire pump")

    newcomer = server.create_user("Nikola", "bg", user_id=NEWCOMER)
    await onboard(newcomer, "bg", place="Sveti Vlas", region="Burgas")
    await seed.set_quiet_hours(bot.storage, NEWCOMER)
    member = await bot.storage.get_member(NEWCOMER)
    assert member.municipality_id == (await bot.storage.get_member(MAYOR)).municipality_id
    assert not member.verified
    profile = await says(newcomer, "/profile")
    assert bg("Municipality: <b>{name}</b>{badge}").split(":")[0] in profile.text
    assert "Sveti Vlas" in profile.text and "✅" not in profile.text
    assert "Sveti Vlas ✅" in (await says(mayor, "/profile")).text
    before = await listing_of(bot, NEWCOMER, "Benches")
    assert await card_line(reader, before.id) == "🏛 Sveti Vlas"
    assert await card_line(reader, mayors.id) == "🏛 Sveti Vlas ✅"

    # The newcomer asks: the admins and the municipality's verified mayor are told.
    await says(newcomer, "/verify")
    await taps(newcomer, bg("📨 Send without a note"))
    await admin.wait_for_bot_message(containing("Nikola"), timeout=10)
    told = await mayor.wait_for_bot_message(containing("Nikola"), timeout=10)
    assert told.text == plain(bg(asking.ASKED_OFFICIALS)).format(
        name="Nikola", municipality="Sveti Vlas"
    )

    # The mayor approves from /verify; the newcomer is told, the admins too.
    await says(mayor, "/verify")
    card = await mayor.wait_for_bot_message(containing("Nikola"))
    assert card.button_labels == [bg("✅ Approve")]
    await mayor.press(bg("✅ Approve"))
    decided = await mayor.wait_for_bot_message(include_edits=True)
    assert decided.text.endswith(bg("✅ Approved.")) and decided.button_labels == []
    approved = await newcomer.wait_for_bot_message(containing("Sveti Vlas"), timeout=10)
    assert approved.text == plain(bg(verification.APPROVED)).format(municipality="Sveti Vlas")
    notice = await admin.wait_for_bot_message(containing("Boyan"), timeout=10)
    assert notice.text == plain(en(verification.APPROVED_BY_OFFICIAL)).format(
        official="Boyan", name="Nikola", municipality="Sveti Vlas"
    )
    assert (await bot.storage.get_member(NEWCOMER)).verified

    # From now on the newcomer's listings carry the badge; the one before keeps none.
    after = await listing_of(bot, NEWCOMER, "Tables")
    assert await card_line(reader, after.id) == "🏛 Sveti Vlas ✅"
    assert await card_line(reader, before.id) == "🏛 Sveti Vlas"
    log = await bot.storage.admin_log()
    assert [(entry.admin_id, entry.action, entry.target_user) for entry in log[:1]] == [
        (MAYOR, "member_approve", NEWCOMER)
    ]
    assert server.errors() == []


async def test_forged_approvals_decide_nothing(server, bot):
    await official(bot, MAYOR, "Boyan", "bg", SVETI_VLAS)
    await official(bot, KOTEL_MAYOR, "Kalina", "bg", KOTEL)
    await official(bot, COLLEAGUE, "Todor", "bg", SVETI_VLAS, verify=False)
    await official(bot, NEWCOMER, "Nikola", "bg", SVETI_VLAS, verify=False)
    request = await bot.storage.request_verification(NEWCOMER, email=None, note=None, now=NOW)
    users = {
        user_id: server.create_user(name, "bg", user_id=user_id)
        for user_id, name in (
            (MAYOR, "Boyan"),
            (KOTEL_MAYOR, "Kalina"),
            (COLLEAGUE, "Todor"),
            (NEWCOMER, "Nikola"),
        )
    }
    for user in users.values():
        await says(user, "/start")
    not_allowed = bg(
        "Only an administrator or a verified representative of that municipality can "
        "approve this request."
    )
    # An unverified colleague, the verified mayor of another municipality, the newcomer.
    for user_id in (COLLEAGUE, KOTEL_MAYOR, NEWCOMER):
        user = users[user_id]
        await user.press_data(user.messages[-1].id, f"vf:ok:{request.id}")
        assert (await user.wait_for_callback_answer()).text == not_allowed, user_id
    # A verified official may approve, not reject; a request that never was is said so.
    mayor = users[MAYOR]
    await mayor.press_data(mayor.messages[-1].id, f"vf:no:{request.id}")
    assert (await mayor.wait_for_callback_answer()).text == bg("This is for administrators only.")
    await mayor.press_data(mayor.messages[-1].id, f"vf:ok:{request.id + 1000}")
    assert (await mayor.wait_for_callback_answer()).text == bg("This request no longer exists.")
    # /verify shows the requests of one's own municipality only.
    await says(users[KOTEL_MAYOR], "/verify")
    await says(users[KOTEL_MAYOR], "/help")
    assert not any("Nikola" in (m.text or "") for m in users[KOTEL_MAYOR].messages)
    assert (await bot.storage.get_verification(request.id)).status == "pending"
    assert not (await bot.storage.get_member(NEWCOMER)).verified
    # Only the two approvals seeded by the admin are in the log.
    assert [entry.action for entry in await bot.storage.admin_log()] == ["approve", "approve"]

    # The mayor's approval stands; an admin pressing Approve later is told who and when.
    await mayor.press_data(mayor.messages[-1].id, f"vf:ok:{request.id}")
    await mayor.wait_for_callback_answer()
    assert (await bot.storage.get_member(NEWCOMER)).verified
    admin = server.create_user("Ada", "en", user_id=ADMIN_ID)
    await says(admin, "/start")
    await admin.press_data(admin.messages[-1].id, f"vf:ok:{request.id}")
    again = await admin.wait_for_callback_answer()
    (first,) = [e for e in await bot.storage.admin_log() if e.action == "member_approve"]
    at = format_datetime(
        datetime.fromtimestamp(first.at, ZoneInfo("Europe/Brussels")), "short", locale="en"
    )
    assert again.text == f"Boyan (BG) already did this on {at}. Nothing changed."
    assert server.errors() == []


async def test_moving_ends_the_badge_on_what_comes_next(server, bot):
    await official(bot, MAYOR, "Boyan", "bg", SVETI_VLAS)
    await seed.member(bot.storage, READER, role="volunteer")
    reader = server.create_user("Rita", "en", user_id=READER)
    await says(reader, "/start")
    before = await listing_of(bot, MAYOR, "Fire pump")
    assert (await bot.storage.get_listing(before.id)).author_verified

    # Someone still speaks for Sveti Vlas once he has left: its listings stay in sight.
    await official(bot, COLLEAGUE, "Colleague", "bg", SVETI_VLAS)
    await bot.storage.save_profile(MAYOR, KOTEL, now=NOW)  # he now speaks for Kotel, unverified
    moved = await bot.storage.get_member(MAYOR)
    assert (moved.municipality_name, moved.verified) == ("Kotel", False)
    elsewhere = await seed.listing(
        bot.storage, MAYOR, NOW + 1, title="Chairs", country="BG", region="Sliven", place="Kotel"
    )
    assert await card_line(reader, elsewhere.id) == "🏛 Kotel"
    # The listing posted as Sveti Vlas's verified mayor keeps the badge it was posted with.
    assert await card_line(reader, before.id) == "🏛 Sveti Vlas ✅"

    # Coming back does not bring the approval back: it ended when he left.
    await bot.storage.save_profile(MAYOR, SVETI_VLAS)
    assert not (await bot.storage.get_member(MAYOR)).verified
    again = await listing_of(bot, MAYOR, "Ladders")
    assert await card_line(reader, again.id) == "🏛 Sveti Vlas"
    statuses = await bot.storage._fetchall(
        "SELECT status FROM verification_requests WHERE user_id = ?", (MAYOR,)
    )
    assert [row[0] for row in statuses] == ["left"]
    assert server.errors() == []


async def test_admins_list_the_verified_people_and_revoke_with_a_reason(server, bot):
    await official(bot, KOTEL_MAYOR, "Kalina", "bg", KOTEL)
    mayor, admin, reader = await mayor_admin_and_reader(server, bot, "Marie", "fr")
    before = await listing_of(bot, MAYOR, "Fire pump")

    await says(admin, "/admin")
    found = await taps(admin, "✅ Verified people")
    assert found.text == "Verified people: 2 municipalities. Choose one to see who speaks for it."
    assert found.button_labels == ["🏛 Kotel (BG) · 1", "🏛 Sveti Vlas (BG) · 1"]
    people = await taps(admin, "🏛 Sveti Vlas (BG) · 1")
    assert people.text.splitlines()[0] == "🏛 Sveti Vlas: verified people"
    assert people.text.splitlines()[1].startswith(f"• Marie ({MAYOR}) · verified since ")
    assert people.button_labels == ["🚫 Revoke Marie"]
    asked = await taps(admin, "🚫 Revoke Marie")
    assert asked.text.startswith("Revoke the verification of Marie (BG) for Sveti Vlas?")
    assert asked.button_labels == ["➡ No reason", "✖️ Cancel"]
    reason = "<b>Not</b> the mayor & never was"
    confirm = await says(admin, reason)
    assert confirm.text.endswith("They will read this reason:\n" + reason)
    assert confirm.button_labels == ["🚫 Revoke", "⬅ Back", "✖️ Cancel"]
    assert (await bot.storage.get_member(MAYOR)).verified  # nothing done yet
    done = await taps(admin, "🚫 Revoke")
    assert done.text == "Verification revoked."
    listed = await admin.wait_for_bot_message(include_edits=True)
    assert "Nobody is verified for this municipality any more." in listed.text

    # Someone speaks for Sveti Vlas again: its listings are in sight (not unattended).
    await official(bot, COLLEAGUE, "Colleague", "bg", SVETI_VLAS)
    told = await mayor.wait_for_bot_message(containing("Sveti Vlas"), timeout=10)
    assert told.text == (
        plain(fr(verification.REVOKED)).format(municipality="Sveti Vlas")
        + "\n\n"
        + fr("The moderator's reason:")
        + "\n"
        + reason
    )
    assert not (await bot.storage.get_member(MAYOR)).verified
    after = await listing_of(bot, MAYOR, "Benches")
    assert await card_line(reader, after.id) == "🏛 Sveti Vlas"
    assert await card_line(reader, before.id) == "🏛 Sveti Vlas ✅"

    # A replay of Revoke says who did it; the log keeps the reason.
    await admin.press_data(people.id, people.inline_keyboard[0][0]["callback_data"])
    replay = await admin.wait_for_callback_answer()
    assert replay.text.startswith("Ada already did this on ")
    (entry,) = [e for e in await bot.storage.admin_log() if e.action == "revoke"]
    assert (entry.admin_id, entry.target_user, entry.reason) == (ADMIN_ID, MAYOR, reason)
    await says(admin, "/admin")
    log = await taps(admin, "📜 Admin log")
    assert f"Ada revoked the verification of Marie (BG) for Sveti Vlas: {reason}" in log.text
    assert server.errors() == []
