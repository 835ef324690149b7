"""Onboarding: who the user is and where, as a persistent conversation.

``/start`` → language → role → (organisation name) → where: share a location (resolved
offline) or choose the country and type the place → region → (population, for a
municipality) → summary → save. ``/cancel`` leaves without saving; ``/start`` in the middle
shows the current step again; a restart of the bot resumes at the same step.

Answers are kept in ``user_data["onboarding"]`` and written to the member's profile in one
transaction only when the user saves the summary: nothing is stored half-way.
"""

from __future__ import annotations

import dataclasses
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot import geo, views
from bot.command_menu import published_language, set_chat_menu
from bot.context import BotContext
from bot.dialogs.steps import (
    END,
    Questions,
    answers,
    check_name,
    clean_line,
    close_buttons,
    current_step,
    finish,
    parse_count,
)
from bot.handlers.common import RESUMERS, reply, resume_dialogs, show_menu
from bot.i18n import LANGUAGES, N_, translator
from bot.storage import Profile

DIALOG = "onboarding"

(
    CHOOSING_LANGUAGE,
    CHOOSING_ROLE,
    TYPING_ORGANISATION,
    LOCATING,
    CONFIRMING_PLACE,
    CHOOSING_COUNTRY,
    TYPING_PLACE,
    TYPING_REGION,
    TYPING_POPULATION,
    CONFIRMING_PROFILE,
) = range(10)

MAX_POPULATION = 10_000_000


# --- the questions -------------------------------------------------------------------------


WELCOME = N_(
    "👋 Welcome to <b>Community Sharing</b>, where municipalities, project holders and "
    "volunteers across Europe meet to share what they need and what they can offer.\n\n"
    "First, which language shall we use?"
)


async def ask_language(update: Update, context: BotContext) -> None:
    await reply(
        update,
        context.i18n.gettext(WELCOME),
        reply_markup=views.language_keyboard("ob:lang:", context.i18n.language),
    )


async def ask_role(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    buttons = [
        [InlineKeyboardButton(_(label), callback_data=f"ob:role:{role}")]
        for role, label in views.ROLE_LABELS.items()
    ]
    await reply(
        update,
        _(
            "Who are you here?\n\n"
            "🏛 <b>Municipality</b>: you speak for a municipality (mayor, officer).\n"
            "💼 <b>Project holder or organisation</b>: a business, an association, a project.\n"
            "🤝 <b>Volunteer</b>: you want to lend a hand."
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_organisation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(update, _("What is the name of your organisation or project?"))


def _locating_keyboard(context: BotContext) -> ReplyKeyboardMarkup:
    _ = context.i18n.gettext
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
    if answers(context, DIALOG).get("role") == "municipality":
        text = _(
            "Where is your municipality? Share your location with the button below "
            "(from your phone), or choose the country."
        )
    else:
        text = _(
            "Where are you based? Share your location with the button below "
            "(from your phone), or choose the country."
        )
    await reply(update, text, reply_markup=_locating_keyboard(context))


async def ask_place_confirmation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    found = answers(context, DIALOG)
    buttons = [
        [
            InlineKeyboardButton(_("✅ Yes"), callback_data="ob:place:yes"),
            InlineKeyboardButton(_("✏️ No, I will type it"), callback_data="ob:place:no"),
        ]
    ]
    await reply(
        update,
        _("Is this right?\n<b>{place}</b>").format(
            place=views.place_line(context.i18n, found["place"], found["region"], found["country"])
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_country(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Choose the country (or type its name):"),
        reply_markup=views.country_keyboard(context.i18n, "ob:cty:"),
    )


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    country = escape(context.i18n.country(given["country"]))
    if given.get("role") == "municipality":
        text = _("{country}: what is the name of your municipality?").format(country=country)
    else:
        text = _("{country}: in which town or village?").format(country=country)
    await reply(update, text, reply_markup=ReplyKeyboardRemove())


async def ask_region(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    place = escape(answers(context, DIALOG)["place"])
    buttons = [[InlineKeyboardButton(_("Skip"), callback_data="ob:region:skip")]]
    await reply(
        update,
        _(
            "Which region is {place} in (province, county or district)? Type it, or tap Skip."
        ).format(place=place),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_population(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    place = escape(answers(context, DIALOG)["place"])
    await reply(
        update,
        _("About how many people live in {place}? Type a number, for example {example}.").format(
            place=place, example=context.i18n.number(1200)
        ),
    )


async def ask_confirmation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert context.member is not None
    given = answers(context, DIALOG)
    preview = dataclasses.replace(
        context.member,
        role=given["role"],
        country=given["country"],
        region=given.get("region") or None,
        place=given["place"],
        municipality_name=given["place"] if given["role"] == "municipality" else None,
        municipality_population=given.get("population"),
        municipality_verified=False,
        organisation_name=given.get("organisation"),
        onboarded=True,
    )
    buttons = [
        [
            InlineKeyboardButton(_("✅ Save"), callback_data="ob:save"),
            InlineKeyboardButton(_("🔁 Start over"), callback_data="ob:restart"),
        ]
    ]
    await reply(
        update,
        views.profile_card(context.i18n, preview) + "\n\n" + _("Is everything right?"),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


QUESTIONS = {
    CHOOSING_LANGUAGE: ask_language,
    CHOOSING_ROLE: ask_role,
    TYPING_ORGANISATION: ask_organisation,
    LOCATING: ask_location,
    CONFIRMING_PLACE: ask_place_confirmation,
    CHOOSING_COUNTRY: ask_country,
    TYPING_PLACE: ask_place,
    TYPING_REGION: ask_region,
    TYPING_POPULATION: ask_population,
    CONFIRMING_PROFILE: ask_confirmation,
}


ASKING = Questions(DIALOG, QUESTIONS)
go_to = ASKING.go_to
resume = ASKING.resume
RESUMERS[DIALOG] = resume


# --- the answers ---------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    """``/start``: onboard a newcomer; show the menu to someone already set up."""
    if context.member is not None and context.member.onboarded:
        await show_menu(update, context)
        # In the middle of another dialog (posting...), show where they were as well.
        await resume_dialogs(update, context)
        return END
    answers(context, DIALOG).clear()
    return await go_to(update, context, CHOOSING_LANGUAGE)


async def edit_profile(update: Update, context: BotContext) -> int:
    """The profile's Edit button: walk the dialog again from the role, language known."""
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    answers(context, DIALOG).clear()
    return await go_to(update, context, CHOOSING_ROLE)


async def language_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    code = query.data.removeprefix("ob:lang:")
    if code not in LANGUAGES:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return CHOOSING_LANGUAGE
    await context.storage.set_language(update.effective_user.id, code)
    context.i18n = translator(code)
    await close_buttons(query, context)
    if code != published_language(update.effective_user.language_code):
        # Telegram shows the menu of the app's language: this chat gets one of its own.
        assert update.effective_chat is not None
        await set_chat_menu(context.bot, update.effective_chat.id, code)
    return await go_to(update, context, CHOOSING_ROLE)


async def role_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    role = query.data.removeprefix("ob:role:")
    answers(context, DIALOG)["role"] = role
    await close_buttons(query, context)
    return await go_to(update, context, TYPING_ORGANISATION if role == "organisation" else LOCATING)


async def organisation_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_name(context.i18n, update.message.text, maximum=120)
    if problem:
        await reply(update, problem)
        return TYPING_ORGANISATION
    answers(context, DIALOG)["organisation"] = clean_line(update.message.text)
    return await go_to(update, context, LOCATING)


async def location_shared(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    step = current_step(context, DIALOG) or LOCATING
    place = geo.locate(point.latitude, point.longitude)
    if place is None:
        await reply(
            update,
            _(
                "I could not find a town near that point (it may be at sea). "
                "Please share another location or choose the country."
            ),
            reply_markup=_locating_keyboard(context),
        )
        return step
    if place.country not in geo.COUNTRIES:
        await reply(
            update,
            _(
                "{country} is not among the countries we serve yet. "
                "Please choose a country from the list."
            ).format(country=escape(context.i18n.country(place.country))),
        )
        return await go_to(update, context, CHOOSING_COUNTRY)
    answers(context, DIALOG).update(
        place=place.name,
        region=place.region,
        country=place.country,
        latitude=place.latitude,
        longitude=place.longitude,
    )
    return await go_to(update, context, CONFIRMING_PLACE)


async def locating_typed(update: Update, context: BotContext) -> int:
    """Text while locating: the 'choose the country' button, or a country typed by name."""
    assert update.message is not None and update.message.text is not None
    country = views.find_country(context.i18n, update.message.text)
    if country is None:
        return await go_to(update, context, CHOOSING_COUNTRY)
    answers(context, DIALOG)["country"] = country
    return await go_to(update, context, TYPING_PLACE)


async def place_confirmed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    await close_buttons(query, context)
    given = answers(context, DIALOG)
    if query.data == "ob:place:yes":
        return await go_to(update, context, _after_region(given))
    for field in ("place", "region", "latitude", "longitude"):
        given.pop(field, None)
    return await go_to(update, context, CHOOSING_COUNTRY)


async def country_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    country = query.data.removeprefix("ob:cty:")
    if country not in geo.COUNTRIES:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return CHOOSING_COUNTRY
    answers(context, DIALOG)["country"] = country
    await close_buttons(query, context)
    return await go_to(update, context, TYPING_PLACE)


async def country_typed(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    country = views.find_country(context.i18n, update.message.text)
    if country is None:
        await reply(update, _("I do not know that country. Please choose it from the list."))
        return await go_to(update, context, CHOOSING_COUNTRY)
    answers(context, DIALOG)["country"] = country
    return await go_to(update, context, TYPING_PLACE)


async def place_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_name(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_PLACE
    answers(context, DIALOG)["place"] = clean_line(update.message.text)
    return await go_to(update, context, TYPING_REGION)


async def region_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_name(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_REGION
    given = answers(context, DIALOG)
    given["region"] = clean_line(update.message.text)
    return await go_to(update, context, _after_region(given))


async def region_skipped(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    given = answers(context, DIALOG)
    given["region"] = ""
    return await go_to(update, context, _after_region(given))


def _after_region(given: dict[str, object]) -> int:
    return TYPING_POPULATION if given.get("role") == "municipality" else CONFIRMING_PROFILE


async def population_typed(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    population = parse_count(update.message.text)
    if population is None or not 1 <= population <= MAX_POPULATION:
        await reply(
            update,
            _(
                "Please type the number of inhabitants as a whole number between 1 and "
                "{maximum}, for example {example}."
            ).format(
                maximum=context.i18n.number(MAX_POPULATION), example=context.i18n.number(1200)
            ),
        )
        return TYPING_POPULATION
    answers(context, DIALOG)["population"] = population
    return await go_to(update, context, CONFIRMING_PROFILE)


async def profile_saved(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    given = answers(context, DIALOG)
    profile = Profile(
        role=given["role"],
        country=given["country"],
        place=given["place"],
        region=given.get("region", ""),
        population=given.get("population"),
        organisation_name=given.get("organisation"),
        latitude=given.get("latitude"),
        longitude=given.get("longitude"),
    )
    context.member = await context.storage.save_profile(update.effective_user.id, profile)
    await close_buttons(query, context)
    await finish(update, context, DIALOG)
    await reply(update, _("✅ Your profile is saved. Welcome!"))
    await show_menu(update, context)
    return END


async def restart(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    answers(context, DIALOG).clear()
    return await go_to(update, context, CHOOSING_ROLE)


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    await finish(update, context, DIALOG)
    await reply(
        update,
        _("Cancelled: nothing was saved. Send /start when you want to set up your profile."),
        reply_markup=ReplyKeyboardRemove(),
    )
    return END


async def use_the_buttons(update: Update, context: BotContext) -> int | None:
    """Something other than the expected answer: explain, and stay on the same step."""
    _ = context.i18n.gettext
    step = current_step(context, DIALOG)
    if step in (TYPING_ORGANISATION, TYPING_PLACE, TYPING_REGION, TYPING_POPULATION):
        await reply(update, _("Please answer with a text message."))
    elif step == LOCATING:
        await reply(update, _("Please share your location or choose the country."))
    else:
        await reply(update, _("Please use the buttons above, or send /cancel to stop."))
    return None  # None keeps the conversation on the same step


async def show_current_step(update: Update, context: BotContext) -> int | None:
    """``/start`` in the middle of onboarding: show where the user is."""
    await resume(update, context)
    return None


def build() -> ConversationHandler:  # type: ignore[type-arg]
    text = f.UpdateType.MESSAGE & f.TEXT & ~f.COMMAND
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[
            CommandHandler("start", start),
            CallbackQueryHandler(edit_profile, pattern=r"^prof:edit$"),
        ],
        states={
            CHOOSING_LANGUAGE: [CallbackQueryHandler(language_chosen, pattern=r"^ob:lang:")],
            CHOOSING_ROLE: [
                CallbackQueryHandler(
                    role_chosen, pattern=r"^ob:role:(municipality|organisation|volunteer)$"
                )
            ],
            TYPING_ORGANISATION: [MessageHandler(text, organisation_typed)],
            LOCATING: [
                MessageHandler(f.LOCATION, location_shared),
                MessageHandler(text, locating_typed),
            ],
            CONFIRMING_PLACE: [CallbackQueryHandler(place_confirmed, pattern=r"^ob:place:")],
            CHOOSING_COUNTRY: [
                CallbackQueryHandler(country_chosen, pattern=r"^ob:cty:"),
                MessageHandler(f.LOCATION, location_shared),
                MessageHandler(text, country_typed),
            ],
            TYPING_PLACE: [MessageHandler(text, place_typed)],
            TYPING_REGION: [
                MessageHandler(text, region_typed),
                CallbackQueryHandler(region_skipped, pattern=r"^ob:region:skip$"),
            ],
            TYPING_POPULATION: [MessageHandler(text, population_typed)],
            CONFIRMING_PROFILE: [
                CallbackQueryHandler(profile_saved, pattern=r"^ob:save$"),
                CallbackQueryHandler(restart, pattern=r"^ob:restart$"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CommandHandler("start", show_current_step),
            # Stickers, photos, voice, ...: any message that is not a command.
            MessageHandler(f.UpdateType.MESSAGE & ~f.COMMAND, use_the_buttons),
        ],
    )
