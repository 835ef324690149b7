"""Onboarding: who the person is and where.

``/start`` → language → role → (organisation name) → where: share a location and choose
among the nearest places or type the name (:mod:`bot.dialogs.nearby`), or choose the
country and type the place → region (unless the location gave it) → (population of the
municipality, for a municipality's representative) → summary → save. ``/cancel`` leaves
without saving; ``/start`` in the middle shows the current step again; a restart of the bot
resumes at the same step.

The answers are written to the member's profile in one transaction only when the person saves
the summary: nothing is stored half-way.
"""

from __future__ import annotations

import dataclasses
from html import escape
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot.buttons import ONBOARDING, PROFILE_EDIT, OneOf, close_buttons
from bot.context import BotContext, reply
from bot.dialogs import nearby
from bot.dialogs.dialog import END, TEXT, Dialog, Handler, Question, resume_dialogs
from bot.dialogs.steps import (
    Choice,
    ChooseCountry,
    SharedPlace,
    TypedText,
    check_name,
    parse_count,
    translated,
)
from bot.i18n import LANGUAGES, N_, Translator, translator
from bot.places import names
from bot.places.countries import COUNTRIES, find_country
from bot.storage import Profile
from bot.views import texts as views
from bot.views.command_menu import published_language, set_chat_menu

DIALOG = Dialog("onboarding", ONBOARDING, navigation=False)

# Persisted as numbers (conversation states): append new steps, never reorder.
(
    CHOOSING_LANGUAGE,
    CHOOSING_ROLE,
    TYPING_ORGANISATION,
    LOCATING,
    CHOOSING_NEARBY,  # persisted: once CONFIRMING_PLACE, the one place found
    CHOOSING_COUNTRY,
    TYPING_PLACE,
    TYPING_REGION,
    TYPING_POPULATION,
    CONFIRMING_PROFILE,
) = range(10)

MAX_POPULATION = 10_000_000
LANGUAGE = DIALOG.button("lang", OneOf(LANGUAGES))
ROLE = DIALOG.button("role", OneOf(views.ROLE_LABELS))
NEARBY = DIALOG.button("place", nearby.CHOICE)
COUNTRY = DIALOG.button("cty", OneOf(COUNTRIES))
SKIP_REGION = DIALOG.button("region:skip")
SAVE = DIALOG.button("save")
START_OVER = DIALOG.button("restart")


# --- /start, or the profile's Edit button ------------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    """Onboard a newcomer; show the menu to someone already set up."""
    if context.member is not None and context.member.onboarded:
        await show_menu(update, context)
        # In the middle of another dialog (posting...), show where they were as well.
        await resume_dialogs(update, context)
        return END
    return await DIALOG.begin(update, context, CHOOSING_LANGUAGE)


async def edit_profile(update: Update, context: BotContext, _none: None) -> int:
    """Walk the dialog again from the role, the language known."""
    await close_buttons(update, context)
    return await DIALOG.begin(update, context, CHOOSING_ROLE)


async def show_menu(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("What would you like to do?"), reply_markup=views.main_menu(context.i18n))


# --- language and role -------------------------------------------------------------------------

WELCOME = N_(
    "👋 Welcome to <b>Community Sharing</b>, where municipalities, project holders and "
    "volunteers across Europe meet to share what they need and what they can offer.\n\n"
    "First, which language shall we use?"
)


async def ask_language(update: Update, context: BotContext) -> None:
    await reply(
        update,
        context.i18n.gettext(WELCOME),
        reply_markup=views.language_keyboard(LANGUAGE, context.i18n.language),
    )


async def language_chosen(update: Update, context: BotContext, code: str) -> int:
    assert update.effective_user is not None
    context.i18n = translator(code)
    if code != published_language(update.effective_user.language_code):
        # Telegram shows the menu of the app's language: this chat gets one of its own.
        assert update.effective_chat is not None
        await set_chat_menu(context.bot, update.effective_chat.id, code)
    # One transaction: the language, and the next step written ahead.
    async with context.storage.choosing_language(update.effective_user.id, code):
        return await DIALOG.answered(update, context, CHOOSING_ROLE)


def role_question(context: BotContext) -> str:
    return context.i18n.gettext(
        "Who are you here?\n\n"
        "🏛 <b>Municipality</b>: you speak for a municipality (mayor, officer).\n"
        "💼 <b>Project holder or organisation</b>: a business, an association, a project.\n"
        "🤝 <b>Volunteer</b>: you want to lend a hand."
    )


def after_role(given: dict[str, Any]) -> int:
    return TYPING_ORGANISATION if given["role"] == "organisation" else LOCATING


async def ask_organisation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("What is the name of your organisation or project?"))


DIALOG.add(CHOOSING_LANGUAGE, Question(ask_language, LANGUAGE.handler(language_chosen)))
DIALOG.add(
    CHOOSING_ROLE,
    Choice(role_question, ROLE, translated(views.ROLE_LABELS), answer="role", then=after_role),
)
DIALOG.add(
    TYPING_ORGANISATION,
    TypedText(
        ask_organisation,
        answer="organisation",
        then=LOCATING,
        check=lambda t, text: check_name(t, text, maximum=120),
    ),
)


# --- where: a shared location, or the country, the place and the region -------------------------


def locating_keyboard(t: Translator) -> ReplyKeyboardMarkup:
    _ = t.gettext
    return ReplyKeyboardMarkup(
        [
            [KeyboardButton(_("📍 Share my location"), request_location=True)],
            [KeyboardButton(_("🌍 Choose the country"))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def ask_location(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    if DIALOG.answers(context).get("role") == "municipality":
        text = _(
            "Where is your municipality? Share your location with the button below "
            "(from your phone), or choose the country."
        )
    else:
        text = _(
            "Where are you based? Share your location with the button below "
            "(from your phone), or choose the country."
        )
    await reply(update, text, reply_markup=locating_keyboard(context.i18n))


SHARED_PLACE = SharedPlace(
    DIALOG,
    nearby.offer_nearest(DIALOG, CHOOSING_NEARBY),
    not_found=N_(
        "I could not find a town near that point (it may be at sea). "
        "Please share another location or choose the country."
    ),
    country_step=CHOOSING_COUNTRY,
    keyboard=locating_keyboard,
    only=f.ALL,
)


async def locating_typed(update: Update, context: BotContext) -> int:
    """Text while locating: the 'choose the country' button, or a country typed by name."""
    assert update.message is not None and update.message.text is not None
    country = find_country(context.i18n, update.message.text)
    if country is None:
        return await DIALOG.go_to(update, context, CHOOSING_COUNTRY)
    return await DIALOG.answered(update, context, TYPING_PLACE, country=country)


async def place_typed(update: Update, context: BotContext, place: str) -> int:
    """The name typed (after choosing the country, or instead of the nearest places)."""
    given = DIALOG.answers(context)
    given.pop("place_key", None)
    # After a shared location the region is known; the name is kept as typed.
    if "latitude" in given and given.get("region"):
        return await DIALOG.answered(update, context, after_region, place=place)
    return await DIALOG.answered(update, context, TYPING_REGION, place=place)


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = DIALOG.answers(context)
    country = escape(context.i18n.country(given["country"]))
    if given.get("role") == "municipality":
        text = _("{country}: what is the name of your municipality?").format(country=country)
    else:
        text = _("{country}: in which town or village?").format(country=country)
    await reply(update, text, reply_markup=ReplyKeyboardRemove())


async def ask_region(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    place = escape(DIALOG.answers(context)["place"])
    buttons = [[InlineKeyboardButton(_("Skip"), callback_data=SKIP_REGION.data(None))]]
    await reply(
        update,
        _(
            "Which region is {place} in (province, county or district)? Type it, or tap Skip."
        ).format(place=place),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def region_skipped(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, after_region, region="")


def after_region(given: dict[str, Any]) -> int:
    """Only a municipality's representative is asked its population: the place they chose
    or typed is the municipality they speak for."""
    return TYPING_POPULATION if given.get("role") == "municipality" else CONFIRMING_PROFILE


TYPED_PLACE = TypedText(ask_place, answered=place_typed, check=check_name)
DIALOG.add(
    LOCATING,
    Question(
        ask_location,
        SHARED_PLACE.handler(),
        MessageHandler(TEXT, locating_typed),
        hint=N_("Please share your location or choose the country."),
    ),
)
DIALOG.add(
    CHOOSING_NEARBY,
    nearby.ChooseNearby(
        NEARBY,
        then=after_region,
        typing=TYPING_PLACE,
        # Typing the name without the button is typing the name.
        also=[SHARED_PLACE.handler(), MessageHandler(TEXT, TYPED_PLACE.typed)],
    ),
)
DIALOG.add(
    CHOOSING_COUNTRY, ChooseCountry(COUNTRY, then=TYPING_PLACE, also=[SHARED_PLACE.handler()])
)
DIALOG.add(TYPING_PLACE, TYPED_PLACE)
DIALOG.add(
    TYPING_REGION,
    TypedText(
        ask_region,
        answer="region",
        then=after_region,
        check=check_name,
        also=[SKIP_REGION.handler(region_skipped)],
    ),
)


def place_name(context: BotContext) -> str:
    """The place answered so far, as this reader reads it (chosen) or as typed; escaped."""
    given = DIALOG.answers(context)
    return escape(names.place_name(context.i18n.language, given.get("place_key"), given["place"]))


# --- population, and the summary ---------------------------------------------------------------


async def ask_population(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    place = place_name(context)
    await reply(
        update,
        _("About how many people live in {place}? Type a number, for example {example}.").format(
            place=place, example=context.i18n.number(1200)
        ),
    )


def check_population(t: Translator, typed: str) -> str | None:
    population = parse_count(typed)
    if population is None or not 1 <= population <= MAX_POPULATION:
        return t.gettext(
            "Please type the number of inhabitants as a whole number between 1 and "
            "{maximum}, for example {example}."
        ).format(maximum=t.number(MAX_POPULATION), example=t.number(1200))
    return None


async def population_typed(update: Update, context: BotContext, typed: str) -> int:
    population = parse_count(typed)
    return await DIALOG.answered(update, context, CONFIRMING_PROFILE, population=population)


async def ask_confirmation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert context.member is not None
    given = DIALOG.answers(context)
    preview = dataclasses.replace(
        context.member,
        role=given["role"],
        country=given["country"],
        region=given.get("region") or None,
        place=given["place"],
        place_key=given.get("place_key"),
        municipality_name=given["place"] if given["role"] == "municipality" else None,
        municipality_population=given.get("population"),
        municipality_verified=False,
        # The badge is the person's, for the municipality they belong to: not carried along.
        verified=context.member.verified
        and given["role"] == "municipality"
        and given["place"] == context.member.municipality_name,
        organisation_name=given.get("organisation"),
        onboarded=True,
    )
    buttons = [
        [
            InlineKeyboardButton(_("✅ Save"), callback_data=SAVE.data(None)),
            InlineKeyboardButton(_("🔁 Start over"), callback_data=START_OVER.data(None)),
        ]
    ]
    await reply(
        update,
        views.profile_card(context.i18n, preview) + "\n\n" + _("Is everything right?"),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def profile_saved(update: Update, context: BotContext, _none: None) -> int:
    _ = context.i18n.gettext
    assert update.effective_user is not None
    given = DIALOG.answers(context)
    profile = Profile(
        role=given["role"],
        country=given["country"],
        place=given["place"],
        region=given.get("region", ""),
        place_key=given.get("place_key"),
        population=given.get("population"),
        organisation_name=given.get("organisation"),
        latitude=given.get("latitude"),
        longitude=given.get("longitude"),
    )
    async with DIALOG.ending(update, context):  # one transaction: the profile, the end
        context.member = await context.storage.save_profile(
            update.effective_user.id, profile, now=context.now()
        )
    await close_buttons(update, context)
    await DIALOG.finish(update, context)
    await reply(update, _("✅ Your profile is saved. Welcome!"))
    await show_menu(update, context)
    return END


async def start_over(update: Update, context: BotContext, _none: None) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer()
    return await DIALOG.begin(update, context, CHOOSING_ROLE)


DIALOG.add(
    TYPING_POPULATION,
    TypedText(ask_population, answered=population_typed, check=check_population),
)
DIALOG.add(
    CONFIRMING_PROFILE,
    Question(ask_confirmation, SAVE.handler(profile_saved), START_OVER.handler(start_over)),
)


# --- leaving -----------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    await DIALOG.finish(update, context)
    await reply(
        update,
        _("Cancelled: nothing was saved. Send /start when you want to set up your profile."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return END


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[CommandHandler("start", start), PROFILE_EDIT.handler(edit_profile)],
        fallbacks=[CommandHandler("cancel", cancel)],
        again=["start"],
    )
