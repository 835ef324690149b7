"""Editing an open listing through its card: every field, refusals, and forged buttons."""

from __future__ import annotations

import time

import pytest

from bot.i18n import translator
from bot.storage.listings import DAY
from tests import seed
from tests.talk import says, taps
from tests.test_bad_input import PNG

NOW = int(time.time())
OWNER, COLLEAGUE, STRANGER = 601, 602, 603


@pytest.fixture
async def people(server, bot):
    for user_id in (OWNER, COLLEAGUE):
        await seed.member(bot.storage, user_id, language="fr")
        await seed.verified(bot.storage, user_id)
    await seed.member(bot.storage, STRANGER, country="AT", place="Graz")
    owner = server.create_user("Owner", language_code="fr", user_id=OWNER)
    stranger = server.create_user("Stranger", language_code="en", user_id=STRANGER)
    return owner, stranger


async def open_card(user, listing_id):
    return await says(user, f"/start l{listing_id}")


def is_card(message) -> bool:
    return bool(message.inline_keyboard) and any(
        "ls:" in button.get("callback_data", "")
        for row in message.inline_keyboard
        for button in row
    )


async def saved_card(user):
    """After the last answer: "Saved", then the fresh card (wait for both)."""
    return await user.wait_for_bot_message(is_card)


async def test_owner_edits_the_title_after_a_refusal(server, bot, people):
    owner, _stranger = people
    _ = translator("fr").gettext
    listing = await seed.listing(bot.storage, OWNER, NOW, title="Pompe usagée")
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    question = await taps(owner, _("Title"))
    # The limits the check applies, in the reader's language.
    assert question.text == "Saisissez le nouveau titre (3 à 120 caractères)."
    refusal = await says(owner, "🔥🔥")
    assert refusal.text  # a clear answer, still on the title
    await owner.send_text("Pompe à incendie <neuve> & révisée")
    card = await saved_card(owner)
    assert "Pompe à incendie <neuve> & révisée" in card.text
    stored = await bot.storage.get_listing(listing.id)
    assert stored.title == "Pompe à incendie <neuve> & révisée"
    assert server.errors() == []


async def test_category_tags_reach_and_description(server, bot, people):
    owner, _stranger = people
    _ = translator("fr").gettext
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    await taps(owner, _("Category and tags"))
    await taps(owner, "🩺 " + _("Health and care professionals"))
    await owner.press(_("doctor"))
    await owner.wait_for_bot_message(include_edits=True)
    await owner.press(_("✅ Done"))
    await saved_card(owner)
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.category, stored.tags) == ("health", ("doctor",))

    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    await taps(owner, _("Reach"))
    await owner.press(_("anywhere in Europe"))
    await saved_card(owner)
    assert (await bot.storage.get_listing(listing.id)).reach == "europe"

    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    question = await taps(owner, _("Description"))
    # The maximum written with CLDR's grouping for French, as the bot writes it.
    two_thousand = translator("fr").number(2000)
    assert question.text == f"Saisissez la nouvelle description (10 à {two_thousand} caractères)."
    await owner.send_text("Un médecin généraliste\npour trois jours par semaine.")
    await saved_card(owner)
    assert (await bot.storage.get_listing(listing.id)).description == (
        "Un médecin généraliste\npour trois jours par semaine."
    )
    assert server.errors() == []


async def test_a_text_rewritten_in_another_language_says_so(server, bot, people):
    """The language a listing is written in is found again when its text is edited (results
    and matches show it), unless the author had chosen it against what was found."""
    owner, _stranger = people
    _ = translator("fr").gettext

    async def rewrite(listing_id: int, *edits: tuple[str, str]) -> None:
        await open_card(owner, listing_id)
        for field, text in edits:
            await taps(owner, _("✏️ Edit"))
            await taps(owner, _(field))
            await owner.send_text(text)
            await saved_card(owner)

    french = await seed.listing(
        bot.storage, OWNER, NOW, language="fr", title="Motopompe d'occasion",
        description="Une motopompe portable en bon état, avec ses tuyaux et ses raccords.",
    )  # fmt: skip
    await rewrite(
        french.id,
        ("Title", "Gebrauchte Feuerwehrpumpe"),
        ("Description", "Eine tragbare Pumpe in gutem Zustand, mit Schläuchen und Kupplungen."),
    )
    assert (await bot.storage.get_listing(french.id)).language == "de"

    # Said to be Italian by its author, whatever the detector thinks: a new title keeps it.
    chosen = await seed.listing(
        bot.storage, OWNER, NOW, language="it", title="Pompe usagée",
        description="Une pompe portable en bon état, avec ses tuyaux et ses raccords.",
    )  # fmt: skip
    await rewrite(chosen.id, ("Title", "Pompe usagée, révisée"))
    assert (await bot.storage.get_listing(chosen.id)).language == "it"
    assert server.errors() == []


async def test_photo_and_place(server, bot, people):
    owner, _stranger = people
    _ = translator("fr").gettext
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    await taps(owner, _("Photo"))
    await owner.send_photo(PNG)
    card = await saved_card(owner)
    assert card.photo and (await bot.storage.get_listing(listing.id)).photo_file_id
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    question = await taps(owner, _("Place"))
    assert question.text == _(
        "Share the listing's location with the button below, or use your profile's place."
    )
    choices = await owner.wait_for_bot_message()  # the inline choices after the keyboard
    assert choices.text.startswith("📍 ") and _("Use my profile's place") in choices.button_labels
    await owner.tap_reply_button(_("📍 Share a location"), location=(42.6977, 23.3219))
    await saved_card(owner)
    stored = await bot.storage.get_listing(listing.id)
    assert (stored.country, stored.place) == ("BG", "Sofia")
    assert server.errors() == []


async def test_a_colleague_may_edit_a_stranger_may_not(server, bot, people):
    _owner, stranger = people
    colleague = server.create_user("Colleague", language_code="fr", user_id=COLLEAGUE)
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await open_card(colleague, listing.id)
    await taps(colleague, translator("fr").gettext("✏️ Edit"))
    card = await open_card(stranger, listing.id)
    await stranger.press_data(card.id, f"ls:edit:{listing.id}")
    assert (await stranger.wait_for_callback_answer()).text == "You cannot change this listing."
    await stranger.press_data(card.id, "ed:f:title")  # a step button without the dialog
    assert (await stranger.wait_for_callback_answer()).show_alert
    assert (await bot.storage.get_listing(listing.id)).title == listing.title
    assert server.errors() == []


async def test_closed_or_expired_listings_cannot_be_edited(server, bot, people):
    owner, _stranger = people
    _ = translator("fr").gettext
    expired = await seed.listing(bot.storage, OWNER, NOW - 10 * DAY, duration_days=7)
    card = await open_card(owner, expired.id)
    await owner.press_data(card.id, f"ls:edit:{expired.id}")
    assert (await owner.wait_for_callback_answer()).text == _(
        "This listing can no longer be changed."
    )
    # Closed while the owner is typing a new title: nothing is saved.
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    await taps(owner, _("Title"))
    await bot.storage.close_listing(listing.id, COLLEAGUE, fulfilled=False, outcome=None, now=NOW)
    answer = await says(owner, "Un tout nouveau titre")
    assert answer.text == _("This listing can no longer be changed.")
    assert (await bot.storage.get_listing(listing.id)).title == listing.title


async def test_cancel_changes_nothing(server, bot, people):
    owner, _stranger = people
    _ = translator("fr").gettext
    listing = await seed.listing(bot.storage, OWNER, NOW)
    await open_card(owner, listing.id)
    await taps(owner, _("✏️ Edit"))
    await taps(owner, _("Title"))
    done = await says(owner, "/cancel")
    assert done.text == _("Nothing was changed.")
    assert (await bot.storage.get_listing(listing.id)).title == listing.title
