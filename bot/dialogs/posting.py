"""Posting an offer or a request.

``/post`` (or the menu's button) → kind → category → tags (optional) → title → description →
place (the profile's, one of the places nearest a shared location, or a country and a typed
place) → reach → photo
(optional) → how long it stays open → preview, exactly the card others will see → publish.
Back and Cancel on every step; ``/cancel`` too; ``/post`` or the menu's button in the middle
show the current step again. Back names the step it was shown on, so a Back button left on an
earlier message cannot move a person who has gone on.

Unlike onboarding, every answer is also written to the person's draft in SQLite before the
bot replies: a listing takes a while to write, so a draft outlives the conversation (a daily
limit reached at Publish keeps it), and ``/post`` offers to continue it at its step.
Publishing turns the draft into a listing in one transaction, so a second tap on Publish finds
no draft and publishes nothing.
"""

from __future__ import annotations

from html import escape
from typing import Any, NamedTuple

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot import taxonomy
from bot.buttons import (
    NEW_POST,
    POSTING,
    InvalidButton,
    Number,
    OneOf,
    close_buttons,
    refuse_earlier_step,
)
from bot.context import BotContext, reply
from bot.delivery.timing import after_quiet_hours
from bot.dialogs import nearby
from bot.dialogs.dialog import END, TEXT, Ask, Dialog, Handler, Question
from bot.dialogs.steps import (
    Choice,
    ChooseCategory,
    ChooseCountry,
    ChooseReach,
    ListingText,
    SharedPlace,
    TextTyped,
    Toggles,
    TypedText,
    ask_for_a_place,
    check_name,
    profile_place,
    tag_options,
    text_limits,
    translated,
)
from bot.handlers.listings import post_card, send_card
from bot.handlers.members import onboarded_member
from bot.i18n import LANGUAGES, N_, Translator
from bot.places import names
from bot.places.countries import COUNTRIES
from bot.places.timezones import local
from bot.semantic.language import detect_listing
from bot.storage import Listing, NewListing, PostingLimit
from bot.storage.listings import DAY
from bot.views import cards
from bot.views import texts as views
from bot.views.cards import DURATION_LABELS
from bot.views.html import shorten
from bot.views.texts import place_line

# Persisted as numbers (conversation states and drafts): append new steps, never reorder.
(
    DECIDING_ON_DRAFT,
    CHOOSING_KIND,
    CHOOSING_CATEGORY,
    CHOOSING_TAGS,
    TYPING_TITLE,
    TYPING_DESCRIPTION,
    CHOOSING_PLACE,
    CHOOSING_COUNTRY,
    TYPING_PLACE,
    CHOOSING_REACH,
    ADDING_PHOTO,
    CHOOSING_DURATION,
    PREVIEWING,
    CHOOSING_LANGUAGE,  # from the preview: the language the listing is written in
    CHOOSING_NEARBY,  # the nearest places to a shared location
) = range(15)

# Where Back leads from each step.
PREVIOUS = {
    CHOOSING_CATEGORY: CHOOSING_KIND,
    CHOOSING_TAGS: CHOOSING_CATEGORY,
    TYPING_TITLE: CHOOSING_TAGS,
    TYPING_DESCRIPTION: TYPING_TITLE,
    CHOOSING_PLACE: TYPING_DESCRIPTION,
    CHOOSING_COUNTRY: CHOOSING_PLACE,
    TYPING_PLACE: CHOOSING_COUNTRY,
    CHOOSING_NEARBY: CHOOSING_PLACE,
    CHOOSING_REACH: CHOOSING_PLACE,
    ADDING_PHOTO: CHOOSING_REACH,
    CHOOSING_DURATION: ADDING_PHOTO,
    PREVIEWING: CHOOSING_DURATION,
    CHOOSING_LANGUAGE: PREVIEWING,
}


def draft_to_save(context: BotContext, step: int) -> dict[str, Any] | None:
    """With each step: the draft, with every answer so far and its step, written in the step's
    own transaction. Nothing is worth keeping before the first answer (``/post`` would offer an
    empty draft)."""
    given = DIALOG.answers(context)
    if step == DECIDING_ON_DRAFT or "kind" not in given:
        return None
    return {**given, "step": step}


DIALOG = Dialog("posting", POSTING, previous=PREVIOUS, draft=draft_to_save)

KIND_CHOICES = {
    "offer": N_("🟢 I have something to offer"),
    "request": N_("🔴 I am looking for something"),
}
# Inline button texts are plain text, but a very long place name would crowd the keyboard.
BUTTON_PLACE_LENGTH = 40

DRAFT = DIALOG.button("draft", OneOf(("continue", "afresh")))
KIND = DIALOG.button("kind", OneOf(taxonomy.KINDS))
CATEGORY = DIALOG.button("cat", OneOf(taxonomy.BY_KEY))
TAG = DIALOG.button("tag", OneOf(taxonomy.TAG_NAMES))
TAGS_DONE = DIALOG.button("tags:done")
KEEP_TEXT = DIALOG.button("keep", Number(0, 99))
PROFILE_PLACE = DIALOG.button("place:profile")
OTHER_PLACE = DIALOG.button("place:other")
COUNTRY = DIALOG.button("cty", OneOf(COUNTRIES))
NEARBY = DIALOG.button("near", nearby.CHOICE)
REACH = DIALOG.button("reach", OneOf(taxonomy.REACHES))
SKIP_PHOTO = DIALOG.button("photo:skip")
KEEP_PHOTO = DIALOG.button("photo:keep")
DURATION = DIALOG.button("dur", OneOf(taxonomy.DURATIONS))
PUBLISH = DIALOG.button("publish")
CHANGE_LANGUAGE = DIALOG.button("lang")
LANGUAGE = DIALOG.button("lang", OneOf(LANGUAGES))


def user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def navigation(t: Translator, step: int) -> list[InlineKeyboardButton]:
    """Back (when there is a step before) and Cancel, for the row under a question."""
    return DIALOG.navigation(t, step)[0]


# --- starting: who may post, and a draft left before ---------------------------------------------


def limit_text(t: Translator, limit: int, now: int, next_at: int, zone: str) -> str:
    """The daily limit is reached: when posting is possible again, as a day and a time in
    the person's time ``zone`` ('tomorrow, 09:14')."""
    message = t.ngettext(
        "You have published {count} listing in the last 24 hours, as many as one may per "
        "day. You can post again {when}.",
        "You have published {count} listings in the last 24 hours, as many as one may per "
        "day. You can post again {when}.",
        limit,
    )
    when = t.when(local(next_at, zone), local(now, zone))
    return t.sentence(message, count=t.number(limit), when=when)


async def start(update: Update, context: BotContext, _none: None = None) -> int:
    """Check who may post, then offer the draft, or ask the first question."""
    member = await onboarded_member(update, context)
    if member is None:
        return END
    now = context.now()
    limit = context.settings.posts_per_day
    next_at = await context.storage.posting_allowance(member.id, now, limit)
    if next_at > now:
        zone = (await context.storage.preferences(member.id)).timezone
        await reply(update, limit_text(context.i18n, limit, now, next_at, zone))
        return END
    if await context.storage.get_draft(member.id) is not None:
        return await DIALOG.begin(update, context, DECIDING_ON_DRAFT)
    return await DIALOG.begin(update, context, CHOOSING_KIND)


async def ask_about_draft(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    draft = await context.storage.get_draft(user_id(update)) or {}
    if draft.get("title"):
        text = _(
            "You have a draft that is not published yet: <b>{title}</b>.\n"
            "Continue it, or start afresh (the draft is then deleted)?"
        ).format(title=escape(str(draft["title"])))
    else:
        text = _(
            "You have a draft that is not published yet.\n"
            "Continue it, or start afresh (the draft is then deleted)?"
        )
    buttons = [
        [
            InlineKeyboardButton(_("▶️ Continue the draft"), callback_data=DRAFT.data("continue")),
            InlineKeyboardButton(_("🆕 Start afresh"), callback_data=DRAFT.data("afresh")),
        ],
        navigation(context.i18n, DECIDING_ON_DRAFT),
    ]
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


# The main steps in order, with the answer each one gives (None: optional). A draft resumes
# at its step only if every answer before it is there.
FLOW: tuple[tuple[int, str | None], ...] = (
    (CHOOSING_KIND, "kind"),
    (CHOOSING_CATEGORY, "category"),
    (CHOOSING_TAGS, None),
    (TYPING_TITLE, "title"),
    (TYPING_DESCRIPTION, "description"),
    (CHOOSING_PLACE, "place"),
    (CHOOSING_REACH, "reach"),
    (ADDING_PHOTO, None),
    (CHOOSING_DURATION, "duration"),
    (PREVIEWING, None),
)
PLACE_STEPS = (CHOOSING_PLACE, CHOOSING_COUNTRY, TYPING_PLACE, CHOOSING_NEARBY)


def resume_step(given: dict[str, Any], stored: object) -> int:
    """The step to continue a draft at: its own, or the first one left unanswered."""
    for step, answer in FLOW:
        if stored == step or (step == CHOOSING_PLACE and stored in PLACE_STEPS):
            assert isinstance(stored, int)
            if stored == TYPING_PLACE and "country" not in given:
                return CHOOSING_COUNTRY
            return stored if stored != CHOOSING_NEARBY or "nearby" in given else CHOOSING_PLACE
        if answer is not None and answer not in given:
            return step
    return PREVIEWING


async def draft_decided(update: Update, context: BotContext, decision: str) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer()
    given = DIALOG.answers(context)
    given.clear()
    draft = await context.storage.get_draft(user_id(update))
    if decision == "continue" and draft is not None:
        step = draft.pop("step", None)
        given.update(draft)
        return await DIALOG.go_to(update, context, resume_step(given, step))
    await context.storage.delete_draft(user_id(update))
    return await DIALOG.go_to(update, context, CHOOSING_KIND)


DIALOG.add(DECIDING_ON_DRAFT, Question(ask_about_draft, DRAFT.handler(draft_decided)))


# --- kind, category, tags ------------------------------------------------------------------------


def kind_question(context: BotContext) -> str:
    return context.i18n.gettext(
        "What would you like to post?\n\n"
        "🟢 <b>An offer</b>: something you can give, lend, share or do for others.\n"
        "🔴 <b>A request</b>: something you or your community needs."
    )


def tags_question(context: BotContext) -> str:
    category = DIALOG.answers(context)["category"]
    return context.i18n.gettext(
        "{category}\n\nTap the tags that describe it (optional), then Done."
    ).format(category=cards.category_label(context.i18n, category))


async def tags_done(update: Update, context: BotContext) -> int:
    return await DIALOG.answered(update, context, TYPING_TITLE)


DIALOG.add(
    CHOOSING_KIND,
    Choice(kind_question, KIND, translated(KIND_CHOICES), answer="kind", then=CHOOSING_CATEGORY),
)
DIALOG.add(CHOOSING_CATEGORY, ChooseCategory(CATEGORY, then=CHOOSING_TAGS))
DIALOG.add(
    CHOOSING_TAGS,
    Toggles(tags_question, TAG, TAGS_DONE, tag_options, answer="tags", finished=tags_done, width=2),
)


# --- title and description ---------------------------------------------------------------------


async def ask_for_text(
    update: Update, context: BotContext, step: int, question: str, now: str | None
) -> None:
    """A question for a text; when one was typed before (a step gone back to), what it is now
    (``now``), with a button to keep it."""
    rows = [navigation(context.i18n, step)]
    if now is not None:
        question += "\n\n" + now
        keep = context.i18n.gettext("➡ Keep it as it is")
        rows.insert(0, [InlineKeyboardButton(keep, callback_data=KEEP_TEXT.data(step))])
    await reply(update, question, reply_markup=InlineKeyboardMarkup(rows))


class TextStep(NamedTuple):
    """One of a listing's texts, as the posting dialog asks for it."""

    step: int
    question: str  # with the text's {minimum} and {maximum} (steps.text_limits)
    now: str  # what the text is, when one was typed before (a step gone back to)
    then: int


TEXT_STEPS = {
    "title": TextStep(
        TYPING_TITLE,
        N_(
            "Type a short title ({minimum} to {maximum} characters), for example "
            "<i>Fire engine available for a neighbouring village</i>."
        ),
        N_("Now: <b>{title}</b>"),
        then=TYPING_DESCRIPTION,
    ),
    "description": TextStep(
        TYPING_DESCRIPTION,
        N_(
            "Describe it ({minimum} to {maximum} characters): what exactly, how many, when, "
            "and on what terms."
        ),
        N_("Now: {description}"),
        then=CHOOSING_PLACE,
    ),
}
NOW_SHOWN = 300  # characters of the text typed before (a title is shorter)


def ask_text(field: str) -> Ask:
    """Asking for the listing's ``field`` (its title or description)."""
    text = TEXT_STEPS[field]

    async def ask(update: Update, context: BotContext) -> None:
        _ = context.i18n.gettext
        question = _(text.question).format(**text_limits(context.i18n, field))
        given = DIALOG.answers(context).get(field)
        now = _(text.now).format(**{field: escape(shorten(given, NOW_SHOWN))}) if given else None
        await ask_for_text(update, context, text.step, question, now)

    return ask


def text_typed(field: str) -> TextTyped:
    """Taking the listing's ``field`` once typed, on to the next step."""

    async def typed(update: Update, context: BotContext, value: str) -> int:
        DIALOG.answers(context).pop("language", None)  # a new text: its language is found again
        return await DIALOG.answered(update, context, TEXT_STEPS[field].then, **{field: value})

    return typed


for _field, _text in TEXT_STEPS.items():
    DIALOG.add(
        _text.step,
        ListingText(
            _field, ask_text(_field), then=_text.then, answered=text_typed(_field), keep=KEEP_TEXT
        ),
    )


# --- place and reach ---------------------------------------------------------------------------


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    rows = []
    if member is not None and member.country and member.place:
        named = names.place_name(context.i18n.language, member.place_key, member.place)
        place = shorten(named, BUTTON_PLACE_LENGTH)
        rows.append(
            [
                InlineKeyboardButton(
                    _("📍 Use my profile's place: {place}").format(place=place),
                    callback_data=PROFILE_PLACE.data(None),
                )
            ]
        )
    rows.append([InlineKeyboardButton(_("🌍 Another place"), callback_data=OTHER_PLACE.data(None))])
    rows.append(navigation(context.i18n, CHOOSING_PLACE))
    await ask_for_a_place(
        update,
        context.i18n,
        _("Where is it? Use your profile's place, share a location, or choose another place."),
        InlineKeyboardMarkup(rows),
    )


async def profile_place_chosen(update: Update, context: BotContext, _none: None) -> int:
    member = context.member
    if member is None or not (member.country and member.place):
        raise InvalidButton("no place in the profile")
    return await DIALOG.answered(update, context, CHOOSING_REACH, **profile_place(member))


async def other_place_chosen(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_COUNTRY)


SHARED_PLACE = SharedPlace(
    DIALOG,
    nearby.offer_nearest(DIALOG, CHOOSING_NEARBY),
    not_found=N_(
        "I could not find a town near that point (it may be at sea). "
        "Please share another location or choose the place with the buttons."
    ),
    country_step=CHOOSING_COUNTRY,
)


async def ask_typed_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    country = escape(context.i18n.country(DIALOG.answers(context)["country"]))
    await reply(
        update,
        _("{country}: in which town or village?").format(country=country),
        reply_markup=InlineKeyboardMarkup([navigation(context.i18n, TYPING_PLACE)]),
    )


async def place_typed(update: Update, context: BotContext, place: str) -> int:
    given = DIALOG.answers(context)
    given.update(place=place, place_key=None)
    if "nearby" not in given:
        # Typed after choosing the country: no region or coordinates, and listings found by
        # distance skip it. Typed after sharing a location: the point and its region stay.
        given.update(region="", latitude=None, longitude=None)
    return await DIALOG.answered(update, context, CHOOSING_REACH)


async def show_place(update: Update, context: BotContext) -> None:
    """The place chosen, before the reach: also puts away the location keyboard of the place
    step, which only a message without inline buttons can do."""
    given = DIALOG.answers(context)
    where = place_line(
        context.i18n, given["place"], given.get("region"), given["country"], given.get("place_key")
    )
    await reply(update, "📍 " + where, reply_markup=ReplyKeyboardRemove())


DIALOG.add(
    CHOOSING_PLACE,
    Question(
        ask_place,
        PROFILE_PLACE.handler(profile_place_chosen),
        OTHER_PLACE.handler(other_place_chosen),
        SHARED_PLACE.handler(),
        hint=N_("Please use the buttons above, or share a location."),
    ),
)
DIALOG.add(
    CHOOSING_COUNTRY, ChooseCountry(COUNTRY, then=TYPING_PLACE, also=[SHARED_PLACE.handler()])
)
TYPED_PLACE = TypedText(
    ask_typed_place, answered=place_typed, check=check_name, also=[SHARED_PLACE.handler()]
)
DIALOG.add(TYPING_PLACE, TYPED_PLACE)
DIALOG.add(
    CHOOSING_NEARBY,
    nearby.ChooseNearby(
        NEARBY,
        then=CHOOSING_REACH,
        typing=TYPING_PLACE,
        # Typing the name without the button is typing the name.
        also=[MessageHandler(TEXT, TYPED_PLACE.typed), SHARED_PLACE.handler()],
    ),
)
DIALOG.add(
    CHOOSING_REACH,
    ChooseReach(REACH, then=ADDING_PHOTO, before=show_place),
)


# --- photo and duration ------------------------------------------------------------------------


async def ask_photo(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    rows = [[InlineKeyboardButton(_("Skip"), callback_data=SKIP_PHOTO.data(None))]]
    if DIALOG.answers(context).get("photo_file_id"):
        text = _("Send another photo to replace the one you added, keep it, or go without.")
        rows = [
            [
                InlineKeyboardButton(_("✅ Keep the photo"), callback_data=KEEP_PHOTO.data(None)),
                InlineKeyboardButton(_("🚫 No photo"), callback_data=SKIP_PHOTO.data(None)),
            ]
        ]
    else:
        text = _("Add a photo? Send one now (a listing with a photo gets more attention), or Skip.")
    rows.append(navigation(context.i18n, ADDING_PHOTO))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def photo_sent(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.photo
    largest = max(update.message.photo, key=lambda size: size.width * size.height)
    return await DIALOG.answered(update, context, CHOOSING_DURATION, photo_file_id=largest.file_id)


async def photo_skipped(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_DURATION, photo_file_id=None)


async def photo_kept(update: Update, context: BotContext, _none: None) -> int | None:
    if not DIALOG.answers(context).get("photo_file_id"):
        await refuse_earlier_step(update, context)
        return None
    return await DIALOG.answered(update, context, CHOOSING_DURATION)


DIALOG.add(
    ADDING_PHOTO,
    Question(
        ask_photo,
        MessageHandler(f.UpdateType.MESSAGE & f.PHOTO, photo_sent),
        SKIP_PHOTO.handler(photo_skipped),
        KEEP_PHOTO.handler(photo_kept),
        hint=N_("Please send a photo (as a picture, not as a file), or tap Skip."),
    ),
)
DIALOG.add(
    CHOOSING_DURATION,
    Choice(
        lambda context: context.i18n.gettext("How long should it stay open?"),
        DURATION,
        translated(DURATION_LABELS),
        answer="duration",
        then=PREVIEWING,
        width=2,
    ),
)


# --- the preview, and publishing --------------------------------------------------------------


async def listing_language(context: BotContext, given: dict[str, Any]) -> str:
    """The language the listing is written in: the author's choice at the preview, else the
    one its title and description are in (typing either again forgets the choice)."""
    if given.get("language") in LANGUAGES:
        return str(given["language"])
    return await detect_listing(given["title"], given["description"], context.i18n.language)


def preview_listing(context: BotContext, given: dict[str, Any], language: str) -> Listing:
    """The listing as it will be once published, for the preview card."""
    member = context.member
    assert member is not None
    now = context.now()
    new = new_listing(given, language)
    return Listing(
        id=0,
        owner_id=member.id,
        municipality_id=member.municipality_id,
        organisation_id=member.organisation_id,
        kind=new.kind,
        category=new.category,
        title=new.title,
        description=new.description,
        language=new.language,
        country=new.country,
        region=new.region,
        place=new.place,
        place_key=new.place_key,
        latitude=new.latitude,
        longitude=new.longitude,
        reach=new.reach,
        photo_file_id=new.photo_file_id,
        status="open",
        outcome=None,
        published_at=now,
        expires_at=now + new.duration_days * DAY,
        status_changed_at=now,
        views=0,
        contacts=0,
        author_role=member.role,
        author_name=member.municipality_name or member.organisation_name,
        author_verified=member.verified,
        tags=tuple(sorted(new.tags)),
    )


def new_listing(given: dict[str, Any], language: str) -> NewListing:
    """What the draft's answers publish (read from them here only)."""
    return NewListing(
        kind=given["kind"],
        category=given["category"],
        tags=tuple(given.get("tags", [])),
        title=given["title"],
        description=given["description"],
        language=language,
        country=given["country"],
        region=given.get("region") or "",
        place=given["place"],
        place_key=given.get("place_key"),
        reach=given["reach"],
        duration_days=taxonomy.DURATIONS[given["duration"]],
        latitude=given.get("latitude"),
        longitude=given.get("longitude"),
        photo_file_id=given.get("photo_file_id"),
    )


async def ask_to_publish(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = DIALOG.answers(context)
    language = await listing_language(context, given)
    shown = preview_listing(context, given, language)
    context.meaning.embed_ahead(shown.title, shown.description, context.application.create_task)
    written_in = _("🗣 Written in: {language} — change").format(
        language=context.i18n.language_name(language)
    )
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✅ Publish"), callback_data=PUBLISH.data(None))],
            [InlineKeyboardButton(written_in, callback_data=CHANGE_LANGUAGE.data(None))],
            navigation(context.i18n, PREVIEWING),
        ]
    )
    await reply(update, _("Here is your listing exactly as others will see it. Publish it?"))
    await post_card(update, context, shown, may_manage=False, preview=buttons)


async def publish(update: Update, context: BotContext, _none: None) -> int:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    now = context.now()
    given = DIALOG.answers(context)
    new = new_listing(given, await listing_language(context, given))
    # Embedded before the transaction (off the event loop), stored in it; None: published
    # all the same, and embedded later by the vectors job.
    vector = await context.meaning.passage(new.title, new.description)
    try:
        async with DIALOG.ending(update, context):  # one transaction: the listing, the end
            listing = await context.storage.publish(
                user_id(update),
                new,
                now=now,
                daily_limit=context.settings.posts_per_day,
                vector=vector,
            )
    except PostingLimit as refused:
        # The conversation ends but the draft stays: /post offers it again tomorrow.
        await close_buttons(update, context)
        await DIALOG.finish(update, context)
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
        return await DIALOG.finish(update, context)
    await close_buttons(update, context)
    await DIALOG.finish(update, context)
    published = _("✅ Published! Here is your listing; you will find it in /mylistings.")
    await reply(update, published + await night_note(context, user_id(update), now))
    await send_card(update, context, listing)
    return END


async def night_note(context: BotContext, user_id: int, now: int) -> str:
    """For a poster in their quiet hours: when the matches found meanwhile will come."""
    prefs = await context.storage.preferences(user_id)
    morning = after_quiet_hours(now, prefs)
    if morning == now:
        return ""
    at = context.i18n.time(local(morning, prefs.timezone))
    return "\n\n" + context.i18n.gettext(
        "🌙 These are your quiet hours: matches for your listing will be sent to you in the "
        "morning, at {time}."
    ).format(time=at)


async def change_language(update: Update, context: BotContext, _none: None) -> int:
    """On the preview: the author says which language the listing is in."""
    return await DIALOG.answered(update, context, CHOOSING_LANGUAGE)


async def ask_language(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    current = await listing_language(context, DIALOG.answers(context))
    choices = views.language_keyboard(LANGUAGE, current)
    rows = [*choices.inline_keyboard, navigation(context.i18n, CHOOSING_LANGUAGE)]
    await reply(
        update,
        _("In which language is your listing written?"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def language_chosen(update: Update, context: BotContext, language: str) -> int:
    """One of the bot's languages, then the preview again."""
    return await DIALOG.answered(update, context, PREVIEWING, language=language)


DIALOG.add(
    PREVIEWING,
    Question(ask_to_publish, PUBLISH.handler(publish), CHANGE_LANGUAGE.handler(change_language)),
)
DIALOG.add(CHOOSING_LANGUAGE, Question(ask_language, LANGUAGE.handler(language_chosen)))


# --- leaving -----------------------------------------------------------------------------------


async def cancel(step: int, update: Update, context: BotContext, _none: None = None) -> int:
    """Cancel: the draft is deleted; deciding on a draft keeps it."""
    _ = context.i18n.gettext
    if step == DECIDING_ON_DRAFT:
        text = _("Nothing changed: your draft is kept. Send /post when you want to go on.")
    else:
        await context.storage.delete_draft(user_id(update))
        text = _("Cancelled: your draft is deleted. Send /post when you want to post something.")
    return await DIALOG.cancelled(update, context, text, reply_markup=ReplyKeyboardRemove())


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[CommandHandler("post", start), NEW_POST.handler(start)],
        fallbacks=[],
        cancel=cancel,
        again=["post", NEW_POST],
    )
