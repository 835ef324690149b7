"""Broadcasts over HTTP against the sandbox with its rate limits on: the composer (texts per
language, audience, previews), delivery in each reader's language, blocked recipients, bad
input and non-admins refused. Pause/resume/cancel, scheduling and restarts are in
test_broadcast_delivery.py."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bot.app import running
from bot.context import CommunityApplication
from bot.dialogs.broadcast import check_text
from bot.i18n import autonym, translator
from bot.places.countries import flag
from bot.sandbox.html import EntityParseError, parse_html
from bot.sandbox.server import BotApiServer
from bot.sandbox.users import ChatMessage, SandboxUser
from bot.storage import Segment, Storage
from bot.views.announcements import sender_line
from bot.views.html import MarkupError, check_html
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import containing, plain, says, taps
from tests.waiting import wait_until

E = translator("en").gettext
RATE = 30


@pytest.fixture
async def paced(server: BotApiServer, settings) -> AsyncIterator[CommunityApplication]:
    """The bot sending at most RATE messages a second, against a server that enforces RATE
    overall and one a second per chat (bursts of 3, as Telegram tolerates)."""
    server.set_rate_limits(global_per_second=RATE, per_chat_per_second=1, per_chat_burst=3)
    async with running(dataclasses.replace(settings, send_rate=RATE)) as application:
        yield application


async def opened(
    server: BotApiServer,
    storage: Storage,
    name: str,
    *,
    language: str = "en",
    role: str = "municipality",
    country: str = "FR",
) -> SandboxUser:
    """A member who opened the chat with the bot earlier (Telegram sends nothing to anyone
    who never did), with a profile."""
    user = server.create_user(name, language_code=language)
    user.chat.started = True
    await seed.member(storage, user.id, language=language, role=role, country=country)
    return user


def admin_of(server: BotApiServer) -> SandboxUser:
    return server.create_user("Admin", language_code="en", user_id=ADMIN_ID)


async def compose(
    admin: SandboxUser,
    texts: dict[str, str],
    *,
    toggles: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
    at: str | None = None,
) -> list[ChatMessage]:
    """Walk the composer; returns the admin's messages from the previews to the summary
    (its last), which carries the confirm button."""
    await says(admin, "/broadcast")
    for index, (language, html) in enumerate(texts.items()):
        if index:
            await taps(admin, E("➕ Add or change a language"))
        await taps(admin, autonym(language))
        await says(admin, html)
    await taps(admin, E("➡ Choose the audience"))
    for label in toggles:
        await admin.press(label)
        await admin.wait_for_bot_message(include_edits=True)
    if countries:
        await taps(admin, E("🌍 Countries"))
        t = translator("en")
        for code in countries:
            await admin.press(f"{flag(code)} {t.country(code)}")
            await admin.wait_for_callback_answer()
        await taps(admin, E("✓ Done"))
    await taps(admin, E("➡ Continue"))
    if at is None:
        last = max(m.id for m in admin.messages)
        await admin.press(E("🚀 Send now"))
    else:
        await taps(admin, E("🕒 At a date and time"))
        last = max(m.id for m in admin.messages)
        await admin.send_text(at)
    summary = await admin.wait_for_bot_message(containing("Send this announcement"), timeout=20)
    return [m for m in admin.messages if m.from_bot and last < m.id <= summary.id]


def broadcast_id(summary: ChatMessage) -> int:
    (data,) = [
        b["callback_data"]
        for row in summary.inline_keyboard
        for b in row
        if "go" in b["callback_data"]
    ]
    return int(data.rsplit(":", 1)[1])


async def state_is(storage: Storage, broadcast: int, state: str) -> bool:
    found = await storage.get_broadcast(broadcast)
    return found is not None and found.state == state


def refused(server: BotApiServer) -> list[str]:
    """Calls the server refused, except 429s: a test taps faster than people do, and replies
    that hit the per-chat limit wait and go again."""
    return [f"{c.method} {c.description}" for c in server.errors() if c.status != 429]


def received(server: BotApiServer, marker: str) -> list[int]:
    """Chats the server delivered a message containing ``marker`` to (one entry a message)."""
    return [
        int(c.params["chat_id"])
        for c in server.calls
        if c.ok
        and c.method in ("sendMessage", "sendPhoto")
        and marker in (c.params.get("text") or c.params.get("caption") or "")
    ]


# --- audience --------------------------------------------------------------------------------


async def test_segments_count_roles_countries_languages_and_combinations(tmp_path):
    storage = await Storage.open(tmp_path / "db.sqlite3")
    people = [
        (1, "en", "municipality", "FR"),
        (2, "fr", "municipality", "FR"),
        (3, "fr", "volunteer", "BE"),
        (4, "de", "volunteer", "DE"),
        (5, "bg", "organisation", "BG"),
        (6, "fr", "volunteer", "FR"),
    ]
    for user_id, language, role, country in people:
        await seed.member(storage, user_id, language=language, role=role, country=country)
    await storage.mark_blocked(6)  # blocked people are never counted
    await storage.register_member(7, "Newcomer", "en")  # no profile yet: only "everyone"
    await seed.member(storage, 8, language="fr", role="volunteer", country="FR")
    await storage.ban(8, admin=1, now=0)  # banned people get no announcements

    async def count(**segment) -> int:
        return sum((await storage.count_recipients(Segment(**segment))).values())

    assert await count() == 6
    assert await count(roles=("volunteer",)) == 2
    assert await count(countries=("FR",)) == 2
    assert await count(languages=("fr",)) == 2
    assert await count(roles=("volunteer", "organisation")) == 3
    assert await count(roles=("volunteer",), languages=("fr",), countries=("BE", "FR")) == 1
    assert await count(roles=("volunteer",), countries=("BG",)) == 0
    assert await storage.count_recipients(Segment(languages=("fr", "en"))) == {"en": 2, "fr": 2}
    await storage.close()


async def test_the_final_report_is_queued_with_the_ending_once(tmp_path):
    """The admin's report is an outbox row written in the transaction that cancels (or
    finishes) the broadcast: a crash right after cannot lose it, a second press or a
    restart cannot send it twice."""
    storage = await Storage.open(tmp_path / "db.sqlite3")
    await seed.member(storage, ADMIN_ID)
    await seed.member(storage, 2)
    broadcast_id = await storage.create_broadcast(ADMIN_ID, "Europe/Paris", 1_000)
    await storage.update_draft(broadcast_id, texts={"en": "Hello"}, fallback="en")
    assert await storage.confirm_broadcast(broadcast_id, 1_001) is not None
    await storage.set_progress_message(broadcast_id, ADMIN_ID, 77, "progress")

    async def reports() -> list[tuple[int, str]]:
        return [
            (row[0], row[1])
            for row in await storage._fetchall(
                "SELECT user_id, payload FROM outbox WHERE kind = 'broadcast_report'"
            )
        ]

    assert await reports() == []
    assert await storage.cancel_broadcast(broadcast_id, 1_002, admin=ADMIN_ID)
    assert not await storage.cancel_broadcast(broadcast_id, 1_003, admin=ADMIN_ID)  # a second press
    assert not await storage.finish_broadcast(broadcast_id, 1_004)  # nor finishing after it
    [(chat, payload)] = await reports()
    assert chat == ADMIN_ID and f'"broadcast":{broadcast_id}' in payload.replace(" ", "")
    await storage.close()
    reopened = await Storage.open(tmp_path / "db.sqlite3")  # a restart: still there, once
    assert (
        len(await reopened._fetchall("SELECT 1 FROM outbox WHERE kind = 'broadcast_report'")) == 1
    )
    await reopened.close()


async def test_the_audience_step_shows_the_count_as_it_is_chosen(server, paced):
    for name, role, country in (
        ("A", "volunteer", "FR"),
        ("B", "volunteer", "DE"),
        ("C", "municipality", "FR"),
    ):
        await opened(server, paced.storage, name, role=role, country=country)
    admin = admin_of(server)
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await says(admin, "Hello")
    audience = await taps(admin, E("➡ Choose the audience"))
    assert "4 recipients" in audience.text  # three members and the admin
    await admin.press(E("🤝 Volunteer"))
    edited = await admin.wait_for_bot_message(include_edits=True)
    assert "2 recipients" in edited.text
    await taps(admin, E("🌍 Countries"))
    await admin.press(f"{flag('FR')} {translator('en').country('FR')}")
    await admin.wait_for_callback_answer()
    audience = await taps(admin, E("✓ Done"))
    assert "1 recipient" in audience.text and "France" in audience.text
    assert refused(server) == []


# --- texts per language, previews, delivery ------------------------------------------------


async def test_each_reader_gets_their_language_or_the_fallback_exactly_as_previewed(server, paced):
    readers = {
        language: await opened(server, paced.storage, f"R-{language}", language=language)
        for language in ("en", "fr", "de", "bg")
    }
    admin = admin_of(server)
    texts = {
        "fr": "<b>Bonjour</b> à tous &amp; merci ✨ «bc-fr»",
        "en": "Hello <i>everyone</i>, see "
        '<a href="https://example.org/a?b=1&amp;c=2">this</a> «bc-en»',
    }
    shown = await compose(admin, texts)
    await seed.set_quiet_hours(paced.storage, ADMIN_ID)  # the admin's copy and report, at any hour
    summary = shown[-1]
    assert "5 people" in summary.text  # four readers and the admin
    previews = {m.html for m in shown if "«bc-" in (m.text or "")}
    headers = [m.text for m in shown if m.text and m.text.startswith("👁")]
    # The French text was written first: it is the fallback, previewed first, for de and bg too.
    assert headers == ["👁 Preview, French (3 recipients):", "👁 Preview, English (2 recipients):"]
    await admin.press(E("✅ Send it"))
    progress = await admin.wait_for_bot_message(include_edits=True)
    assert "Broadcast #" in progress.text
    got = {}
    for language, reader in readers.items():
        got[language] = await reader.wait_for_bot_message(containing("«bc-"), timeout=10)
    assert (
        "Bonjour" in got["fr"].text and "Bonjour" in got["de"].text and "Bonjour" in got["bg"].text
    )
    assert "Hello" in got["en"].text
    # The preview is what readers of its language get; readers of the fallback's text get it
    # under a sender line in their own language (the bot speaks to them in it).
    assert {got["en"].html, got["fr"].html} == previews
    french = got["fr"].html.split("\n\n", 1)[1]
    for language in ("de", "bg"):
        line = sender_line(translator(language), "Community Sharing", "news", urgent=False)
        assert got[language].html == f"{line}\n\n{french}"
    report = await admin.wait_for_bot_message(containing("is finished"), timeout=15)
    assert "Delivered to 5 people." in report.text  # the admin is in "everyone" too
    assert sorted(received(server, "«bc-")) == sorted(
        [r.id for r in readers.values()] + [ADMIN_ID] * 3  # the admin also saw two previews
    )
    assert refused(server) == []


async def test_a_photo_with_a_caption_goes_to_everyone(server, paced, png):
    reader = await opened(server, paced.storage, "Reader", language="de")
    admin = admin_of(server)
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await admin.send_photo(png, caption="Our <b>summer</b> meeting «bc-photo»")
    review = await admin.wait_for_bot_message()
    assert E("With a photo.") in review.text
    await taps(admin, E("➡ Choose the audience"))
    await taps(admin, E("➡ Continue"))
    await admin.press(E("🚀 Send now"))
    await admin.wait_for_bot_message(containing("Send this announcement"), timeout=10)
    await admin.press(E("✅ Send it"))
    message = await reader.wait_for_bot_message(containing("«bc-photo»"), timeout=10)
    line = sender_line(translator("de"), "Community Sharing", "news", urgent=False)
    assert message.photo and message.caption == f"{plain(line)}\n\nOur summer meeting «bc-photo»"


@pytest.fixture
def png() -> bytes:
    import io

    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1), dpi=20)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def test_blocked_recipients_are_counted_and_marked(server, paced):
    stays = await opened(server, paced.storage, "Stays", role="volunteer")
    leaves = await opened(server, paced.storage, "Leaves", role="volunteer")
    never = server.create_user("Never", language_code="en")  # a member with no chat at all
    await seed.member(paced.storage, never.id, role="volunteer")
    # Blocked without the bot hearing of it (the update was lost while it was down): only the
    # 403 at sending tells.
    leaves.chat.blocked = True
    admin = admin_of(server)
    summary = (
        await compose(admin, {"en": "Volunteers! «bc-block»"}, toggles=(E("🤝 Volunteer"),))
    )[-1]
    await seed.set_quiet_hours(paced.storage, ADMIN_ID)  # the admin's copy and report, at any hour
    assert "3 people" in summary.text
    await admin.press(E("✅ Send it"))
    report = await admin.wait_for_bot_message(containing("is finished"), timeout=15)
    assert "Delivered to 1 person." in report.text and "Blocked the bot: 2" in report.text
    assert received(server, "«bc-block»") == [ADMIN_ID, stays.id]  # the preview, then one
    assert (await paced.storage.get_member(leaves.id)).blocked
    assert (await paced.storage.get_member(never.id)).blocked


# --- bad input and non-admins ---------------------------------------------------------------


async def test_bad_texts_are_refused_with_a_reason(server, paced, png):
    admin = admin_of(server)
    await says(admin, "/broadcast")
    await taps(admin, "English")
    for bad, reason in (
        ("<b>unclosed", "never closed"),
        ("<img src=x> picture", "not a tag Telegram supports"),
        ("a < b", "opens no tag"),
        ("<b>bold <i>both</b></i>", "should be </i>"),
        ('<span class="x">s</span>', "tg-spoiler"),
        ("<b> </b>", "empty"),
    ):
        answer = await says(admin, bad)
        assert reason in answer.text, (bad, answer.text)
    assert await paced.storage.outbox_counts() == {}
    # As long as Telegram allows, counted as Telegram counts (tags are not characters); Telegram
    # keeps an "&" that starts no entity as text.
    review = await says(admin, "<b>" + "z" * 2000 + "</b> Q&A")
    assert E("Texts written: {languages}.").format(languages="English") in review.text
    # A photo makes every text a caption (1,024 at most): this one no longer fits.
    await taps(admin, E("➕ Add or change a language"))
    await taps(admin, "Français")
    await admin.send_photo(png, caption="Photo")
    answer = await admin.wait_for_bot_message()
    assert "the English text is longer" in answer.text
    assert refused(server) == []


def test_announcement_length_and_emptiness():
    t = translator("en")
    assert "this one has 5,000" in check_text(t, "y" * 5000, with_photo=False, limit=4096)
    assert "this one has 1,025" in check_text(t, "y" * 1025, with_photo=True, limit=1024)
    assert check_text(t, "<b>" + "y" * 4096 + "</b>", with_photo=False, limit=4096) is None
    assert check_text(t, "😀" * 2048, with_photo=False, limit=4096) is None  # UTF-16: 2 each
    assert "this one has 4,098" in check_text(t, "😀" * 2049, with_photo=False, limit=4096)
    assert "empty" in check_text(t, " \n ", with_photo=False, limit=4096)


async def test_a_segment_with_nobody_cannot_go_on(server, paced):
    await opened(server, paced.storage, "Mayor", role="municipality", country="FR")
    admin = admin_of(server)
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await says(admin, "Hello")
    await taps(admin, E("➡ Choose the audience"))
    await admin.press(E("🤝 Volunteer"))
    await admin.wait_for_bot_message(include_edits=True)
    await admin.press(E("➡ Continue"))
    answer = await admin.wait_for_callback_answer()
    assert answer.text == E("Nobody is in this audience. Please choose another one.")
    assert answer.show_alert


async def test_non_admins_are_refused_and_forged_confirms_change_nothing(server, paced):
    mallory = await opened(server, paced.storage, "Mallory")
    reader = await opened(server, paced.storage, "Reader")
    answer = await says(mallory, "/broadcast")
    assert answer.text == E("This is for administrators only.")
    # A real draft, waiting for the admin's confirmation.
    admin = admin_of(server)
    summary = (await compose(admin, {"en": "Draft «bc-forged»"}))[-1]
    await seed.set_quiet_hours(paced.storage, ADMIN_ID)  # the admin's copy and report, at any hour
    draft = broadcast_id(summary)
    for data in (f"bc:go:{draft}", f"bc:pause:{draft}", f"bc:cx:{draft}", f"bc:cxy:{draft}"):
        await mallory.press_data(summary.id, data)
        refusal = await mallory.wait_for_callback_answer()
        # Refused either as not an admin, or as a stale press when that message id in her own
        # chat is one whose buttons are already gone: nothing changes either way.
        assert refusal.show_alert and refusal.text in (
            E("This is for administrators only."),
            E("This button is no longer active. Send /start to see the menu."),
        )
    assert (await paced.storage.get_broadcast(draft)).state == "draft"
    assert await paced.storage.outbox_counts() == {}
    for command in ("/stats", "/broadcasts"):
        assert (await says(mallory, command)).text == E("This is for administrators only.")
    # Every forged press was answered and the outbox is empty: nothing can go out later.
    assert received(server, "«bc-forged»") == [ADMIN_ID]  # the admin's preview, nothing else
    assert not [m for m in reader.messages if m.from_bot]
    # The admin's own confirm works once; a second press sends nothing more.
    await admin.press(E("✅ Send it"))
    await reader.wait_for_bot_message(containing("«bc-forged»"), timeout=10)
    await admin.press_data(summary.id, f"bc:go:{draft}")
    assert (await admin.wait_for_callback_answer()).text == E("This button is no longer active.")
    await wait_until(lambda: state_is(paced.storage, draft, "done"))
    assert sorted(received(server, "«bc-forged»")) == sorted(
        [ADMIN_ID, ADMIN_ID, reader.id, mallory.id]
    )


async def test_cancelling_the_composer_sends_nothing(server, paced):
    await opened(server, paced.storage, "Reader")
    admin = admin_of(server)
    await says(admin, "/broadcast")
    await taps(admin, "English")
    await says(admin, "Never sent")
    answer = await says(admin, "/cancel")
    assert answer.text == E("Cancelled: nothing was sent.")
    assert await paced.storage.broadcasts_of_state("draft", "sending", "scheduled") == []


# --- the HTML check agrees with Telegram's rules (as the sandbox implements them) -----------

PIECES = (
    "<b>", "</b>", "<i>", "</i>", '<a href="https://x.org/?a=1&amp;b=2">', "</a>", "<a href=x>",
    "<a>", '<span class="tg-spoiler">', "<span>", "</span>", "<tg-spoiler>", "</tg-spoiler>",
    "&amp;", "&lt;", "&#65;", "&#x1F600;", "&foo;", "&#0;", "&", "<", ">", "</>", "</ b>",
    "< b>", "<b/>", "<B>", "</B>", "<img>", "<code>", "</code>", "<pre>", "</pre>",
    '<pre><code class="language-py">', "</code></pre>", "<blockquote expandable>",
    "</blockquote>", '<tg-emoji emoji-id="5">', "</tg-emoji>", "<u class='x'>", "</u>",
    "x", " ", "é", "😀", '"', "'", "\n",
)  # fmt: skip


@examples(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=10))
def test_the_html_check_accepts_exactly_what_telegram_accepts(pieces):
    text = "".join(pieces)
    try:
        theirs = parse_html(text)[0]
    except EntityParseError:
        theirs = None
    try:
        mine = check_html(text).visible
    except MarkupError:
        mine = None
    assert mine == theirs, text
