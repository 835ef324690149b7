"""Match notifications over HTTP against the sandbox with its rate limits on: a Bulgarian
request meets a French offer, each side reads its card in its language, "Not relevant" sticks,
quiet hours hold instant cards until morning, and 429 and 403 lose and double nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from datetime import UTC, datetime

from bot.app import running
from bot.i18n import translator
from bot.places.geocoding import distance_km
from bot.storage.listings import DAY
from tests import seed
from tests.jobs import runs_of
from tests.talk import containing, plain
from tests.test_quiet_hours import held
from tests.waiting import settled, wait_until

# Wednesday 5 June 2030, 10:00 UTC: noon in Paris, 13:00 in Sofia.
NOON = int(datetime(2030, 6, 5, 10, 0, tzinfo=UTC).timestamp())


def cards_in(server, chat_id: int | None = None) -> list[tuple[int, int]]:
    """(chat, match) for each card delivered, alone or in a bundle of what waited."""
    return [
        (int(c["chat_id"]), int(match))
        for c in cards_sent(server, chat_id)
        for match in re.findall(r"mt:nr:(\d+)", str(c.get("reply_markup")))
    ]


async def started(server, bot, name: str, language: str, **profile: object):
    """A member who has opened the chat (Telegram refuses to write to anyone else)."""
    person = server.create_user(name, language_code=language)
    await person.send_text("/start")
    await person.wait_for_bot_message()
    await seed.member(bot.storage, person.id, language=language, **profile)
    return person


def cards_sent(server, chat_id: int | None = None) -> list[dict]:
    return [
        c.params
        for c in server.calls
        if c.method in ("sendMessage", "sendPhoto")
        and c.ok
        and "mt:nr:" in str(c.params.get("reply_markup"))
        and (chat_id is None or int(c.params["chat_id"]) == chat_id)
    ]


def keyboard(user, message_id: int) -> list:
    return next(m for m in user.messages if m.id == message_id).inline_keyboard


async def test_a_bulgarian_request_meets_a_french_offer(server, bot):
    server.set_rate_limits(global_per_second=30, per_chat_per_second=1, per_chat_burst=1)
    bot.clock = lambda: NOON
    maria = await started(server, bot, "Мария", "bg", country="BG", place="Sveti Vlas")
    lea = await started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié")
    offer = await seed.listing(bot.storage, lea.id, NOON - DAY, **seed.FRENCH_OFFER)
    request = await seed.listing(bot.storage, maria.id, NOON, **seed.BULGARIAN_REQUEST)
    await bot.scheduler.match_new_listings()

    bg = translator("bg").gettext
    card = await maria.wait_for_bot_message(containing(seed.FRENCH_OFFER["title"]), timeout=10)
    assert (
        plain(bg("🤝 <b>A match for your request {title}</b>")).format(
            title=translator("bg").quote(seed.BULGARIAN_REQUEST["title"])
        )
        in card.text
    )
    tag = translator("bg").ngettext("{count} shared tag: {tags}", "{count} shared tags: {tags}", 1)
    why = "💡 " + bg("same category") + " · " + tag.format(count=1, tags=bg("fire and rescue"))
    assert why in card.text
    assert card.button_labels == [bg("📄 Open"), bg("🙋 I'm interested"), bg("🚫 Not relevant")]

    fr = translator("fr").gettext
    other = await lea.wait_for_bot_message(containing(seed.BULGARIAN_REQUEST["title"]), timeout=10)
    assert (
        plain(fr("🤝 <b>A match for your offer {title}</b>")).format(
            title=translator("fr").quote(seed.FRENCH_OFFER["title"])
        )
        in other.text
    )
    assert fr("🙋 I can help") in other.button_labels

    # Open shows the whole card of the other listing.
    await maria.press(bg("📄 Open"))
    full = await maria.wait_for_bot_message(containing(seed.FRENCH_OFFER["description"]))
    assert full.text.startswith("🟢")

    # Not relevant: recorded for Maria, the buttons go, and the pair never comes back.
    await maria.press_data(card.id, card.inline_keyboard[1][0]["callback_data"])
    answer = await maria.wait_for_callback_answer()
    assert answer.text == bg("Noted: you will not be shown this match again.")
    (match,) = await bot.storage.matches_of(request.id)
    assert await bot.storage.dismissed(match.id, maria.id)
    await wait_until(lambda: asyncio.sleep(0, keyboard(maria, card.id) == []))

    # Again on the same card, forged, or someone else's: a clear answer, nothing changes.
    await maria.press_data(card.id, f"mt:nr:{match.id}")
    assert (await maria.wait_for_callback_answer()).text == bg(
        "This button is no longer active. Send /start to see the menu."
    )
    latest = maria.last_bot_message
    for data in (f"mt:nr:{match.id + 7}", "mt:nr:x"):
        await maria.press_data(latest.id, data)
        assert (await maria.wait_for_callback_answer()).text == bg(
            "This button is no longer valid."
        )
    stranger = await started(server, bot, "Hans", "de", country="AT", place="Graz")
    await stranger.press_data(stranger.last_bot_message.id, f"mt:nr:{match.id}")
    assert (await stranger.wait_for_callback_answer()).text == translator("de").gettext(
        "This button is no longer valid."
    )
    assert not await bot.storage.dismissed(match.id, stranger.id)

    # A rerun of the pass, or both listings matched again, tells nobody twice.
    await bot.storage.edit_listing(offer.id, lea.id, {"tags": ["fire_rescue"]}, now=NOON)
    await bot.scheduler.match_new_listings()
    await wait_until(lambda: settled(bot.storage))
    assert len(cards_sent(server, maria.id)) == 1 and len(cards_sent(server, lea.id)) == 1
    # Opening the card a moment after it came may meet the one-a-second limit of the chat
    # (the bot waits and sends again); nothing else is refused.
    assert [e for e in server.errors() if e.status != 429] == []


async def test_quiet_hours_hold_cards_until_morning(server, bot):
    # 23:30 in Paris, 00:30 in Sofia: quiet hours for both (22:00-08:00 by default).
    night = int(datetime(2030, 6, 5, 21, 30, tzinfo=UTC).timestamp())
    bot.clock = lambda: night
    night_hours = {"quiet_hours": (22, 8)}  # everyone's default
    maria = await started(
        server, bot, "Мария", "bg", country="BG", place="Sveti Vlas", **night_hours
    )
    lea = await started(server, bot, "Léa", "fr", country="FR", place="Saint-Dié", **night_hours)
    await seed.listing(bot.storage, lea.id, night - DAY, **seed.FRENCH_OFFER)
    await seed.listing(bot.storage, maria.id, night, **seed.BULGARIAN_REQUEST)
    await bot.scheduler.match_new_listings()
    # The outbox looked at both cards and held them: only then is "nothing sent" telling.
    for person in (maria, lea):
        await wait_until(held(bot.storage, person.id, 1))
    assert cards_sent(server) == []
    # 08:00:30 in Sofia (07:00:30 in Paris): Maria's card comes, Léa's still waits.
    bot.clock = lambda: int(datetime(2030, 6, 6, 5, 0, 30, tzinfo=UTC).timestamp())
    await maria.wait_for_bot_message(containing(seed.FRENCH_OFFER["title"]), timeout=5)
    await wait_until(held(bot.storage, lea.id, 1))
    assert [int(c["chat_id"]) for c in cards_sent(server)] == [maria.id]
    bot.clock = lambda: int(datetime(2030, 6, 6, 6, 0, 30, tzinfo=UTC).timestamp())
    await lea.wait_for_bot_message(containing(seed.BULGARIAN_REQUEST["title"]), timeout=5)


async def test_a_card_that_waited_is_dropped_once_an_edit_takes_the_pair_out_of_reach(server, bot):
    """Léa's card waits for her morning when Maria narrows her request's reach to her own
    country: it is never sent (the two no longer meet), while Maria got hers at once."""
    night = int(datetime(2030, 6, 5, 21, 30, tzinfo=UTC).timestamp())  # 23:30 in Paris
    bot.clock = lambda: night
    maria = await started(server, bot, "Мария", "bg", country="BG", place="Sveti Vlas")
    lea = await started(
        server, bot, "Léa", "fr", country="FR", place="Saint-Dié", quiet_hours=(22, 8)
    )
    await seed.listing(bot.storage, lea.id, night - DAY, **seed.FRENCH_OFFER)
    request = await seed.listing(bot.storage, maria.id, night, **seed.BULGARIAN_REQUEST)
    await bot.scheduler.match_new_listings()
    await maria.wait_for_bot_message(containing(seed.FRENCH_OFFER["title"]), timeout=10)
    await wait_until(held(bot.storage, lea.id, 1))
    edited = await bot.storage.edit_listing(request.id, maria.id, {"reach": "country"}, now=night)
    assert edited is not None and edited.reach == "country"
    bot.clock = lambda: int(datetime(2030, 6, 6, 6, 0, 30, tzinfo=UTC).timestamp())  # 08:00
    bot.outbox.wake()
    await wait_until(lambda: settled(bot.storage))
    assert cards_sent(server, lea.id) == []
    assert not [m for m in lea.messages if seed.BULGARIAN_REQUEST["title"] in (m.text or "")]


async def test_429_and_403_lose_and_double_nothing(server, settings):
    # The bot believes it may send 50 a second; the server allows 3: 429s follow. One person
    # blocked the bot after posting: their cards are settled, never retried.
    server.set_rate_limits(global_per_second=3, global_burst=3)
    async with running(dataclasses.replace(settings, send_rate=50)) as bot:
        # A clock that runs from noon: a row put back after a 429 is due a second later.
        start = time.time()
        bot.clock = lambda: NOON + (time.time() - start)
        asker = await started(server, bot, "Asker", "en", country="FR", place="Saint-Dié")
        helpers = [
            await started(server, bot, f"Helper {n}", "en", country="FR", place=f"Town {n}")
            for n in range(8)
        ]
        for helper in helpers:
            await seed.listing(bot.storage, helper.id, NOON - DAY, kind="offer")
        helpers[0].block_bot()
        await seed.listing(bot.storage, asker.id, NOON, kind="request")
        await bot.scheduler.match_new_listings()
        await wait_until(lambda: settled(bot.storage), timeout=40)
        # A card for the asker about each offer, one for each helper about the request (the
        # one who blocked the bot is skipped, or settled by the 403 if the pass was first).
        counts = await bot.storage.outbox_counts()
        assert counts.get("sent") == 15 and counts.get("blocked", 0) <= 1, counts
        assert set(counts) <= {"sent", "blocked"}
        assert (await bot.storage.get_member(helpers[0].id)).blocked
        calls = len(server.calls)
        await runs_of(bot, "outbox")  # it has looked again: nothing is retried
        assert not [c for c in server.calls[calls:] if c.method == "sendMessage"]
    assert server.stats()["rate_limited"] >= 1
    # One card each (the asker's that waited for the chat came bundled in fewer messages).
    sent_to = [chat for chat, _match in cards_in(server)]
    assert sorted(sent_to) == sorted([asker.id] * 8 + [h.id for h in helpers[1:]])


async def test_reach_bounds_whom_a_listing_meets_both_ways(server, bot):
    """Issue 16, rule 6: a Bulgarian offer "across the country" meets a request in Sliven, not
    the Europe-wide requests from Greece, Malta and Ireland (nobody on either side is told);
    those meet a French offer that reaches all of Europe too. Each reason states the distance,
    near or far, in the reader's language."""
    bot.clock = lambda: NOON
    places = {
        "Kotel": ("BG", "Sliven", 42.8833, 26.4500),
        "Sliven": ("BG", "Sliven", 42.6833, 26.3167),
        "Athens": ("GR", "Attica", 37.9838, 23.7275),
        "Valletta": ("MT", "", 35.8989, 14.5146),
        "Galway": ("IE", "Connacht", 53.2707, -9.0568),
        "Saint-Dié": ("FR", "Grand Est", 48.2846, 6.9492),
    }

    async def poster(name, language, place, **listing):
        country, region, lat, lon = places[place]
        person = await started(server, bot, name, language, country=country, place=place)
        posted = await seed.listing(
            bot.storage, person.id, NOON - DAY, language=language, country=country,
            region=region, place=place, latitude=lat, longitude=lon, tags=("fire_rescue",),
            **listing,
        )  # fmt: skip
        return person, posted

    boyan, pump = await poster("Боян", "bg", "Kotel", kind="offer", reach="country",
                               title="Пожарна помпа")  # fmt: skip
    stoyan, sliven = await poster("Стоян", "bg", "Sliven", kind="request", reach="country",
                                  title="Търсим помпа")  # fmt: skip
    abroad = [
        await poster(name, language, place, kind="request", reach="europe", title=title)
        for name, language, place, title in (
            ("Ελένη", "el", "Athens", "Χρειαζόμαστε αντλία"),
            ("Marija", "mt", "Valletta", "Neħtieġu pompa"),
            ("Aoife", "ga", "Galway", "Teastaíonn caidéal uainn"),
        )
    ]
    lea, motopompe = await poster("Léa", "fr", "Saint-Dié", kind="offer", reach="europe",
                                  title="Motopompe à donner")  # fmt: skip
    await bot.scheduler.match_new_listings()
    await wait_until(lambda: settled(bot.storage))

    def others(listing) -> set[int]:
        return {m.other(listing.id) for m in matches[listing.id]}

    matches = {x.id: await bot.storage.matches_of(x.id) for x in (pump, motopompe)}
    assert others(pump) == {sliven.id}
    assert others(motopompe) == {posted.id for _person, posted in abroad}
    for person, _posted in abroad:
        texts = [c["text"] for c in cards_sent(server, person.id)]
        assert len(texts) == 1 and "Motopompe" in texts[0] and "Пожарна" not in texts[0]
    (card,) = [c["text"] for c in cards_sent(server, boyan.id)]
    assert "Търсим помпа" in card

    # The reason says how far, in the reader's words and units: near...
    bg = translator("bg")
    km = round(distance_km(*places["Kotel"][2:], *places["Sliven"][2:]))
    (card,) = [c["text"] for c in cards_sent(server, stoyan.id)]
    assert bg.gettext("{distance} away").format(distance=bg.kilometres(km)) in card
    # ... and far.
    el = translator("el")
    km = round(distance_km(*places["Athens"][2:], *places["Saint-Dié"][2:]))
    (card,) = [c["text"] for c in cards_sent(server, abroad[0][0].id)]
    far = el.gettext("{distance} away").format(distance=el.kilometres(km))
    assert far in card and "χλμ." in far
    assert len(cards_in(server, lea.id)) == 3  # one message each, or a bundle of them
    assert server.errors() == []
