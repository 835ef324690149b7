"""/alerts and /settings over HTTP: making, editing, pausing and deleting saved searches, an
alert hit arriving, notification settings, and forged or stale buttons."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_interval, format_time, get_timezone_location
from babel.units import format_unit

from bot.i18n import cldr_locale, translator
from bot.storage import AlertDraft, Profile
from bot.storage.listings import DAY
from tests import seed
from tests.talk import containing, plain, says, taps
from tests.waiting import settled, wait_until

NOON = int(datetime(2030, 6, 5, 10, 0, tzinfo=UTC).timestamp())


async def member(server, bot, name: str = "Léa", language: str = "en"):
    """An onboarded volunteer in Saint-Dié (Grand Est, France), with coordinates."""
    person = server.create_user(name, language_code=language)
    await bot.storage.register_member(person.id, name, language)
    await bot.storage.save_profile(
        person.id,
        Profile(
            role="volunteer",
            country="FR",
            region="Grand Est",
            place="Saint-Dié-des-Vosges",
            latitude=48.28,
            longitude=6.95,
        ),
    )
    await bot.storage.set_language(person.id, language)
    await person.send_text("/help")  # Telegram writes only to people who opened the chat
    await person.wait_for_bot_message()
    return person


async def test_make_an_alert_and_be_told(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    empty = await says(lea, "/alerts")
    assert "You have no alerts yet" in empty.text and empty.button_labels == ["➕ New alert"]
    assert "What should it look for?" in (await taps(lea, "➕ New alert")).text
    await taps(lea, "🔴 Requests (someone needs something)")
    await lea.press("🚒 Equipment and machinery")
    ticked = await lea.wait_for_bot_message(include_edits=True)
    assert "✓ 🚒 Equipment and machinery" in ticked.button_labels
    tags = await taps(lea, "✅ Done")
    assert "fire and rescue" in tags.button_labels
    await lea.press("fire and rescue")
    await lea.wait_for_bot_message(include_edits=True)
    await taps(lea, "✅ Done")
    area = await lea.wait_for_bot_message(containing("Choose the area"))
    assert area.button_labels[:4] == [
        "🏞 My region",
        "🏳️ My country",
        "🇪🇺 All of Europe",
        "📍 Around a place",
    ]
    await taps(lea, "🏳️ My country")
    frequency = await says(lea, "pompe")
    assert frequency.button_labels[:3] == ["⚡ Right away", "📅 Daily", "🗓 Weekly"]
    await lea.press("⚡ Right away")
    saved = await lea.wait_for_bot_message(containing("Alert saved"))
    assert "🔴 Requests · 🚒 Equipment and machinery · 🏷 fire and rescue" in saved.text
    listed = await lea.wait_for_bot_message(containing("Your alerts"))
    assert "in my country · “pompe” — right away" in listed.text
    (alert,) = await bot.storage.alerts_of(lea.id)
    assert (alert.kind, alert.categories, alert.tags, alert.area, alert.country) == (
        "request",
        ("equipment",),
        ("fire_rescue",),
        "country",
        "FR",
    )

    # Someone in France asks for a pump: Léa is told.
    asker = await member(server, bot, "Asker")
    await seed.listing(
        bot.storage, asker.id, NOON, kind="request", title="Pompes à incendie cherchées"
    )
    await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Un camion")  # no
    await bot.scheduler.match_new_listings()
    hit = await lea.wait_for_bot_message(containing("New for your alert"), timeout=5)
    assert "Pompes à incendie cherchées" in hit.text
    assert hit.button_labels == ["📄 Open", "🙋 I can help", "⏸ Pause this alert"]

    # Paused from the notification: the card keeps its other buttons.
    await lea.press("⏸ Pause this alert")
    assert "Alert paused" in (await lea.wait_for_callback_answer()).text
    edited = await lea.wait_for_bot_message(include_edits=True)
    assert edited.button_labels == ["📄 Open", "🙋 I can help"]
    assert (await bot.storage.get_alert(alert.id)).paused
    listed = await says(lea, "/alerts")
    assert "⏸ paused" in listed.text
    await lea.press("1. ▶️ Resume")
    resumed = await lea.wait_for_bot_message(include_edits=True)
    assert "right away" in resumed.text and not (await bot.storage.get_alert(alert.id)).paused

    await lea.press("🗑 Delete")
    assert "Delete this alert?" in (await lea.wait_for_bot_message(include_edits=True)).text
    await lea.press("🗑 Yes, delete it")
    gone = await lea.wait_for_bot_message(include_edits=True)
    assert "You have no alerts yet" in gone.text
    assert await bot.storage.alerts_of(lea.id) == []
    assert server.errors() == []


async def test_a_banned_member_is_told_of_no_new_listing(server, bot):
    """Banned, Léa's alert tells her nothing: neither a hit queued before the ban (held by
    her quiet hours) nor what the pass finds after it."""
    night = int(datetime(2030, 6, 5, 1, 0, tzinfo=UTC).timestamp())  # 03:00 in Paris
    morning = int(datetime(2030, 6, 5, 6, 0, tzinfo=UTC).timestamp())  # 08:00 in Paris
    bot.clock = lambda: night
    lea = await member(server, bot)
    asker = await member(server, bot, "Asker")
    await seed.set_quiet_hours(bot.storage, lea.id, (22, 8))
    await bot.storage.save_alert(
        lea.id, AlertDraft(kind="request", categories=(), tags=(), area="europe"), now=night
    )
    await seed.listing(bot.storage, asker.id, night, kind="request", title="Before")
    await bot.scheduler.match_new_listings()
    assert len(await alert_rows(bot, lea.id)) == 1  # held until 08:00
    await bot.storage.ban(lea.id, 0, night)
    await seed.listing(bot.storage, asker.id, night, kind="request", title="After")
    await bot.scheduler.match_new_listings()
    assert await bot.storage.unmatched_listings() == []

    bot.clock = lambda: morning
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage))
    # After the ban, the pass no longer reads her alert (or, within the minute the pass keeps
    # alerts in memory, its hit is dropped when sent): nothing reaches her.
    assert {state for _payload, state in await alert_rows(bot, lea.id)} == {"cancelled"}
    assert not [m for m in lea.messages if m.from_bot and "🔔" in (m.text or "")]
    assert [alert.user_id for alert in await bot.storage.active_alerts()] == []


async def alert_rows(bot, user_id: int) -> list[tuple[str, str]]:
    rows = await bot.storage._fetchall(
        "SELECT payload, state FROM outbox WHERE user_id = ? AND kind = 'alert'", (user_id,)
    )
    return [(row[0], row[1]) for row in rows]


async def test_forged_and_other_peoples_alert_buttons_change_nothing(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    other = await member(server, bot, "Other")
    theirs = await bot.storage.save_alert(
        other.id, AlertDraft(kind=None, categories=(), tags=(), area="europe"), now=NOON
    )
    listed = await says(lea, "/alerts")
    for data in (f"al:pa:{theirs.id}", f"al:dy:{theirs.id}", f"al:ed:{theirs.id}"):
        await lea.press_data(listed.id, data)
        assert (await lea.wait_for_callback_answer()).text == "This alert no longer exists."
    await lea.press_data(listed.id, "al:pa:x")
    assert (await lea.wait_for_callback_answer()).text == "This button is no longer valid."
    assert (await bot.storage.get_alert(theirs.id)) == theirs
    # A step's button from an earlier message, after the dialog moved on.
    await taps(lea, "➕ New alert")
    await taps(lea, "🟢🔴 Both")
    await lea.press_data(listed.id, "an:kind:offer")
    answer = await lea.wait_for_callback_answer()
    assert answer.text == "This button belongs to an earlier step. Please use the latest one."
    await lea.press_data(listed.id, "an:cat:nonsense")
    assert (await lea.wait_for_callback_answer()).text == "This button is no longer valid."
    assert server.errors() == []


async def test_edit_an_alert_with_a_radius_back_and_cancel(server, bot):
    bot.clock = lambda: NOON
    fr = translator("fr").gettext
    lea = await member(server, bot, language="fr")
    alert = await bot.storage.save_alert(
        lea.id,
        AlertDraft(
            kind="offer", categories=("goods",), tags=(), area="country", country="FR",
            keywords="bois",
        ),
        now=NOON,
    )  # fmt: skip
    await says(lea, "/alerts")
    intro = await taps(lea, fr("✏️ Edit"))
    assert plain(fr("✏️ Editing your alert.")) in intro.text
    assert "✓ " + fr("🟢 Offers (someone can give or help)") in intro.button_labels
    await taps(lea, fr("🟢🔴 Both"))
    await taps(lea, fr("✅ Done"))  # categories kept: goods
    await taps(lea, fr("✅ Any tag"))
    await lea.wait_for_bot_message(containing(fr("Choose the area:")))
    await taps(lea, fr("📍 Around a place"))
    await lea.send_location(48.69, 6.18)  # Nancy
    # The shared point is named (the town it is in), not answered with a lone pin.
    centre = await lea.wait_for_bot_message(containing("📍"))
    assert centre.text == "📍 Nancy, Grand Est, France"
    radius = await lea.wait_for_bot_message(containing(fr("How far around it?")))
    # CLDR's unit in French (a narrow no-break space before "km", in the locked Babel).
    km = {
        n: format_unit(n, "length-kilometer", length="short", locale=cldr_locale("fr"))
        for n in (10, 25, 50, 100, 200)
    }
    assert radius.button_labels[:5] == list(km.values())
    words = await taps(lea, km[100])
    assert fr("➡ Keep them") in words.button_labels
    # Back goes to the radius, not to the area.
    await lea.press(fr("⬅ Back"))
    await lea.wait_for_bot_message(containing(fr("How far around it?")))
    await taps(lea, "✓ " + km[100])
    await taps(lea, fr("➡ Keep them"))
    await lea.press(fr("📅 Daily"))
    await lea.wait_for_bot_message(containing(plain(fr("🔔 <b>Your alerts</b>"))))
    edited = await bot.storage.get_alert(alert.id)
    assert (edited.kind, edited.categories, edited.area, edited.radius_km) == (
        None,
        ("goods",),
        "radius",
        100.0,
    )
    assert (edited.latitude, edited.longitude, edited.keywords, edited.frequency) == (
        48.69,
        6.18,
        "bois",
        "daily",
    )
    # Cancelled half-way: nothing changes.
    await says(lea, "/alerts")
    await taps(lea, fr("✏️ Edit"))
    await taps(lea, fr("🟢 Offers (someone can give or help)"))
    cancelled = await says(lea, "/cancel")
    assert cancelled.text == fr("Cancelled: the alert is unchanged.")
    assert await bot.storage.get_alert(alert.id) == edited


async def test_an_alert_around_a_point_at_sea_names_the_point(server, bot):
    """No town near the shared point: the circle's centre is said as a map writes it."""
    lea = await member(server, bot)
    await bot.storage.save_alert(
        lea.id,
        AlertDraft(kind="offer", categories=("goods",), tags=(), area="country", country="FR"),
        now=bot.now(),
    )
    await says(lea, "/alerts")
    await taps(lea, "✏️ Edit")
    await taps(lea, "🟢🔴 Both")
    await taps(lea, "✅ Done")
    await taps(lea, "✅ Any tag")
    await lea.wait_for_bot_message(containing("Choose the area:"))
    await taps(lea, "📍 Around a place")
    await lea.send_location(42.5, 4.75)  # the Gulf of Lion
    centre = await lea.wait_for_bot_message(containing("📍"))
    assert centre.text == "📍 42.50, 4.75"
    await lea.wait_for_bot_message(containing("How far around it?"))


async def test_notification_settings(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    screen = await says(lea, "/settings")
    en = cldr_locale("en")
    noon_in_paris = datetime.fromtimestamp(NOON, UTC).astimezone(ZoneInfo("Europe/Paris"))
    quiet = format_interval(time(22), time(8), "hm", locale=en)  # English keeps AM and PM
    assert "New matches: right away" in screen.text
    assert f"Quiet hours: {quiet}" in screen.text
    assert f"Your timezone: Paris (it is {format_time(noon_in_paris, 'short', locale=en)}" in (
        screen.text
    )
    await lea.press("📅 Daily")
    assert (await lea.wait_for_callback_answer()).text == "Saved."
    daily = await lea.wait_for_bot_message(include_edits=True)
    nine = format_time(time(9), "short", locale=en)
    assert f"in a daily digest, at about {nine}" in daily.text
    assert "✓ 📅 Daily" in daily.button_labels
    await lea.press("✓ 📅 Daily")
    assert (await lea.wait_for_callback_answer()).text == "That is already your choice."
    await lea.press("No quiet hours")
    await lea.wait_for_bot_message(include_edits=True)
    await lea.press("🕒 Timezone: Paris")
    zones = await lea.wait_for_bot_message(include_edits=True)
    assert any(label.startswith("Lisbon ") for label in zones.button_labels)
    await lea.press_data(zones.id, "set:tz:Mars/Olympus")
    assert (await lea.wait_for_callback_answer()).text == "This button is no longer valid."
    await lea.press_data(zones.id, "set:tz:Europe/Lisbon")
    lisbon = await lea.wait_for_bot_message(include_edits=True)
    city = get_timezone_location("Europe/Lisbon", locale=en, return_city=True)
    in_lisbon = noon_in_paris.astimezone(ZoneInfo("Europe/Lisbon"))
    assert f"Your timezone: {city} (it is {format_time(in_lisbon, 'short', locale=en)}" in (
        lisbon.text
    )
    prefs = await bot.storage.preferences(lea.id)
    assert (prefs.frequency, prefs.timezone, prefs.quiet_start) == ("daily", "Europe/Lisbon", None)
    assert server.errors() == []


async def test_changing_to_right_away_sends_what_waited_for_the_digest(server, bot):
    bot.clock = lambda: NOON
    lea = await member(server, bot)
    await lea.send_text("/settings")
    await lea.wait_for_bot_message()
    await lea.press("🗓 Weekly")
    await lea.wait_for_bot_message(include_edits=True)
    asker = await member(server, bot, "Asker")
    await seed.listing(bot.storage, lea.id, NOON - DAY, kind="offer")
    await seed.listing(bot.storage, asker.id, NOON, kind="request", title="Wanted: a pump")
    await bot.scheduler.match_new_listings()
    waiting = await bot.storage._fetchall(
        "SELECT kind, state, not_before FROM outbox WHERE user_id = ?", (lea.id,)
    )
    assert [tuple(row)[:2] for row in waiting] == [("digest", "pending")]
    assert waiting[0][2] > NOON + 4 * DAY  # Monday morning
    await lea.press("⚡ Right away")
    digest = await lea.wait_for_bot_message(containing("📬"), timeout=5)
    assert "Wanted: a pump" in digest.text


async def test_a_hit_that_waited_is_dropped_once_an_edit_takes_the_listing_out_of_the_alert(
    server, bot
):
    """Two hits wait for Léa's morning: one listing's category is edited to another, and she
    narrows her other alert's area to her region; neither is sent. A third still fits: sent."""
    night = NOON + 11 * 3600 + 1800  # 23:30 in Paris
    bot.clock = lambda: night
    lea = await member(server, bot)
    await seed.set_quiet_hours(bot.storage, lea.id, (22, 8))
    asker = await member(server, bot, "Asker")
    await bot.storage.save_alert(
        lea.id,
        AlertDraft(
            kind="request", categories=("equipment",), tags=(), area="country", country="FR"
        ),
        now=night,
    )
    goods = await bot.storage.save_alert(
        lea.id,
        AlertDraft(kind="request", categories=("goods",), tags=(), area="country", country="FR"),
        now=night,
    )
    edited = await seed.listing(bot.storage, asker.id, night, kind="request", title="Pompe «a1»")
    await seed.listing(
        bot.storage, asker.id, night, kind="request", category="goods", title="Bancs «a2»",
        region="Bretagne", place="Rennes",
    )  # fmt: skip
    await seed.listing(bot.storage, asker.id, night, kind="request", title="Échelle «a3»")
    await bot.scheduler.match_new_listings()

    async def three_held() -> bool:
        return len(await bot.storage.held_until(lea.id)) == 3

    await wait_until(three_held)
    await bot.storage.edit_listing(edited.id, asker.id, {"category": "services"}, now=night)
    narrower = AlertDraft(
        kind="request", categories=("goods",), tags=(), area="region", country="FR",
        region="Grand Est",
    )  # fmt: skip
    assert await bot.storage.save_alert(lea.id, narrower, now=night, alert_id=goods.id)
    bot.clock = lambda: NOON + DAY - 2 * 3600 + 30  # 08:00:30 in Paris
    bot.outbox.wake()
    await lea.wait_for_bot_message(containing("«a3»"), timeout=10)
    await wait_until(lambda: settled(bot.storage))
    told = "\n".join(m.text or "" for m in lea.messages if m.from_bot)
    assert "«a1»" not in told and "«a2»" not in told
    assert server.errors() == []
