"""Announcements over HTTP: the line naming who sent them (ANNOUNCEMENTS_FROM, in each reader's
language, escaped, counted in Telegram's limits), the button under them that turns their kind
off (with its Undo, forged presses refused), /settings turning kinds off and on, urgent ones
reaching everyone, an opt-out in the middle of a broadcast, and the composer's count."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.app import running
from bot.context import CommunityApplication
from bot.delivery.broadcasts import broadcast_renderer, report_text
from bot.i18n import autonym, translator
from bot.sandbox.server import BotApiServer
from bot.sandbox.users import ChatMessage, SandboxUser
from bot.storage import Notification, Storage
from bot.storage.broadcasts import OPTED_OUT
from bot.views.announcements import KIND_LABELS, STOP, sender_line, sender_room
from bot.views.html import TEXT_LIMIT
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, plain, says, taps
from tests.test_broadcast import admin_of, compose, opened, received, refused
from tests.waiting import wait_until

E = translator("en").gettext
SENDER = "Mairie & Co <Team>"
NEWS, EVENTS = E(KIND_LABELS["news"]), E(KIND_LABELS["events"])


@pytest.fixture
async def named(server: BotApiServer, settings) -> AsyncIterator[CommunityApplication]:
    """The bot with announcements from a name that needs escaping in HTML."""
    async with running(dataclasses.replace(settings, announcements_from=SENDER)) as application:
        yield application


async def send(bot: CommunityApplication, text: str, kind: str = "news", **draft: object) -> int:
    """A broadcast to everyone, confirmed as the composer would (the composer itself is walked
    in the tests about it), and waited for until it is done."""
    broadcast = await bot.storage.create_broadcast(ADMIN_ID, "UTC", bot.now())
    await bot.storage.update_draft(broadcast, texts={"en": text}, fallback="en", kind=kind, **draft)
    assert await bot.storage.confirm_broadcast(broadcast, bot.now()) is not None
    bot.broadcaster.wake()
    await wait_until(lambda: done(bot.storage, broadcast))
    return broadcast


async def done(storage: Storage, broadcast: int) -> bool:
    found = await storage.get_broadcast(broadcast)
    return found is not None and found.state == "done"


async def rows_of(storage: Storage, broadcast: int, user_id: int) -> list[tuple[str, str]]:
    """The states (and errors) of a broadcast's outbox rows for one person."""
    rows = await storage._fetchall(
        "SELECT state, error FROM outbox WHERE batch = ? AND user_id = ?",
        (f"bc:{broadcast}", user_id),
    )
    return [(row[0], row[1]) for row in rows]


def got(user: SandboxUser, marker: str) -> list[ChatMessage]:
    return [m for m in user.messages if m.from_bot and marker in (m.text or m.caption or "")]


async def stop_from(user: SandboxUser, message: ChatMessage) -> ChatMessage:
    """Press the button under an announcement; the bot's confirmation."""
    (data,) = [b["callback_data"] for row in message.inline_keyboard for b in row]
    await user.press_data(message.id, data)
    return await user.wait_for_bot_message(containing("🔕"))


async def refused_press(user: SandboxUser, message_id: int, data: str) -> None:
    """Refused as invalid, or, for data of no button's shape, as stale: nothing changes."""
    await user.press_data(message_id, data)
    answer = await user.wait_for_callback_answer()
    assert answer.show_alert, data
    assert answer.text in (
        E("This button is no longer valid."),
        E("This button is no longer active. Send /start to see the menu."),
    ), data


# --- the sender line -------------------------------------------------------------------------


async def test_the_sender_line_names_the_sender_in_each_readers_language(server, named):
    english = await opened(server, named.storage, "Reader-en", language="en")
    french = await opened(server, named.storage, "Reader-fr", language="fr")
    admin = admin_of(server)
    await seed.member(named.storage, ADMIN_ID)
    shown = await compose(admin, {"en": "Summer meeting «an-line»"}, toggles=(EVENTS,))
    preview = next(m for m in shown if "«an-line»" in (m.text or ""))
    await admin.press(E("✅ Send it"))
    for reader, language in ((english, "en"), (french, "fr")):
        message = await reader.wait_for_bot_message(containing("«an-line»"), timeout=10)
        t = translator(language)
        line = sender_line(t, SENDER, "events", urgent=False)
        # Escaped: the name reads as typed, and Telegram took the HTML.
        assert "Mairie &amp; Co &lt;Team&gt;" in line
        assert message.html == f"{line}\n\nSummer meeting «an-line»"
        assert message.text.startswith(plain(line)) and SENDER in message.text
        assert message.button_labels == [t.gettext(STOP)]
    assert plain(sender_line(translator("fr"), SENDER, "events", urgent=False)).startswith(
        "📅 Événements · communiqué de Mairie"
    )
    # The admin's preview is what English readers got, without the button.
    assert preview.html == english.messages[-1].html and not preview.inline_keyboard
    assert refused(server) == []


async def test_the_composer_refuses_a_text_the_sender_line_no_longer_leaves_room_for(server, named):
    room = TEXT_LIMIT - sender_room(SENDER)
    assert 40 < sender_room(SENDER) < 120
    admin = server.create_user("Admin", language_code="fr", user_id=ADMIN_ID)
    await seed.member(named.storage, ADMIN_ID, language="fr")
    ask = await says(admin, "/broadcast")
    assert "English" in ask.button_labels
    prompt = await taps(admin, "English")
    assert translator("fr").number(room) in prompt.text  # the room left, said up front
    answer = await says(admin, "y" * (room + 1))
    # Within Telegram's 4096, but not with the line: refused, in the admin's language.
    french = translator("fr").gettext(
        "With the line naming the sender, an announcement can have at most {limit} characters; "
        "this one has {length}. Please shorten it."
    )
    fr = translator("fr")
    assert answer.text == french.format(limit=fr.number(room), length=fr.number(room + 1))
    review = await says(admin, "y" * room)
    assert fr.language_name("en") in review.text  # taken: the texts written so far
    # And Telegram takes it with the line: the preview (the line in English, the text's
    # language, as its readers get it) is not refused.
    await taps(admin, fr.gettext("➡ Choose the audience"))
    await taps(admin, fr.gettext("➡ Continue"))
    await admin.press(fr.gettext("🚀 Send now"))
    summary = fr.gettext("Send this announcement to {people} now?").split("{")[0]
    await admin.wait_for_bot_message(containing(plain(summary)), timeout=15)
    preview = next(m for m in admin.messages if m.from_bot and "y" * room in (m.text or ""))
    line = sender_line(translator("en"), SENDER, "news", urgent=False)
    assert preview.text == f"{plain(line)}\n\n{'y' * room}"
    assert refused(server) == []


# --- turning a kind off, and on again ------------------------------------------------------


async def test_the_button_turns_that_kind_off_the_others_still_come_and_undo(server, bot):
    reader = await opened(server, bot.storage, "Reader")
    other = await opened(server, bot.storage, "Other")
    await send(bot, "First news «an-1»")
    first = await reader.wait_for_bot_message(containing("«an-1»"), timeout=10)
    confirmation = await stop_from(reader, first)
    assert EVENTS not in confirmation.text and NEWS in confirmation.text
    assert confirmation.button_labels == [E("↩️ Undo")]
    assert await bot.storage.announcement_opt_outs(reader.id) == {"news"}

    more_news = await send(bot, "More news «an-2»")
    await send(bot, "A meeting «an-3»", kind="events")
    # Left out when the recipients were put in the outbox, not only when sending.
    assert await rows_of(bot.storage, more_news, reader.id) == []
    # Both broadcasts are done: what was to be sent was sent.
    assert got(reader, "«an-2»") == [] and len(got(reader, "«an-3»")) == 1
    assert len(got(other, "«an-2»")) == 1 and len(got(other, "«an-3»")) == 1

    await reader.press(E("↩️ Undo"))
    undone = await reader.wait_for_bot_message(include_edits=True)
    assert "🔔" in undone.text and NEWS in undone.text and not undone.inline_keyboard
    assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()
    await send(bot, "News again «an-4»")
    assert len(got(reader, "«an-4»")) == 1
    assert refused(server) == []


async def test_settings_show_the_kinds_and_turn_them_on_and_off(server, bot):
    reader = await opened(server, bot.storage, "Reader")
    await send(bot, "Some news «an-s1»")
    await stop_from(reader, got(reader, "«an-s1»")[0])
    shown = await says(reader, "/settings")
    assert (
        E("Announcements from {sender}: {kinds} (and urgent ones).").format(
            sender="Community Sharing", kinds=f"{E(KIND_LABELS['help'])}, {EVENTS}"
        )
        in shown.text
    )
    assert NEWS in shown.button_labels and f"✓ {EVENTS}" in shown.button_labels

    await reader.press(NEWS)  # on again
    assert (await reader.wait_for_callback_answer()).text == E("Saved.")
    edited = await reader.wait_for_bot_message(include_edits=True)
    assert f"✓ {NEWS}" in edited.button_labels
    assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()
    await send(bot, "News for all «an-s2»")
    assert len(got(reader, "«an-s2»")) == 1

    for label in (f"✓ {NEWS}", f"✓ {EVENTS}", f"✓ {E(KIND_LABELS['help'])}"):
        await reader.press(label)  # every kind off
        edited = await reader.wait_for_bot_message(include_edits=True)
    only = E("Announcements from {sender}: urgent ones only.")
    assert only.format(sender="Community Sharing") in edited.text
    await send(bot, "Events off «an-s3»", kind="events")
    assert got(reader, "«an-s3»") == []
    assert refused(server) == []


async def test_an_urgent_announcement_reaches_those_who_turned_its_kind_off(server, bot):
    reader = await opened(server, bot.storage, "Reader")
    await bot.storage.opt_out_of_announcements(reader.id, "news", bot.now())
    urgent = await send(bot, "Road closed «an-urgent»", urgent=True)
    await send(bot, "Not urgent «an-not»")
    (message,) = got(reader, "«an-urgent»")
    line = sender_line(translator("en"), "Community Sharing", "news", urgent=True)
    assert message.html == f"{line}\n\nRoad closed «an-urgent»"
    assert not message.inline_keyboard  # nothing to turn off: it would come all the same
    assert got(reader, "«an-not»") == []
    await bot.storage.opt_in_to_announcements(reader.id, "news")
    # Its id on a forged button turns nothing off.
    await refused_press(reader, message.id, f"ann:off:news:{urgent}")
    assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()


# --- forged and stale data --------------------------------------------------------------------


async def test_forged_opt_out_data_is_refused_and_changes_nothing(server, bot):
    reader = await opened(server, bot.storage, "Reader")
    mallory = await opened(server, bot.storage, "Mallory")
    news = await send(bot, "News «an-f1»")
    events = await send(bot, "Event «an-f2»", kind="events")
    urgent = await send(bot, "Urgent «an-f3»", urgent=True)
    (on_news,) = got(reader, "«an-f1»")
    (on_events,) = got(reader, "«an-f2»")
    (on_urgent,) = got(reader, "«an-f3»")
    for message_id, data in (
        (on_news.id, f"ann:off:events:{news}"),  # another kind than the broadcast's
        (on_news.id, f"ann:off:help:{news}"),
        (on_news.id, f"ann:off:events:{events}"),  # a broadcast not in this message
        (on_events.id, f"ann:off:news:{news}"),
        (on_urgent.id, f"ann:off:news:{urgent}"),  # urgent: nothing to turn off
        (on_news.id, "ann:off:news:999999"),  # no such broadcast
        (on_news.id, "ann:off:zzz:1"),  # garbage
        (on_news.id, "ann:off:news:abc"),
        (on_news.id, "ann:off:news:-1"),
        (on_news.id, f"ann:off:news:{news}:1"),
        (on_news.id, "ann:on:zzz"),
        (424242, f"ann:off:news:{news}"),  # a message that is not there
    ):
        await refused_press(reader, message_id, data)
    # Data copied from the reader's message, pressed on one of Mallory's own where that
    # broadcast is not (message ids are per chat: only the pair proves anything).
    (theirs,) = got(mallory, "«an-f2»")
    await refused_press(mallory, theirs.id, f"ann:off:news:{news}")
    assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()
    assert await bot.storage.announcement_opt_outs(mallory.id) == frozenset()

    # The genuine press works once; a second tap changes nothing more.
    await stop_from(reader, on_news)
    await reader.press_data(on_news.id, f"ann:off:news:{news}")
    assert (await reader.wait_for_callback_answer()).text == E("That is already your choice.")
    assert await bot.storage.announcement_opt_outs(reader.id) == {"news"}
    assert len([m for m in reader.messages if m.from_bot and "🔕" in (m.text or "")]) == 1


async def test_undo_pressed_again_or_after_settings_changes_nothing(server, settings):
    """Undo's button is gone once pressed; pressed again all the same (a press handed out
    again after a restart, or a stale client), it is no longer on its message and is refused
    as a forged one is; pressed where it still is after /settings turned the kind back on,
    it says so. Neither edits anything (the same text again is a 400 at Telegram)."""
    async with running(settings) as bot:
        reader = await opened(server, bot.storage, "Reader")
        await send(bot, "News «an-u1»")
        confirmation = await stop_from(reader, got(reader, "«an-u1»")[0])
        (undo,) = [b["callback_data"] for row in confirmation.inline_keyboard for b in row]
        await reader.press(E("↩️ Undo"))
        undone = await reader.wait_for_bot_message(include_edits=True)
    async with running(settings) as bot:
        await reader.press_data(confirmation.id, undo)
        answer = await reader.wait_for_callback_answer()
        assert answer.show_alert and answer.text == E("This button is no longer valid.")
        assert reader.chat.messages[confirmation.id].text == undone.text
        # Off from another announcement's button, on again in /settings, then the old Undo.
        await send(bot, "News «an-u2»")
        again = await stop_from(reader, got(reader, "«an-u2»")[0])
        await says(reader, "/settings")
        await reader.press(NEWS)
        await reader.wait_for_callback_answer()
        await reader.press_data(again.id, undo)
        assert (await reader.wait_for_callback_answer()).text == E("That is already your choice.")
        assert "🔕" in reader.chat.messages[again.id].text  # as it was
        assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()
    assert refused(server) == []


async def test_a_forged_undo_on_another_message_turns_nothing_on_and_edits_nothing(server, bot):
    """Undo's data names only the kind: copied onto any other of the bot's messages in one's
    own chat (a listing card, the announcement itself), it is refused as invalid (before the
    kind is off too: a forged press does not learn that it is "already your choice") and that
    message keeps its text; on its own confirmation it works."""
    reader = await opened(server, bot.storage, "Reader")
    author = await opened(server, bot.storage, "Author")
    listing = await seed.listing(bot.storage, author.id, bot.now(), title="Pump «an-card»")
    await send(bot, "News «an-fu»")
    (announcement,) = got(reader, "«an-fu»")
    card = await says(reader, f"/start l{listing.id}")
    assert "«an-card»" in card.text
    await reader.press_data(card.id, "ann:on:news")
    answer = await reader.wait_for_callback_answer()
    assert answer.show_alert and answer.text == E("This button is no longer valid.")
    confirmation = await stop_from(reader, announcement)
    for message in (card, announcement):
        await refused_press(reader, message.id, "ann:on:news")
        assert reader.chat.messages[message.id].text == message.text
    assert await bot.storage.announcement_opt_outs(reader.id) == {"news"}

    await reader.press_data(confirmation.id, "ann:on:news")
    undone = await reader.wait_for_bot_message(include_edits=True)
    assert undone.id == confirmation.id and "🔔" in undone.text
    assert await bot.storage.announcement_opt_outs(reader.id) == frozenset()
    assert refused(server) == []


# --- in the middle of a broadcast ------------------------------------------------------------


async def test_turning_a_kind_off_in_the_middle_of_a_broadcast_stops_it_at_once(server, settings):
    """The reader's row is already in the outbox, waiting its turn behind 300 others, when
    they press: it is never sent, and the admin's report says why."""
    server.set_rate_limits(global_per_second=60, per_chat_per_second=1, per_chat_burst=1)
    async with running(dataclasses.replace(settings, send_rate=60)) as bot:
        others = [await opened(server, bot.storage, f"P{i}") for i in range(300)]
        reader = await opened(server, bot.storage, "Reader")  # the last user id: sent last
        assert reader.id > max(p.id for p in others)
        await send(bot, "Earlier news «an-m1»")
        (earlier,) = got(reader, "«an-m1»")

        big = await bot.storage.create_broadcast(ADMIN_ID, "UTC", bot.now())
        await bot.storage.update_draft(big, texts={"en": "Big news «an-m2»"}, fallback="en")
        await bot.storage.confirm_broadcast(big, bot.now())
        bot.broadcaster.wake()

        async def reader_waits() -> bool:
            waiting = await rows_of(bot.storage, big, reader.id) == [("pending", None)]
            return waiting and bool(received(server, "«an-m2»"))

        await wait_until(reader_waits)
        await stop_from(reader, earlier)
        await wait_until(lambda: done(bot.storage, big), timeout=60)
        finished = await bot.storage.get_broadcast(big)
        counts = await bot.storage.broadcast_counts(finished)
        rows = await rows_of(bot.storage, big, reader.id)
    assert got(reader, "«an-m2»") == []
    assert rows == [("cancelled", OPTED_OUT)]
    assert counts == {"sent": 300, "opted_out": 1}
    assert reader.id not in received(server, "«an-m2»")
    # The admin's report tells these apart from a cancelled broadcast's rows.
    report = report_text(translator("en"), finished, counts)
    assert "Not sent (turned this kind of announcement off): 1" in report
    assert "cancelled" not in report


async def test_a_row_rendered_after_its_kind_was_turned_off_is_dropped(server, bot):
    """The last guard, at send time: a broadcast's row says nothing to someone who turned
    its kind off, whatever way it got into the outbox."""
    reader = await opened(server, bot.storage, "Reader")
    broadcast = await bot.storage.create_broadcast(ADMIN_ID, "UTC", bot.now())
    await bot.storage.update_draft(broadcast, texts={"en": "Hello"}, fallback="en")
    await bot.storage.confirm_broadcast(broadcast, bot.now())
    render = broadcast_renderer(bot)
    row = Notification(0, reader.id, "broadcast", {"broadcast": broadcast}, 0, f"bc:{broadcast}")
    t = translator("en")
    assert (await render(bot.storage, row, t, bot.now())) is not None
    await bot.storage.opt_out_of_announcements(reader.id, "news", bot.now())
    assert (await render(bot.storage, row, t, bot.now())) is None
    await bot.storage.opt_in_to_announcements(reader.id, "news")
    assert (await render(bot.storage, row, t, bot.now())) is not None


async def test_a_member_banned_while_an_announcement_waits_does_not_get_it(server, bot):
    """Banned people are not among a broadcast's recipients; one banned while their row waits
    for the end of their quiet hours is not sent it either, urgent or not."""
    night, morning = 1_894_682_580, 1_894_690_800  # 05:43 and 08:00 in Paris
    bot.clock = lambda: night
    reader = await opened(server, bot.storage, "Reader")
    other = await opened(server, bot.storage, "Other")
    await seed.set_quiet_hours(bot.storage, reader.id, (22, 8))
    await seed.set_quiet_hours(bot.storage, other.id, (22, 8))
    broadcast = await bot.storage.create_broadcast(ADMIN_ID, "UTC", night)
    await bot.storage.update_draft(
        broadcast, texts={"en": "Held news «an-ban»"}, fallback="en", kind="news"
    )
    assert await bot.storage.confirm_broadcast(broadcast, night) is not None
    bot.broadcaster.wake()

    async def both_held() -> bool:
        return all([len(await bot.storage.held_until(p.id)) == 1 for p in (reader, other)])

    await wait_until(both_held)
    await bot.storage.ban(reader.id, ADMIN_ID, night)
    bot.clock = lambda: morning
    bot.outbox.wake()
    await other.wait_for_bot_message(containing("«an-ban»"), timeout=10)
    await wait_until(lambda: done(bot.storage, broadcast), timeout=20)
    assert got(reader, "«an-ban»") == []
    assert await rows_of(bot.storage, broadcast, reader.id) == [("cancelled", "no longer relevant")]


# --- the composer's count --------------------------------------------------------------------


async def test_the_composers_count_leaves_out_those_who_turned_the_kind_off(server, bot):
    for name in ("A", "B", "C"):
        await opened(server, bot.storage, name)
    opted = await opened(server, bot.storage, "Opted")
    await bot.storage.opt_out_of_announcements(opted.id, "news", bot.now())
    admin = admin_of(server)
    await seed.member(bot.storage, ADMIN_ID)
    await says(admin, "/broadcast")
    await taps(admin, autonym("en"))
    await says(admin, "Hello «an-count»")
    audience = await taps(admin, E("➡ Choose the audience"))
    assert E("Kind: {kind}").format(kind=NEWS) in audience.text
    assert "4 recipients" in audience.text  # three readers and the admin
    assert "Not counted: 1 person who turned this kind of announcement off." in audience.text
    await admin.press(EVENTS)
    events = await admin.wait_for_bot_message(include_edits=True)
    assert "5 recipients" in events.text and "Not counted" not in events.text
    await admin.press(NEWS)
    await admin.wait_for_bot_message(include_edits=True)
    await taps(admin, E("➡ Continue"))
    await admin.press(E("⚠️ Urgent: also during quiet hours"))
    urgent = await admin.wait_for_bot_message(include_edits=True)
    assert E("People who turned this kind of announcement off get it too.") in urgent.text
    last = max(m.id for m in admin.messages)
    await admin.press(E("🚀 Send now"))
    summary = await admin.wait_for_bot_message(containing("Send this announcement"), timeout=10)
    assert "5 people" in summary.text  # urgent: everyone
    previews = [m for m in admin.messages if m.from_bot and last < m.id < summary.id]
    assert any("(5 recipients)" in (m.text or "") for m in previews)
    await admin.press(E("✅ Send it"))
    message = await opted.wait_for_bot_message(containing("«an-count»"), timeout=10)
    line = sender_line(translator("en"), "Community Sharing", "news", urgent=True)
    assert message.text == f"{plain(line)}\n\nHello «an-count»"
