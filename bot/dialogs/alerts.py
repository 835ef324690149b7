"""Making or editing an alert (a saved search): kind → categories → tags (optional) → area
(my region, my country, Europe, or a radius around a place) → words (optional) → how often.

Each step is written before its question is shown, like posting's. Back names the step it was
shown on; from the words it leads to the radius when the area is around a place, and from the
area to the tags when tags were offered.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot import taxonomy
from bot.buttons import ALERT_DIALOG, InvalidButton, OneOf, refuse_earlier_step
from bot.context import BotContext, reply
from bot.dialogs.dialog import BUTTONS_HINT, END, Dialog, Handler, Question
from bot.dialogs.steps import (
    Choice,
    Toggles,
    TypedText,
    ask_for_a_place,
    category_labels,
    clean_line,
    has_letter,
    translated,
)
from bot.handlers.members import onboarded_member
from bot.i18n import N_, Translator
from bot.matching import fitting
from bot.matching.matcher import keyword_meanings
from bot.places.geocoding import locate
from bot.storage import Alert, AlertDraft
from bot.storage.alerts import MAX_ALERTS
from bot.views.alerts import EDIT, NEW, list_keyboard, list_text, saved_keyboard, saved_text
from bot.views.texts import FREQUENCY_LABELS, place_line

# Persisted as numbers (conversation states): append new steps, never reorder.
(
    CHOOSING_KIND,
    CHOOSING_CATEGORIES,
    CHOOSING_TAGS,
    CHOOSING_AREA,
    SHARING_LOCATION,
    CHOOSING_RADIUS,
    TYPING_KEYWORDS,
    CHOOSING_FREQUENCY,
) = range(8)

PREVIOUS = {
    CHOOSING_CATEGORIES: CHOOSING_KIND,
    CHOOSING_TAGS: CHOOSING_CATEGORIES,
    CHOOSING_AREA: CHOOSING_CATEGORIES,
    SHARING_LOCATION: CHOOSING_AREA,
    CHOOSING_RADIUS: CHOOSING_AREA,
    TYPING_KEYWORDS: CHOOSING_AREA,
    CHOOSING_FREQUENCY: TYPING_KEYWORDS,
}

KIND_CHOICES = {
    "request": N_("🔴 Requests (someone needs something)"),
    "offer": N_("🟢 Offers (someone can give or help)"),
    "any": N_("🟢🔴 Both"),
}
AREA_CHOICES = {
    "region": N_("🏞 My region"),
    "country": N_("🏳️ My country"),
    "europe": N_("🇪🇺 All of Europe"),
    "radius": N_("📍 Around a place"),
}
RADII = (10, 25, 50, 100, 200)
# Tags are offered for up to this many categories; more would not fit a keyboard.
TAGS_FOR_CATEGORIES = 3
KEYWORDS_MAX = 100


def offered_tags(given: dict[str, Any]) -> list[str]:
    """The tags of the chosen categories (none when no or too many categories are chosen)."""
    chosen = given.get("categories", [])
    if not chosen or len(chosen) > TAGS_FOR_CATEGORIES:
        return []
    return [tag for key in chosen for tag in taxonomy.BY_KEY[key].tags]


def back_to(step: int, given: dict[str, Any]) -> int:
    if step == TYPING_KEYWORDS and given.get("area") == "radius":
        return CHOOSING_RADIUS
    if step == CHOOSING_AREA and offered_tags(given):
        return CHOOSING_TAGS
    return PREVIOUS[step]


DIALOG = Dialog("alerts", ALERT_DIALOG, previous=PREVIOUS, back_to=back_to)

KIND = DIALOG.button("kind", OneOf(KIND_CHOICES))
CATEGORY = DIALOG.button("cat", OneOf(taxonomy.BY_KEY))
CATEGORIES_DONE = DIALOG.button("cats:done")
TAG = DIALOG.button("tag", OneOf(taxonomy.TAG_NAMES))
TAGS_DONE = DIALOG.button("tags:done")
AREA = DIALOG.button("area", OneOf(AREA_CHOICES))
AROUND_PROFILE_PLACE = DIALOG.button("loc:profile")
RADIUS = DIALOG.button("rad", OneOf(str(radius) for radius in RADII))
NO_KEYWORDS = DIALOG.button("kw:skip")
KEEP_KEYWORDS = DIALOG.button("kw:keep")
FREQUENCY = DIALOG.button("freq", OneOf(FREQUENCY_LABELS))


# --- starting: a new alert, or one to edit ---------------------------------------------------


async def start_new(update: Update, context: BotContext, _none: None) -> int:
    """A new alert from the first step."""
    member = await onboarded_member(update, context)
    if member is None:
        return END
    if len(await context.storage.alerts_of(member.id)) >= MAX_ALERTS:
        await reply(
            update,
            context.i18n.ngettext(
                "You have {count} alert, as many as one may have. Delete one to add another.",
                "You have {count} alerts, as many as one may have. Delete one to add another.",
                MAX_ALERTS,
            ).format(count=context.i18n.number(MAX_ALERTS)),
        )
        return END
    return await DIALOG.begin(update, context, CHOOSING_KIND)


async def gone(update: Update, context: BotContext) -> None:
    """An alert button naming no alert of the presser's (deleted, another's, or forged)."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This alert no longer exists."), show_alert=True
    )


async def start_edit(update: Update, context: BotContext, alert_id: int) -> int:
    """The dialog again, with the alert's answers ticked."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    alert = await context.storage.own_alert(alert_id, update.effective_user.id)
    if alert is None:
        await gone(update, context)
        return END
    await query.answer()
    return await DIALOG.begin(
        update,
        context,
        CHOOSING_KIND,
        editing=alert.id,
        kind=alert.kind or "any",
        categories=list(alert.categories),
        tags=list(alert.tags),
        area=alert.area if alert.area in areas(context) else None,
        latitude=alert.latitude,
        longitude=alert.longitude,
        radius_km=str(round(alert.radius_km)) if alert.radius_km else None,
        keywords=alert.keywords,
        frequency=alert.frequency,
    )


# --- what to look for: kind, categories, tags ------------------------------------------------


def kind_question(context: BotContext) -> str:
    _ = context.i18n.gettext
    intro = (
        _("✏️ Editing your alert.")
        if DIALOG.answers(context).get("editing")
        else _("🔔 A new alert: I will tell you about new listings that fit it.")
    )
    return intro + "\n\n" + _("What should it look for?")


async def categories_done(update: Update, context: BotContext) -> int:
    given = DIALOG.answers(context)
    given["tags"] = [tag for tag in given.get("tags", []) if tag in offered_tags(given)]
    return await DIALOG.answered(
        update, context, CHOOSING_TAGS if offered_tags(given) else CHOOSING_AREA
    )


async def tags_done(update: Update, context: BotContext) -> int:
    return await DIALOG.answered(update, context, CHOOSING_AREA)


def tag_choices(context: BotContext, given: dict[str, Any]) -> list[tuple[str, str]]:
    _ = context.i18n.gettext
    return [(tag, _(taxonomy.TAG_NAMES[tag])) for tag in offered_tags(given)]


def done_or_any(any_label: str) -> Callable[[Translator, bool], str]:
    """Done once something is ticked; "any" before (nothing ticked means any)."""

    def label(t: Translator, chosen: bool) -> str:
        return t.gettext("✅ Done") if chosen else t.gettext(any_label)

    return label


DIALOG.add(
    CHOOSING_KIND,
    Choice(kind_question, KIND, translated(KIND_CHOICES), answer="kind", then=CHOOSING_CATEGORIES),
)
DIALOG.add(
    CHOOSING_CATEGORIES,
    Toggles(
        lambda context: context.i18n.gettext(
            "Which categories? Tap one or more, then Done (none: any category)."
        ),
        CATEGORY,
        CATEGORIES_DONE,
        lambda context, _given: category_labels(context),
        answer="categories",
        finished=categories_done,
        done_label=done_or_any(N_("✅ Any category")),
    ),
)
DIALOG.add(
    CHOOSING_TAGS,
    Toggles(
        lambda context: context.i18n.gettext(
            "Only listings with some of these tags? Tap them, then Done (none: any tag)."
        ),
        TAG,
        TAGS_DONE,
        tag_choices,
        answer="tags",
        finished=tags_done,
        width=2,
        done_label=done_or_any(N_("✅ Any tag")),
    ),
)


# --- where: an area, or a radius around a place -------------------------------------------------


def areas(context: BotContext) -> list[str]:
    """The areas this person can choose: their region and country need a profile."""
    home = context.member.home_areas if context.member is not None else []
    return [*home, "europe", "radius"]


def area_labels(context: BotContext) -> list[tuple[str, str]]:
    return [(area, context.i18n.gettext(AREA_CHOICES[area])) for area in areas(context)]


async def put_away_keyboard(update: Update, context: BotContext) -> None:
    """Also puts away a location keyboard left by the location step."""
    _ = context.i18n.gettext
    await reply(update, _("Where should the listings be?"), reply_markup=ReplyKeyboardRemove())


async def ask_location(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    choices = []
    if member is not None and member.latitude is not None and member.longitude is not None:
        around = _("🏠 Around my profile's place")
        choices.append(
            [InlineKeyboardButton(around, callback_data=AROUND_PROFILE_PLACE.data(None))]
        )
    await ask_for_a_place(
        update,
        context.i18n,
        _("Around which place? Share a location."),
        InlineKeyboardMarkup([*choices, *DIALOG.navigation(context.i18n, SHARING_LOCATION)]),
    )


async def location_shared(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    return await DIALOG.answered(
        update, context, CHOOSING_RADIUS, latitude=point.latitude, longitude=point.longitude
    )


async def around_profile_place(update: Update, context: BotContext, _none: None) -> int | None:
    member = context.member
    if member is None or member.latitude is None or member.longitude is None:
        raise InvalidButton("no place in the profile")
    return await DIALOG.answered(
        update, context, CHOOSING_RADIUS, latitude=member.latitude, longitude=member.longitude
    )


async def show_centre(update: Update, context: BotContext) -> None:
    """Where the alert's circle is centred, before its radius: the town at the shared point
    (or the point itself, at sea). It also puts away the location keyboard, which only a
    message without inline buttons can do."""
    t = context.i18n
    given = DIALOG.answers(context)
    latitude, longitude = given["latitude"], given["longitude"]
    town = locate(latitude, longitude)
    if town is not None:
        where = place_line(t, town.name, town.region, town.country, town.key)
    else:
        where = f"{latitude:.2f}, {longitude:.2f}"  # as maps write a point, in any language
    await reply(update, "📍 " + where, reply_markup=ReplyKeyboardRemove())


DIALOG.add(
    CHOOSING_AREA,
    Choice(
        lambda context: context.i18n.gettext("Choose the area:"),
        AREA,
        area_labels,
        answer="area",
        then=lambda given: SHARING_LOCATION if given["area"] == "radius" else TYPING_KEYWORDS,
        before=put_away_keyboard,
    ),
)
DIALOG.add(
    SHARING_LOCATION,
    Question(
        ask_location,
        MessageHandler(f.UpdateType.MESSAGE & f.LOCATION, location_shared),
        AROUND_PROFILE_PLACE.handler(around_profile_place),
        hint=N_("Please share a location with the button below the text field."),
    ),
)
DIALOG.add(
    CHOOSING_RADIUS,
    Choice(
        lambda context: context.i18n.gettext("How far around it?"),
        RADIUS,
        lambda context: [(str(radius), context.i18n.kilometres(radius)) for radius in RADII],
        answer="radius_km",
        then=TYPING_KEYWORDS,
        width=5,
        before=show_centre,
    ),
)


# --- words, and how often -------------------------------------------------------------------------


async def ask_keywords(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = DIALOG.answers(context)
    choices = [[InlineKeyboardButton(_("➡ No words, skip"), callback_data=NO_KEYWORDS.data(None))]]
    text = _(
        "Only listings with certain words? Type them (for example <i>fire pump</i>): every "
        "word must appear. Or skip."
    )
    if given.get("keywords"):
        text += "\n\n" + _("Now: <b>{words}</b>").format(words=escape(given["keywords"]))
        keep = InlineKeyboardButton(_("➡ Keep them"), callback_data=KEEP_KEYWORDS.data(None))
        choices.insert(0, [keep])
    navigation = DIALOG.navigation(context.i18n, TYPING_KEYWORDS)
    await reply(update, text, reply_markup=InlineKeyboardMarkup([*choices, *navigation]))


def check_keywords(t: Translator, typed: str) -> str | None:
    words = clean_line(typed)
    if len(words) > KEYWORDS_MAX or not (has_letter(words) or any(c.isdigit() for c in words)):
        return t.gettext("Please type a few words ({maximum} characters at most), or skip.").format(
            maximum=KEYWORDS_MAX
        )
    return None


async def no_keywords(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_FREQUENCY, keywords="")


async def keep_keywords(update: Update, context: BotContext, _none: None) -> int | None:
    if not DIALOG.answers(context).get("keywords"):
        await refuse_earlier_step(update, context)
        return None
    return await DIALOG.answered(update, context, CHOOSING_FREQUENCY)


def frequency_question(context: BotContext) -> str:
    return context.i18n.gettext(
        "How often should I tell you? (Daily and weekly come together in one message, "
        "at about 09:00 your time.)"
    )


def draft(context: BotContext) -> AlertDraft:
    """The alert the answers describe; the member's region and country are copied."""
    given = DIALOG.answers(context)
    member = context.member
    area = given["area"]
    return AlertDraft(
        kind=None if given.get("kind") in (None, "any") else given["kind"],
        categories=tuple(given.get("categories", [])),
        tags=tuple(tag for tag in given.get("tags", []) if tag in offered_tags(given)),
        area=area,
        country=member.country if member and area in ("region", "country") else None,
        region=member.region if member and area == "region" else None,
        latitude=given.get("latitude") if area == "radius" else None,
        longitude=given.get("longitude") if area == "radius" else None,
        radius_km=float(given["radius_km"]) if area == "radius" else None,
        keywords=given.get("keywords", ""),
        frequency=given.get("frequency", "instant"),
    )


async def frequency_chosen(update: Update, context: BotContext, frequency: str) -> int:
    """The last answer: save the alert and show the list."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    given = DIALOG.answers(context)
    if given.get("area") is None:  # answers lost: ask again
        return await DIALOG.go_to(update, context, CHOOSING_AREA)
    given["frequency"] = frequency
    user = update.effective_user.id
    async with DIALOG.ending(update, context):  # one transaction: the alert, the end
        saved = await context.storage.save_alert(
            user, draft(context), now=context.now(), alert_id=given.get("editing")
        )
    await DIALOG.finish(update, context)
    if saved is None:
        await reply(update, _("This alert could not be saved: it was deleted meanwhile."))
    else:
        await show_what_fits(update, context, saved)
    alerts = await context.storage.alerts_of(user)
    await reply(
        update, list_text(context.i18n, alerts), reply_markup=list_keyboard(context.i18n, alerts)
    )
    return END


async def show_what_fits(update: Update, context: BotContext, alert: Alert) -> None:
    """The alert saved, with the open listings that already fit it (the pass tells only
    about new ones)."""
    now = context.now()
    candidates = await context.storage.open_listings_for(alert, now=now, scan=fitting.SCAN)
    member = context.member
    point = None
    if alert.area == "radius" and alert.latitude is not None and alert.longitude is not None:
        point = (alert.latitude, alert.longitude)
    elif member is not None and member.latitude is not None and member.longitude is not None:
        point = (member.latitude, member.longitude)
    meanings = await keyword_meanings(
        context.storage,
        context.meaning.semantics,
        alert.keywords,
        (listing.id for listing, _text in candidates),
    )
    found = fitting.already_fitting(alert, candidates, point, meanings)
    await reply(
        update,
        saved_text(context.i18n, alert, found, now),
        reply_markup=saved_keyboard(found),
    )


DIALOG.add(
    TYPING_KEYWORDS,
    TypedText(
        ask_keywords,
        answer="keywords",
        then=CHOOSING_FREQUENCY,
        check=check_keywords,
        also=[NO_KEYWORDS.handler(no_keywords), KEEP_KEYWORDS.handler(keep_keywords)],
        hint=BUTTONS_HINT,
    ),
)
DIALOG.add(
    CHOOSING_FREQUENCY,
    Choice(
        frequency_question,
        FREQUENCY,
        translated(FREQUENCY_LABELS),
        answer="frequency",
        answered=frequency_chosen,
    ),
)


# --- leaving -----------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    _ = context.i18n.gettext
    editing = DIALOG.answers(context).get("editing")
    text = _("Cancelled: the alert is unchanged.") if editing else _("Cancelled: no alert saved.")
    return await DIALOG.cancelled(update, context, text, reply_markup=ReplyKeyboardRemove())


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[NEW.handler(start_new), EDIT.handler(start_edit)],
        fallbacks=[
            CommandHandler("cancel", cancel),
            DIALOG.cancel.handler(cancel),
            NEW.handler(start_new),
            EDIT.handler(start_edit),
        ],
        again=["alerts"],
    )
