"""Onboarding through the real Application and the local Bot API server, over HTTP."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import running
from bot.dialogs import onboarding
from bot.i18n import LANGUAGES, MENU_LANGUAGES, translator
from bot.views.command_menu import COMMANDS
from tests.talk import containing, onboard, plain, says, taps


@pytest.mark.parametrize("language", LANGUAGES)
async def test_full_onboarding_in_each_language(server, bot, language):
    _ = translator(language).gettext
    user = server.create_user("Mila", language_code=language)
    greeting = await says(user, "/start")
    assert greeting.text == plain(_(onboarding.WELCOME))

    menu = await onboard(user, language, population="3 500")

    assert _("👤 My profile") in menu.button_labels
    member = await bot.storage.get_member(user.id)
    assert member.onboarded and member.role == "municipality" and member.language == language
    assert (member.municipality_name, member.region, member.country) == (
        "Sveti Vlas",
        "Burgas",
        "BG",
    )
    assert member.municipality_population == 3500
    assert server.errors() == []


async def test_a_volunteer_located_by_sharing_a_location(server, bot):
    _ = translator("bg").gettext
    user = server.create_user("Ivan", language_code="bg")
    await says(user, "/start")
    await taps(user, "✓ Български")
    await taps(user, _("🤝 Volunteer"))
    confirm = await user.tap_reply_button(_("📍 Share my location"), location=(42.6977, 23.3219))
    assert confirm.location is not None
    question = await user.wait_for_bot_message()
    assert question.button_labels[0].startswith("📍 София")
    await taps(user, question.button_labels[0])
    await taps(user, _("✅ Save"))
    member = await bot.storage.get_member(user.id)
    assert member.onboarded and member.country == "BG" and member.latitude == pytest.approx(42.6977)
    assert server.errors() == []


async def test_an_organisation_and_a_skipped_region(server, bot):
    user = server.create_user("Jana", language_code="de-AT")
    await onboard(
        user,
        "de",
        role="organisation",
        country="AT",
        place="Graz",
        region=None,
        organisation="Bäckerei <Huber> & Söhne",
    )
    member = await bot.storage.get_member(user.id)
    assert member.organisation_name == "Bäckerei <Huber> & Söhne"
    assert member.region == "" and member.municipality_id is None
    assert server.errors() == []


async def test_two_officials_join_one_municipality(server, bot):
    first = server.create_user("Ana", language_code="bg")
    second = server.create_user("Petar", language_code="bg")
    await onboard(first, "bg", place="Sveti Vlas")
    await onboard(second, "bg", place="sveti vlas")
    a, b = await bot.storage.get_member(first.id), await bot.storage.get_member(second.id)
    assert a.municipality_id == b.municipality_id


async def test_start_again_after_onboarding_shows_the_menu(server, bot):
    user = server.create_user("Lea", language_code="fr")
    await onboard(user, "fr")
    menu = await says(user, "/start")
    assert menu.text == plain(translator("fr").gettext("What would you like to do?"))


async def test_commands_and_descriptions_are_published_per_language(server, bot):
    await asyncio.wait_for(bot.menu_published, 30)  # published beside the bot, not before it
    for language in MENU_LANGUAGES:
        _ = translator(language).gettext
        user = server.create_user("Reader", language_code=language)
        commands = {c["command"]: c["description"] for c in user.visible_commands()}
        assert list(commands) == [name for name, _description in COMMANDS]
        assert {"start", "post", "browse", "mylistings", "help", "cancel"} <= set(commands)
        assert commands["language"] == _("Choose your language")


async def test_profile_shows_what_was_saved_and_can_be_edited(server, bot):
    _ = translator("fr").gettext
    user = server.create_user("Lea", language_code="fr")
    await onboard(user, "fr", country="FR", place="Saint-Dié", region="Vosges", population="19500")
    card = await says(user, "/profile")
    assert "Saint-Dié" in card.text and "France" in card.text and "19\u202f500" in card.text
    await taps(user, _("✏️ Edit profile"))
    await taps(user, _("🤝 Volunteer"))
    assert user.reply_keyboard is not None  # asked where again


async def test_restart_in_the_middle_resumes_at_the_same_step(server, settings):
    _ = translator("fr").gettext
    user = server.create_user("Marie", language_code="fr")
    async with running(settings):
        await says(user, "/start")
        await taps(user, "✓ Français")
        await taps(user, _("🏛 Municipality"))
        await user.tap_reply_button(_("🌍 Choose the country"))
        await user.wait_for_bot_message()
        asked = await taps(user, "🇫🇷 France")
        assert asked.text == plain(_("{country}: what is the name of your municipality?")).format(
            country="France"
        )
    # The bot is down; it comes back with the same database.
    async with running(settings) as bot:
        region_question = await says(user, "Saint-Dié")
        assert "Saint-Dié" in region_question.text
        await says(user, "Vosges")
        await says(user, "19500")
        await taps(user, _("✅ Save"))
        await user.wait_for_bot_message(containing(plain(_("What would you like to do?"))))
        member = await bot.storage.get_member(user.id)
        assert member.municipality_name == "Saint-Dié" and member.country == "FR"


@pytest.mark.parametrize("command", ["/post", "/alerts", "/settings", "/verify"])
async def test_features_wait_for_a_profile(server, bot, command):
    """Someone who has not set up a profile gets the same answer from every feature that needs
    one, whether they type its command or press its button (forged on the welcome), and
    nothing is stored for them."""
    user = server.create_user("Ugo", language_code="en")
    refusal = await says(user, command)
    assert refusal.text == "Please set up your profile first: send /start."
    welcome = await says(user, "/start")
    for data in ("al:list", "al:new", "set:show"):
        await user.press_data(welcome.id, data)
        assert (await user.wait_for_callback_answer()).text is None
        assert (await user.wait_for_bot_message()).text == refusal.text
    assert await bot.storage.alerts_of(user.id) == []
    member = await bot.storage.get_member(user.id)
    assert member is None or not member.onboarded
    assert server.errors() == []
