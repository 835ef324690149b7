"""Outcomes with whom (issue 17, item 5): closing a listing as fulfilled asks with whom among
its accepted contacts; the follow-ups ask with whom and what came of it and record it for both
sides; /stats, its CSV and a chart show the exchanges by country, category and between places,
over time; forged answers change nothing."""

from __future__ import annotations

import time

from bot.handlers.stats import FIGURE_COLUMNS
from bot.i18n import translator
from bot.storage import ListingRefused
from bot.storage.contacts import DAY
from bot.views import cards
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, joined, says, seeded, started, taps
from tests.test_stats import png_size, read_csv
from tests.waiting import settled as outbox_settled
from tests.waiting import wait_until

OWNER, ASKER, HELPER, STRANGER = 631, 632, 633, 634
COLLEAGUE = 635
fr = translator("fr").gettext
bg = translator("bg").gettext
en = translator("en").gettext


async def world(server, bot, now: int):
    """Amélie speaks for Saint-Dié (FR); Zornitsa for Sveti Vlas (BG); Hans volunteers in Graz
    (AT). All have started the bot."""
    bot.clock = lambda: now
    return await joined(
        server,
        bot.storage,
        seeded("Amélie", "fr", OWNER),
        seeded("Zornitsa", "bg", ASKER, country="BG", place="Sveti Vlas"),
        seeded("Hans", "de", HELPER, country="AT", place="Graz", role="volunteer"),
        seeded("Stranger", "en", STRANGER, country="IE", place="Cong"),
    )


async def accepted(bot, asker: int, listing_id: int, at: int):
    async with seed.untold(bot.storage):
        contact, _to = await bot.storage.open_contact(
            asker, listing_id, f"From {asker} about {listing_id}", at
        )
        return await bot.storage.accept_contact(contact.id, OWNER, now=at)


async def fulfilled(owner, listing_id: int):
    """The owner opens the listing and taps Fulfilled; returns the question that follows."""
    await says(owner, f"/start l{listing_id}")
    return await taps(owner, fr("✅ Fulfilled"))


async def test_fulfilled_with_whom_in_stats_and_the_csv(server, bot):
    now = int(time.time())
    owner, asker, helper, stranger = await world(server, bot, now)
    pump = await seed.listing(bot.storage, OWNER, now - DAY, kind="request", title="Pompe")
    tables = await seed.listing(bot.storage, OWNER, now - DAY, kind="offer", category="goods",
                                tags=(), title="Tables")  # fmt: skip
    chairs = await seed.listing(bot.storage, OWNER, now - DAY, kind="offer", title="Chaises")
    zornitsa = await accepted(bot, ASKER, pump.id, now - 3600)
    hans = await accepted(bot, HELPER, pump.id, now - 60)
    on_tables = await accepted(bot, ASKER, tables.id, now - 60)

    # With whom, among the accepted contacts, the latest first.
    question = await fulfilled(owner, pump.id)
    assert question.text == fr("Wonderful! With whom did {title} come about?").format(
        title=translator("fr").quote("Pompe")
    )
    assert question.button_labels == [
        "👤 Hans · Graz",
        "👤 Zornitsa · Sveti Vlas",
        fr("👥 Someone else"),
    ]
    # Forged: a contact of another listing, someone else's listing.
    await owner.press_data(question.id, f"ls:with:{pump.id}:{on_tables.id}")
    assert (await owner.wait_for_callback_answer()).text == fr("This button is no longer valid.")
    await stranger.press_data(stranger.messages[-1].id, f"ls:with:{pump.id}:{zornitsa.id}")
    assert (await stranger.wait_for_callback_answer()).text == en("You cannot change this listing.")
    assert (await bot.storage.get_listing(pump.id)).status == "open"

    await owner.press("👤 Zornitsa · Sveti Vlas")
    done = await owner.wait_for_bot_message(include_edits=True)
    assert done.text == fr("Marked as fulfilled with {name}. Thank you for sharing!").format(
        name="Zornitsa"
    )
    card = await owner.wait_for_bot_message(containing("Pompe"))  # the card, as it is now
    stored = await bot.storage.get_listing(pump.id)
    assert (stored.status, stored.outcome) == ("fulfilled", "platform")
    # A second tap on the answered question is stale; on the card, the listing has ended.
    await owner.press_data(question.id, f"ls:with:{pump.id}:{hans.id}")
    assert (await owner.wait_for_callback_answer()).text == fr(
        "This button is no longer active. Send /start to see the menu."
    )
    await owner.press_data(card.id, f"ls:with:{pump.id}:{hans.id}")
    assert (await owner.wait_for_callback_answer()).text == cards.listing_refusal(
        translator("fr"), ListingRefused("fulfilled", stored.status_changed_at)
    )

    # Someone else, thanks to the platform: an exchange with someone unknown.
    await fulfilled(owner, tables.id)
    await taps(owner, fr("👥 Someone else"))
    await owner.press(fr("🤝 Thanks to Community Sharing"))
    await owner.wait_for_bot_message(containing("Tables"))
    # No accepted contact, another way: straight to how, and no exchange.
    how = await fulfilled(owner, chairs.id)
    assert how.text == fr("Wonderful! How did {title} come about?").format(
        title=translator("fr").quote("Chaises")
    )
    await owner.press(fr("✔️ Another way"))
    await owner.wait_for_bot_message(containing("Chaises"))
    rows = await bot.storage._fetchall(
        "SELECT listing_id, contact_id, giver_place, giver_country, receiver_place, "
        "receiver_country, owner_said, asker_said FROM exchanges ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [
        (pump.id, zornitsa.id, "Sveti Vlas", "BG", "Saint-Dié", "FR", 1, 0),  # help, given
        (tables.id, None, "Saint-Dié", "FR", None, None, 1, 0),  # an offer, to someone
    ]

    admin = server.create_user("Admin", "en", user_id=ADMIN_ID)
    shown = await says(admin, "/stats")
    assert "Fulfilled in the period: 3" in shown.text
    assert "Exchanges: 2 (across borders: 1)" in shown.text
    assert "Exchanges by country: 🇫🇷 France 2 · 🇧🇬 Bulgaria 1" in shown.text
    assert (
        "Exchanges by category: 🚒 Equipment and machinery 1 · "
        "📦 Goods, materials and raw materials 1" in shown.text
    )
    assert "Between places (giver → receiver): Sveti Vlas 🇧🇬 → Saint-Dié 🇫🇷 1" in shown.text

    await admin.press(en("📄 Figures (CSV)"))
    document = await admin.wait_for_bot_message(timeout=10)
    raw = server.file_bytes(document.document["file_id"]).decode("utf-8-sig")
    figures = {(r["section"], r["key"]): r["in_period"] for r in read_csv(raw, FIGURE_COLUMNS)}
    assert figures[("exchanges", "all")] == "2"
    assert figures[("exchanges", "across_borders")] == "1"
    assert (figures[("exchanges_by_country", "FR")], figures[("exchanges_by_country", "BG")]) == (
        "2",
        "1",
    )
    assert figures[("exchanges_by_category", "goods")] == "1"
    assert figures[("exchanges_between", "Sveti Vlas (BG) > Saint-Dié (FR)")] == "1"
    over_time = {k: int(v) for (s, k), v in figures.items() if s == "exchanges_over_time"}
    across = {
        k: int(v) for (s, k), v in figures.items() if s == "exchanges_across_borders_over_time"
    }
    assert len(over_time) == 30 and sum(over_time.values()) == 2 and sum(across.values()) == 1
    today = time.strftime("%Y-%m-%d", time.gmtime(now - 1))
    assert max(over_time) <= today and over_time[max(over_time)] == 2

    await admin.press(en("🌍 Exchanges chart"))
    chart = await admin.wait_for_bot_message(timeout=15)
    assert png_size(server.file_bytes(chart.photo[-1])) == (900, 850)

    # A month on, Amélie is not asked about Zornitsa (she said so when closing), Zornitsa is.
    bot.clock = lambda: now + 31 * DAY
    await bot.job_queue.get_jobs_by_name("followups")[0].run(bot)
    await asker.wait_for_bot_message(containing("Pompe"), timeout=10)
    await helper.wait_for_bot_message(containing("Pompe"), timeout=10)

    async def states() -> dict[str, str]:
        found = await bot.storage._fetchall(
            "SELECT dedup_key, state FROM outbox WHERE kind = 'followup'"
        )
        return {key: state for key, state in found}

    async def settled() -> bool:
        return "pending" not in (await states()).values()

    await wait_until(settled)
    followups = await states()
    assert followups[f"followup:{zornitsa.id}:30:{OWNER}"] == "cancelled"
    assert followups[f"followup:{zornitsa.id}:30:{ASKER}"] == "sent"
    assert followups[f"followup:{hans.id}:30:{OWNER}"] == "sent"
    assert server.errors() == []


async def test_fulfilled_with_someone_who_erased_their_data_meanwhile(server, bot):
    """Zornitsa is offered as "with whom", then erases her data before Amélie taps her name:
    the exchange still came about through the platform (recorded, naming nobody), and the
    answer names no one rather than an empty name."""
    now = int(time.time())
    owner, _asker, _helper, _stranger = await world(server, bot, now)
    pump = await seed.listing(bot.storage, OWNER, now - DAY, kind="request", title="Pompe")
    zornitsa = await accepted(bot, ASKER, pump.id, now - 3600)
    question = await fulfilled(owner, pump.id)
    assert question.button_labels == ["👤 Zornitsa · Sveti Vlas", fr("👥 Someone else")]
    await bot.storage.erase_member(ASKER, now)

    await owner.press("👤 Zornitsa · Sveti Vlas")
    done = await owner.wait_for_bot_message(include_edits=True)
    assert done.text == fr("Marked as fulfilled. Thank you for sharing!")
    stored = await bot.storage.get_listing(pump.id)
    assert (stored.status, stored.outcome) == ("fulfilled", "platform")
    rows = await bot.storage._fetchall(
        "SELECT contact_id, giver_place, giver_country, receiver_place, receiver_country "
        "FROM exchanges"
    )
    assert [tuple(row) for row in rows] == [(zornitsa.id, None, None, "Saint-Dié", "FR")]
    assert server.errors() == []


async def test_a_follow_up_answered_on_both_sides(server, bot):
    now = int(time.time())
    owner, asker, _helper, stranger = await world(server, bot, now)
    pump = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe")
    other = await seed.listing(bot.storage, OWNER, now, kind="offer", title="Bancs")
    zornitsa = await accepted(bot, ASKER, pump.id, now)
    hans = await accepted(bot, HELPER, pump.id, now + 60)
    elsewhere = await accepted(bot, HELPER, other.id, now)
    bot.clock = lambda: now + 31 * DAY
    job = bot.job_queue.get_jobs_by_name("followups")[0]
    await job.run(bot)
    hers = await asker.wait_for_bot_message(containing("Pompe"), timeout=10)
    mine = await owner.wait_for_bot_message(
        lambda m: "Pompe" in m.text and f"fu:{zornitsa.id}:" in str(m.inline_keyboard), timeout=10
    )

    # Zornitsa: yes, with Amélie, all that was needed.
    await asker.press(bg("✅ Yes, it happened"))
    whom = await asker.wait_for_bot_message(include_edits=True)
    assert whom.text == bg("Wonderful! With whom did it happen?")
    assert whom.button_labels == ["👤 Amélie", bg("👥 Someone else")]
    for forged in (f"fu:w:{zornitsa.id}:30:{hans.id}", f"fu:r:{zornitsa.id}:30:{hans.id}:f"):
        await asker.press_data(hers.id, forged)  # she may only name her contact's author
        assert (await asker.wait_for_callback_answer()).text == bg(
            "This button is no longer valid."
        )
    await asker.press("👤 Amélie")
    came = await asker.wait_for_bot_message(include_edits=True)
    assert came.text == bg("What came of it?")
    assert came.button_labels == [bg("✅ All that was needed"), bg("◐ Part of it")]
    await stranger.press_data(stranger.messages[-1].id, f"fu:r:{zornitsa.id}:30:{zornitsa.id}:f")
    assert (await stranger.wait_for_callback_answer()).text == en("This is not your contact.")
    await asker.press(bg("✅ All that was needed"))
    thanks = await asker.wait_for_bot_message(include_edits=True)
    assert thanks.text == bg("Wonderful! Thank you for telling us: it is marked as done.")
    await asker.press_data(hers.id, f"fu:r:{zornitsa.id}:30:{zornitsa.id}:p")
    assert (await asker.wait_for_callback_answer()).text == bg(
        "You have already answered. Thank you!"
    )

    # Amélie, on her side: yes, with Zornitsa (among the listing's accepted contacts), part.
    # Her follow-up about Zornitsa (alone, or in a bundle with Hans's: then answered apart).
    await owner.press_data(mine.id, f"fu:{zornitsa.id}:30:y")
    whom = await owner.wait_for_bot_message(
        containing(fr("Wonderful! With whom did it happen?")), include_edits=True
    )
    assert whom.button_labels == [
        "👤 Hans · Graz",
        "👤 Zornitsa · Sveti Vlas",
        fr("👥 Someone else"),
    ]
    await owner.press_data(mine.id, f"fu:w:{zornitsa.id}:30:{elsewhere.id}")  # another listing's
    assert (await owner.wait_for_callback_answer()).text == fr("This button is no longer valid.")
    await owner.press("👤 Zornitsa · Sveti Vlas")
    await owner.wait_for_bot_message(include_edits=True)
    await owner.press(fr("◐ Part of it"))
    await owner.wait_for_bot_message(include_edits=True)

    rows = await bot.storage._fetchall(
        "SELECT contact_id, giver_country, receiver_country, result, owner_said, asker_said "
        "FROM exchanges"
    )
    assert [tuple(row) for row in rows] == [(zornitsa.id, "BG", "FR", "full", 1, 1)]
    answers = await bot.storage._fetchall(
        "SELECT user_id, answer, with_contact, result FROM contact_followups "
        "WHERE contact_id = ? ORDER BY user_id",
        (zornitsa.id,),
    )
    assert [tuple(row) for row in answers] == [
        (OWNER, "yes", zornitsa.id, "partial"),
        (ASKER, "yes", zornitsa.id, "full"),
    ]
    stored = await bot.storage.get_listing(pump.id)
    assert (stored.status, stored.outcome) == ("fulfilled", "platform")
    # Settled: nobody is asked again about it at 90 days.
    bot.clock = lambda: now + 91 * DAY
    await job.run(bot)
    keys = {row[0] for row in await bot.storage._fetchall("SELECT dedup_key FROM outbox")}
    assert f"followup:{zornitsa.id}:90:{ASKER}" not in keys
    assert f"followup:{hans.id}:90:{HELPER}" in keys  # Hans never answered
    assert server.errors() == []


async def test_a_follow_up_cannot_be_answered_before_it_is_due(server, bot):
    """Seconds after Amélie accepts, Zornitsa presses the 30-day follow-up's answers (data
    she could forge): a follow-up not yet due is a button that is not valid, and the listing
    stays open, with no exchange in the figures. So is the 90-day one on day 31."""
    now = int(time.time())
    _owner, asker, _helper, _stranger = await world(server, bot, now)
    pump = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe")
    zornitsa = await accepted(bot, ASKER, pump.id, now)
    c = zornitsa.id

    async def forged(*datas: str) -> None:
        for data in datas:
            await asker.press_data(asker.messages[-1].id, data)
            assert (await asker.wait_for_callback_answer()).text == bg(
                "This button is no longer valid."
            ), data

    bot.clock = lambda: now + 10
    await forged(f"fu:{c}:30:y", f"fu:w:{c}:30:{c}", f"fu:r:{c}:30:{c}:f", f"fu:{c}:30:n")
    bot.clock = lambda: now + 31 * DAY
    await forged(f"fu:{c}:90:y", f"fu:w:{c}:90:{c}", f"fu:r:{c}:90:{c}:f")
    assert (await bot.storage.get_listing(pump.id)).status == "open"
    assert await bot.storage._fetchall("SELECT 1 FROM exchanges") == []
    assert await bot.storage._fetchall("SELECT 1 FROM contact_followups") == []
    assert server.errors() == []


async def test_a_follow_up_is_not_for_an_official_who_no_longer_speaks_for_the_listing(server, bot):
    """Jean, a verified official of Saint-Dié, accepted Zornitsa's offer on Amélie's request,
    then left the municipality: a month on he is not asked whether it happened, and his
    answer, pressed from the buttons, does not mark Saint-Dié's listing fulfilled. Amélie,
    the listing's owner, is asked in his place: the municipality still says how it ended."""
    now = int(time.time())
    owner, asker, _helper, _stranger = await world(server, bot, now)
    await seed.member(bot.storage, COLLEAGUE, language="fr")
    await seed.verified(bot.storage, COLLEAGUE, now)
    (jean,) = await started(server, ("Jean", "fr", COLLEAGUE))
    pump = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe")
    async with seed.untold(bot.storage):
        contact, _to = await bot.storage.open_contact(ASKER, pump.id, "Une pompe ?", now)
        zornitsa = await bot.storage.accept_contact(contact.id, COLLEAGUE, now=now)
    assert await bot.storage.leave_municipality(COLLEAGUE, now + DAY) is not None

    bot.clock = lambda: now + 31 * DAY
    await bot.job_queue.get_jobs_by_name("followups")[0].run(bot)
    await asker.wait_for_bot_message(containing("🕊"), timeout=10)
    asked = await owner.wait_for_bot_message(containing("🕊"), timeout=10)
    assert "Pompe" in asked.text and len(asked.button_labels) == 3
    key = f"followup:{zornitsa.id}:30:{COLLEAGUE}"

    async def jeans_followup() -> str | None:
        rows = await bot.storage._fetchall("SELECT state FROM outbox WHERE dedup_key = ?", (key,))
        return rows[0][0] if rows else None

    await wait_until(lambda: outbox_settled(bot.storage))
    assert await jeans_followup() is None  # not even queued for him
    assert not [m for m in jean.messages if m.from_bot and "🕊" in (m.text or "")]

    # The buttons he would have had, pressed all the same: nothing changes.
    for data in (f"fu:{zornitsa.id}:30:y", f"fu:r:{zornitsa.id}:30:{zornitsa.id}:f"):
        await jean.press_data(jean.messages[-1].id, data)
        assert (await jean.wait_for_callback_answer()).text == fr("This is not your contact.")
    assert (await bot.storage.get_listing(pump.id)).status == "open"
    assert await bot.storage._fetchall("SELECT 1 FROM exchanges") == []
    assert await bot.storage.followup_answer(zornitsa.id, COLLEAGUE, 30) is None


async def test_a_banned_person_is_not_asked_how_it_ended(server, bot):
    """Zornitsa was banned after Amélie accepted her: a month on, only Amélie is asked (a
    banned person can press nothing), and a forged answer from Zornitsa changes nothing."""
    now = int(time.time())
    owner, asker, _helper, _stranger = await world(server, bot, now)
    pump = await seed.listing(bot.storage, OWNER, now, kind="request", title="Pompe")
    zornitsa = await accepted(bot, ASKER, pump.id, now)
    await bot.storage.ban(ASKER, ADMIN_ID, now + DAY)
    bot.clock = lambda: now + 31 * DAY
    await bot.job_queue.get_jobs_by_name("followups")[0].run(bot)
    await owner.wait_for_bot_message(containing("Pompe"), timeout=10)

    async def states() -> dict[str, str]:
        rows = await bot.storage._fetchall(
            "SELECT dedup_key, state FROM outbox WHERE kind = 'followup'"
        )
        return {key: state for key, state in rows}

    async def answered() -> bool:
        return not {"pending", "sending"} & set((await states()).values())

    await wait_until(answered)
    assert (await states())[f"followup:{zornitsa.id}:30:{ASKER}"] == "cancelled"
    assert not [m for m in asker.messages if m.from_bot and "Pompe" in (m.text or "")]
    assert await bot.storage.followup_answer(zornitsa.id, ASKER, 30) is None
