"""The alert dialog's steps: what each one shows, and moving to one (the conversation's
checkpoint written first); the answers are handled in :mod:`bot.dialogs.alerts`.

Buttons carry ``an:<what>[:<value>]``; Back names the step it was shown on
(``an:back:<step>``), so a Back button left on an earlier message cannot move a user who has
gone on.
"""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot import cards, taxonomy, views
from bot.context import BotContext
from bot.dialogs.steps import Questions, answers, ask_for_a_place
from bot.handlers.common import reply
from bot.i18n import N_, Translator
from bot.storage import AlertDraft

DIALOG = "alerts"

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
FREQUENCY_CHOICES = {
    "instant": N_("⚡ Right away"),
    "daily": N_("📅 Once a day"),
    "weekly": N_("🗓 Once a week"),
}
# Tags are offered for up to this many categories; more would not fit a keyboard.
TAGS_FOR_CATEGORIES = 3


def tick(label: str, chosen: bool) -> str:
    return f"✓ {label}" if chosen else label


def navigation(t: Translator, step: int) -> list[InlineKeyboardButton]:
    _ = t.gettext
    row = []
    if step in PREVIOUS:
        row.append(InlineKeyboardButton(_("⬅ Back"), callback_data=f"an:back:{step}"))
    row.append(InlineKeyboardButton(_("✖️ Cancel"), callback_data="an:cancel"))
    return row


def offered_tags(given: dict[str, Any]) -> list[str]:
    """The tags of the chosen categories (none when no or too many categories are chosen)."""
    chosen = given.get("categories", [])
    if not chosen or len(chosen) > TAGS_FOR_CATEGORIES:
        return []
    return [tag for key in chosen for tag in taxonomy.BY_KEY[key].tags]


def areas(context: BotContext) -> list[str]:
    """The areas this person can choose: their region and country need a profile."""
    member = context.member
    offered = []
    if member is not None and member.country and member.region:
        offered.append("region")
    if member is not None and member.country:
        offered.append("country")
    return [*offered, "europe", "radius"]


# --- the questions -----------------------------------------------------------------------


async def ask_kind(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    chosen = given.get("kind", "") or "any"
    buttons = [
        [
            InlineKeyboardButton(
                tick(_(label), "kind" in given and key == chosen), callback_data=f"an:kind:{key}"
            )
        ]
        for key, label in KIND_CHOICES.items()
    ]
    buttons.append(navigation(context.i18n, CHOOSING_KIND))
    intro = (
        _("✏️ Editing your alert.")
        if given.get("editing")
        else _("🔔 A new alert: I will tell you about new listings that fit it.")
    )
    await reply(
        update,
        intro + "\n\n" + _("What should it look for?"),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


def categories_keyboard(t: Translator, given: dict[str, Any]) -> InlineKeyboardMarkup:
    _ = t.gettext
    chosen = set(given.get("categories", []))
    buttons = [
        [
            InlineKeyboardButton(
                tick(cards.category_label(t, category.key), category.key in chosen),
                callback_data=f"an:cat:{category.key}",
            )
        ]
        for category in taxonomy.CATEGORIES
    ]
    done = _("✅ Done") if chosen else _("✅ Any category")
    buttons.append([InlineKeyboardButton(done, callback_data="an:cats:done")])
    buttons.append(navigation(t, CHOOSING_CATEGORIES))
    return InlineKeyboardMarkup(buttons)


async def ask_categories(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Which categories? Tap one or more, then Done (none: any category)."),
        reply_markup=categories_keyboard(context.i18n, answers(context, DIALOG)),
    )


def tags_keyboard(t: Translator, given: dict[str, Any]) -> InlineKeyboardMarkup:
    _ = t.gettext
    chosen = set(given.get("tags", []))
    buttons = [
        InlineKeyboardButton(
            tick(_(taxonomy.TAG_NAMES[tag]), tag in chosen), callback_data=f"an:tag:{tag}"
        )
        for tag in offered_tags(given)
    ]
    keyboard = views.rows(buttons, 2)
    done = _("✅ Done") if chosen else _("✅ Any tag")
    keyboard.append([InlineKeyboardButton(done, callback_data="an:tags:done")])
    keyboard.append(navigation(t, CHOOSING_TAGS))
    return InlineKeyboardMarkup(keyboard)


async def ask_tags(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Only listings with some of these tags? Tap them, then Done (none: any tag)."),
        reply_markup=tags_keyboard(context.i18n, answers(context, DIALOG)),
    )


async def ask_area(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    buttons = [
        [
            InlineKeyboardButton(
                tick(_(AREA_CHOICES[area]), area == given.get("area")),
                callback_data=f"an:area:{area}",
            )
        ]
        for area in areas(context)
    ]
    buttons.append(navigation(context.i18n, CHOOSING_AREA))
    # Also puts away a location keyboard left by the location step.
    await reply(update, _("Where should the listings be?"), reply_markup=ReplyKeyboardRemove())
    await reply(update, _("Choose the area:"), reply_markup=InlineKeyboardMarkup(buttons))


async def ask_location(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    rows = []
    if member is not None and member.latitude is not None and member.longitude is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    _("🏠 Around my profile's place"), callback_data="an:loc:profile"
                )
            ]
        )
    rows.append(navigation(context.i18n, SHARING_LOCATION))
    await ask_for_a_place(
        update, context.i18n, _("Around which place? Share a location."), InlineKeyboardMarkup(rows)
    )


async def ask_radius(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    buttons = [
        InlineKeyboardButton(
            tick(context.i18n.kilometres(radius), radius == given.get("radius_km")),
            callback_data=f"an:rad:{radius}",
        )
        for radius in RADII
    ]
    await reply(update, "📍", reply_markup=ReplyKeyboardRemove())
    await reply(
        update,
        _("How far around it?"),
        reply_markup=InlineKeyboardMarkup(
            [*views.rows(buttons, 5), navigation(context.i18n, CHOOSING_RADIUS)]
        ),
    )


async def ask_keywords(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    rows = [[InlineKeyboardButton(_("➡ No words, skip"), callback_data="an:kw:skip")]]
    text = _(
        "Only listings with certain words? Type them (for example <i>fire pump</i>): every "
        "word must appear. Or skip."
    )
    if given.get("keywords"):
        text += "\n\n" + _("Now: <b>{words}</b>").format(words=escape(given["keywords"]))
        rows.insert(0, [InlineKeyboardButton(_("➡ Keep them"), callback_data="an:kw:keep")])
    rows.append(navigation(context.i18n, TYPING_KEYWORDS))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def ask_frequency(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    buttons = [
        [
            InlineKeyboardButton(
                tick(_(label), key == given.get("frequency")), callback_data=f"an:freq:{key}"
            )
        ]
        for key, label in FREQUENCY_CHOICES.items()
    ]
    buttons.append(navigation(context.i18n, CHOOSING_FREQUENCY))
    await reply(
        update,
        _(
            "How often should I tell you? (Daily and weekly come together in one message, "
            "at about 09:00 your time.)"
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


QUESTIONS = {
    CHOOSING_KIND: ask_kind,
    CHOOSING_CATEGORIES: ask_categories,
    CHOOSING_TAGS: ask_tags,
    CHOOSING_AREA: ask_area,
    SHARING_LOCATION: ask_location,
    CHOOSING_RADIUS: ask_radius,
    TYPING_KEYWORDS: ask_keywords,
    CHOOSING_FREQUENCY: ask_frequency,
}


ASKING = Questions(DIALOG, QUESTIONS)
go_to = ASKING.go_to
resume = ASKING.resume


def draft(context: BotContext) -> AlertDraft:
    """The alert the answers describe; the member's region and country are copied."""
    given = answers(context, DIALOG)
    member = context.member
    area = given["area"]
    return AlertDraft(
        kind=given.get("kind") or None,
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
