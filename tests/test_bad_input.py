"""Bad input during onboarding: a clear answer in the user's language, nothing stored half-way,
and the dialog still usable afterwards."""

from __future__ import annotations

import asyncio

from bot.i18n import translator
from bot.views import texts as views
from tests.talk import containing, onboard, plain, says, taps

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def walk_to_place(user, language="en"):
    """/start → language → municipality → country France; the bot now asks for the name."""
    _ = translator(language).gettext
    await says(user, "/start")
    await taps(user, "✓ " + views.autonym(language))
    await taps(user, _("🏛 Municipality"))
    await user.tap_reply_button(_("🌍 Choose the country"))
    await user.wait_for_bot_message()
    return await taps(user, f"🇫🇷 {translator(language).country('FR')}")


async def test_refusals_are_clear_and_keep_the_step(server, bot):
    _ = translator("de").gettext
    user = server.create_user("Hans", language_code="de")
    await walk_to_place(user, "de")
    too_long = await says(user, "x" * 4096)  # the most a Telegram message holds
    assert too_long.text == _("Please type a name of {minimum} to {maximum} characters.").format(
        minimum=2, maximum=100
    )
    emoji = await says(user, "🔥🔥🔥")
    assert emoji.text == _("A name needs at least one letter.")
    await user.send_photo(PNG)
    photo = await user.wait_for_bot_message()
    assert photo.text == _("Please answer with a text message.")
    one_letter = await says(user, " . ")
    assert one_letter.text == too_long.text
    # Still on the same step: a good answer moves on.
    region = await says(user, "Straßburg")
    assert "Straßburg" in region.text
    assert server.errors() == []


async def test_html_looking_text_is_shown_as_typed(server, bot):
    user = server.create_user("Eve", language_code="en")
    await walk_to_place(user)
    typed = "<b>Ville</b> & <script>alert(1)</script> &amp;"
    region_question = await says(user, typed)
    assert typed in region_question.text  # escaped on the way out, shown literally
    await says(user, "Grand Est")
    summary = await says(user, "1200")
    assert typed in summary.text
    assert server.errors() == []


async def test_right_to_left_and_odd_unicode_names(server, bot):
    user = server.create_user("Amal", language_code="ar")  # no Arabic catalog: English
    await walk_to_place(user)
    name = "\u202eبلدية\u200f Zürich 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
    region_question = await says(user, name)
    assert "بلدية" in region_question.text
    assert server.errors() == []


async def test_population_must_be_a_sensible_number(server, bot):
    _ = translator("fr").gettext
    user = server.create_user("Luc", language_code="fr")
    await walk_to_place(user, "fr")
    await says(user, "Saint-Dié")
    await says(user, "Vosges")
    for wrong in ("beaucoup", "-3", "0", "99999999999"):
        refusal = await says(user, wrong)
        assert "10\u202f000\u202f000" in refusal.text
    summary = await says(user, "19 500")
    assert "19\u202f500" in summary.text


async def test_location_at_sea_is_refused_then_a_good_one_works(server, bot):
    _ = translator("en").gettext
    user = server.create_user("Sam", language_code="en")
    await says(user, "/start")
    await taps(user, "✓ English")
    await taps(user, _("🤝 Volunteer"))
    await user.tap_reply_button(_("📍 Share my location"), location=(43.0, 5.0))
    refusal = await user.wait_for_bot_message()
    assert refusal.text == plain(
        _(
            "I could not find a town near that point (it may be at sea). "
            "Please share another location or choose the country."
        )
    )
    await user.tap_reply_button(_("📍 Share my location"), location=(48.8566, 2.3522))
    nearest = await user.wait_for_bot_message()
    assert nearest.button_labels[0].startswith("📍 Paris")


async def test_a_location_outside_the_served_countries(server, bot):
    user = server.create_user("Kim", language_code="en")
    await says(user, "/start")
    await taps(user, "✓ English")
    await taps(user, "🤝 Volunteer")
    await user.tap_reply_button("📍 Share my location", location=(35.6762, 139.6503))  # Tokyo
    refusal = await user.wait_for_bot_message()
    assert "Japan is not among the countries we serve yet" in refusal.text
    assert await user.wait_for_bot_message(containing("Choose the country"))


async def test_commands_in_the_middle_of_the_dialog(server, bot):
    user = server.create_user("Nina", language_code="en")
    asked = await walk_to_place(user)
    help_text = await says(user, "/help")
    assert "/cancel" in help_text.text
    again = await user.wait_for_bot_message()
    assert again.text == asked.text  # back at the step the user was on
    restarted = await says(user, "/start")
    assert restarted.text == asked.text
    # /language mid-dialog: the same step, now in French.
    await says(user, "/language")
    french = await taps(user, "Français", containing("commune"))
    assert french.text == translator("fr").gettext(
        "{country}: what is the name of your municipality?"
    ).format(country="France")
    await says(user, "Saint-Dié")  # and the dialog goes on
    assert server.errors() == []


async def test_cancel_stores_nothing(server, bot):
    user = server.create_user("Otto", language_code="en")
    await walk_to_place(user)
    await says(user, "Sankt Anton")
    cancelled = await says(user, "/cancel")
    assert cancelled.text.startswith("Cancelled: nothing was saved.")
    member = await bot.storage.get_member(user.id)
    assert not member.onboarded and member.municipality_id is None
    nothing = await says(user, "/cancel")
    assert nothing.text == "There is nothing to cancel."


async def test_old_and_forged_buttons_change_nothing(server, bot):
    user = server.create_user("Ola", language_code="en")
    await says(user, "/start")
    language_message = user.last_bot_message
    await taps(user, "✓ English")
    # The language question became the role question; its data pressed again is refused.
    await user.press_data(language_message.id, "ob:lang:de")
    answer = await user.wait_for_callback_answer()
    assert answer.text == "This button belongs to an earlier step. Please use the latest one."
    # A forged role and a forged country are refused as well.
    role_message = user.last_bot_message
    await user.press_data(role_message.id, "ob:role:admin")
    assert (await user.wait_for_callback_answer()).show_alert
    await user.press_data(role_message.id, "menu:../../etc")
    assert (await user.wait_for_callback_answer()).text == "This button is no longer valid."
    member = await bot.storage.get_member(user.id)
    assert member.language == "en" and member.role is None
    # The dialog still works.
    await taps(user, "🏛 Municipality")
    assert server.errors() == []


async def test_text_outside_any_dialog(server, bot):
    user = server.create_user("Ugo", language_code="ja")  # no Japanese catalog: English
    hello = await says(user, "hello?")
    assert hello.text == "Welcome! Send /start to set up your profile."
    await onboard(user, "en")
    again = await says(user, "what now")
    assert again.text == "I did not understand that. Here is what you can do:"


async def test_an_unexpected_error_is_logged_and_told_politely(server, bot, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(views, "help_text", broken)
    user = server.create_user("Zoe", language_code="fr")
    sorry = await says(user, "/help")
    assert sorry.text == translator("fr").gettext(
        "Sorry, something went wrong on our side. Please try again; if it keeps happening, "
        "send /cancel and start again."
    )
    assert "database on fire" not in sorry.text
    assert "exception while handling an update" in caplog.text and '"/help"' in caplog.text


async def test_blocking_and_unblocking_the_bot_is_remembered(server, bot):
    user = server.create_user("Bo", language_code="en")
    await says(user, "/start")
    user.block_bot()  # Telegram sends the bot a my_chat_member update: kicked

    async def blocked() -> bool:
        return (await bot.storage.get_member(user.id)).blocked

    for _attempt in range(100):
        if await blocked():
            break
        await asyncio.sleep(0.02)
    assert await blocked()
    user.unblock_bot()
    await says(user, "/start")
    assert not await blocked()
