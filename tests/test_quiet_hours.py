"""Quiet hours for every push (issue 16, rule 7) and bundles of what waited (issue 17, item 3),
over HTTP against the local Bot API server with the application's clock under the test's hand.

Every push goes through the outbox, which decides at send time: a contact request at 05:43 in
Paris, a broadcast at 06:10, a match found at night are held until the end of the recipient's
quiet hours (in the recipient's time zone, not the sender's), then go out together as one
message whose buttons still work; urgent broadcasts pass; changing /settings releases or
re-times what is held; a poster at night is told when matches will come.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime

from bot.delivery.timing import Preferences, after_quiet_hours
from bot.dialogs.broadcast import URGENT
from bot.i18n import translator
from bot.storage import AlertDraft, Enqueued, Storage
from bot.storage.listings import DAY
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, onboard, plain, says, taps
from tests.test_broadcast import admin_of
from tests.test_posting import Answers, walk_to_preview
from tests.waiting import settled, wait_until

en = translator("en").gettext
fr = translator("fr").gettext


def utc(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp())


# Tuesday 15 January 2030: Paris is UTC+1, Sofia UTC+2, Lisbon UTC+0.
PARIS_0543 = utc(2030, 1, 15, 4, 43)
PARIS_0610 = utc(2030, 1, 15, 5, 10)
PARIS_0800 = utc(2030, 1, 15, 7, 0)
SOFIA_0800 = utc(2030, 1, 15, 6, 0)

OWNER, ASKER = 701, 702
NIGHT_NOTE = (
    "🌙 These are your quiet hours: matches for your listing will be sent to you in the "
    "morning, at {time}."
)


def held(storage: Storage, user_id: int, count: int, until: int | None = None):
    """A predicate: ``count`` rows of ``user_id`` held (until ``until``)."""

    async def check() -> bool:
        rows = await storage.held_until(user_id)
        return len(rows) == count and (until is None or all(at == until for _id, at in rows))

    return check


def bot_texts(user, after: int = 0) -> list[str]:
    return [m.text or m.caption or "" for m in user.messages if m.from_bot and m.id > after]


def pushes_to(server, chat_id: int) -> list[dict]:
    """Messages the server accepted for ``chat_id`` that the outbox sent (not replies)."""
    return [
        c.params
        for c in server.calls
        if c.ok and c.method in ("sendMessage", "sendPhoto") and int(c.params["chat_id"]) == chat_id
    ]


async def member(server, bot, user_id: int, name: str, language: str, **profile: str):
    """A member who opened the chat with the bot earlier, quiet from 22:00 to 08:00 (as
    everyone is unless they change it)."""
    user = server.create_user(name, language, user_id=user_id)
    user.chat.started = True
    await seed.member(bot.storage, user_id, language=language, quiet_hours=(22, 8), **profile)
    return user


async def quiet_off(storage: Storage, user_id: int, now: int) -> None:
    prefs = await storage.preferences(user_id)
    await storage.save_preferences(
        user_id, Preferences(prefs.frequency, prefs.timezone, None, None), now
    )


def quiet_label(start: int, end: int) -> str:
    """The /settings button for quiet hours from ``start`` to ``end`` o'clock, in English."""
    return "🌙 " + translator("en").hours(dt.time(start), dt.time(end), minutes=False)


def notice(key: str, shown: str) -> Enqueued:
    """A plain notice for OWNER, due at once: it shows ``shown``."""
    return Enqueued(
        OWNER,
        "notice",
        key,
        {"msgid": "Language set: {language}.", "params": {"language": shown}},
        0,
    )


async def queue(bot, notices: list[Enqueued], now: int) -> None:
    await bot.storage.enqueue(notices, now=now)
    bot.outbox.wake()


# --- each kind of push -------------------------------------------------------------------------


async def test_a_contact_request_at_0543_in_paris_waits_until_0800(server, bot):
    bot.clock = lambda: PARIS_0543
    owner = await member(server, bot, OWNER, "Amélie", "fr")
    asker = await member(server, bot, ASKER, "Zornitsa", "bg", country="BG", place="Sveti Vlas")
    listing = await seed.listing(bot.storage, OWNER, PARIS_0543 - DAY, kind="request")
    await says(asker, f"/start l{listing.id}")
    await taps(asker, translator("bg").gettext("🙋 I can help"))
    sent = await says(asker, "We have a spare pump.")
    # The asker's own answer is a reply to what they just did: never held.
    assert "✉️" in sent.text
    # Held until 08:00 in Paris, the owner's zone (not 08:00 in Sofia, the asker's).
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800))
    assert not any("spare pump" in text for text in bot_texts(owner))

    bot.clock = lambda: PARIS_0800 - 1
    bot.outbox.wake()
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800))  # still night at 07:59:59
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    relay = await owner.wait_for_bot_message(containing("spare pump"), timeout=10)
    assert relay.button_labels == [fr("✅ Accept"), fr("✖️ Decline"), fr("✉️ Reply")]
    await owner.press(fr("✅ Accept"))
    await owner.wait_for_bot_message()
    assert (await bot.storage.outbox_counts())["sent"] >= 1


async def test_a_broadcast_at_0610_waits_in_each_recipients_zone(server, bot):
    bot.clock = lambda: PARIS_0610
    paris = await member(server, bot, 711, "Léa", "fr")
    sofia = await member(server, bot, 712, "Мария", "bg", country="BG", place="Sveti Vlas")
    awake = await member(server, bot, 713, "Nuno", "pt", country="PT", place="Évora")
    await quiet_off(bot.storage, awake.id, PARIS_0610)
    broadcast = await bot.storage.create_broadcast(ADMIN_ID, "Europe/Paris", PARIS_0610)
    await bot.storage.update_draft(broadcast, texts={"en": "Road closed «bc»"}, fallback="en")
    await bot.storage.confirm_broadcast(broadcast, PARIS_0610)
    bot.broadcaster.wake()
    # The one without quiet hours gets it now; that is the event before looking at the others.
    await awake.wait_for_bot_message(containing("Road closed"), timeout=10)
    await wait_until(held(bot.storage, paris.id, 1, PARIS_0800))
    await wait_until(held(bot.storage, sofia.id, 1, SOFIA_0800))
    assert not pushes_to(server, paris.id) and not pushes_to(server, sofia.id)

    bot.clock = lambda: SOFIA_0800  # 08:00 in Sofia, 07:00 in Paris
    bot.outbox.wake()
    await sofia.wait_for_bot_message(containing("Road closed"), timeout=10)
    assert await held(bot.storage, paris.id, 1, PARIS_0800)()
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    await paris.wait_for_bot_message(containing("Road closed"), timeout=10)


async def test_an_urgent_broadcast_reaches_people_in_their_quiet_hours(server, bot):
    bot.clock = lambda: PARIS_0610
    admin = admin_of(server)
    await seed.member(bot.storage, ADMIN_ID)
    sleeper = await member(server, bot, 721, "Sleeper", "en")
    # The composer shows the choice, ticked once chosen, and says it in the previews and the
    # confirmation.
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await says(admin, "Flood warning «urgent»")
    await taps(admin, en("➡ Choose the audience"))
    when = await taps(admin, en("➡ Continue"))
    urgent = en("⚠️ Urgent: also during quiet hours")
    assert urgent in when.button_labels
    assert plain(en("🌙 People in their quiet hours get it when these end.")) in when.text
    await admin.press(urgent)
    ticked = await admin.wait_for_bot_message(include_edits=True)
    assert "✓ " + urgent in ticked.button_labels
    await admin.press(en("🚀 Send now"))
    summary = await admin.wait_for_bot_message(containing("Send this announcement"), timeout=20)
    warning = plain(en("⚠️ <b>Urgent</b>: people get it during their quiet hours too."))
    assert warning in summary.text
    assert any(warning in text and "👁" in text for text in bot_texts(admin))
    await admin.press(en("✅ Send it"))
    await sleeper.wait_for_bot_message(containing("Flood warning"), timeout=10)
    assert await bot.storage.held_until(sleeper.id) == []


async def test_a_non_urgent_draft_cannot_be_made_urgent_by_a_forged_press(server, bot):
    bot.clock = lambda: PARIS_0610
    stranger = await member(server, bot, 720, "Mallory", "en")
    await says(stranger, "/start")
    draft = await bot.storage.create_broadcast(ADMIN_ID, "Europe/Paris", PARIS_0610)
    await stranger.press_data(stranger.messages[-1].id, URGENT.data(None))
    await stranger.wait_for_callback_answer()
    assert not (await bot.storage.get_broadcast(draft)).urgent


async def test_a_match_found_at_night_waits_and_the_poster_is_told_when(server, bot):
    night = utc(2030, 1, 15, 22, 30)  # 23:30 in Paris, 00:30 in Sofia
    bot.clock = lambda: night
    helper = await member(server, bot, 731, "Léa", "fr")
    await seed.listing(bot.storage, helper.id, night - DAY, kind="offer", reach="europe")
    poster = server.create_user("Paul", "en", user_id=732)
    await onboard(poster, "en")  # in Sveti Vlas, Bulgaria
    await walk_to_preview(poster, "en", Answers(kind="request", reach="europe"))
    await poster.press(en("✅ Publish"))
    told = await poster.wait_for_bot_message()
    assert "🌙" in told.text and "8:00" in told.text and "AM" in told.text, told.text
    await bot.scheduler.match_new_listings()
    # Each at 08:00 in their own zone: Sofia's comes an hour before Paris'.
    await wait_until(held(bot.storage, helper.id, 1, utc(2030, 1, 16, 7, 0)))
    await wait_until(held(bot.storage, poster.id, 1, utc(2030, 1, 16, 6, 0)))
    bot.clock = lambda: utc(2030, 1, 16, 6, 0)
    bot.outbox.wake()
    await poster.wait_for_bot_message(lambda m: "mt:nr:" in str(m.inline_keyboard), timeout=10)
    assert await held(bot.storage, helper.id, 1, utc(2030, 1, 16, 7, 0))()
    bot.clock = lambda: utc(2030, 1, 16, 7, 0)
    bot.outbox.wake()
    await helper.wait_for_bot_message(lambda m: "mt:nr:" in str(m.inline_keyboard), timeout=10)


async def test_the_night_poster_is_told_in_their_language_and_time_format(server, bot):
    bot.clock = lambda: utc(2030, 1, 15, 23, 30)  # 01:30 in Sofia: across midnight
    poster = server.create_user("Pauline", "fr", user_id=741)
    await onboard(poster, "fr")  # in Sveti Vlas, Bulgaria
    await walk_to_preview(poster, "fr", Answers())
    await poster.press(fr("✅ Publish"))
    told = await poster.wait_for_bot_message()
    assert plain(fr(NIGHT_NOTE)).format(time="08:00") in told.text, told.text


# --- one bundle, not a burst ------------------------------------------------------------------


async def test_what_waited_comes_as_one_message_whose_buttons_work(server, bot):
    """A match, a contact request and a broadcast held overnight: one message at 08:00, each
    item numbered, each button labelled with its item's number and doing what it did."""
    night = utc(2030, 1, 15, 1, 0)  # 02:00 in Paris
    bot.clock = lambda: night
    lea = await member(server, bot, OWNER, "Léa", "fr")
    asker = await member(server, bot, ASKER, "Zornitsa", "bg", country="BG", place="Sveti Vlas")
    await quiet_off(bot.storage, ASKER, night)
    mine = await seed.listing(bot.storage, OWNER, night - DAY, kind="request")
    await seed.listing(bot.storage, ASKER, night, kind="offer", title="Spare fire pump")
    await bot.scheduler.match_new_listings()
    await asker.wait_for_bot_message(lambda m: "mt:nr:" in str(m.inline_keyboard), timeout=10)
    await says(asker, f"/start l{mine.id}")
    await taps(asker, translator("bg").gettext("🙋 I can help"))
    await says(asker, "We can bring it on Monday.")
    broadcast = await bot.storage.create_broadcast(ADMIN_ID, "Europe/Paris", night)
    await bot.storage.update_draft(broadcast, texts={"en": "Road closed «bc»"}, fallback="en")
    await bot.storage.confirm_broadcast(broadcast, night)
    bot.broadcaster.wake()
    await wait_until(held(bot.storage, OWNER, 3, PARIS_0800))
    assert pushes_to(server, OWNER) == []

    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    bundle = await lea.wait_for_bot_message(timeout=10)
    head = translator("fr").ngettext(
        "📬 <b>{count} notification for you</b>", "📬 <b>{count} notifications for you</b>", 3
    )
    assert bundle.text.startswith(plain(head.format(count=3)))
    assert "Spare fire pump" in bundle.text and "Monday" in bundle.text
    assert "Road closed" in bundle.text
    labels = bundle.button_labels
    assert f"1 · {fr('📄 Open')}" in labels and f"2 · {fr('✅ Accept')}" in labels, labels
    await wait_until(held(bot.storage, OWNER, 0))
    assert len(pushes_to(server, OWNER)) == 1  # one message, not a burst

    await lea.press(f"1 · {fr('📄 Open')}")
    card = await lea.wait_for_bot_message(timeout=10)
    assert "Spare fire pump" in card.text
    # Not relevant takes away the match's buttons only: the request's still work.
    await lea.press(f"1 · {fr('🚫 Not relevant')}")
    left = await lea.wait_for_bot_message(include_edits=True)
    assert not [label for label in left.button_labels if label.startswith("1 · ")]
    assert f"2 · {fr('✅ Accept')}" in left.button_labels
    await lea.press(f"2 · {fr('✅ Accept')}")
    await asker.wait_for_bot_message(lambda m: "Léa" in (m.text or ""), timeout=10)


async def test_answering_one_item_of_a_bundle_leaves_the_others_in_place(server, bot):
    """A follow-up and a contact request held overnight come as one bundle. Answering the
    follow-up asks "with whom" in a message of its own (editing the bundle would wipe the
    request), takes away the follow-up's buttons only, and the request's Accept still works;
    accepting takes away the request's buttons only."""
    night = utc(2030, 1, 15, 1, 0)  # 02:00 in Paris
    bot.clock = lambda: night - 31 * DAY
    lea = await member(server, bot, OWNER, "Léa", "fr")
    asker = await member(server, bot, ASKER, "Zornitsa", "bg", country="BG", place="Sveti Vlas")
    await quiet_off(bot.storage, ASKER, night)
    chairs = await seed.listing(bot.storage, OWNER, night - 31 * DAY, kind="request",
                                title="Chaises", duration_days=60)  # fmt: skip
    pump = await seed.listing(bot.storage, OWNER, night - DAY, kind="request", title="Pompe")
    async with seed.untold(bot.storage):
        earlier, _to = await bot.storage.open_contact(
            ASKER, chairs.id, "Des chaises ?", night - 31 * DAY
        )
        await bot.storage.accept_contact(earlier.id, OWNER, now=night - 31 * DAY)
    await wait_until(lambda: settled(bot.storage))
    bot.clock = lambda: night
    await bot.job_queue.get_jobs_by_name("followups")[0].run(bot)
    now_asked, _to = await bot.storage.open_contact(ASKER, pump.id, "Une pompe ?", night)
    await wait_until(held(bot.storage, OWNER, 2, PARIS_0800))

    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    bundle = await lea.wait_for_bot_message(containing("Pompe"), timeout=10)
    assert "Chaises" in bundle.text
    labels = bundle.button_labels
    (yes,) = [label for label in labels if label.endswith(fr("✅ Yes, it happened"))]
    (accept,) = [label for label in labels if label.endswith(fr("✅ Accept"))]
    request_buttons = [label for label in labels if label[0] == accept[0]]

    await lea.press(yes)
    whom = await lea.wait_for_bot_message(containing(fr("Wonderful! With whom did it happen?")))
    assert whom.id != bundle.id
    kept = lea.chat.messages[bundle.id]
    assert kept.text == bundle.text  # both items still read as they came
    assert [b["text"] for row in kept.inline_markup["inline_keyboard"] for b in row] == (
        request_buttons
    )
    await lea.press(accept)
    await asker.wait_for_bot_message(lambda m: "Léa" in (m.text or ""), timeout=10)
    assert (await bot.storage.get_contact(now_asked.id)).status == "accepted"
    assert not lea.chat.messages[bundle.id].inline_markup
    assert server.errors() == []


async def test_pausing_one_alert_from_a_bundle_leaves_the_other_alerts_button(server, bot):
    """Two alerts' news held overnight, in one bundle: pausing the first alert takes away
    its Pause button only; the second alert's can still be pressed, and pauses that one."""
    night = utc(2030, 1, 15, 1, 0)
    bot.clock = lambda: night
    lea = await member(server, bot, OWNER, "Léa", "en")
    await seed.member(bot.storage, ASKER, country="BG", place="Sveti Vlas")
    pumps, chairs = [
        await bot.storage.save_alert(OWNER, AlertDraft(None, (category,), (), "europe"), now=night)
        for category in ("equipment", "goods")
    ]
    for alert, category in ((pumps, "equipment"), (chairs, "goods")):
        listing = await seed.listing(bot.storage, ASKER, night, category=category, tags=())
        # The matching pass's own key: whether or not the pass finds the listing first, the
        # alert's news is one row.
        await bot.storage.enqueue(
            [Enqueued(OWNER, "alert", f"alert:{alert.id}:{listing.id}",
                      {"alert": alert.id, "listing": listing.id}, not_before=night)],
            now=night,
        )  # fmt: skip
    await wait_until(held(bot.storage, OWNER, 2, PARIS_0800))
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    bundle = await lea.wait_for_bot_message(timeout=10)
    pause = en("⏸ Pause this alert")
    assert [label for label in bundle.button_labels if pause in label] == [
        f"1 · {pause}",
        f"2 · {pause}",
    ]

    await lea.press(f"1 · {pause}")
    await lea.wait_for_callback_answer()
    await wait_until(lambda: _paused(bot.storage, pumps.id))
    left = await lea.wait_for_bot_message(include_edits=True)
    assert [label for label in left.button_labels if pause in label] == [f"2 · {pause}"]
    await lea.press(f"2 · {pause}")
    await wait_until(lambda: _paused(bot.storage, chairs.id))
    assert server.errors() == []


async def _paused(storage: Storage, alert_id: int) -> bool:
    (alert,) = [a for a in await storage.alerts_of(OWNER) if a.id == alert_id]
    return alert.paused


async def test_a_long_night_is_split_within_4096_characters_and_sent_once(server, bot):
    bot.clock = lambda: PARIS_0543
    await member(server, bot, OWNER, "Léa", "en")
    long = "x" * 900
    await queue(bot, [notice(f"long:{n}", f"«{n}» {long}") for n in range(9)], PARIS_0543)
    await wait_until(held(bot.storage, OWNER, 9, PARIS_0800))
    bot.clock = lambda: PARIS_0800
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage), timeout=30)
    sent = [p["text"] for p in pushes_to(server, OWNER)]
    assert 3 <= len(sent) < 9, len(sent)
    assert all(len(text) <= 4096 for text in sent)
    shown = [n for n in range(9) for text in sent if f"«{n}»" in text]
    assert shown == list(range(9))  # each once, in order
    assert await bot.storage.outbox_counts() == {"sent": 9}


# --- changing the settings applies to what is held ---------------------------------------------


async def test_turning_quiet_hours_off_releases_what_is_held_at_once(server, bot):
    bot.clock = lambda: PARIS_0543
    lea = await member(server, bot, OWNER, "Léa", "en")
    await queue(bot, [notice(f"n{n}", f"«held{n}»") for n in range(2)], PARIS_0543)
    await wait_until(held(bot.storage, OWNER, 2, PARIS_0800))
    await says(lea, "/settings")
    await lea.press(en("No quiet hours"))
    bundle = await lea.wait_for_bot_message(containing("«held0»"), timeout=10)
    assert "«held1»" in bundle.text
    # A second tap changes nothing and sends nothing again.
    await lea.press("✓ " + en("No quiet hours"))
    await lea.wait_for_callback_answer()
    assert await bot.storage.outbox_counts() == {"sent": 2}


async def test_moving_quiet_hours_re_times_what_is_held(server, bot):
    bot.clock = lambda: PARIS_0543
    lea = await member(server, bot, OWNER, "Léa", "en")
    await queue(bot, [notice("n", "«moved»")], PARIS_0543)
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800))
    await says(lea, "/settings")
    await lea.press(quiet_label(23, 9))
    await lea.wait_for_callback_answer()
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800 + 3600))
    await lea.press(quiet_label(21, 7))
    await lea.wait_for_callback_answer()
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800 - 3600))
    # A timezone two hours east: 07:00 there is 06:00 in Paris.
    await lea.press(en("🕒 Timezone: {zone}").format(zone="Paris"))
    zones = await lea.wait_for_bot_message(include_edits=True)
    zone = next(label for label in zones.button_labels if label.startswith("Athens"))
    await lea.press(zone)
    await lea.wait_for_callback_answer()
    await wait_until(held(bot.storage, OWNER, 1, PARIS_0800 - 2 * 3600))
    bot.clock = lambda: PARIS_0800 - 2 * 3600
    bot.outbox.wake()
    await lea.wait_for_bot_message(containing("«moved»"), timeout=10)


# --- the edges of the rule --------------------------------------------------------------------


def test_quiet_hours_across_midnight_and_on_the_nights_the_clocks_change():
    paris = Preferences(timezone="Europe/Paris")
    # Across midnight: 23:30 and 00:30 both wait for 08:00 the next morning.
    assert after_quiet_hours(utc(2030, 1, 15, 22, 30), paris) == utc(2030, 1, 16, 7, 0)
    assert after_quiet_hours(utc(2030, 1, 15, 23, 30), paris) == utc(2030, 1, 16, 7, 0)
    assert after_quiet_hours(utc(2030, 1, 16, 7, 0), paris) == utc(2030, 1, 16, 7, 0)
    # 31 March 2030, clocks forward at 02:00 in Paris: 01:30 CET waits for 08:00 CEST (06:00
    # UTC), not 07:00 UTC.
    assert after_quiet_hours(utc(2030, 3, 31, 0, 30), paris) == utc(2030, 3, 31, 6, 0)
    # 27 October 2030, clocks back at 03:00: 02:30 happens twice; both wait for 08:00 CET.
    assert after_quiet_hours(utc(2030, 10, 27, 0, 30), paris) == utc(2030, 10, 27, 7, 0)
    assert after_quiet_hours(utc(2030, 10, 27, 1, 30), paris) == utc(2030, 10, 27, 7, 0)
    # Quiet hours ending at 08:00 in Lisbon and Sofia are three hours apart in UTC.
    lisbon = Preferences(timezone="Europe/Lisbon")
    sofia = Preferences(timezone="Europe/Sofia")
    night = utc(2030, 1, 15, 3, 0)
    assert after_quiet_hours(night, lisbon) - after_quiet_hours(night, sofia) == 2 * 3600


async def test_held_on_the_night_the_clocks_go_forward(server, bot):
    spring = utc(2030, 3, 31, 0, 30)  # 01:30 CET in Paris
    bot.clock = lambda: spring
    lea = await member(server, bot, OWNER, "Léa", "en")
    await queue(bot, [notice("dst", "«dst»")], spring)
    await wait_until(held(bot.storage, OWNER, 1, utc(2030, 3, 31, 6, 0)))
    bot.clock = lambda: utc(2030, 3, 31, 6, 0)
    bot.outbox.wake()
    await lea.wait_for_bot_message(containing("«dst»"), timeout=10)
