"""Posting an offer or a request through the real Application and the local Bot API server."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_relative_datetime, get_relative_name
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardMarkup

from bot import taxonomy
from bot.app import running
from bot.context import BotContext
from bot.dialogs import posting as q
from bot.i18n import LANGUAGES, translator
from bot.places.countries import flag
from bot.storage.listings import DAY
from bot.views import cards
from bot.views.html import visible_length
from tests.talk import onboard, plain, says, taps
from tests.test_bad_input import PNG

T = 1_800_000_000  # the application's clock in these tests
PROFILE_PLACE = "Sveti Vlas"  # where talk.onboard puts everyone


@dataclass(frozen=True)
class Answers:
    kind: str = "offer"
    category: str = "equipment"
    tags: tuple[str, ...] = ("vehicles", "fire_rescue")
    title: str = "Fire engine for a neighbouring village"
    description: str = "A 1998 fire engine in working order.\nWe can bring it over in May."
    place: str | tuple[float, float] = "profile"  # or "other", or a location to share
    country: str = "FR"
    typed_place: str = "Saint-Dié"
    reach: str = "region"
    photo: bytes | None = None
    duration: str = "1m"


@pytest.fixture
def bot(bot):
    """The running bot, its clock stopped at T."""
    bot.clock = lambda: T
    return bot


async def question(user):
    """The bot's next message with buttons: every step's question ends with one."""
    return await user.wait_for_bot_message(lambda message: bool(message.inline_keyboard))


async def tap(user, label):
    """Press ``label``: the next question, usually the pressed one edited into it."""
    return await taps(user, label, lambda message: bool(message.inline_keyboard))


async def type_in(user, text):
    await user.send_text(text)
    return await question(user)


async def walk_to_preview(user, language: str, a: Answers = Answers()):
    """/post and every step with the labels a reader of ``language`` sees; returns the card."""
    t = translator(language)
    _ = t.gettext
    await type_in(user, "/post")
    await tap(user, _(q.KIND_CHOICES[a.kind]))
    await tap(user, cards.category_label(t, a.category))
    for tag in a.tags:
        await user.press(_(taxonomy.TAG_NAMES[tag]))
        await user.wait_for_callback_answer()
    await tap(user, _("✅ Done"))
    await type_in(user, a.title)
    await type_in(user, a.description)
    await choose_place(user, language, a)
    await tap(user, _(cards.REACH_LABELS[a.reach]))
    if a.photo is not None:
        await user.send_photo(a.photo)
        await question(user)
    else:
        await tap(user, _("Skip"))
    return await tap(user, _(q.DURATION_LABELS[a.duration]))


async def choose_place(user, language: str, a: Answers):
    t = translator(language)
    _ = t.gettext
    if a.place == "profile":
        return await tap(user, _("📍 Use my profile's place: {place}").format(place=PROFILE_PLACE))
    if a.place == "other":
        await tap(user, _("🌍 Another place"))
        await tap(user, f"{flag(a.country)} {t.country(a.country)}")
        return await type_in(user, a.typed_place)
    await user.tap_reply_button(_("📍 Share a location"), location=a.place)
    nearest = await question(user)
    return await tap(user, nearest.button_labels[0])  # the nearest place


async def publish(user, language: str):
    """Tap Publish; returns the confirmation and the listing's card."""
    await user.press(translator(language).gettext("✅ Publish"))
    confirmation = await user.wait_for_bot_message()
    return confirmation, await user.wait_for_bot_message()


async def listings(bot, user):
    """The user's own listings (listings_of adds their municipality's)."""
    return [x for x in await bot.storage.listings_of(user.id) if x.owner_id == user.id]


# --- the whole dialog ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", taxonomy.KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_post_in_each_language(server, bot, language, kind):
    t = translator(language)
    _ = t.gettext
    user = server.create_user("Mila", language_code=language)
    await onboard(user, language)
    a = Answers(kind=kind, place="profile" if kind == "offer" else "other", reach="country")
    preview = await walk_to_preview(user, language, a)

    assert a.title in preview.text and "We can bring it over in May." in preview.text
    assert cards.category_label(t, "equipment") in preview.text
    # The text is English whatever the interface: that is the language the card names.
    written_in = _("🗣 Written in: {language} — change").format(language=t.language_name("en"))
    assert preview.button_labels == [_("✅ Publish"), written_in, _("⬅ Back"), _("✖️ Cancel")]
    confirmation, card = await publish(user, language)
    assert confirmation.text == plain(
        _("✅ Published! Here is your listing; you will find it in /mylistings.")
    )

    [listing] = await listings(bot, user)
    assert (listing.kind, listing.category) == (kind, "equipment")
    assert listing.tags == ("fire_rescue", "vehicles")
    assert (listing.title, listing.description) == (a.title, a.description)
    assert listing.language == "en" and listing.reach == "country"
    if kind == "offer":
        assert (listing.place, listing.region, listing.country) == (PROFILE_PLACE, "Burgas", "BG")
    else:
        assert (listing.place, listing.region, listing.country) == ("Saint-Dié", "", "FR")
        assert listing.latitude is None
    assert listing.published_at == T and listing.expires_at == T + 30 * DAY
    assert listing.photo_file_id is None and listing.author_name == PROFILE_PLACE
    assert card.text.startswith(preview.text.split("\n")[0])  # the same card, now the owner's
    assert _("✏️ Edit") in card.button_labels
    assert user.reply_keyboard is None  # the place step's location keyboard is put away
    assert await bot.storage.get_draft(user.id) is None
    assert server.errors() == []


async def test_the_menu_button_and_a_shared_location(server, bot):
    user = server.create_user("Ivan", language_code="bg")
    menu = await onboard(user, "bg")
    _ = translator("bg").gettext
    assert menu.button_labels[0] == _("➕ Post an offer or request")
    await user.press(menu.button_labels[0])
    kind = await question(user)
    assert _(q.KIND_CHOICES["request"]) in kind.button_labels
    await tap(user, _(q.KIND_CHOICES["request"]))
    await tap(user, cards.category_label(translator("bg"), "health"))
    await tap(user, _("✅ Done"))  # no tags
    await type_in(user, "Търсим лекар")
    await type_in(user, "Общопрактикуващ лекар, два дни в седмицата.")
    # At sea first: refused, the step stays.
    await user.tap_reply_button(_("📍 Share a location"), location=(43.0, 5.0))
    refusal = await user.wait_for_bot_message()
    assert refusal.text == plain(
        _(
            "I could not find a town near that point (it may be at sea). "
            "Please share another location or choose the place with the buttons."
        )
    )
    # Outside the served countries: said, then the country is asked; a location still works.
    await user.send_location(35.6762, 139.6503)  # Tokyo
    refusal = await user.wait_for_bot_message()
    assert refusal.text == plain(
        _(
            "{country} is not among the countries we serve yet. "
            "Please choose a country from the list."
        ).format(country=translator("bg").country("JP"))
    )
    countries = await question(user)
    assert countries.text == _("Choose the country (or type its name):")
    draft = await bot.storage.get_draft(user.id)
    assert "nearby" not in draft and "latitude" not in draft  # nothing kept from Tokyo
    await user.send_location(42.6977, 23.3219)  # Sofia
    nearest = await question(user)
    assert nearest.button_labels[0].startswith("📍 София")
    reach = await tap(user, nearest.button_labels[0])
    await tap(user, _(cards.REACH_LABELS["municipality"]))
    await tap(user, _("Skip"))
    await tap(user, _("6 months"))
    await publish(user, "bg")
    [listing] = await listings(bot, user)
    assert listing.country == "BG" and listing.latitude == pytest.approx(42.6977, abs=0.1)
    assert listing.tags == () and listing.expires_at == T + 182 * DAY
    assert reach.text == _("Who is it for? Choose how far it reaches:")
    assert server.errors() == []


async def test_a_photo_listing_shows_a_caption_card(server, bot):
    user = server.create_user("Lea", language_code="fr")
    await onboard(user, "fr")
    preview = await walk_to_preview(user, "fr", Answers(photo=PNG, description="x" * 1900))
    sent = [m for m in user.messages if m.photo and not m.from_bot][-1]
    assert preview.photo and preview.caption and preview.text is None
    assert visible_length(preview.caption) <= cards.CAPTION_LIMIT
    assert "…" in preview.caption  # the description was shortened to fit the caption
    _confirmation, card = await publish(user, "fr")
    [listing] = await listings(bot, user)
    assert listing.photo_file_id == sent.photo[-1]
    assert card.photo and card.caption.startswith(preview.caption.split("\n")[0])
    assert listing.description == "x" * 1900  # stored whole, only the card is short
    assert server.errors() == []


# --- back, cancel, drafts and restarts --------------------------------------------------------


async def test_back_on_every_step_keeps_the_answers(server, bot):
    _ = translator("en").gettext
    user = server.create_user("Otto", language_code="en")
    await onboard(user, "en")
    await walk_to_preview(user, "en")
    expected = [
        "How long should it stay open?",
        "Add a photo?",
        "Who is it for?",
        "To share a location",  # after "Where is it?", with the place step's buttons
        "Describe it",
        "Type a short title",
        "Tap the tags",
        "Which category fits best?",
        "What would you like to post?",
    ]
    for text in expected:
        asked = await tap(user, _("⬅ Back"))
        assert text in asked.text
    assert "⬅ Back" not in asked.button_labels  # the first step has only Cancel
    assert "✓ " + _(q.KIND_CHOICES["offer"]) in asked.button_labels
    await tap(user, "✓ " + _(q.KIND_CHOICES["offer"]))
    await tap(user, "✓ " + cards.category_label(translator("en"), "equipment"))
    title = await tap(user, _("✅ Done"))
    assert "Fire engine for a neighbouring village" in title.text
    description = await tap(user, _("➡ Keep it as it is"))
    assert "We can bring it over in May." in description.text
    await tap(user, _("➡ Keep it as it is"))
    await choose_place(user, "en", Answers())
    await tap(user, "✓ " + _(cards.REACH_LABELS["region"]))
    await tap(user, _("Skip"))
    await tap(user, "✓ " + _("1 month"))
    await publish(user, "en")
    [listing] = await listings(bot, user)
    assert listing.title == "Fire engine for a neighbouring village"
    assert listing.tags == ("fire_rescue", "vehicles")
    assert server.errors() == []


async def test_cancel_deletes_the_draft(server, bot):
    _ = translator("de").gettext
    user = server.create_user("Hans", language_code="de")
    await onboard(user, "de")
    await type_in(user, "/post")
    await tap(user, _(q.KIND_CHOICES["offer"]))
    assert await bot.storage.get_draft(user.id) is not None
    await user.press(_("✖️ Cancel"))
    cancelled = await user.wait_for_bot_message()
    assert cancelled.text == plain(
        _("Cancelled: your draft is deleted. Send /post when you want to post something.")
    )
    assert await bot.storage.get_draft(user.id) is None
    # /cancel works as well, and a new /post starts afresh.
    await type_in(user, "/post")
    await tap(user, _(q.KIND_CHOICES["request"]))
    await tap(user, cards.category_label(translator("de"), "services"))
    assert (await says(user, "/cancel")).text == cancelled.text
    assert await bot.storage.get_draft(user.id) is None
    assert (await says(user, "/cancel")).text == _("There is nothing to cancel.")
    kind = await type_in(user, "/post")
    assert kind.button_labels[0] == _(q.KIND_CHOICES["offer"])  # the first question again
    assert server.errors() == []


async def test_restart_in_the_middle_resumes_at_the_same_step(server, settings):
    _ = translator("fr").gettext
    user = server.create_user("Marie", language_code="fr")
    async with running(settings) as bot:
        bot.clock = lambda: T
        await onboard(user, "fr")
        await type_in(user, "/post")
        await tap(user, _(q.KIND_CHOICES["request"]))
        await tap(user, cards.category_label(translator("fr"), "staff"))
        await tap(user, _("✅ Done"))
        await type_in(user, "Secrétaire de mairie à temps partiel")
        draft = await bot.storage.get_draft(user.id)
        assert draft["title"] == "Secrétaire de mairie à temps partiel"
        assert draft["step"] == q.TYPING_DESCRIPTION
    # The bot is down; it comes back with the same database.
    async with running(settings) as bot:
        bot.clock = lambda: T
        place = await type_in(user, "Deux jours par semaine, de mars à juin.")
        assert place.text == _("To share a location, use the button below the text field.")
        await choose_place(user, "fr", Answers())
        await tap(user, _(cards.REACH_LABELS["europe"]))
        await tap(user, _("Skip"))
        await tap(user, _("3 months"))
        await publish(user, "fr")
        [listing] = await listings(bot, user)
        assert listing.title == "Secrétaire de mairie à temps partiel"
        assert listing.category == "staff" and listing.reach == "europe"
    assert server.errors() == []


async def test_post_offers_to_continue_a_draft(server, bot):
    _ = translator("en").gettext
    user = server.create_user("Sam", language_code="en")
    await onboard(user, "en")
    # A draft without a conversation (as after a refusal at Publish, or an older version).
    draft = {"kind": "offer", "category": "goods", "tags": ["wood"], "title": "Oak <planks>"}
    await bot.storage.save_draft(user.id, {**draft, "step": q.TYPING_DESCRIPTION}, T)
    offer = await type_in(user, "/post")
    assert "Oak <planks>" in offer.text
    assert offer.button_labels[:2] == [_("▶️ Continue the draft"), _("🆕 Start afresh")]
    # /cancel while deciding keeps the draft.
    kept = await says(user, "/cancel")
    assert kept.text.startswith("Nothing changed: your draft is kept.")
    assert (await bot.storage.get_draft(user.id))["title"] == "Oak <planks>"
    await type_in(user, "/post")
    asked = await tap(user, _("▶️ Continue the draft"))
    assert "Describe it" in asked.text
    await type_in(user, "Twenty oak planks, two metres long.")
    assert (await bot.storage.get_draft(user.id))["description"].startswith("Twenty")
    # Start afresh deletes it.
    await says(user, "/cancel")
    await bot.storage.save_draft(user.id, {**draft, "step": q.PREVIEWING}, T)
    await type_in(user, "/post")
    kind = await tap(user, _("🆕 Start afresh"))
    assert "What would you like to post?" in kind.text
    assert await bot.storage.get_draft(user.id) is None
    # A draft whose step is ahead of its answers resumes at the first unanswered step.
    await tap(user, _(q.KIND_CHOICES["offer"]))
    await says(user, "/cancel")
    await bot.storage.save_draft(user.id, {**draft, "step": q.PREVIEWING}, T)
    await type_in(user, "/post")
    asked = await tap(user, _("▶️ Continue the draft"))
    assert "Describe it" in asked.text
    assert server.errors() == []


async def test_commands_in_the_middle_show_the_step_again(server, bot):
    user = server.create_user("Nina", language_code="en")
    await onboard(user, "en")
    await type_in(user, "/post")
    await tap(user, q.KIND_CHOICES["offer"])
    asked = await tap(user, cards.category_label(translator("en"), "premises"))
    again = await type_in(user, "/post")
    assert again.text == asked.text
    help_text = await says(user, "/help")
    assert "/post" in help_text.text
    latest = await question(user)
    assert latest.text == asked.text
    # One live copy of the step: the copies shown before lost their buttons.
    copies = [m for m in user.messages if m.text == asked.text]
    assert [bool(m.inline_keyboard) for m in copies] == [False, False, True]
    profile = await says(user, "/profile")
    assert "Sveti Vlas" in profile.text
    await user.press_data(latest.id, "po:tag:office")  # the dialog is where it was
    assert (await user.wait_for_callback_answer()).text is None
    await says(user, "/language")
    french = await tap(user, "Français")
    assert french.text.startswith(cards.category_label(translator("fr"), "premises"))
    assert translator("fr").gettext("✅ Done") in french.button_labels
    # /start shows the menu, then the step the user is on.
    await user.send_text("/start")
    menu = await user.wait_for_bot_message()
    assert menu.text == translator("fr").gettext("What would you like to do?")
    assert (await question(user)).text == french.text
    await user.press(menu.button_labels[0])  # the menu's Post button leads back to it too
    assert (await question(user)).text == french.text
    assert server.errors() == []


async def test_only_members_with_a_profile_may_post(server, bot):
    user = server.create_user("Ugo", language_code="en")
    refusal = await says(user, "/post")
    assert refusal.text == "Please set up your profile first: send /start."
    assert server.errors() == []


# --- bad input -------------------------------------------------------------------------------


async def walk_to_title(user, language="en"):
    _ = translator(language).gettext
    await onboard(user, language)
    await type_in(user, "/post")
    await tap(user, _(q.KIND_CHOICES["offer"]))
    await tap(user, cards.category_label(translator(language), "goods"))
    return await tap(user, _("✅ Done"))


async def test_bad_titles_and_descriptions_are_refused_clearly(server, bot):
    t = translator("de")
    _ = t.gettext
    user = server.create_user("Jana", language_code="de")
    await walk_to_title(user, "de")
    emoji = await says(user, "🔥🚒🔥")
    assert emoji.text == _("A title needs at least one letter, not only emoji or signs.")
    short = await says(user, " a\n ")
    assert short.text == _(
        "A title needs {minimum} to {maximum} characters; yours has {length}."
    ).format(minimum=3, maximum=120, length=1)
    long = await says(user, "Feuerwehr " * 20)
    assert "199" in long.text
    await user.send_photo(PNG)
    assert (await user.wait_for_bot_message()).text == _("Please answer with a text message.")
    await type_in(user, "Holz für die Schule")
    too_long = await says(user, "Brennholz " * 409 + "!!!!!!")  # 4096 characters
    assert too_long.text == t.ngettext(
        "Your description has {length} character; please shorten it to {maximum} at most.",
        "Your description has {length} characters; please shorten it to {maximum} at most.",
        4096,
    ).format(length=t.number(4096), maximum=t.number(2000))
    too_short = await says(user, "Holz")
    assert too_short.text == _(
        "Please describe it in at least {minimum} characters: what, how many, when."
    ).format(minimum=10)
    place = await type_in(user, "  Zwei Kubikmeter\n\nBuche, trocken.\x00  ")
    assert _("🌍 Another place") in place.button_labels
    draft = await bot.storage.get_draft(user.id)
    assert draft["description"] == "Zwei Kubikmeter\n\nBuche, trocken."
    assert server.errors() == []


async def test_html_markdown_and_right_to_left_text_are_shown_as_typed(server, bot):
    user = server.create_user("Eve", language_code="en")
    await walk_to_title(user)
    title = "<b>Pump</b> & *bold* _it_ `code` [x](http://e.com) &amp;"
    description = "مضخة مياه \u202ezürich\u202c\u200f <script>alert(1)</script>\n**not bold**"
    await type_in(user, title)
    await type_in(user, description)
    await choose_place(user, "en", Answers())
    await tap(user, "across the country")
    await tap(user, "Skip")
    preview = await tap(user, "1 week")
    assert title in preview.text and description in preview.text
    assert {entity["type"] for entity in preview.entities} <= {"bold", "url"}
    await publish(user, "en")
    [listing] = await listings(bot, user)
    assert (listing.title, listing.description) == (title, description)
    assert server.errors() == []


async def test_text_where_a_photo_is_expected_and_odd_messages(server, bot):
    _ = translator("fr").gettext
    user = server.create_user("Luc", language_code="fr")
    await walk_to_title(user, "fr")
    await type_in(user, "Bois de chauffage")
    await type_in(user, "Deux stères de hêtre sec.")
    await user.send_text("Paris")  # typed instead of choosing
    assert (await user.wait_for_bot_message()).text == _(
        "Please use the buttons above, or share a location."
    )
    await choose_place(user, "fr", Answers())
    await tap(user, _(cards.REACH_LABELS["region"]))
    refusal = await says(user, "voici la photo")
    assert refusal.text == _("Please send a photo (as a picture, not as a file), or tap Skip.")
    await user.send_document(PNG, "photo.png")
    assert (await user.wait_for_bot_message()).text == refusal.text
    await user.send_location(48.85, 2.35)
    assert (await user.wait_for_bot_message()).text == refusal.text
    duration = await tap(user, _("Skip"))
    assert _("1 week") in duration.button_labels
    assert server.errors() == []


async def test_a_location_outside_the_served_countries_asks_for_the_country(server, bot):
    user = server.create_user("Kim", language_code="en")
    await walk_to_title(user)
    await type_in(user, "Old school desks")
    await type_in(user, "Thirty desks and chairs, good condition.")
    await user.send_location(35.6762, 139.6503)  # Tokyo
    refusal = await user.wait_for_bot_message()
    assert "Japan is not among the countries we serve yet" in refusal.text
    countries = await question(user)
    assert "🇫🇷 France" in countries.button_labels
    typed = await says(user, "Narnia")
    assert typed.text == "I do not know that country. Please choose it from the list."
    await question(user)
    place = await type_in(user, "germany")
    assert place.text == "Germany: in which town or village?"
    assert server.errors() == []


async def test_old_and_forged_buttons_change_nothing(server, bot):
    _ = translator("en").gettext
    user = server.create_user("Ola", language_code="en")
    title_prompt = await walk_to_title(user)
    # The kind, category and tags questions were this one message, edited into each next.
    category_message = title_prompt
    await type_in(user, "Spare chairs")

    async def answer_to(message, data):
        await user.press_data(message.id, data)
        return await user.wait_for_callback_answer()

    earlier = "This button belongs to an earlier step. Please use the latest one."
    gone = "This button is no longer active. Send /start to see the menu."
    # The title prompt's buttons went with the answer: a press still in flight (or forged)
    # is refused before reaching the dialog.
    assert not next(m for m in user.messages if m.id == title_prompt.id).inline_keyboard
    assert (await answer_to(title_prompt, f"po:back:{q.TYPING_TITLE}")).text == gone
    assert (await answer_to(title_prompt, f"po:keep:{q.TYPING_TITLE}")).text == gone
    assert (await answer_to(category_message, "po:cat:equipment")).text == gone
    assert (await answer_to(title_prompt, "po:publish")).text == gone
    assert (await answer_to(title_prompt, "po:nonsense:" + "x" * 40)).text == gone
    # On the current question, an earlier step's button is refused as such.
    description_prompt = user.last_bot_message
    assert (await answer_to(description_prompt, f"po:back:{q.TYPING_TITLE}")).text == earlier
    assert (await answer_to(description_prompt, "po:publish")).text == earlier
    description = await type_in(user, "Forty chairs from the old town hall.")
    place_message = description
    await choose_place(user, "en", Answers())
    reach_message = user.last_bot_message
    assert (await answer_to(reach_message, "po:reach:galaxy")).text == (
        "This button is no longer valid."
    )
    assert (await answer_to(place_message, "po:place:profile")).text in (earlier, gone)
    draft = await bot.storage.get_draft(user.id)
    assert draft["step"] == q.CHOOSING_REACH and draft["category"] == "goods"
    assert draft["title"] == "Spare chairs"
    # A stranger's forged presses reach no dialog of theirs and nobody else's.
    stranger = server.create_user("Mallory", language_code="en")
    await onboard(stranger, "en")
    for data in ("po:publish", f"po:back:{q.CHOOSING_REACH}", "po:cancel", "po:draft:afresh"):
        await stranger.press_data(reach_message.id, data)
        answer = await stranger.wait_for_callback_answer()
        assert answer.text == "This button is no longer active. Send /start to see the menu."
    assert await bot.storage.get_draft(user.id) == draft
    assert await bot.storage.get_draft(stranger.id) is None
    # Forged values at the right step are refused too.
    await tap(user, _(cards.REACH_LABELS["region"]))
    photo_message = user.last_bot_message
    assert (await answer_to(photo_message, "po:photo:keep")).text == earlier
    duration = await tap(user, _("Skip"))
    assert (await answer_to(duration, "po:dur:99y")).text == "This button is no longer valid."
    await tap(user, _("1 week"))
    assert await listings(bot, user) == []
    assert server.errors() == []


async def test_forged_kind_category_and_tags(server, bot):
    user = server.create_user("Bo", language_code="en")
    await onboard(user, "en")
    kind = await type_in(user, "/post")

    async def answer_to(message, data):
        await user.press_data(message.id, data)
        return (await user.wait_for_callback_answer()).text

    invalid = "This button is no longer valid."
    assert await answer_to(kind, "po:kind:admin") == invalid
    category = await tap(user, q.KIND_CHOICES["offer"])
    assert await answer_to(category, "po:cat:../../etc") == invalid
    tags = await tap(user, cards.category_label(translator("en"), "equipment"))
    assert await answer_to(tags, "po:tag:doctor") == invalid  # another category's tag
    assert await answer_to(tags, "po:tag:vehicles") is None  # a real one is ticked
    assert (await bot.storage.get_draft(user.id))["tags"] == ["vehicles"]
    [shown] = [m for m in user.messages if m.id == tags.id]
    assert "✓ vehicles" in shown.button_labels and shown.edited
    assert server.errors() == []


async def test_two_taps_on_publish_make_one_listing(server, bot):
    user = server.create_user("Ana", language_code="bg")
    await onboard(user, "bg")
    preview = await walk_to_preview(user, "bg")
    first = await user.press_data(preview.id, "po:publish")
    second = await user.press_data(preview.id, "po:publish")
    await user.wait_for_callback_answer(first)
    late = await user.wait_for_callback_answer(second)
    assert late.text == translator("bg").gettext(
        "This button is no longer active. Send /start to see the menu."
    )
    await user.wait_for_bot_message(lambda m: bool(m.inline_keyboard))  # the listing's card
    assert len(await listings(bot, user)) == 1
    # The old preview's other buttons are stale too.
    for data in (f"po:back:{q.PREVIEWING}", "po:cancel"):
        await user.press_data(preview.id, data)
        assert (await user.wait_for_callback_answer()).show_alert
    assert len(await listings(bot, user)) == 1
    assert server.errors() == []


# --- the daily limit ---------------------------------------------------------------------------


def again_at(now: int, then: int, zone: str) -> str:
    """'tomorrow, 5:00 AM': Babel's relative day and short time in English, in ``zone``."""
    local = ZoneInfo(zone)
    at, today = datetime.fromtimestamp(then, local), datetime.fromtimestamp(now, local)
    day = get_relative_name("day", (at.date() - today.date()).days, locale="en")
    return format_relative_datetime(day, at, format="short", tzinfo=local, locale="en")


async def test_the_daily_limit_says_when_one_may_post_again(server, bot):
    t = translator("en")
    bot.settings = dataclasses.replace(bot.settings, posts_per_day=2)
    user = server.create_user("Petar", language_code="en")
    await onboard(user, "en")
    await walk_to_preview(user, "en")
    await publish(user, "en")
    bot.clock = lambda: T + 3600
    await walk_to_preview(user, "en", Answers(title="Second listing of the day"))
    # Meanwhile the allowance drops to one: Publish is refused, the draft kept.
    bot.settings = dataclasses.replace(bot.settings, posts_per_day=1)
    await user.press("✅ Publish")
    refusal = await user.wait_for_bot_message()
    zone = "Europe/Sofia"  # onboarded in Bulgaria
    assert refusal.text == (
        q.limit_text(t, 1, T + 3600, T + DAY, zone)
        + " "
        + t.gettext("Your draft is kept until then.")
    )
    # When, in the person's own time, as CLDR says it: "tomorrow, 5:00 AM".
    assert f"You can post again {again_at(T + 3600, T + DAY, zone)}" in refusal.text
    assert (await bot.storage.get_draft(user.id))["title"] == "Second listing of the day"
    # /post is refused at once while the allowance is used up.
    bot.clock = lambda: T + 5 * 3600
    again = await says(user, "/post")
    assert again.text == q.limit_text(t, 1, T + 5 * 3600, T + DAY, zone)
    assert f"You can post again {again_at(T + 5 * 3600, T + DAY, zone)}" in again.text
    # A day later the draft is offered again and published.
    bot.clock = lambda: T + DAY + 1
    await type_in(user, "/post")
    preview = await tap(user, "▶️ Continue the draft")
    assert "Second listing of the day" in preview.text
    await publish(user, "en")
    assert len(await listings(bot, user)) == 2
    assert server.errors() == []


# --- any text makes a card Telegram accepts ------------------------------------------------


PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))


@pytest.fixture
async def reader(server, bot):
    user = server.create_user("Reader", language_code="bg")
    await onboard(user, "bg")
    await user.send_photo(PNG)  # a photo the bot may send again by its file_id
    return user


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=st.text(PRINTABLE, min_size=3, max_size=120),
    description=st.text(PRINTABLE, min_size=10, max_size=2000),
    with_photo=st.booleans(),
)
async def test_any_printable_text_makes_a_card_telegram_accepts(
    server, bot, reader, title, description, with_photo
):
    context = BotContext(bot, chat_id=reader.id, user_id=reader.id)
    context.member = await bot.storage.get_member(reader.id)
    context.i18n = translator("bg")
    photo = next(m for m in reader.messages if m.photo).photo[-1] if with_photo else None
    given_answers = dict(
        kind="request", category="community", tags=["youth", "sport"], title=title,
        description=description, country="BG", region="Burgas", place=PROFILE_PLACE,
        reach="europe", photo_file_id=photo, duration="6m",
    )  # fmt: skip
    listing = q.preview_listing(context, given_answers, "bg")
    card = cards.listing_card(
        context.i18n, listing, may_manage=False, now=T, bot_username="b", preview=True
    )
    buttons = InlineKeyboardMarkup([q.navigation(context.i18n, q.PREVIEWING)])
    if photo:
        await bot.bot.send_photo(reader.id, photo, caption=card.text, reply_markup=buttons)
    else:
        await bot.bot.send_message(reader.id, card.text, reply_markup=buttons)
    assert server.errors() == []


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("𝔘" * 120, "😀" * 2000),  # astral characters: two UTF-16 units each
        ("\u202eأداة\u202c " + "ä" * 100, ("ب\u200f" + "&<>" * 3 + "\n") * 150),
        ("a\u0301" * 60, "\u00ad\u200b\u2060 invisible but ten+ chars"),
    ],
)
async def test_odd_texts_through_the_whole_dialog(server, bot, title, description):
    user = server.create_user("Odd", language_code="en")
    await onboard(user, "en")
    preview = await walk_to_preview(
        user, "en", Answers(title=title, description=description, photo=PNG)
    )
    assert visible_length(preview.caption) <= cards.CAPTION_LIMIT
    await publish(user, "en")
    [listing] = await listings(bot, user)
    assert listing.title == title and listing.description == description.strip()
    assert server.errors() == []


async def test_concurrent_posters_do_not_mix(server, bot):
    users = [server.create_user(f"U{i}", language_code="en") for i in range(3)]
    await asyncio.gather(*(onboard(user, "en") for user in users))
    await asyncio.gather(
        *(
            walk_to_preview(user, "en", Answers(title=f"Listing of user {i}"))
            for i, user in enumerate(users)
        )
    )
    await asyncio.gather(*(publish(user, "en") for user in users))
    for i, user in enumerate(users):
        [listing] = await listings(bot, user)
        assert listing.title == f"Listing of user {i}"
    assert server.errors() == []
