"""Editing an open listing: the card's ✏️ Edit button.

Pick what to change (title, description, category and tags, place, reach, photo), answer one
question, and the listing is saved and its card shown again. Who may edit is checked when the
button is pressed and again, in storage, when the change is saved: the owner, or a verified
official of the listing's municipality, and only while the listing is open.
"""

from __future__ import annotations

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
from bot.buttons import EDIT_LISTING, EDITING, OneOf, close_buttons
from bot.context import BotContext, reply
from bot.dialogs.dialog import END, Ask, Dialog, Handler, Question
from bot.dialogs.steps import (
    Choice,
    ChooseCategory,
    ChooseReach,
    ListingText,
    SharedPlace,
    TextTyped,
    Toggles,
    ask_for_a_place,
    profile_place,
    tag_options,
    text_limits,
    translated,
)
from bot.handlers.listings import send_card
from bot.i18n import N_
from bot.places.geocoding import Place
from bot.semantic.language import detect_listing
from bot.storage import ListingRefused, StoredVector
from bot.views import cards
from bot.views.texts import place_line_of

DIALOG = Dialog("editing", EDITING)

# Persisted as numbers (conversation states): append new steps, never reorder.
(
    CHOOSING_FIELD,
    TYPING_TITLE,
    TYPING_DESCRIPTION,
    CHOOSING_CATEGORY,
    CHOOSING_TAGS,
    CHOOSING_PLACE,
    CHOOSING_REACH,
    SENDING_PHOTO,
) = range(8)

FIELDS = {
    "title": (N_("Title"), TYPING_TITLE),
    "description": (N_("Description"), TYPING_DESCRIPTION),
    "category": (N_("Category and tags"), CHOOSING_CATEGORY),
    "place": (N_("Place"), CHOOSING_PLACE),
    "reach": (N_("Reach"), CHOOSING_REACH),
    "photo": (N_("Photo"), SENDING_PHOTO),
}
FIELD = EDITING.button("f", OneOf(FIELDS))
CATEGORY = EDITING.button("cat", OneOf(taxonomy.BY_KEY))
TAG = EDITING.button("tag", OneOf(taxonomy.TAG_NAMES))
TAGS_DONE = EDITING.button("tags:done")
OWN_PLACE = EDITING.button("place:own")
REACH = EDITING.button("reach", OneOf(taxonomy.REACHES))
REMOVE_PHOTO = EDITING.button("photo:remove")


# --- the Edit button -----------------------------------------------------------------------


async def start(update: Update, context: BotContext, listing_id: int) -> int:
    """Only the owner's side may edit, and only an open listing."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        listing = await context.storage.listing_to_manage(listing_id, update.effective_user.id)
    except ListingRefused as refused:
        await query.answer(cards.listing_refusal(context.i18n, refused), show_alert=True)
        return END
    if listing.state(context.now()) != "open":
        await query.answer(_("This listing can no longer be changed."), show_alert=True)
        return END
    await query.answer()
    return await DIALOG.begin(
        update,
        context,
        CHOOSING_FIELD,
        listing=listing.id,
        category=listing.category,
        tags=list(listing.tags),
    )


async def save(update: Update, context: BotContext, **changes: Any) -> int:
    """Store the change (storage checks the person again) and show the card."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listing_id = DIALOG.answers(context)["listing"]
    vector = None
    if "title" in changes or "description" in changes:
        vector = await _new_vector(context, listing_id, changes)
        language = await _new_language(context, listing_id, changes)
        if language is not None:
            changes = {**changes, "language": language}
    async with DIALOG.ending(update, context):  # one transaction: the change, the end
        edited = await context.storage.edit_listing(
            listing_id, update.effective_user.id, changes, now=context.now(), vector=vector
        )
    await DIALOG.finish(update, context)
    if edited is None:
        await reply(update, _("This listing can no longer be changed."))
        return END
    await reply(update, _("✅ Saved."), reply_markup=ReplyKeyboardRemove())
    await send_card(update, context, edited)
    return END


async def _new_vector(
    context: BotContext, listing_id: int, changes: dict[str, Any]
) -> tuple[str, str, StoredVector] | None:
    """The vector of the listing's text as it will read, with that text, embedded before the
    transaction that stores both (None: the vectors job makes it)."""
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return None
    title = str(changes.get("title", listing.title))
    description = str(changes.get("description", listing.description))
    vector = await context.meaning.semantics.passage(title, description)
    return None if vector is None else (title, description, vector)


async def _new_language(
    context: BotContext, listing_id: int, changes: dict[str, Any]
) -> str | None:
    """The language of the listing's text as it will read, when it changes: found again, as
    at publishing, unless its author chose one the detector does not find in the old text
    (their choice stands). The listing's language breaks a close call."""
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return None
    if await detect_listing(listing.title, listing.description, listing.language) != (
        listing.language
    ):
        return None
    title = str(changes.get("title", listing.title))
    description = str(changes.get("description", listing.description))
    found = await detect_listing(title, description, listing.language)
    return found if found != listing.language else None


# --- what to change ------------------------------------------------------------------------

DIALOG.add(
    CHOOSING_FIELD,
    Choice(
        lambda context: context.i18n.gettext("What would you like to change?"),
        FIELD,
        translated({key: label for key, (label, _step) in FIELDS.items()}),
        answer="field",
        then=lambda given: FIELDS[given["field"]][1],
        width=2,
    ),
)


# --- title and description -----------------------------------------------------------------


def _cancel_only(context: BotContext, state: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(DIALOG.navigation(context.i18n, state))


# What each text's question says, with its limits (steps.text_limits).
NEW_TEXT_QUESTIONS = {
    "title": N_("Type the new title ({minimum} to {maximum} characters)."),
    "description": N_("Type the new description ({minimum} to {maximum} characters)."),
}


def ask_new_text(field: str) -> Ask:
    """Asking for the listing's new ``field`` (its title or description), with Cancel only."""

    async def ask(update: Update, context: BotContext) -> None:
        question = context.i18n.gettext(NEW_TEXT_QUESTIONS[field])
        await reply(
            update,
            question.format(**text_limits(context.i18n, field)),
            reply_markup=_cancel_only(context, FIELDS[field][1]),
        )

    return ask


def save_text(field: str) -> TextTyped:
    """Saving the listing's new ``field`` once typed."""

    async def typed(update: Update, context: BotContext, text: str) -> int:
        return await save(update, context, **{field: text})

    return typed


for _field in NEW_TEXT_QUESTIONS:
    DIALOG.add(
        FIELDS[_field][1], ListingText(_field, ask_new_text(_field), answered=save_text(_field))
    )


# --- category and tags ---------------------------------------------------------------------


async def tags_done(update: Update, context: BotContext) -> int:
    await close_buttons(update, context)
    given = DIALOG.answers(context)
    return await save(update, context, category=given["category"], tags=given.get("tags", []))


DIALOG.add(CHOOSING_CATEGORY, ChooseCategory(CATEGORY, then=CHOOSING_TAGS))
DIALOG.add(
    CHOOSING_TAGS,
    Toggles(
        lambda context: context.i18n.gettext(
            "Tap the tags that describe it (optional), then Done."
        ),
        TAG,
        TAGS_DONE,
        tag_options,
        answer="tags",
        finished=tags_done,
        width=2,
    ),
)


# --- place, reach, photo -------------------------------------------------------------------


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    assert member is not None
    own_place = place_line_of(context.i18n, member)
    own = InlineKeyboardButton(_("Use my profile's place"), callback_data=OWN_PLACE.data(None))
    await ask_for_a_place(
        update,
        context.i18n,
        _("Share the listing's location with the button below, or use your profile's place."),
        InlineKeyboardMarkup([[own], *DIALOG.navigation(context.i18n, CHOOSING_PLACE)]),
        below="📍 " + own_place,
    )


async def own_place_chosen(update: Update, context: BotContext, _none: None) -> int:
    member = context.member
    assert member is not None and member.country
    await close_buttons(update, context)
    return await save(update, context, **profile_place(member))


async def located(update: Update, context: BotContext, place: Place) -> int:
    return await save(
        update,
        context,
        country=place.country,
        region=place.region,
        place=place.name,
        place_key=place.key,
        latitude=place.latitude,
        longitude=place.longitude,
    )


SHARED_PLACE = SharedPlace(
    DIALOG,
    located,
    not_found=N_(
        "I could not find a town we serve near that point. Please share another "
        "location or use your profile's place."
    ),
)
DIALOG.add(
    CHOOSING_PLACE,
    Question(ask_place, OWN_PLACE.handler(own_place_chosen), SHARED_PLACE.handler()),
)


async def reach_chosen(update: Update, context: BotContext, reach: str) -> int:
    return await save(update, context, reach=reach)


DIALOG.add(
    CHOOSING_REACH,
    ChooseReach(REACH, answered=reach_chosen),
)


async def ask_photo(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    remove = InlineKeyboardButton(_("🗑 Remove the photo"), callback_data=REMOVE_PHOTO.data(None))
    rows = [[remove], *DIALOG.navigation(context.i18n, SENDING_PHOTO)]
    await reply(update, _("Send the new photo."), reply_markup=InlineKeyboardMarkup(rows))


async def photo_sent(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.photo
    return await save(update, context, photo_file_id=update.message.photo[-1].file_id)


async def photo_removed(update: Update, context: BotContext, _none: None) -> int:
    await close_buttons(update, context)
    return await save(update, context, photo_file_id=None)


DIALOG.add(
    SENDING_PHOTO,
    Question(
        ask_photo,
        MessageHandler(f.UpdateType.MESSAGE & f.PHOTO, photo_sent),
        REMOVE_PHOTO.handler(photo_removed),
        hint=N_("Please send a photo, or tap Remove the photo."),
    ),
)


# --- leaving -------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    _ = context.i18n.gettext
    return await DIALOG.cancelled(
        update, context, _("Nothing was changed."), reply_markup=ReplyKeyboardRemove()
    )


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[EDIT_LISTING.handler(start)],
        fallbacks=[DIALOG.cancel.handler(cancel), CommandHandler("cancel", cancel)],
    )
