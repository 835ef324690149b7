"""Dialog steps written once: checking typed answers, and the steps several dialogs share (a
choice, toggles, a typed text, a country, a shared place, asking for a place), each
parameterised by the dialog that uses it. How a dialog writes its steps: :mod:`.dialog`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from html import escape
from typing import Any, TypedDict, Unpack

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import MessageHandler
from telegram.ext import filters as f

from bot import taxonomy
from bot.buttons import Button, InvalidButton, refuse_earlier_step
from bot.context import BotContext, reply
from bot.dialogs.dialog import TEXT, TEXT_HINT, Ask, Dialog, Handler, Move, Step, Then
from bot.dialogs.nearby import forget_place
from bot.i18n import Translator
from bot.places.countries import COUNTRIES, find_country
from bot.places.geocoding import Place, locate
from bot.storage import Member
from bot.views.cards import REACH_LABELS, category_label
from bot.views.texts import country_keyboard, rows, tick


async def ask_for_a_place(
    update: Update,
    t: Translator,
    question: str,
    choices: InlineKeyboardMarkup,
    below: str | None = None,
) -> None:
    """A question answered by sharing a location or by a button. A message carries one
    keyboard: the question comes first, with the "share a location" button below the text
    field; ``below`` (by default, the hint about that button) follows it, with the other
    choices, so that the latest message is the one with the buttons, as at every step."""
    _ = t.gettext
    location = KeyboardButton(_("📍 Share a location"), request_location=True)
    await reply(
        update,
        question,
        reply_markup=ReplyKeyboardMarkup(
            [[location]], resize_keyboard=True, one_time_keyboard=True
        ),
    )
    if below is None:
        below = _("To share a location, use the button below the text field.")
    await reply(update, below, reply_markup=choices)


def profile_place(member: Member) -> dict[str, Any]:
    """A listing's place answers taken from the member's profile ("use my profile's place",
    when posting and when editing): the same fields a shared or typed place gives."""
    return {
        "country": member.country,
        "region": member.region or "",
        "place": member.place or "",
        "place_key": member.place_key,
        "latitude": member.latitude,
        "longitude": member.longitude,
    }


def has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def clean_line(text: str) -> str:
    """One line of user text: control characters (newlines, tabs, NUL) become spaces, and runs
    of white space are folded. Format characters (joiners, direction marks) stay: emoji
    sequences and right-to-left text need them."""
    visible = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(visible.split())


def check_name(t: Translator, text: str, minimum: int = 2, maximum: int = 100) -> str | None:
    """Why a typed name (place, municipality, organisation) is refused, or None if it is fine."""
    _ = t.gettext
    name = clean_line(text)
    if not minimum <= len(name) <= maximum:
        return _("Please type a name of {minimum} to {maximum} characters.").format(
            minimum=minimum, maximum=maximum
        )
    if not has_letter(name):
        return _("A name needs at least one letter.")
    return None


def parse_count(text: str) -> int | None:
    """A whole number typed the way people do: '1200', '1 200', '1.200', "1'200", '1,200'."""
    digits = text.strip()
    for separator in (" ", "\u00a0", "\u202f", ".", ",", "'", "’", "_"):
        digits = digits.replace(separator, "")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 9:
        return None
    return int(digits)


# --- listing texts (the posting dialog, and editing a published listing) --------------------

TITLE_MIN, TITLE_MAX = 3, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 2000


def clean_block(text: str) -> str:
    """A block of user text: line breaks kept (a description reads better in paragraphs),
    tabs become spaces, other control characters (NUL, carriage returns, escapes) go, and
    white space around the whole is stripped. Format characters stay, as in
    :func:`clean_line`."""
    kept = []
    for ch in text:
        if ch == "\t":
            kept.append(" ")
        elif ch == "\n" or unicodedata.category(ch) != "Cc":
            kept.append(ch)
    return "".join(kept).strip()


# A listing's title and description: how long each may be.
LENGTHS = {"title": (TITLE_MIN, TITLE_MAX), "description": (DESCRIPTION_MIN, DESCRIPTION_MAX)}


def text_limits(t: Translator, field: str) -> dict[str, str]:
    """The ``{minimum}`` and ``{maximum}`` of a listing's ``field`` (its title or
    description), as the texts that ask for it and refuse it say them."""
    minimum, maximum = LENGTHS[field]
    return {"minimum": t.number(minimum), "maximum": t.number(maximum)}


def check_title(t: Translator, text: str) -> str | None:
    """Why a typed listing title is refused, or None if it is fine (see :func:`clean_line`)."""
    _ = t.gettext
    title = clean_line(text)
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        return _("A title needs {minimum} to {maximum} characters; yours has {length}.").format(
            length=t.number(len(title)), **text_limits(t, "title")
        )
    if not has_letter(title):
        return _("A title needs at least one letter, not only emoji or signs.")
    return None


def check_description(t: Translator, text: str) -> str | None:
    """Why a typed listing description is refused, or None (see :func:`clean_block`)."""
    _ = t.gettext
    description = clean_block(text)
    if len(description) < DESCRIPTION_MIN:
        return _(
            "Please describe it in at least {minimum} characters: what, how many, when."
        ).format(**text_limits(t, "description"))
    if len(description) > DESCRIPTION_MAX:
        return t.ngettext(
            "Your description has {length} character; please shorten it to {maximum} at most.",
            "Your description has {length} characters; please shorten it to {maximum} at most.",
            len(description),
        ).format(length=t.number(len(description)), **text_limits(t, "description"))
    return None


# --- reusable steps -------------------------------------------------------------------------
# Each is parameterised by the dialog that uses it (its buttons, its question, where it leads)
# and added to it with Dialog.add(state, step).


Labels = Callable[[BotContext], Sequence[tuple[str, str]]]


def translated(labels: Mapping[str, str]) -> Labels:
    """Choices whose labels are msgids marked with N_, translated for the reader."""
    return lambda context: [(key, context.i18n.gettext(label)) for key, label in labels.items()]


class Choice(Step):
    """Pick one of a few (a kind, a reach, a duration, a role): a button each, the answer given
    before ticked, then the dialog's Back and Cancel. The answer is stored as ``answer`` before
    going to ``then`` - or handed to ``answered`` (the keyboard taken away first)."""

    def __init__(
        self,
        question: Callable[[BotContext], str],
        button: Button[str],
        labels: Labels,
        *,
        answer: str = "",
        then: Then | None = None,
        answered: Callable[[Update, BotContext, str], Awaitable[int | None]] | None = None,
        width: int = 1,
        before: Ask | None = None,
    ) -> None:
        self.question, self.button, self.labels = question, button, labels
        self.answer, self.then, self._answered = answer, then, answered
        self.width, self.before = width, before

    def keyboard(self, context: BotContext) -> InlineKeyboardMarkup:
        chosen = self.dialog.answers(context).get(self.answer)
        choices = [
            InlineKeyboardButton(tick(label, key == chosen), callback_data=self.button.data(key))
            for key, label in self.labels(context)
        ]
        navigation = self.dialog.navigation(context.i18n, self.state)
        return InlineKeyboardMarkup([*rows(choices, self.width), *navigation])

    async def ask(self, update: Update, context: BotContext) -> None:
        if self.before is not None:
            await self.before(update, context)
        await reply(update, self.question(context), reply_markup=self.keyboard(context))

    def handlers(self) -> list[Handler]:
        return [self.button.handler(self.chosen)]

    async def chosen(self, update: Update, context: BotContext, key: str) -> int | None:
        if key not in {known for known, _label in self.labels(context)}:
            raise InvalidButton(key)
        if self._answered is not None:
            # Answered here; the question becomes the next one (Dialog.go_to).
            assert update.callback_query is not None
            await update.callback_query.answer()
            return await self._answered(update, context, key)
        assert self.then is not None
        return await self.dialog.answered(update, context, self.then, **{self.answer: key})


def category_labels(context: BotContext) -> list[tuple[str, str]]:
    return [(c.key, category_label(context.i18n, c.key)) for c in taxonomy.CATEGORIES]


class ChooseCategory(Choice):
    """Pick the category (one a row: the names are long); tags of another category go."""

    def __init__(self, button: Button[str], *, then: Then) -> None:
        super().__init__(
            lambda context: context.i18n.gettext("Which category fits best?"),
            button,
            category_labels,
            answer="category",
            then=then,
        )

    async def chosen(self, update: Update, context: BotContext, key: str) -> int | None:
        category = taxonomy.BY_KEY[key]
        given = self.dialog.answers(context)
        given["tags"] = [tag for tag in given.get("tags", []) if tag in category.tags]
        return await super().chosen(update, context, key)


class ChooseReach(Choice):
    """Who a listing is for: how far it reaches (posting, and editing a listing)."""

    def __init__(
        self,
        button: Button[str],
        *,
        then: Then | None = None,
        answered: Callable[[Update, BotContext, str], Awaitable[int | None]] | None = None,
        before: Ask | None = None,
    ) -> None:
        super().__init__(
            lambda context: context.i18n.gettext("Who is it for? Choose how far it reaches:"),
            button,
            translated(REACH_LABELS),
            answer="reach",
            then=then,
            answered=answered,
            before=before,
        )


class Toggles(Step):
    """Tick any of a few (tags, categories), then Done: each tap edits the keyboard in place
    and is saved at once. The ticked keys are kept as a list under ``answer``."""

    def __init__(
        self,
        question: Callable[[BotContext], str],
        toggle: Button[str],
        done: Button[None],
        options: Callable[[BotContext, dict[str, Any]], Sequence[tuple[str, str]]],
        *,
        answer: str,
        finished: Move,
        width: int = 1,
        done_label: Callable[[Translator, bool], str] = lambda t, _any: t.gettext("✅ Done"),
    ) -> None:
        self.question, self.toggle, self.done, self.options = question, toggle, done, options
        self.answer, self.finished, self.width = answer, finished, width
        self.done_label = done_label

    def keyboard(self, context: BotContext) -> InlineKeyboardMarkup:
        given = self.dialog.answers(context)
        chosen = set(given.get(self.answer, []))
        choices = [
            InlineKeyboardButton(tick(label, key in chosen), callback_data=self.toggle.data(key))
            for key, label in self.options(context, given)
        ]
        done = InlineKeyboardButton(
            self.done_label(context.i18n, bool(chosen)), callback_data=self.done.data(None)
        )
        navigation = self.dialog.navigation(context.i18n, self.state)
        return InlineKeyboardMarkup([*rows(choices, self.width), [done], *navigation])

    async def ask(self, update: Update, context: BotContext) -> None:
        await reply(update, self.question(context), reply_markup=self.keyboard(context))

    def handlers(self) -> list[Handler]:
        return [self.toggle.handler(self.toggled), self.done.handler(self.ended)]

    async def toggled(self, update: Update, context: BotContext, key: str) -> None:
        given = self.dialog.answers(context)
        if key not in {known for known, _label in self.options(context, given)}:
            raise InvalidButton(key)
        chosen = given.setdefault(self.answer, [])
        if key in chosen:
            chosen.remove(key)
        else:
            chosen.append(key)
        await self.dialog.stay(update, context, self.state)
        assert update.callback_query is not None
        await update.callback_query.edit_message_reply_markup(self.keyboard(context))
        await update.callback_query.answer()

    async def ended(self, update: Update, context: BotContext, _none: None) -> int | None:
        self.dialog.answers(context).setdefault(self.answer, [])
        return await self.finished(update, context)


def tag_options(context: BotContext, given: dict[str, Any]) -> list[tuple[str, str]]:
    """The tags of the chosen category."""
    category = taxonomy.category(given.get("category", ""))
    _ = context.i18n.gettext
    return [(tag, _(taxonomy.TAG_NAMES[tag])) for tag in (category.tags if category else ())]


# What a typed text is handed to, once accepted: the state to go to (None: stay).
TextTyped = Callable[[Update, BotContext, str], Awaitable[int | None]]


class TypedText(Step):
    """Type a text: refused with the reason ``check`` gives (then asked nothing more: the
    person types again), else cleaned and stored as ``answer`` before going to ``then`` - or
    handed to ``answered``. With ``keep``, a button goes on with the text given before."""

    hint = TEXT_HINT

    def __init__(
        self,
        ask: Ask,
        *,
        answer: str | None = None,
        then: Then | None = None,
        answered: TextTyped | None = None,
        check: Callable[[Translator, str], str | None] | None = None,
        clean: Callable[[str], str] = lambda text: clean_line(text),
        keep: Button[int] | None = None,
        also: Sequence[Handler] = (),
        hint: str = TEXT_HINT,
    ) -> None:
        self._ask, self.answer, self.then, self._answered = ask, answer, then, answered
        self.check, self.clean, self.keep, self.also, self.hint = check, clean, keep, also, hint

    async def ask(self, update: Update, context: BotContext) -> None:
        await self._ask(update, context)

    def handlers(self) -> list[Handler]:
        handlers: list[Handler] = [MessageHandler(TEXT, self.typed), *self.also]
        if self.keep is not None:
            handlers.append(self.keep.handler(self.kept))
        return handlers

    async def typed(self, update: Update, context: BotContext) -> int | None:
        assert update.message is not None and update.message.text is not None
        problem = self.check(context.i18n, update.message.text) if self.check else None
        if problem:
            await reply(update, problem)
            return None
        value = self.clean(update.message.text)
        if self._answered is not None:
            return await self._answered(update, context, value)
        assert self.answer is not None and self.then is not None
        return await self.dialog.answered(update, context, self.then, **{self.answer: value})

    async def kept(self, update: Update, context: BotContext, pressed: int) -> int | None:
        """Go on with the text given before (only on this step, only if there is one)."""
        assert self.answer is not None and self.then is not None
        if pressed != self.state or not self.dialog.answers(context).get(self.answer):
            await refuse_earlier_step(update, context)
            return None
        return await self.dialog.answered(update, context, self.then)


class Moves(TypedDict, total=False):
    """Where a typed text's step goes when kept as it was (see :class:`TypedText`)."""

    then: Then
    keep: Button[int]


# How a listing's title and description are checked and cleaned, wherever they are typed.
LISTING_TEXTS: dict[str, tuple[Callable[[Translator, str], str | None], Callable[[str], str]]] = {
    "title": (check_title, clean_line),
    "description": (check_description, clean_block),
}


class ListingText(TypedText):
    """Type a listing's ``field``, its title or description (posting it, or editing a
    published one), checked and cleaned as :data:`LISTING_TEXTS` says; the answer is named
    after the field."""

    def __init__(
        self, field: str, ask: Ask, *, answered: TextTyped, **moves: Unpack[Moves]
    ) -> None:
        check, clean = LISTING_TEXTS[field]
        super().__init__(ask, answer=field, answered=answered, check=check, clean=clean, **moves)


class ChooseCountry(Step):
    """Choose a served country with its button, or type its name (in one's language, English,
    or its code); the answer is ``country``, and the place answered before is forgotten."""

    def __init__(self, button: Button[str], *, then: Then, also: Sequence[Handler] = ()) -> None:
        self.button, self.then, self.also = button, then, also

    async def ask(self, update: Update, context: BotContext) -> None:
        _ = context.i18n.gettext
        countries = country_keyboard(context.i18n, self.button).inline_keyboard
        navigation = self.dialog.navigation(context.i18n, self.state)
        await reply(
            update,
            _("Choose the country (or type its name):"),
            reply_markup=InlineKeyboardMarkup([*countries, *navigation]),
        )

    def handlers(self) -> list[Handler]:
        return [
            self.button.handler(self.chosen),
            MessageHandler(TEXT, self.typed),
            *self.also,
        ]

    async def chosen(self, update: Update, context: BotContext, country: str) -> int:
        forget_place(self.dialog.answers(context))
        return await self.dialog.answered(update, context, self.then, country=country)

    async def typed(self, update: Update, context: BotContext) -> int:
        _ = context.i18n.gettext
        assert update.message is not None and update.message.text is not None
        country = find_country(context.i18n, update.message.text)
        if country is None:
            await reply(update, _("I do not know that country. Please choose it from the list."))
            return await self.dialog.go_to(update, context, self.state)
        forget_place(self.dialog.answers(context))
        return await self.dialog.answered(update, context, self.then, country=country)


class SharedPlace:
    """A location shared with Telegram's button, resolved offline to the town it is in.

    A point far from any town (at sea) is refused with ``not_found`` (the ``keyboard`` shown
    again, if any); a town outside the served countries leads to choosing the country
    (``country_step``), or is refused like a point at sea when there is no such step.
    """

    def __init__(
        self,
        dialog: Dialog,
        found: Callable[[Update, BotContext, Place], Awaitable[int | None]],
        *,
        not_found: str,
        country_step: int | None = None,
        keyboard: Callable[[Translator], ReplyKeyboardMarkup] | None = None,
        only: f.BaseFilter = f.UpdateType.MESSAGE,
    ) -> None:
        self.dialog, self.found, self.not_found = dialog, found, not_found
        self.country_step, self.keyboard, self.only = country_step, keyboard, only

    def handler(self) -> Handler:
        return MessageHandler(self.only & f.LOCATION, self.shared)

    async def shared(self, update: Update, context: BotContext) -> int | None:
        _ = context.i18n.gettext
        assert update.message is not None and update.message.location is not None
        point = update.message.location
        place = locate(point.latitude, point.longitude)
        served = place is not None and place.country in COUNTRIES
        if place is None or (not served and self.country_step is None):
            keyboard = self.keyboard(context.i18n) if self.keyboard else None
            await reply(update, _(self.not_found), reply_markup=keyboard)
            return None
        if not served:
            await reply(
                update,
                _(
                    "{country} is not among the countries we serve yet. "
                    "Please choose a country from the list."
                ).format(country=escape(context.i18n.country(place.country))),
            )
            assert self.country_step is not None
            return await self.dialog.go_to(update, context, self.country_step)
        return await self.found(update, context, place)
