"""Browse and search over HTTP: filters, pages in one edited message, words in every script,
near a location, widening an empty search, stale and forged buttons, opening a result, deep
links; in English, French and Bulgarian."""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

import pytest

from bot.app import running
from bot.i18n import translator
from bot.sandbox.chatview import ChatMessage
from bot.sandbox.users import SandboxUser
from bot.storage import Profile
from bot.storage.listings import DAY
from bot.views import cards
from tests import seed
from tests.conftest import BOT_USERNAME
from tests.talk import data_of, plain, says

NOW = 1_800_000_000
READER = 701
FRENCH, AUSTRIAN, BULGARIAN = 711, 712, 713


@pytest.fixture
def app(bot):
    """The running bot, its clock stopped at NOW."""
    bot.clock = lambda: NOW
    return bot


async def owners(bot) -> None:
    await seed.member(bot.storage, FRENCH)
    await seed.member(bot.storage, AUSTRIAN, country="AT", place="Graz")
    await seed.member(bot.storage, BULGARIAN, country="BG", place="Sveti Vlas")


async def reader(
    server, bot, language: str = "en", *, country: str = "FR", region: str = "Vosges"
) -> SandboxUser:
    """A volunteer in Saint-Dié (Vosges, France) who reads in ``language``."""
    await bot.storage.register_member(READER, "Reader", language)
    await bot.storage.save_profile(
        READER, Profile(role="volunteer", country=country, place="Saint-Dié", region=region)
    )
    return server.create_user("Reader", language_code=language, user_id=READER)


async def tap(user: SandboxUser, label: str) -> ChatMessage:
    """Press an inline button; the bot's next message or edit."""
    await user.press(label)
    return await user.wait_for_bot_message(include_edits=True)


def count(language: str, total: int) -> str:
    t = translator(language)
    return t.ngettext("{count} result", "{count} results", total).format(count=t.number(total))


def bot_messages(user: SandboxUser) -> list[ChatMessage]:
    return [message for message in user.messages if message.from_bot]


async def browse(user: SandboxUser, language: str, kind: str, category: str, area: str):
    """/browse, then the three choices by their labels; returns the results message."""
    t = translator(language)
    _ = t.gettext
    first = await says(user, "/browse")
    await tap(user, _(kind))
    shown = await tap(user, cards.category_label(t, category) if category else _("All categories"))
    results = await tap(user, area)
    assert first.id == shown.id == results.id
    return results


@pytest.mark.parametrize("language", ["en", "fr", "bg"])
async def test_browse_by_kind_category_and_country_pages_in_one_message(server, app, language):
    t = translator(language)
    _ = t.gettext
    await owners(app)
    for index in range(7):
        await seed.listing(app.storage, FRENCH, NOW - 1000 + index, title=f"Pump <{index}>")
    await seed.listing(app.storage, FRENCH, NOW, title="A request", kind="request")
    await seed.listing(app.storage, FRENCH, NOW, title="A doctor", category="health")
    await seed.listing(app.storage, AUSTRIAN, NOW, title="In Austria", country="AT")
    await seed.listing(app.storage, FRENCH, NOW - 8 * DAY, title="Expired", duration_days=7)
    user = await reader(server, app, language)

    first = await browse(user, language, "🟢 Offers", "equipment", f"🇫🇷 {t.country('FR')}")
    assert count(language, 7) in first.text and "1/2" not in first.text
    assert _("page {page} of {pages}").format(page=1, pages=2) in first.text
    assert "1. 🟢 Pump <6>" in first.text and "5. 🟢 Pump <2>" in first.text
    assert first.button_labels[:5] == ["1", "2", "3", "4", "5"]
    for absent in ("A request", "A doctor", "In Austria", "Expired", "Pump <1>"):
        assert absent not in first.text

    second = await tap(user, _("Next ▶"))
    assert second.id == first.id and second.edited
    assert "6. 🟢 Pump <1>" in second.text and "7. 🟢 Pump <0>" in second.text
    assert second.button_labels[:3] == ["6", "7", _("◀ Previous")]
    assert _("Next ▶") not in second.button_labels
    again = await tap(user, _("◀ Previous"))
    assert again.id == first.id and again.text == first.text
    assert len(bot_messages(user)) == 1  # no flooding: one message for the whole search
    assert all(len(b["callback_data"].encode()) <= 64 for row in again.inline_keyboard for b in row)
    assert server.errors() == []


async def test_my_region_and_no_region(server, app):
    await owners(app)
    await seed.listing(app.storage, FRENCH, NOW, title="In the Vosges")
    await seed.listing(app.storage, FRENCH, NOW, title="In Alsace", region="Alsace")
    user = await reader(server, app)
    found = await browse(user, "en", "🟢🔴 Both", None, "📍 Vosges")
    assert "In the Vosges" in found.text and "In Alsace" not in found.text
    assert "📍 Vosges, France" in found.text
    await app.storage.save_profile(READER, Profile(role="volunteer", country="FR", place="Nancy"))
    await says(user, "/browse")
    await tap(user, "🟢🔴 Both")
    areas = await tap(user, "All categories")
    assert areas.button_labels == ["🇫🇷 France", "🇪🇺 All of Europe", "📡 Near me", "◀ Back"]
    back = await tap(user, "◀ Back")
    assert "Which category?" in back.text
    assert server.errors() == []


@pytest.mark.parametrize(
    ("language", "title", "typed"),
    [
        ("fr", "Pompe à incendie d'occasion", "POMPE incendie"),
        ("fr", "Feuerwehrpumpe für Köln", "koln FEUERWEHR"),
        ("bg", "Пожарна помпа", "ПОМПА"),
        ("bg", "Αντλία πυρκαγιάς", "αντλια"),
    ],
)
async def test_search_by_words_folds_case_and_accents(server, app, language, title, typed):
    await owners(app)
    await seed.listing(app.storage, BULGARIAN, NOW, title=title, country="BG", language=language)
    # Another category and tag: "incendie" names the tag fire_rescue, which finds its listings.
    await seed.listing(
        app.storage, FRENCH, NOW, title="Something else entirely", description="Old books.",
        category="goods", tags=("books",),
    )  # fmt: skip
    user = await reader(server, app, language)
    found = await says(user, f"/search {typed}")
    assert count(language, 1) in found.text and title in found.text
    assert "Something else" not in found.text
    assert server.errors() == []


async def test_search_without_words_asks_for_them_and_can_be_cancelled(server, app):
    _ = translator("fr").gettext
    await owners(app)
    await seed.listing(app.storage, FRENCH, NOW, title="Pompe à incendie")
    user = await reader(server, app, "fr")
    asked = await says(user, "/search")
    assert "/cancel" in asked.text
    again = await says(user, "*** !!")
    assert again.text == _("Please type at least one word with letters or digits.")
    found = await says(user, "pompe")
    assert "Pompe à incendie" in found.text
    await says(user, "/search")
    cancelled = await says(user, "/cancel")
    assert cancelled.text == _("Search cancelled.")
    later = await says(user, "pompe")  # no longer waiting: the general answer
    assert later.text == _("I did not understand that. Here is what you can do:")
    nothing = await says(user, "/cancel")
    assert nothing.text == _("There is nothing to cancel.")
    # A question left unanswered for long does not trap a text typed much later.
    await says(user, "/search")
    app.clock = lambda: NOW + 16 * 60
    late = await says(user, "pompe")
    assert late.text == _("I did not understand that. Here is what you can do:")
    assert server.errors() == []


async def test_typed_search_syntax_and_html_are_just_text(server, app):
    await owners(app)
    await seed.listing(app.storage, FRENCH, NOW, description="A fire pump in good order.")
    user = await reader(server, app)
    found = await says(user, '/search "fire" OR *')
    assert '“"fire" OR *”' in found.text and "Used fire pump" in found.text
    html = await says(user, "/search <b>pump</b> & <i>")
    assert "“<b>pump</b> & <i>”" in html.text and "Nothing found" in html.text  # no "b" word
    everything = await tap(user, "Without the words")
    assert everything.id == html.id and "Used fire pump" in everything.text
    assert server.errors() == []


async def test_a_location_shows_what_is_near_in_order_and_the_radius_changes(server, app):
    await owners(app)
    places = {
        "Colmar": (48.0794, 7.3585),
        "Kehl": (48.5667, 7.8153),
        "Strasbourg": (48.5734, 7.7521),
        "Paris": (48.8566, 2.3522),
    }
    for title, (lat, lon) in places.items():
        await seed.listing(app.storage, FRENCH, NOW, title=title, latitude=lat, longitude=lon)
    await seed.listing(app.storage, FRENCH, NOW, title="Nowhere in particular")
    user = await reader(server, app)
    await user.send_location(48.55, 7.7)
    near = await user.wait_for_bot_message()
    assert near.text.index("1. 🟢 Strasbourg") < near.text.index("2. 🟢 Kehl")
    assert "Colmar" not in near.text and "📍 within 50 km of your location" in near.text
    assert " · 5 km · " in near.text  # the distance of each result
    wider = await tap(user, "200 km")
    assert wider.id == near.id and "3. 🟢 Colmar" in wider.text and "Paris" not in wider.text
    assert "✓ 200 km" in wider.button_labels
    narrow = await tap(user, "10 km")
    assert "Strasbourg" in narrow.text and "Colmar" not in narrow.text
    await user.press("✓ 10 km")  # the current radius: answered, nothing edited
    assert (await user.wait_for_callback_answer()).text is None
    assert user.last_bot_message.text == narrow.text
    assert server.errors() == []


async def test_near_me_from_browse_keeps_the_filters(server, app):
    _ = translator("bg").gettext
    await owners(app)
    for kind in ("offer", "request"):
        await seed.listing(
            app.storage, FRENCH, NOW, title=f"A {kind}", kind=kind, latitude=48.57, longitude=7.75
        )
    user = await reader(server, app, "bg")
    closed = await browse(user, "bg", "🔴 Requests", None, _("📡 Near me"))
    assert closed.button_labels == []  # the choices are closed while the location is asked
    prompt = await user.wait_for_bot_message()
    assert prompt.text == plain(
        _(
            "Share your location with the button below (from your phone), or send any "
            "location from the attachment menu."
        )
    )
    await user.tap_reply_button(_("📍 Send my location"), location=(48.55, 7.7))
    results = await user.wait_for_bot_message(lambda m: bool(m.inline_keyboard))
    assert "A request" in results.text and "A offer" not in results.text
    assert user.reply_keyboard is None
    # Cancelling the question instead.
    await says(user, "/browse")
    await tap(user, _("🟢🔴 Both"))
    await tap(user, _("All categories"))
    await tap(user, _("📡 Near me"))
    await user.wait_for_bot_message()  # the question, with the location button
    hint = await says(user, "Strasbourg")
    assert hint.text == _("Please share a location with the button below, or send /cancel.")
    await user.tap_reply_button(_("✖️ Cancel"))
    cancelled = await user.wait_for_bot_message()
    assert cancelled.text == _("Search cancelled.")
    assert server.errors() == []


async def test_nothing_found_offers_wider_searches_that_work(server, app):
    await owners(app)
    await seed.listing(app.storage, AUSTRIAN, NOW, title="Doctor wanted", kind="request",
                       category="health", country="AT")  # fmt: skip
    user = await reader(server, app)
    empty = await browse(user, "en", "🟢 Offers", "equipment", "📍 Vosges")
    assert "Nothing found" in empty.text
    assert empty.button_labels == [
        "All categories",
        "🟢🔴 Offers and requests",
        "🇫🇷 France",
        "🇪🇺 All of Europe",
        "🔧 Change filters",
    ]
    step = await tap(user, "All categories")
    assert "Nothing found" in step.text and "All categories" not in step.button_labels
    step = await tap(user, "🟢🔴 Offers and requests")
    step = await tap(user, "🇫🇷 France")
    assert "Nothing found" in step.text and "🇫🇷 France" in step.text
    found = await tap(user, "🇪🇺 All of Europe")
    assert found.id == empty.id and "Doctor wanted" in found.text
    assert len(bot_messages(user)) == 1
    again = await tap(user, "🔧 Change filters")
    assert again.id == empty.id and "What are you looking for?" in again.text
    assert server.errors() == []


async def test_stale_and_forged_buttons_change_nothing(server, app):
    await owners(app)
    for index in range(7):
        await seed.listing(app.storage, FRENCH, NOW - index, title=f"Pump {index}")
    user = await reader(server, app)
    old = await says(user, "/search pump")
    new = await says(user, "/search pump")
    presses = [
        (old.id, data_of(old, "Next ▶"), "This search is no longer active."),
        (new.id, data_of(old, "Next ▶"), "This search is no longer active."),
        (old.id, data_of(new, "Next ▶"), "This search is no longer active."),
    ]
    sid = data_of(new, "Next ▶").split(":")[1]
    for forged in ("p:99", "p:-1", "p:x", "p:99999999", "r:10", "w:cat", "c:equipment", "k:all"):
        presses.append((new.id, f"br:{sid}:{forged}", "This button is no longer valid."))
    presses.append((new.id, "br:zzz", "This button is no longer active."))
    for message_id, data, answer in presses:
        await user.press_data(message_id, data)
        assert (await user.wait_for_callback_answer()).text.startswith(answer), data
    assert len(user.callback_answers) == len(presses)  # each answered exactly once
    assert [m.text for m in bot_messages(user)] == [old.text, new.text]
    assert not any(m.edited for m in bot_messages(user))
    assert server.errors() == []


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_opening_a_result_shows_the_card_and_counts_a_view(server, app, language):
    _ = translator(language).gettext
    await owners(app)
    listing = await seed.listing(app.storage, FRENCH, NOW, title="Pompe <neuve>")
    user = await reader(server, app, language)
    await says(user, "/search pompe")
    card = await tap(user, "1")
    assert "Pompe <neuve>" in card.text
    assert card.button_labels == [_("🙋 I'm interested"), _("📤 Share"), _("🚩 Report")]
    link = f"https://t.me/{BOT_USERNAME}?start=l{listing.id}"
    share = card.inline_keyboard[1][0]["url"]
    assert share.startswith("https://t.me/share/url?url=" + quote(link, safe=""))
    assert (await app.storage.get_listing(listing.id)).views == 1
    assert server.errors() == []


@pytest.mark.parametrize("language", ["en", "bg"])
async def test_deep_link_opens_a_listing_or_says_it_is_gone(server, app, language):
    _ = translator(language).gettext
    await owners(app)
    listing = await seed.listing(app.storage, FRENCH, NOW, title="Used fire pump")
    user = await reader(server, app, language)
    card = await says(user, f"/start l{listing.id}")
    assert "Used fire pump" in card.text
    gone = await says(user, "/start l999999")
    assert gone.text == _("This listing does not exist or is no longer available.")
    assert server.errors() == []


async def test_the_menu_button_and_help(server, app):
    user = await reader(server, app, "fr")
    _ = translator("fr").gettext
    await says(user, "/start")
    kinds = await tap(user, _("🔎 Browse"))
    assert _("What are you looking for?") in kinds.text and not kinds.edited
    help_text = await says(user, "/help")
    assert "/browse" in help_text.text and "/search" in help_text.text
    assert server.errors() == []


async def test_a_search_survives_a_restart(server, settings):
    async with running(settings) as bot:
        bot.clock = lambda: NOW
        await owners(bot)
        for index in range(6):
            await seed.listing(bot.storage, FRENCH, NOW - index, title=f"Pump {index}")
        user = await reader(server, bot)
        first = await says(user, "/search pump")
    async with running(settings) as bot:
        bot.clock = lambda: NOW
        second = await tap(user, "Next ▶")
        assert second.id == first.id and "6. 🟢 Pump 5" in second.text
    assert server.errors() == []


@pytest.mark.parametrize("language", ["en", "fr", "pl"])
async def test_past_a_thousand_results_the_count_says_so_and_pages_go_on(
    server, app, settings, language
):
    t = translator(language)
    _ = t.gettext
    await owners(app)
    # 1,003 offers in France, two to a second: pages must neither skip nor repeat a tie.
    with sqlite3.connect(settings.database_path) as db:
        db.executemany(
            """INSERT INTO listings (owner_id, kind, category, title, description, language,
                   country, region, place, reach, published_at, expires_at, status_changed_at)
               VALUES (?, 'offer', 'equipment', ?, 'A pump.', 'fr', 'FR', 'Vosges', '',
                       'country', ?, ?, ?)""",
            [(FRENCH, f"Pump {n}", NOW - n // 2, NOW + DAY, NOW) for n in range(1003)],
        )
    user = await reader(server, app, language)
    first = await browse(user, language, "🟢 Offers", None, f"🇫🇷 {t.country('FR')}")
    capped = t.number(1000) + "+"
    head = t.ngettext("{count} result", "{count} results", 1000).format(count=capped)
    pages = _("page {page} of {pages}")
    assert head in first.text and pages.format(page=1, pages=t.number(200) + "+") in first.text
    # Newest first, the later-inserted (higher id) first within a second: 1, 0, 3, 2, 5...
    order = [n + 1 - 2 * (n % 2) for n in range(15)]
    second = await tap(user, _("Next ▶"))
    third = await tap(user, _("Next ▶"))
    for number, n in enumerate(order, start=1):
        page = (first, second, third)[(number - 1) // 5]
        assert f"{number}. 🟢 Pump {n}\n" in page.text
    assert pages.format(page=3, pages=t.number(200) + "+") in third.text
    back = await tap(user, _("◀ Previous"))
    assert back.text == second.text
    # A page no button has reached is refused, not computed.
    sid = data_of(back, _("Next ▶")).split(":")[1]
    await user.press_data(back.id, f"br:{sid}:p:7")
    assert (await user.wait_for_callback_answer()).text == _("This button is no longer valid.")
    assert server.errors() == []
