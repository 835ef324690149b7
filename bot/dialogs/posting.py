"""Posting an offer or a request, as a persistent conversation.

``/post`` (or the menu's button) → kind → category → tags (optional) → title → description →
place (the profile's, a shared location, or a country and a typed place) → reach → photo
(optional) → how long it stays open → preview, exactly the card others will see → publish.
Back and Cancel on every step; ``/cancel`` too; ``/post`` or the menu's button in the middle
show the current step again, and so do ``/help`` and ``/language`` (through ``RESUMERS``). The
steps, their questions and moving between them are in :mod:`bot.dialogs.posting_questions`.

Unlike onboarding, every answer is also written to the person's draft in SQLite before the
bot replies: a listing takes a while to write, so a draft outlives the conversation (a daily
limit reached at Publish keeps it), and ``/post`` offers to continue it. Publishing turns the
draft into a listing in one transaction, so a second tap on Publish finds no draft and
publishes nothing.
"""

from __future__ import annotations

from html import escape

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot import geo, taxonomy, views
from bot.context import BotContext
from bot.dialogs.posting_questions import (
    ADDING_PHOTO,
    CHOOSING_CATEGORY,
    CHOOSING_COUNTRY,
    CHOOSING_DURATION,
    CHOOSING_KIND,
    CHOOSING_LANGUAGE,
    CHOOSING_PLACE,
    CHOOSING_REACH,
    CHOOSING_TAGS,
    DECIDING_ON_DRAFT,
    DIALOG,
    PREVIEWING,
    PREVIOUS,
    TYPING_DESCRIPTION,
    TYPING_PLACE,
    TYPING_TITLE,
    go_to,
    limit_text,
    listing_language,
    new_listing,
    remember,
    resume,
    resume_step,
    tags_keyboard,
    user_id,
)
from bot.dialogs.steps import (
    END,
    answers,
    check_description,
    check_name,
    check_title,
    clean_block,
    clean_line,
    close_buttons,
    current_step,
    finish,
)
from bot.handlers.common import RESUMERS, reply
from bot.handlers.listings import send_card
from bot.i18n import LANGUAGES
from bot.storage import PostingLimit

# The answers a typed text step gives, and the step after it.
TEXT_STEPS = {
    TYPING_TITLE: ("title", TYPING_DESCRIPTION),
    TYPING_DESCRIPTION: ("description", CHOOSING_PLACE),
}


RESUMERS[DIALOG] = resume


async def _refuse_button(update: Update, context: BotContext) -> None:
    """A button that is not (or no longer) one of the current step's: change nothing."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    await query.answer(
        _("This button belongs to an earlier step. Please use the latest one."), show_alert=True
    )


async def _refuse_forged(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    await query.answer(_("This button is no longer valid."))


# --- starting ------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int:
    """``/post`` or the menu's button: check who may post, then the draft or the first step."""
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
    member = context.member
    if member is None or not member.onboarded:
        await reply(update, _("Please set up your profile first: send /start."))
        return END
    now = context.now()
    limit = context.settings.posts_per_day
    next_at = await context.storage.posting_allowance(member.id, now, limit)
    if next_at > now:
        zone = (await context.storage.preferences(member.id)).timezone
        await reply(update, limit_text(context.i18n, limit, now, next_at, zone))
        return END
    answers(context, DIALOG).clear()
    if await context.storage.get_draft(member.id) is not None:
        return await go_to(update, context, DECIDING_ON_DRAFT)
    return await go_to(update, context, CHOOSING_KIND)


async def show_current_step(update: Update, context: BotContext) -> int | None:
    """``/post`` or the menu's button in the middle: show where the user is."""
    if current_step(context, DIALOG) is None:  # the answers were lost: begin again
        return await start(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
    await resume(update, context)
    return None  # None keeps the conversation on the same step


async def draft_decided(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    await close_buttons(query, context)
    given = answers(context, DIALOG)
    given.clear()
    draft = await context.storage.get_draft(user_id(update))
    if query.data == "po:draft:continue" and draft is not None:
        given.update(draft)
        return await go_to(update, context, resume_step(given))
    await context.storage.delete_draft(user_id(update))
    return await go_to(update, context, CHOOSING_KIND)


# --- kind, category, tags ------------------------------------------------------------------


async def kind_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    kind = query.data.removeprefix("po:kind:")
    if kind not in taxonomy.KINDS:
        await _refuse_forged(update, context)
        return CHOOSING_KIND
    answers(context, DIALOG)["kind"] = kind
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_CATEGORY)


async def category_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    category = taxonomy.category(query.data.removeprefix("po:cat:"))
    if category is None:
        await _refuse_forged(update, context)
        return CHOOSING_CATEGORY
    given = answers(context, DIALOG)
    given["category"] = category.key
    given["tags"] = [tag for tag in given.get("tags", []) if tag in category.tags]
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_TAGS)


async def tag_toggled(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    given = answers(context, DIALOG)
    tag = query.data.removeprefix("po:tag:")
    if not taxonomy.valid_tags(given.get("category", ""), [tag]):
        await _refuse_forged(update, context)
        return CHOOSING_TAGS
    tags = given.setdefault("tags", [])
    if tag in tags:
        tags.remove(tag)
    else:
        tags.append(tag)
    await remember(update, context)
    await query.edit_message_reply_markup(tags_keyboard(context.i18n, given))
    await query.answer()
    return CHOOSING_TAGS


async def tags_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    answers(context, DIALOG).setdefault("tags", [])
    await close_buttons(query, context)
    return await go_to(update, context, TYPING_TITLE)


# --- title and description -----------------------------------------------------------------


async def title_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_title(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_TITLE
    given = answers(context, DIALOG)
    given["title"] = clean_line(update.message.text)
    given.pop("language", None)  # a new text: its language is found again
    return await go_to(update, context, TYPING_DESCRIPTION)


async def description_typed(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.text is not None
    problem = check_description(context.i18n, update.message.text)
    if problem:
        await reply(update, problem)
        return TYPING_DESCRIPTION
    given = answers(context, DIALOG)
    given["description"] = clean_block(update.message.text)
    given.pop("language", None)  # a new text: its language is found again
    return await go_to(update, context, CHOOSING_PLACE)


async def kept(update: Update, context: BotContext) -> int | None:
    """``po:keep:<step>``: go on with the title or description typed before."""
    query = update.callback_query
    assert query is not None and query.data is not None
    step = current_step(context, DIALOG)
    if query.data != f"po:keep:{step}" or step not in TEXT_STEPS:
        await _refuse_button(update, context)
        return None
    answer, following = TEXT_STEPS[step]
    if not answers(context, DIALOG).get(answer):
        await _refuse_button(update, context)
        return None
    await close_buttons(query, context)
    return await go_to(update, context, following)


# --- place and reach -----------------------------------------------------------------------


async def profile_place_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    member = context.member
    if member is None or not (member.country and member.place):
        await _refuse_forged(update, context)
        return CHOOSING_PLACE
    answers(context, DIALOG).update(
        country=member.country,
        region=member.region or "",
        place=member.place,
        latitude=member.latitude,
        longitude=member.longitude,
    )
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_REACH)


async def other_place_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_COUNTRY)


async def location_shared(update: Update, context: BotContext) -> int | None:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    place = geo.locate(point.latitude, point.longitude)
    if place is None:
        await reply(
            update,
            _(
                "I could not find a town near that point (it may be at sea). "
                "Please share another location or choose the place with the buttons."
            ),
        )
        return None
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
        country=place.country,
        region=place.region,
        place=place.name,
        latitude=place.latitude,
        longitude=place.longitude,
    )
    return await go_to(update, context, CHOOSING_REACH)


async def country_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    country = query.data.removeprefix("po:cty:")
    if country not in geo.COUNTRIES:
        await _refuse_forged(update, context)
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
    # A typed place has no region or coordinates: listings found by distance skip it.
    answers(context, DIALOG).update(
        place=clean_line(update.message.text), region="", latitude=None, longitude=None
    )
    return await go_to(update, context, CHOOSING_REACH)


async def reach_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    reach = query.data.removeprefix("po:reach:")
    if reach not in taxonomy.REACHES:
        await _refuse_forged(update, context)
        return CHOOSING_REACH
    answers(context, DIALOG)["reach"] = reach
    await close_buttons(query, context)
    return await go_to(update, context, ADDING_PHOTO)


# --- photo, duration, publishing -----------------------------------------------------------


async def photo_sent(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.photo
    largest = max(update.message.photo, key=lambda size: size.width * size.height)
    answers(context, DIALOG)["photo_file_id"] = largest.file_id
    return await go_to(update, context, CHOOSING_DURATION)


async def photo_skipped(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    answers(context, DIALOG)["photo_file_id"] = None
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_DURATION)


async def photo_kept(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None
    if not answers(context, DIALOG).get("photo_file_id"):
        await _refuse_button(update, context)
        return None
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_DURATION)


async def duration_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    duration = query.data.removeprefix("po:dur:")
    if duration not in taxonomy.DURATIONS:
        await _refuse_forged(update, context)
        return CHOOSING_DURATION
    answers(context, DIALOG)["duration"] = duration
    await close_buttons(query, context)
    return await go_to(update, context, PREVIEWING)


async def change_language(update: Update, context: BotContext) -> int:
    """``po:lang`` on the preview: the author says which language the listing is in."""
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_LANGUAGE)


async def language_chosen(update: Update, context: BotContext) -> int:
    """``po:lang:<code>``: one of the bot's languages, then the preview again."""
    query = update.callback_query
    assert query is not None and query.data is not None
    language = query.data.removeprefix("po:lang:")
    if language not in LANGUAGES:
        await _refuse_forged(update, context)
        return CHOOSING_LANGUAGE
    answers(context, DIALOG)["language"] = language
    await close_buttons(query, context)
    return await go_to(update, context, PREVIEWING)


async def publish(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    now = context.now()
    language = await listing_language(context, answers(context, DIALOG))
    new = new_listing(context, language)
    # Embedded before the transaction (off the event loop), stored in it; None: published
    # all the same, and embedded later by the vectors job.
    vector = await context.meaning.semantics.passage(new.title, new.description)
    try:
        listing = await context.storage.publish(
            user_id(update),
            new,
            now=now,
            daily_limit=context.settings.posts_per_day,
            vector=vector,
        )
    except PostingLimit as refused:
        # The conversation ends but the draft stays: /post offers it again tomorrow.
        await close_buttons(query, context)
        await finish(update, context, DIALOG)
        zone = (await context.storage.preferences(user_id(update))).timezone
        await reply(
            update,
            limit_text(context.i18n, refused.limit, now, refused.next_at, zone)
            + " "
            + _("Your draft is kept until then."),
        )
        return END
    if listing is None:
        # The draft is gone: this listing was published by an earlier tap.
        await query.answer(_("This listing is already published."), show_alert=True)
        return await finish(update, context, DIALOG)
    await close_buttons(query, context)
    await finish(update, context, DIALOG)
    await reply(update, _("✅ Published! Here is your listing; you will find it in /mylistings."))
    await send_card(update, context, listing)
    return END


# --- moving around -------------------------------------------------------------------------


async def back(update: Update, context: BotContext) -> int | None:
    """``po:back:<step>``: the previous step, if the button is the current step's."""
    query = update.callback_query
    assert query is not None and query.data is not None
    step = current_step(context, DIALOG)
    if query.data != f"po:back:{step}" or step not in PREVIOUS:
        await _refuse_button(update, context)
        return None
    await close_buttons(query, context)
    return await go_to(update, context, PREVIOUS[step])


async def cancel(update: Update, context: BotContext) -> int:
    """Cancel (button or ``/cancel``): the draft is deleted; deciding on a draft keeps it."""
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await close_buttons(update.callback_query, context)
    if current_step(context, DIALOG) == DECIDING_ON_DRAFT:
        text = _("Nothing changed: your draft is kept. Send /post when you want to go on.")
    else:
        await context.storage.delete_draft(user_id(update))
        text = _("Cancelled: your draft is deleted. Send /post when you want to post something.")
    await finish(update, context, DIALOG)
    await reply(update, text, reply_markup=ReplyKeyboardRemove())
    return END


async def use_the_buttons(update: Update, context: BotContext) -> None:
    """Something other than the expected answer: explain, and stay on the same step."""
    _ = context.i18n.gettext
    step = current_step(context, DIALOG)
    if step in (TYPING_TITLE, TYPING_DESCRIPTION, TYPING_PLACE):
        await reply(update, _("Please answer with a text message."))
    elif step == ADDING_PHOTO:
        await reply(update, _("Please send a photo (as a picture, not as a file), or tap Skip."))
    elif step == CHOOSING_PLACE:
        await reply(update, _("Please use the buttons above, or share a location."))
    else:
        await reply(update, _("Please use the buttons above, or send /cancel to stop."))


def build() -> ConversationHandler:  # type: ignore[type-arg]
    message = f.UpdateType.MESSAGE
    text = message & f.TEXT & ~f.COMMAND
    location = MessageHandler(message & f.LOCATION, location_shared)
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[
            CommandHandler("post", start),
            CallbackQueryHandler(start, pattern=r"^post:new$"),
        ],
        states={
            DECIDING_ON_DRAFT: [
                CallbackQueryHandler(draft_decided, pattern=r"^po:draft:(continue|afresh)$")
            ],
            CHOOSING_KIND: [CallbackQueryHandler(kind_chosen, pattern=r"^po:kind:")],
            CHOOSING_CATEGORY: [CallbackQueryHandler(category_chosen, pattern=r"^po:cat:")],
            CHOOSING_TAGS: [
                CallbackQueryHandler(tag_toggled, pattern=r"^po:tag:"),
                CallbackQueryHandler(tags_done, pattern=r"^po:tags:done$"),
            ],
            TYPING_TITLE: [MessageHandler(text, title_typed)],
            TYPING_DESCRIPTION: [MessageHandler(text, description_typed)],
            CHOOSING_PLACE: [
                CallbackQueryHandler(profile_place_chosen, pattern=r"^po:place:profile$"),
                CallbackQueryHandler(other_place_chosen, pattern=r"^po:place:other$"),
                location,
            ],
            CHOOSING_COUNTRY: [
                CallbackQueryHandler(country_chosen, pattern=r"^po:cty:"),
                MessageHandler(text, country_typed),
                location,
            ],
            TYPING_PLACE: [MessageHandler(text, place_typed), location],
            CHOOSING_REACH: [CallbackQueryHandler(reach_chosen, pattern=r"^po:reach:")],
            ADDING_PHOTO: [
                MessageHandler(message & f.PHOTO, photo_sent),
                CallbackQueryHandler(photo_skipped, pattern=r"^po:photo:skip$"),
                CallbackQueryHandler(photo_kept, pattern=r"^po:photo:keep$"),
            ],
            CHOOSING_DURATION: [CallbackQueryHandler(duration_chosen, pattern=r"^po:dur:")],
            PREVIEWING: [
                CallbackQueryHandler(publish, pattern=r"^po:publish$"),
                CallbackQueryHandler(change_language, pattern=r"^po:lang$"),
            ],
            CHOOSING_LANGUAGE: [CallbackQueryHandler(language_chosen, pattern=r"^po:lang:")],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^po:cancel$"),
            CallbackQueryHandler(back, pattern=r"^po:back:"),
            CallbackQueryHandler(kept, pattern=r"^po:keep:"),
            CommandHandler("post", show_current_step),
            CallbackQueryHandler(show_current_step, pattern=r"^post:new$"),
            # Any other posting button is from an earlier step (or forged).
            CallbackQueryHandler(_refuse_button, pattern=r"^po:"),
            # Stickers, photos, voice, ...: any message that is not a command.
            MessageHandler(message & ~f.COMMAND, use_the_buttons),
        ],
    )
