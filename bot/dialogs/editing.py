"""Editing an open listing: the card's ✏️ Edit button (``ls:edit:<id>``).

Pick what to change (title, description, category and tags, place, reach, photo), answer one
question, and the listing is saved and its card shown again. Who may edit is checked when the
button is pressed and again, in storage, when the change is saved: the owner, or a verified
official of the listing's municipality, and only while the listing is open.
"""

from __future__ import annotations

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

from bot import cards, geo, taxonomy, views
from bot.callback_data import id_of
from bot.context import BotContext
from bot.dialogs.posting_questions import tick
from bot.dialogs.steps import (
    END,
    Questions,
    answers,
    check_description,
    check_title,
    checkpoint,
    clean_block,
    clean_line,
    close_buttons,
    current_step,
    finish,
)
from bot.handlers.common import RESUMERS, reply
from bot.handlers.listings import send_card
from bot.handlers.my_listings import refusal
from bot.i18n import N_
from bot.storage import ListingRefused, StoredVector

DIALOG = "editing"

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


def _cancel_row(context: BotContext) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(context.i18n.gettext("✖️ Cancel"), callback_data="ed:cancel")]


# --- the questions -------------------------------------------------------------------------


async def ask_field(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    buttons = [
        InlineKeyboardButton(_(label), callback_data=f"ed:f:{key}")
        for key, (label, _step) in FIELDS.items()
    ]
    rows = [*views.rows(buttons, 2), _cancel_row(context)]
    await reply(
        update, _("What would you like to change?"), reply_markup=InlineKeyboardMarkup(rows)
    )


async def ask_title(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Type the new title (3 to 120 characters)."),
        reply_markup=InlineKeyboardMarkup([_cancel_row(context)]),
    )


async def ask_description(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Type the new description (10 to 2,000 characters)."),
        reply_markup=InlineKeyboardMarkup([_cancel_row(context)]),
    )


async def ask_category(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    chosen = answers(context, DIALOG).get("category")
    rows = [
        [
            InlineKeyboardButton(
                tick(cards.category_label(context.i18n, category.key), category.key == chosen),
                callback_data=f"ed:cat:{category.key}",
            )
        ]
        for category in taxonomy.CATEGORIES
    ]
    rows.append(_cancel_row(context))
    await reply(update, _("Which category fits best?"), reply_markup=InlineKeyboardMarkup(rows))


def _tags_keyboard(context: BotContext) -> InlineKeyboardMarkup:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    category = taxonomy.category(given.get("category", ""))
    chosen = set(given.get("tags", []))
    buttons = [
        InlineKeyboardButton(
            tick(_(taxonomy.TAG_NAMES[tag]), tag in chosen), callback_data=f"ed:tag:{tag}"
        )
        for tag in (category.tags if category else ())
    ]
    rows = views.rows(buttons, 2)
    rows.append([InlineKeyboardButton(_("✅ Done"), callback_data="ed:tags:done")])
    rows.append(_cancel_row(context))
    return InlineKeyboardMarkup(rows)


async def ask_tags(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    await reply(
        update,
        _("Tap the tags that describe it (optional), then Done."),
        reply_markup=_tags_keyboard(context),
    )


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    assert member is not None
    location = KeyboardButton(_("📍 Share a location"), request_location=True)
    await reply(
        update,
        _("Share the listing's location with the button below, or use your profile's place."),
        reply_markup=ReplyKeyboardMarkup(
            [[location]], resize_keyboard=True, one_time_keyboard=True
        ),
    )
    own_place = views.place_line(context.i18n, member.place, member.region, member.country)
    await reply(
        update,
        "📍 " + own_place,
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(_("Use my profile's place"), callback_data="ed:place:own")],
                _cancel_row(context),
            ]
        ),
    )


async def ask_reach(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    rows = [
        [InlineKeyboardButton(_(label), callback_data=f"ed:reach:{reach}")]
        for reach, label in cards.REACH_LABELS.items()
    ]
    rows.append(_cancel_row(context))
    await reply(
        update,
        _("Who is it for? Choose how far it reaches:"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def ask_photo(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    rows = [
        [InlineKeyboardButton(_("🗑 Remove the photo"), callback_data="ed:photo:remove")],
        _cancel_row(context),
    ]
    await reply(update, _("Send the new photo."), reply_markup=InlineKeyboardMarkup(rows))


QUESTIONS = {
    CHOOSING_FIELD: ask_field,
    TYPING_TITLE: ask_title,
    TYPING_DESCRIPTION: ask_description,
    CHOOSING_CATEGORY: ask_category,
    CHOOSING_TAGS: ask_tags,
    CHOOSING_PLACE: ask_place,
    CHOOSING_REACH: ask_reach,
    SENDING_PHOTO: ask_photo,
}


ASKING = Questions(DIALOG, QUESTIONS)
go_to = ASKING.go_to
resume = ASKING.resume
RESUMERS[DIALOG] = resume


# --- the answers ---------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    """``ls:edit:<id>``: only the owner's side may edit, and only an open listing."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    listing_id = id_of(query.data, "ls:edit:")
    if listing_id is None:
        await query.answer(_("This button is no longer valid."))
        return END
    try:
        listing = await context.storage.listing_to_manage(listing_id, update.effective_user.id)
    except ListingRefused as refused:
        await query.answer(refusal(context.i18n, refused), show_alert=True)
        return END
    if listing.state(context.now()) != "open":
        await query.answer(_("This listing can no longer be changed."), show_alert=True)
        return END
    await query.answer()
    given = answers(context, DIALOG)
    given.clear()
    given.update(listing=listing.id, category=listing.category, tags=list(listing.tags))
    return await go_to(update, context, CHOOSING_FIELD)


async def field_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    field = query.data.removeprefix("ed:f:")
    await close_buttons(query, context)
    return await go_to(update, context, FIELDS[field][1])


async def save(update: Update, context: BotContext, **changes: object) -> int:
    """Store the change (storage checks the person again) and show the card."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    listing_id = answers(context, DIALOG)["listing"]
    vector = None
    if "title" in changes or "description" in changes:
        vector = await _new_vector(context, listing_id, changes)
    edited = await context.storage.edit_listing(
        listing_id, update.effective_user.id, changes, now=context.now(), vector=vector
    )
    await finish(update, context, DIALOG)
    if edited is None:
        await reply(update, _("This listing can no longer be changed."))
        return END
    await reply(update, _("✅ Saved."), reply_markup=ReplyKeyboardRemove())
    await send_card(update, context, edited)
    return END


async def _new_vector(
    context: BotContext, listing_id: int, changes: dict[str, object]
) -> StoredVector | None:
    """The vector of the listing's text as it will read (None: the vectors job makes it)."""
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return None
    title = str(changes.get("title", listing.title))
    description = str(changes.get("description", listing.description))
    return await context.meaning.semantics.passage(title, description)


async def title_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_title(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_TITLE
    return await save(update, context, title=clean_line(update.message.text))


async def description_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_description(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_DESCRIPTION
    return await save(update, context, description=clean_block(update.message.text))


async def category_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    given = answers(context, DIALOG)
    category = query.data.removeprefix("ed:cat:")
    if category != given.get("category"):
        given["tags"] = []  # tags belong to a category
    given["category"] = category
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_TAGS)


async def tag_toggled(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    given = answers(context, DIALOG)
    tag = query.data.removeprefix("ed:tag:")
    if not taxonomy.valid_tags(given["category"], [tag]):
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return CHOOSING_TAGS
    tags = set(given.get("tags", []))
    tags ^= {tag}
    given["tags"] = sorted(tags)
    await checkpoint(update, context, DIALOG, CHOOSING_TAGS)
    await query.answer()
    await query.edit_message_reply_markup(_tags_keyboard(context))
    return CHOOSING_TAGS


async def tags_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    given = answers(context, DIALOG)
    return await save(update, context, category=given["category"], tags=given.get("tags", []))


async def own_place_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    member = context.member
    assert query is not None and member is not None and member.country
    await close_buttons(query, context)
    return await save(
        update,
        context,
        country=member.country,
        region=member.region or "",
        place=member.place or "",
        latitude=member.latitude,
        longitude=member.longitude,
    )


async def location_shared(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    found = geo.locate(point.latitude, point.longitude)
    if found is None or found.country not in geo.COUNTRIES:
        await reply(
            update,
            _(
                "I could not find a town we serve near that point. Please share another "
                "location or use your profile's place."
            ),
        )
        return CHOOSING_PLACE
    return await save(
        update,
        context,
        country=found.country,
        region=found.region,
        place=found.name,
        latitude=found.latitude,
        longitude=found.longitude,
    )


async def reach_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    await close_buttons(query, context)
    return await save(update, context, reach=query.data.removeprefix("ed:reach:"))


async def photo_sent(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.photo
    return await save(update, context, photo_file_id=update.message.photo[-1].file_id)


async def photo_removed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    return await save(update, context, photo_file_id=None)


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await close_buttons(update.callback_query, context)
    await finish(update, context, DIALOG)
    await reply(update, _("Nothing was changed."), reply_markup=ReplyKeyboardRemove())
    return END


async def not_expected(update: Update, context: BotContext) -> None:
    """A message that does not answer the question: say what is expected, stay."""
    _ = context.i18n.gettext
    step = current_step(context, DIALOG)
    if step in (TYPING_TITLE, TYPING_DESCRIPTION):
        await reply(update, _("Please answer with a text message."))
    elif step == SENDING_PHOTO:
        await reply(update, _("Please send a photo, or tap Remove the photo."))
    else:
        await reply(update, _("Please use the buttons above, or send /cancel to stop."))


def build() -> ConversationHandler:  # type: ignore[type-arg]
    text = f.UpdateType.MESSAGE & f.TEXT & ~f.COMMAND
    categories = "|".join(category.key for category in taxonomy.CATEGORIES)
    fields = "|".join(FIELDS)
    reaches = "|".join(taxonomy.REACHES)
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[CallbackQueryHandler(start, pattern=r"^ls:edit:")],
        states={
            CHOOSING_FIELD: [CallbackQueryHandler(field_chosen, pattern=rf"^ed:f:({fields})$")],
            TYPING_TITLE: [MessageHandler(text, title_typed)],
            TYPING_DESCRIPTION: [MessageHandler(text, description_typed)],
            CHOOSING_CATEGORY: [
                CallbackQueryHandler(category_chosen, pattern=rf"^ed:cat:({categories})$")
            ],
            CHOOSING_TAGS: [
                CallbackQueryHandler(tag_toggled, pattern=r"^ed:tag:\w+$"),
                CallbackQueryHandler(tags_done, pattern=r"^ed:tags:done$"),
            ],
            CHOOSING_PLACE: [
                CallbackQueryHandler(own_place_chosen, pattern=r"^ed:place:own$"),
                MessageHandler(f.UpdateType.MESSAGE & f.LOCATION, location_shared),
            ],
            CHOOSING_REACH: [
                CallbackQueryHandler(reach_chosen, pattern=rf"^ed:reach:({reaches})$")
            ],
            SENDING_PHOTO: [
                MessageHandler(f.UpdateType.MESSAGE & f.PHOTO, photo_sent),
                CallbackQueryHandler(photo_removed, pattern=r"^ed:photo:remove$"),
            ],
        },
        fallbacks=[
            CallbackQueryHandler(cancel, pattern=r"^ed:cancel$"),
            CommandHandler("cancel", cancel),
            MessageHandler(f.UpdateType.MESSAGE & ~f.COMMAND, not_expected),
        ],
    )
