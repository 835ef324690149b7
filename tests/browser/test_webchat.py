"""The web chat in headless Chromium, against the real bot process in sandbox mode.

People are created and driven through the page only: typing, inline and reply buttons, the
location picker, photo upload, the people switcher. What the bot says is checked in the
language of each person with the bot's own catalogs.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import pytest

from bot.dialogs.onboarding import WELCOME
from bot.dialogs.posting import DURATION_LABELS, KIND_CHOICES
from bot.i18n import Translator, translator
from bot.places.countries import flag
from bot.views import cards
from tests.browser.conftest import ARTIFACTS, Sandbox, Watched
from tests.talk import plain

pytestmark = pytest.mark.browser

expect: Any = None  # playwright's expect, imported once the browser fixture found Playwright


@pytest.fixture(autouse=True)
def _expect(browser: Any) -> None:
    global expect
    from playwright.sync_api import expect as playwright_expect

    expect = playwright_expect


# --- what a person does on the page ---------------------------------------------------------


def become_new_person(page: Any, name: str, language: str) -> None:
    page.get_by_role("button", name="+ New person").click()
    page.locator("#new-name").fill(name)
    page.locator("#new-language").select_option(language)
    page.get_by_role("button", name="Create and become").click()
    expect(page.locator("#me")).to_contain_text(name)


def bot_says(page: Any, text: str) -> Any:
    """Wait for a bot message showing ``text`` (HTML of the catalog string allowed)."""
    message = page.locator("#messages .message.from-bot").filter(has_text=plain(text)).last
    expect(message).to_be_visible()
    return message


def last_line(text: str) -> str:
    return text.strip().split("\n")[-1]


def press(page: Any, label: str) -> None:
    """Press the newest inline button labelled exactly ``label``."""
    page.locator("#messages .inline-button").get_by_text(label, exact=True).last.click()


def tap(page: Any, label: str) -> None:
    """Tap a button of the reply keyboard under the chat."""
    page.locator("#reply-keyboard").get_by_role("button", name=label, exact=True).click()


def type_and_send(page: Any, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#text").press("Enter")


def hear_at_any_hour(page: Any, t: Translator) -> None:
    """Quiet hours off in /settings: the story runs at any hour, and the default ones
    (22:00-08:00 in the person's zone) would hold what they are sent until morning."""
    type_and_send(page, "/settings")
    press(page, t.gettext("No quiet hours"))
    bot_says(page, t.gettext("Quiet hours: none."))


def tiny_png() -> bytes:
    """A 2×2 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# --- the tests ------------------------------------------------------------------------------


def test_a_mayor_onboards_in_french_through_the_page(chat: Watched) -> None:
    page = chat.page
    t = translator("fr")
    _ = t.gettext
    expect(page.locator("#sandbox-banner")).to_contain_text("SANDBOX — demo data")
    become_new_person(page, "Marie Dupont", "fr")
    page.get_by_role("button", name="START").click()

    welcome = bot_says(page, last_line(_(WELCOME)))
    page.evaluate("node => { node.dataset.marked = 'before-edit'; }", welcome.element_handle())
    press(page, "✓ Français")
    expect(page.locator(".inline-button").get_by_text(_("🏛 Municipality"))).to_be_visible()
    # The bot edited the language question into the role question: same element, in place.
    marked = page.locator('#messages .message[data-marked="before-edit"]')
    expect(marked.locator(".inline-button").get_by_text(_("🏛 Municipality"))).to_be_visible()
    expect(marked.locator(".inline-button")).to_have_count(3)
    expect(marked).to_have_class("message from-bot edited")

    press(page, _("🏛 Municipality"))
    tap(page, _("🌍 Choose the country"))
    press(page, f"{flag('FR')} {t.country('FR')}")
    bot_says(page, _("{country}: what is the name of your municipality?").format(country="France"))
    type_and_send(page, "Saint-Dié-des-Vosges")
    bot_says(page, "Saint-Dié-des-Vosges")
    type_and_send(page, "Vosges")
    type_and_send(page, "19500")
    bot_says(page, _("Is everything right?"))
    press(page, _("✅ Save"))
    bot_says(page, _("What would you like to do?"))

    # A photo goes up through the page and comes back from /sandbox/api/files.
    page.locator("#photo-input").set_input_files(
        files=[{"name": "mairie.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    photo = page.locator("#messages .message.from-me img.photo").last
    expect(photo).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 2", arg=photo.element_handle()
    )

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-mayor-fr.png"))
    assert chat.errors == [] and chat.dialogs == []


def test_a_bulgarian_volunteer_shares_a_preset_place_on_a_phone(
    chat: Watched, sandbox: Sandbox
) -> None:
    page = chat.page
    page.set_viewport_size({"width": 390, "height": 800})
    t = translator("bg")
    _ = t.gettext
    page.get_by_role("button", name="People").click()
    become_new_person(page, "Иван Петров", "bg")
    page.get_by_role("button", name="START").click()
    bot_says(page, last_line(_(WELCOME)))
    press(page, "✓ Български")
    press(page, _("🤝 Volunteer"))
    tap(page, _("📍 Share my location"))
    dialog = page.locator("#location-dialog")
    dialog.get_by_role("button", name="Sofia").click()
    expect(page.locator("#latitude")).to_have_value("42.6977")
    dialog.get_by_role("button", name="Send location").click()
    expect(page.locator("#messages .from-me .location-card").last).to_contain_text("Sofia")
    bot_says(page, _("Which place is it? Here are the nearest to the point you shared:"))
    page.locator("#messages .inline-button").filter(has_text="📍 София").first.click()
    press(page, _("✅ Save"))
    bot_says(page, _("What would you like to do?"))
    page.screenshot(path=str(ARTIFACTS / "webchat-volunteer-bg-phone.png"))

    # Someone else gets a message meanwhile: the switcher shows it, live, without a reload.
    mayor = next(u for u in sandbox.api("GET", "/users") if "Saint-Dié" in u["first_name"])
    sandbox.api("POST", f"/users/{mayor['id']}/send_text", {"text": "/help"})
    page.get_by_role("button", name="People").click()
    person = page.locator(f'#people-list .person[data-user-id="{mayor["id"]}"]')
    expect(person.locator(".unread")).to_be_visible()
    person.click()
    expect(page.locator("#me")).to_contain_text("Saint-Dié")
    expect(page.locator("#messages .from-me").last).to_contain_text("/help")
    assert chat.errors == [] and chat.dialogs == []


def test_html_typed_as_a_place_name_is_shown_as_text(chat: Watched) -> None:
    page = chat.page
    _ = translator("en").gettext
    payload = "<img src=x onerror=alert(1)>"
    become_new_person(page, "Mallory <b>bold</b>", "en")
    expect(page.locator("#people-list")).to_contain_text("Mallory <b>bold</b>")
    page.get_by_role("button", name="START").click()
    press(page, "✓ English")
    press(page, _("🤝 Volunteer"))
    tap(page, _("🌍 Choose the country"))
    press(page, f"{flag('BE')} {translator('en').country('BE')}")
    type_and_send(page, payload)
    # The bot repeats the name in its next question: the page shows it as characters.
    echoed = bot_says(page, payload)
    expect(echoed.locator(".text")).to_contain_text(payload)
    expect(page.locator("#messages .from-me .text").last).to_have_text(payload)
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("#messages img:not(.photo)").count() == 0
    assert page.locator("#people-list b").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert chat.dialogs == [] and chat.errors == []


def test_a_demo_request_in_french_is_found_by_a_bulgarian_reader(chat: Watched) -> None:
    page = chat.page
    page.locator("#people-list .person", has_text="Sveti Vlas").click()
    expect(page.locator("#me")).to_contain_text("Sveti Vlas")
    type_and_send(page, "/search festival")
    bot_says(page, "[Demo] Bénévoles pour le Festival de géographie")
    page.screenshot(path=str(ARTIFACTS / "webchat-search-bg.png"))
    assert chat.errors == [] and chat.dialogs == []


def test_a_bots_edits_and_deletions_are_applied_in_place(chat: Watched, sandbox: Sandbox) -> None:
    """Driven by a second bot whose token the test knows, through the Bot API itself."""
    token = "4242424242:" + "H" * 35
    sandbox.api("POST", "/bots", {"token": token, "username": "helper_bot", "first_name": "Helper"})
    eve = sandbox.api("POST", "/users", {"first_name": "Eve", "bot": "helper_bot"})
    sandbox.api("POST", f"/users/{eve['id']}/send_text", {"text": "/start", "bot": "helper_bot"})
    keyboard = {"inline_keyboard": [[{"text": "Tap", "callback_data": "tap"}]]}
    sandbox.bot_api(token, "sendMessage", chat_id=eve["id"], text="keep me")
    sent = sandbox.bot_api(
        token, "sendMessage", chat_id=eve["id"], text="<b>first</b> version",
        parse_mode="HTML", reply_markup=keyboard,
    )  # fmt: skip
    page = chat.page
    page.goto(f"{sandbox.url}/chat?bot=helper_bot#user={eve['id']}")
    expect(page.locator("#bot-name")).to_have_text("Helper")
    message = page.locator(f'#messages .message[data-id="{sent["message_id"]}"]')
    expect(message.locator("b")).to_have_text("first")
    page.evaluate("node => { node.dataset.marked = 'yes'; }", message.element_handle())

    sandbox.bot_api(
        token, "editMessageText", chat_id=eve["id"], message_id=sent["message_id"],
        text="second version",
    )  # fmt: skip
    marked = page.locator('#messages .message[data-marked="yes"]')
    expect(marked.locator(".text")).to_have_text("second version")
    expect(marked.locator(".inline-button")).to_have_count(0)
    expect(marked.locator(".edited")).to_be_visible()

    sandbox.bot_api(token, "deleteMessage", chat_id=eve["id"], message_id=sent["message_id"])
    expect(message).to_have_count(0)
    expect(page.locator("#messages .message.from-bot")).to_have_count(1)
    expect(page.locator("#messages .from-bot .text")).to_have_text("keep me")
    assert chat.errors == [] and chat.dialogs == []


def test_a_request_is_found_contacted_and_accepted_across_people(chat: Watched) -> None:
    """The whole story in one browser tab, switching people: a French mayor posts a request;
    a Bulgarian volunteer finds it and offers help; the mayor sees who it is only after
    accepting, and both then have each other's contact."""
    page = chat.page
    fr, bg = translator("fr"), translator("bg")
    f_, b_ = fr.gettext, bg.gettext
    title = "Médecin généraliste recherché"

    # 1. The mayor signs up and posts a request.
    become_new_person(page, "Claire Martin", "fr")
    page.get_by_role("button", name="START").click()
    bot_says(page, last_line(f_(WELCOME)))
    press(page, "✓ Français")
    press(page, f_("🏛 Municipality"))
    tap(page, f_("🌍 Choose the country"))
    press(page, f"{flag('FR')} {fr.country('FR')}")
    type_and_send(page, "Gérardmer")
    bot_says(page, "Gérardmer")
    type_and_send(page, "Vosges")
    type_and_send(page, "8000")
    press(page, f_("✅ Save"))
    bot_says(page, f_("What would you like to do?"))
    hear_at_any_hour(page, fr)
    type_and_send(page, "/post")
    press(page, f_(KIND_CHOICES["request"]))
    press(page, cards.category_label(fr, "health"))
    press(page, f_("✅ Done"))
    type_and_send(page, title)
    type_and_send(page, "Notre village cherche un médecin généraliste trois jours par semaine.")
    press(page, f_("📍 Use my profile's place: {place}").format(place="Gérardmer"))
    press(page, f_(cards.REACH_LABELS["europe"]))
    # Wait for the photo question: the region question above has a Skip button too.
    bot_says(
        page, f_("Add a photo? Send one now (a listing with a photo gets more attention), or Skip.")
    )
    press(page, f_("Skip"))
    press(page, f_(DURATION_LABELS["1m"]))
    press(page, f_("✅ Publish"))
    bot_says(page, f_("✅ Published! Here is your listing; you will find it in /mylistings."))

    # 2. A Bulgarian volunteer signs up, finds it and offers help.
    become_new_person(page, "Мария Иванова", "bg")
    page.get_by_role("button", name="START").click()
    press(page, "✓ Български")
    press(page, b_("🤝 Volunteer"))
    tap(page, b_("🌍 Choose the country"))
    press(page, f"{flag('BG')} {bg.country('BG')}")
    type_and_send(page, "София")
    press(page, b_("Skip"))
    press(page, b_("✅ Save"))
    bot_says(page, b_("What would you like to do?"))
    hear_at_any_hour(page, bg)
    type_and_send(page, "/search medecin")  # no accent typed: found all the same
    press(page, "1")
    bot_says(page, title)
    press(page, b_(cards.CONTACT_LABELS["request"]))
    type_and_send(page, "Здравейте! Аз съм лекар и мога да помагам три дни в седмицата.")
    bot_says(
        page,
        last_line(b_("✉️ Sent! You will be told here when they answer. Your contacts: /contacts")),
    )

    # 3. The mayor sees the message arrive live, without the volunteer's name, and accepts.
    page.locator("#people-list .person", has_text="Claire Martin").click()
    expect(page.locator("#me")).to_contain_text("Claire Martin")
    request = bot_says(page, "Аз съм лекар")
    expect(request).not_to_contain_text("Мария")
    press(page, f_("✅ Accept"))
    accepted = bot_says(page, f_("✅ You accepted. You can now write to each other:"))
    expect(accepted).to_contain_text("Мария")
    # Мария has no public username: the bot offers to relay what is written to her.
    expect(accepted).to_contain_text(
        plain(f_("✉️ No public username: write to them through the bot, with the button below."))
    )
    expect(page.get_by_role("button", name=f_("✉️ Write through the bot")).last).to_be_visible()

    # 4. The volunteer now has the mayor's contact too.
    page.locator("#people-list .person", has_text="Мария Иванова").click()
    expect(page.locator("#me")).to_contain_text("Мария")
    told = bot_says(page, b_("You can now write to each other:"))
    expect(told).to_contain_text("Claire")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-contact-accepted.png"))
    assert chat.errors == [] and chat.dialogs == []


def test_reset_brings_back_the_demo_world_alone(chat: Watched, sandbox: Sandbox) -> None:
    page = chat.page
    before = sandbox.api("GET", "/demo")
    expect(page.locator("#people-list .person")).not_to_have_count(0)
    become_new_person(page, "Temporary Tom", "de")
    page.get_by_role("button", name="Reset demo").click()
    page.get_by_role("button", name="Click again to reset").click()
    demo = sandbox.wait_for_demo(generation=before["generation"] + 1)
    people = page.locator("#people-list .person")
    expect(people).to_have_count(len(demo["people"]))
    expect(page.locator("#people-list")).not_to_contain_text("Temporary Tom")
    expect(page.locator("#demo-status")).to_have_text("Demo world ready.")
    # However often the bot was started, its sandbox token never reached the log.
    assert not re.search(r"\d{10}:[A-Za-z0-9_-]{40,}", sandbox.log())
    # The bot came back too: a demo person's chat shows their finished onboarding.
    people.first.click()
    bot_says(page, translator("fr").gettext("What would you like to do?"))
    assert chat.errors == [] and chat.dialogs == []


def test_the_empty_chat_says_where_the_people_are_on_a_wide_screen_and_on_a_phone(
    chat: Watched,
) -> None:
    """Nobody chosen yet: on a wide screen the list is on the left; on a phone it is behind
    ☰, and that is what the empty chat says."""
    page = chat.page
    empty = page.locator("#empty-chat")
    wide, narrow = empty.locator(".wide-screen"), empty.locator(".narrow-screen")
    expect(empty).to_be_visible()
    expect(wide).to_be_visible()
    expect(wide).to_contain_text("on the left")
    expect(narrow).to_be_hidden()
    page.set_viewport_size({"width": 390, "height": 800})
    expect(narrow).to_be_visible()
    expect(narrow).to_contain_text("☰")
    expect(wide).to_be_hidden()
    assert "left" not in narrow.inner_text().replace("top left", "")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-empty-phone.png"))
    people = page.get_by_role("button", name="People")
    expect(people).to_be_visible()
    people.click()
    expect(page.locator("#new-person")).to_be_in_viewport()
    assert chat.errors == [] and chat.dialogs == []
