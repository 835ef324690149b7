"""Issue 19, item 1: one live message per dialog step, no dead buttons.

A button step is two Bot API calls (the press answered, the question edited in place into
the next one, buttons included); a typed answer gets one new message, the answered question
losing its buttons in one edit when it had any. After a whole dialog the chat holds no
button that only answers "no longer active" or "an earlier step".
"""

from __future__ import annotations

from bot.i18n import translator
from bot.views import cards
from tests.talk import onboard, says, taps
from tests.test_posting import PROFILE_PLACE, Answers, publish, type_in, walk_to_preview

REFUSALS = {
    "This button is no longer active. Send /start to see the menu.",
    "This button belongs to an earlier step. Please use the latest one.",
}
# What the bot does to the chat (getUpdates and the menus it publishes are not steps).
CHAT_METHODS = {
    "sendMessage",
    "sendPhoto",
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
}


def calls_of(server, user, since: int) -> list[str]:
    """The chat-changing calls for ``user``'s chat since index ``since`` of the record."""
    return [
        c.method
        for c in server.calls[since:]
        if c.method in CHAT_METHODS
        and (c.method == "answerCallbackQuery" or str(c.params.get("chat_id")) == str(user.id))
    ]


def posting_buttons(user) -> list[int]:
    """The messages showing buttons of the posting dialog."""
    return [
        m.id
        for m in user.messages
        if any(b.get("callback_data", "").startswith("po:") for r in m.inline_keyboard for b in r)
    ]


async def dead_buttons(user) -> list[tuple[str, str]]:
    """Press every button the chat still shows; the ones that only refuse."""
    dead = []
    for message in list(user.messages):
        for row in message.inline_keyboard if message.from_bot else []:
            for button in row:
                if "callback_data" not in button:
                    continue
                query = await user.press_data(message.id, button["callback_data"])
                answer = await user.wait_for_callback_answer(query)
                if answer.text in REFUSALS:
                    dead.append((button["text"], answer.text))
    return dead


async def test_a_button_step_is_two_calls_a_typed_one_at_most_two(server, bot):
    user = server.create_user("Vera", language_code="en")
    await onboard(user, "en")
    _ = translator("en").gettext
    await type_in(user, "/post")
    button = ["answerCallbackQuery", "editMessageText"]
    # The answered question had Back and Cancel: they go in one edit, then the next question.
    typed = ["editMessageReplyMarkup", "sendMessage"]
    steps = [
        ("🟢 I have something to offer", button),
        (cards.category_label(translator("en"), "goods"), button),
        ("✅ Done", button),
        ("Forty stackable chairs", typed),
        # The place question needs a message of its own for the location button (a reply
        # keyboard), and the inline choices come in a second one.
        ("Forty chairs from the old town hall, collected on site.", [*typed, "sendMessage"]),
        # The place chosen is said in a message that removes that keyboard (an edit cannot),
        # so the pressed question loses its buttons and the reach question comes new.
        (
            _("📍 Use my profile's place: {place}").format(place=PROFILE_PLACE),
            ["answerCallbackQuery", "editMessageReplyMarkup", "sendMessage", "sendMessage"],
        ),
        (_(cards.REACH_LABELS["region"]), button),
        (_("Skip"), button),
    ]
    for label, expected in steps:
        mark = len(server.calls)
        if expected[0] == "answerCallbackQuery":
            asked = await taps(user, label, lambda m: bool(m.inline_keyboard))
            await user.wait_for_callback_answer()
        else:
            asked = await type_in(user, label)
        # The question answered has no buttons left once the next one is there.
        assert posting_buttons(user) == [asked.id], user.describe_chat()
        assert calls_of(server, user, mark) == expected, label
    assert server.errors() == []


async def test_no_dead_buttons_after_onboarding_and_posting(server, bot):
    user = server.create_user("Lia", language_code="en")
    await onboard(user, "en")
    bot.clock = lambda: 1_796_550_000  # a fixed now, as in test_posting
    await walk_to_preview(user, "en", Answers(place="other", country="FR", typed_place="Nancy"))
    await publish(user, "en")
    assert await dead_buttons(user) == []
    assert server.errors() == []


async def test_cancel_typed_leaves_no_buttons_behind(server, bot):
    user = server.create_user("Max", language_code="en")
    await onboard(user, "en")
    await type_in(user, "/post")
    await says(user, "/cancel")
    assert await dead_buttons(user) == []
    assert server.errors() == []


async def test_a_double_tap_on_an_edited_question_is_harmless(server, bot):
    user = server.create_user("Ida", language_code="en")
    await onboard(user, "en")
    kind = await type_in(user, "/post")
    data = next(
        b["callback_data"] for r in kind.inline_keyboard for b in r if "offer" in b["callback_data"]
    )
    first = await user.press_data(kind.id, data)
    second = await user.press_data(kind.id, data)  # the same button, before the edit arrives
    await user.wait_for_callback_answer(first)
    late = await user.wait_for_callback_answer(second)
    assert late.text in REFUSALS | {None}
    [shown] = [m for m in user.messages if m.id == kind.id]
    assert shown.text == "Which category fits best?"
    assert posting_buttons(user) == [shown.id]
    # The dialog moved one step: the category is asked, and answered as usual.
    tags = await taps(user, cards.category_label(translator("en"), "goods"))
    assert tags.id == kind.id and "tags" in tags.text.lower()
    draft = await bot.storage.get_draft(user.id)
    assert draft["kind"] == "offer" and draft["category"] == "goods"
    assert server.errors() == []


async def test_back_edits_in_place_too(server, bot):
    user = server.create_user("Oto", language_code="en")
    await onboard(user, "en")
    kind = await type_in(user, "/post")
    category = await taps(user, "🟢 I have something to offer")
    mark = len(server.calls)
    again = await taps(user, "⬅ Back")
    await user.wait_for_callback_answer()
    assert again.id == category.id == kind.id and again.text == kind.text
    assert calls_of(server, user, mark) == ["answerCallbackQuery", "editMessageText"]
    assert server.errors() == []


async def test_a_dialog_goes_on_when_telegram_keeps_refusing_edits(server, bot):
    """Editing a question in place and taking an answered one's buttons are how a step looks,
    not what it does: when Telegram fails every edit, past the replies' retries, each
    question still comes, as a new message (CI once saw a 500 on a button removal stop
    onboarding before the place question)."""
    user = server.create_user("Ugo", language_code="en")
    server.faults.configure(
        error_rate=1.0, methods=["editMessageText", "editMessageReplyMarkup"], seed=1
    )
    menu = await onboard(user, "en")
    assert "What would you like to do?" in menu.text
    refused = server.errors(include_injected=True)
    assert refused and {c.method for c in refused} <= {"editMessageText", "editMessageReplyMarkup"}
    member = await bot.storage.get_member(user.id)
    assert member is not None and member.country == "BG"
