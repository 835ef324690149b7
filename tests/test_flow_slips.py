"""Small slips in the flows, over HTTP: a preview that is not published yet, the location hint
after its question, /mylistings naming the municipality only to its officials, a listing's
language found from its text and corrected at the preview, the broadcast audience's languages
by name in rows, and a chat's command menu in the language its person chose."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from babel.dates import format_timedelta
from telegram import BotCommandScopeChat

from bot.dialogs import posting as q
from bot.i18n import LANGUAGES, autonym, cldr_locale, translator
from bot.views import cards
from bot.views.command_menu import COMMANDS, menu_texts
from tests import seed
from tests.talk import containing, onboard, plain, says, taps
from tests.test_broadcast import admin_of
from tests.test_posting import Answers, T, listings, publish, question, tap, walk_to_preview

GREEK_TITLE = "Πυροσβεστικό όχημα για γειτονικό χωριό"
GREEK_TEXT = "Πυροσβεστικό όχημα του 1998 σε καλή κατάσταση. Μπορούμε να το φέρουμε τον Μάιο."


# --- the preview ---------------------------------------------------------------------------


async def test_the_preview_is_not_published_yet_and_the_card_then_is(server, bot):
    bot.clock = lambda: T
    for language in ("en", "el", "de"):
        t = translator(language)
        _ = t.gettext
        user = server.create_user(f"Author {language}", language_code=language)
        await onboard(user, language)
        preview = await walk_to_preview(user, language)  # one month
        month = format_timedelta(timedelta(days=30), locale=cldr_locale(language))
        assert (
            _("🕒 Not published yet · open for {duration} once published").format(duration=month)
            in preview.text
        )
        assert _("just now") not in preview.text
        _confirmation, card = await publish(user, language)
        assert _("just now") in card.text  # published now, and the card says so
    assert server.errors() == []


# --- the location hint ---------------------------------------------------------------------


def location_button(message) -> bool:
    keyboard = (message.reply_markup or {}).get("keyboard") or []
    return any(isinstance(b, dict) and b.get("request_location") for row in keyboard for b in row)


async def test_the_location_hint_follows_its_question(server, bot):
    """The question first (with the location button below the text field), then the hint
    about that button, with the other choices: posting's place, and an alert's place."""
    bot.clock = lambda: T
    t = translator("fr")
    _ = t.gettext
    user = server.create_user("Lea", language_code="fr")
    await onboard(user, "fr")
    await says(user, "/post")
    await tap(user, _(q.KIND_CHOICES["offer"]))
    await tap(user, cards.category_label(t, "equipment"))
    await tap(user, _("✅ Done"))
    await user.send_text("Motopompe")
    await question(user)
    await user.send_text("Une motopompe en bon état, disponible en mai.")
    asked = await user.wait_for_bot_message()
    hint = await user.wait_for_bot_message()
    assert asked.text == plain(
        _("Where is it? Use your profile's place, share a location, or choose another place.")
    )
    assert location_button(asked) and not asked.inline_keyboard
    assert hint.text == _("To share a location, use the button below the text field.")
    assert hint.id > asked.id and _("🌍 Another place") in hint.button_labels

    await says(user, "/cancel")
    await says(user, "/alerts")
    await tap(user, _("➕ New alert"))
    await tap(user, _("🟢🔴 Both"))
    await user.press(_("✅ Any category"))
    await user.wait_for_bot_message(containing(_("Choose the area:")))
    await user.press(_("📍 Around a place"))
    asked = await user.wait_for_bot_message()
    hint = await user.wait_for_bot_message()
    assert asked.text == _("Around which place? Share a location.")
    assert location_button(asked) and not asked.inline_keyboard
    assert hint.text == _("To share a location, use the button below the text field.")
    assert hint.id > asked.id and hint.inline_keyboard
    assert server.errors() == []


# --- /mylistings -----------------------------------------------------------------------------


async def test_my_listings_names_the_municipality_only_to_its_officials(server, bot):
    """Only a verified official sees the municipality's listings, and is told so."""
    for language in ("en", "fr"):
        t = translator(language)
        mayor, volunteer, association, claimant = (
            (100 + 10 * LANGUAGES.index(language) + i) for i in range(4)
        )
        await seed.member(bot.storage, mayor, language=language)
        await seed.verified(bot.storage, mayor)
        await seed.member(bot.storage, volunteer, language=language, role="volunteer")
        await seed.member(bot.storage, association, language=language, role="organisation")
        await seed.member(bot.storage, claimant, language=language, country="AT", place="Graz")
        for person in (mayor, volunteer, association, claimant):
            await seed.listing(bot.storage, person, int(time.time()), title=f"By {person}")
        for person, municipal in ((mayor, True), (volunteer, False), (association, False),
                                  (claimant, False)):  # fmt: skip
            user = server.create_user(f"P{person}", language_code=language, user_id=person)
            shown = await says(user, "/mylistings")
            count = len(await bot.storage.listings_of(person))
            heading = (
                t.ngettext(
                    "<b>Your listings</b> (and your municipality's): {count}",
                    "<b>Your listings</b> (and your municipality's): {count}",
                    count,
                )
                if municipal
                else t.ngettext(
                    "<b>Your listings</b>: {count}", "<b>Your listings</b>: {count}", count
                )
            )
            assert shown.text.split("\n")[0] == plain(heading.format(count=t.number(count)))
    assert server.errors() == []


# --- the language a listing is written in ------------------------------------------------------


async def test_a_listing_is_in_the_language_of_its_text_and_the_author_may_correct_it(server, bot):
    """A Greek reader writing in English gets "written in English", may say French instead
    (a forged language changes nothing), and the listing is published in French."""
    bot.clock = lambda: T
    t = translator("el")
    _ = t.gettext
    user = server.create_user("Eleni", language_code="el")
    await onboard(user, "el")
    preview = await walk_to_preview(user, "el")  # English title and description
    english = _("🗣 Written in: {language} — change").format(language=t.language_name("en"))
    assert english in preview.button_labels
    assert _("🗣 Written in {language}").format(language=t.language_name("en")) in preview.text
    choices = await tap(user, english)
    assert choices.text == _("In which language is your listing written?")
    assert "✓ " + autonym("en") in choices.button_labels
    assert [label.removeprefix("✓ ") for label in choices.button_labels[: len(LANGUAGES)]] == [
        autonym(code) for code in LANGUAGES
    ]
    await user.press_data(choices.id, "po:lang:xx")
    assert (await user.wait_for_callback_answer()).text == _("This button is no longer valid.")
    again = await tap(user, autonym("fr"))
    french = _("🗣 Written in: {language} — change").format(language=t.language_name("fr"))
    assert french in again.button_labels and again.text.startswith(preview.text.split("\n")[0])
    await publish(user, "el")
    [listing] = await listings(bot, user)
    assert listing.language == "fr"
    assert server.errors() == []


async def test_a_greek_text_from_an_english_interface_is_greek(server, bot):
    bot.clock = lambda: T
    t = translator("en")
    user = server.create_user("Nikos", language_code="en")
    await onboard(user, "en")
    preview = await walk_to_preview(user, "en", Answers(title=GREEK_TITLE, description=GREEK_TEXT))
    greek = t.gettext("🗣 Written in: {language} — change").format(language=t.language_name("el"))
    assert greek in preview.button_labels
    await publish(user, "en")
    [listing] = await listings(bot, user)
    assert listing.language == "el"


# --- the broadcast audience -------------------------------------------------------------------


async def test_the_audience_shows_each_language_by_its_name_in_rows_of_three(server, bot):
    admin = admin_of(server)
    E = translator("en").gettext
    await says(admin, "/broadcast")
    await taps(admin, autonym("en"))
    await says(admin, "Hello «audience»")
    audience = await taps(admin, E("➡ Choose the audience"))
    rows = [
        [button["text"] for button in row]
        for row in audience.inline_keyboard
        if any(button["callback_data"].startswith("bc:l:") for button in row)
    ]
    assert [label for row in rows for label in row] == [autonym(code) for code in LANGUAGES]
    assert all(1 <= len(row) <= 3 for row in rows)
    await admin.press(autonym("el"))
    ticked = await admin.wait_for_bot_message(include_edits=True)
    assert "✓ " + autonym("el") in ticked.button_labels
    assert server.errors() == []


# --- a chat's command menu ------------------------------------------------------------------


async def chat_menu(bot, user) -> list[tuple[str, str]]:
    """The command menu set for this user's chat alone (getMyCommands with its scope)."""
    found = await bot.bot.get_my_commands(scope=BotCommandScopeChat(user.id))
    return [(c.command, c.description) for c in found]


def in_language(language: str) -> list[tuple[str, str]]:
    commands, _description, _short = menu_texts(language)
    return [(c.command, c.description) for c in commands]


async def test_language_gives_the_chat_its_menu_and_deleteme_takes_it_away(server, bot):
    await asyncio.wait_for(bot.menu_published, 30)
    user = server.create_user("Lea", language_code="en")
    other = server.create_user("Other", language_code="en")
    await onboard(user, "en")
    assert await chat_menu(bot, user) == []  # the Telegram language's, published for all
    await says(user, "/language")
    await user.press(autonym("fr"))
    await user.wait_for_bot_message(include_edits=True)  # "Language set", after the menu
    assert await chat_menu(bot, user) == in_language("fr")
    assert [(c["command"], c["description"]) for c in user.visible_commands()] == in_language("fr")
    assert [(c["command"], c["description"]) for c in other.visible_commands()] == in_language("en")
    # Serbian in Latin script has no code of its own at Telegram: only a chat menu shows it.
    await says(user, "/language")
    await user.press(autonym("sr_Latn"))
    await user.wait_for_bot_message(include_edits=True)
    assert await chat_menu(bot, user) == in_language("sr_Latn")
    # Erasing forgets the chosen language, and the chat's menu with it.
    _ = translator("sr_Latn").gettext
    await says(user, "/deleteme")
    await user.press(_("🗑 Yes, erase everything"))
    await user.wait_for_bot_message(include_edits=True)
    assert await chat_menu(bot, user) == []
    assert [c["command"] for c in user.visible_commands()] == [name for name, _d in COMMANDS]
    assert server.errors() == []


async def test_onboarding_sets_a_chat_menu_only_for_another_language(server, bot):
    await asyncio.wait_for(bot.menu_published, 30)
    german = server.create_user("Jana", language_code="de")
    await says(german, "/start")
    await taps(german, autonym("fr"))  # another language than the app's
    assert await chat_menu(bot, german) == in_language("fr")
    french = server.create_user("Marie", language_code="fr")
    await says(french, "/start")
    await taps(french, "✓ " + autonym("fr"))  # the app's own: its menu is already French
    assert await chat_menu(bot, french) == []
    assert [(c["command"], c["description"]) for c in french.visible_commands()] == (
        in_language("fr")
    )
    serbian = server.create_user("Milan", language_code="sr-Latn")
    await says(serbian, "/start")
    await taps(serbian, "✓ " + autonym("sr_Latn"))  # Telegram would show the Cyrillic menu
    assert await chat_menu(bot, serbian) == in_language("sr_Latn")
    assert server.errors() == []
