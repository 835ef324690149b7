"""The posting dialog's steps: what each one shows, and moving to one (the draft and the
conversation's checkpoint written first); the answers are in :mod:`bot.dialogs.posting`.

Every question is sent as a new message, with its buttons: the step's choices, then Back (to
the previous step) and Cancel. Buttons carry ``po:<what>[:<value>]``; Back names the step it
was shown on (``po:back:<step>``), so a Back button left on an earlier message cannot move a
user who has gone on.
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
from bot.dialogs.steps import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    TITLE_MAX,
    TITLE_MIN,
    Questions,
    answers,
    ask_for_a_place,
    checkpoint,
    current_step,
)
from bot.handlers.common import reply
from bot.i18n import LANGUAGES, N_, Translator
from bot.language_id import detect_listing
from bot.localtime import local
from bot.storage import Listing, NewListing
from bot.storage.listings import DAY

DIALOG = "posting"

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
) = range(14)

# Where Back leads from each step.
PREVIOUS = {
    CHOOSING_CATEGORY: CHOOSING_KIND,
    CHOOSING_TAGS: CHOOSING_CATEGORY,
    TYPING_TITLE: CHOOSING_TAGS,
    TYPING_DESCRIPTION: TYPING_TITLE,
    CHOOSING_PLACE: TYPING_DESCRIPTION,
    CHOOSING_COUNTRY: CHOOSING_PLACE,
    TYPING_PLACE: CHOOSING_COUNTRY,
    CHOOSING_REACH: CHOOSING_PLACE,
    ADDING_PHOTO: CHOOSING_REACH,
    CHOOSING_DURATION: ADDING_PHOTO,
    PREVIEWING: CHOOSING_DURATION,
    CHOOSING_LANGUAGE: PREVIEWING,
}

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
PLACE_STEPS = (CHOOSING_PLACE, CHOOSING_COUNTRY, TYPING_PLACE)

KIND_CHOICES = {
    "offer": N_("🟢 I have something to offer"),
    "request": N_("🔴 I am looking for something"),
}
DURATION_LABELS = {
    "1w": N_("1 week"),
    "1m": N_("1 month"),
    "3m": N_("3 months"),
    "6m": N_("6 months"),
}
# Inline button texts are plain text, but a very long place name would crowd the keyboard.
BUTTON_PLACE_LENGTH = 40


def resume_step(given: dict[str, Any]) -> int:
    """The step to continue a draft at: its own, or the first one left unanswered."""
    stored = given.get("step")
    for step, answer in FLOW:
        if stored == step or (step == CHOOSING_PLACE and stored in PLACE_STEPS):
            return stored if stored != TYPING_PLACE or "country" in given else CHOOSING_COUNTRY
        if answer is not None and answer not in given:
            return step
    return PREVIEWING


def navigation(t: Translator, step: int) -> list[InlineKeyboardButton]:
    """Back (when there is a step before) and Cancel, for the row under a question."""
    _ = t.gettext
    row = []
    if step in PREVIOUS:
        row.append(InlineKeyboardButton(_("⬅ Back"), callback_data=f"po:back:{step}"))
    row.append(InlineKeyboardButton(_("✖️ Cancel"), callback_data="po:cancel"))
    return row


def tick(label: str, chosen: bool) -> str:
    return f"✓ {label}" if chosen else label


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


# --- the questions -------------------------------------------------------------------------


async def ask_about_draft(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert update.effective_user is not None
    draft = await context.storage.get_draft(update.effective_user.id) or {}
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
            InlineKeyboardButton(_("▶️ Continue the draft"), callback_data="po:draft:continue"),
            InlineKeyboardButton(_("🆕 Start afresh"), callback_data="po:draft:afresh"),
        ],
        navigation(context.i18n, DECIDING_ON_DRAFT),
    ]
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


async def ask_kind(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    chosen = answers(context, DIALOG).get("kind")
    buttons = [
        [InlineKeyboardButton(tick(_(label), kind == chosen), callback_data=f"po:kind:{kind}")]
        for kind, label in KIND_CHOICES.items()
    ]
    buttons.append(navigation(context.i18n, CHOOSING_KIND))
    await reply(
        update,
        _(
            "What would you like to post?\n\n"
            "🟢 <b>An offer</b>: something you can give, lend, share or do for others.\n"
            "🔴 <b>A request</b>: something you or your community needs."
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_category(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    chosen = answers(context, DIALOG).get("category")
    buttons = [
        [
            InlineKeyboardButton(
                tick(cards.category_label(context.i18n, category.key), category.key == chosen),
                callback_data=f"po:cat:{category.key}",
            )
        ]
        for category in taxonomy.CATEGORIES
    ]
    buttons.append(navigation(context.i18n, CHOOSING_CATEGORY))
    await reply(update, _("Which category fits best?"), reply_markup=InlineKeyboardMarkup(buttons))


def tags_keyboard(t: Translator, given: dict[str, Any]) -> InlineKeyboardMarkup:
    """The category's tags, the chosen ones ticked; Done; Back and Cancel."""
    _ = t.gettext
    category = taxonomy.category(given.get("category", ""))
    chosen = set(given.get("tags", []))
    buttons = [
        InlineKeyboardButton(
            tick(_(taxonomy.TAG_NAMES[tag]), tag in chosen), callback_data=f"po:tag:{tag}"
        )
        for tag in (category.tags if category else ())
    ]
    rows = views.rows(buttons, 2)
    rows.append([InlineKeyboardButton(_("✅ Done"), callback_data="po:tags:done")])
    rows.append(navigation(t, CHOOSING_TAGS))
    return InlineKeyboardMarkup(rows)


async def ask_tags(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    await reply(
        update,
        _("{category}\n\nTap the tags that describe it (optional), then Done.").format(
            category=cards.category_label(context.i18n, given["category"])
        ),
        reply_markup=tags_keyboard(context.i18n, given),
    )


def keep_button(t: Translator, step: int) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.gettext("➡ Keep it as it is"), callback_data=f"po:keep:{step}")]


async def ask_title(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    text = _(
        "Type a short title ({minimum} to {maximum} characters), for example "
        "<i>Fire engine available for a neighbouring village</i>."
    ).format(minimum=TITLE_MIN, maximum=TITLE_MAX)
    rows = [navigation(context.i18n, TYPING_TITLE)]
    if given.get("title"):
        text += "\n\n" + _("Now: <b>{title}</b>").format(title=escape(given["title"]))
        rows.insert(0, keep_button(context.i18n, TYPING_TITLE))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def ask_description(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    text = _(
        "Describe it ({minimum} to {maximum} characters): what exactly, how many, when, "
        "and on what terms."
    ).format(minimum=DESCRIPTION_MIN, maximum=context.i18n.number(DESCRIPTION_MAX))
    rows = [navigation(context.i18n, TYPING_DESCRIPTION)]
    if given.get("description"):
        now = cards.shorten(given["description"], 300)
        text += "\n\n" + _("Now: {description}").format(description=escape(now))
        rows.insert(0, keep_button(context.i18n, TYPING_DESCRIPTION))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def ask_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    member = context.member
    rows = []
    if member is not None and member.country and member.place:
        place = cards.shorten(member.place, BUTTON_PLACE_LENGTH)
        rows.append(
            [
                InlineKeyboardButton(
                    _("📍 Use my profile's place: {place}").format(place=place),
                    callback_data="po:place:profile",
                )
            ]
        )
    rows.append([InlineKeyboardButton(_("🌍 Another place"), callback_data="po:place:other")])
    rows.append(navigation(context.i18n, CHOOSING_PLACE))
    await ask_for_a_place(
        update,
        context.i18n,
        _("Where is it? Use your profile's place, share a location, or choose another place."),
        InlineKeyboardMarkup(rows),
    )


async def ask_country(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    countries = views.country_keyboard(context.i18n, "po:cty:")
    rows = [*countries.inline_keyboard, navigation(context.i18n, CHOOSING_COUNTRY)]
    await reply(
        update,
        _("Choose the country (or type its name):"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def ask_typed_place(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    country = escape(context.i18n.country(answers(context, DIALOG)["country"]))
    await reply(
        update,
        _("{country}: in which town or village?").format(country=country),
        reply_markup=InlineKeyboardMarkup([navigation(context.i18n, TYPING_PLACE)]),
    )


async def ask_reach(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    where = views.place_line(context.i18n, given["place"], given.get("region"), given["country"])
    # Also puts away the location keyboard of the place step, which only a message without
    # inline buttons can do.
    await reply(update, "📍 " + where, reply_markup=ReplyKeyboardRemove())
    buttons = [
        [
            InlineKeyboardButton(
                tick(_(label), reach == given.get("reach")), callback_data=f"po:reach:{reach}"
            )
        ]
        for reach, label in cards.REACH_LABELS.items()
    ]
    buttons.append(navigation(context.i18n, CHOOSING_REACH))
    await reply(
        update,
        _("Who is it for? Choose how far it reaches:"),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def ask_photo(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    rows = [[InlineKeyboardButton(_("Skip"), callback_data="po:photo:skip")]]
    if answers(context, DIALOG).get("photo_file_id"):
        text = _("Send another photo to replace the one you added, keep it, or go without.")
        rows = [
            [
                InlineKeyboardButton(_("✅ Keep the photo"), callback_data="po:photo:keep"),
                InlineKeyboardButton(_("🚫 No photo"), callback_data="po:photo:skip"),
            ]
        ]
    else:
        text = _("Add a photo? Send one now (a listing with a photo gets more attention), or Skip.")
    rows.append(navigation(context.i18n, ADDING_PHOTO))
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def ask_duration(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    chosen = answers(context, DIALOG).get("duration")
    buttons = [
        InlineKeyboardButton(tick(_(label), key == chosen), callback_data=f"po:dur:{key}")
        for key, label in DURATION_LABELS.items()
    ]
    rows = [*views.rows(buttons, 2), navigation(context.i18n, CHOOSING_DURATION)]
    await reply(update, _("How long should it stay open?"), reply_markup=InlineKeyboardMarkup(rows))


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
    return Listing(
        id=0,
        owner_id=member.id,
        municipality_id=member.municipality_id,
        organisation_id=member.organisation_id,
        kind=given["kind"],
        category=given["category"],
        title=given["title"],
        description=given["description"],
        language=language,
        country=given["country"],
        region=given.get("region") or "",
        place=given["place"],
        latitude=given.get("latitude"),
        longitude=given.get("longitude"),
        reach=given["reach"],
        photo_file_id=given.get("photo_file_id"),
        status="open",
        outcome=None,
        published_at=now,
        expires_at=now + taxonomy.DURATIONS[given["duration"]] * DAY,
        status_changed_at=now,
        views=0,
        contacts=0,
        author_role=member.role,
        author_name=member.municipality_name or member.organisation_name,
        author_verified=member.municipality_verified,
        tags=tuple(sorted(given.get("tags", []))),
    )


async def ask_to_publish(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    assert update.effective_chat is not None
    given = answers(context, DIALOG)
    language = await listing_language(context, given)
    card = cards.listing_card(
        context.i18n,
        preview_listing(context, given, language),
        may_manage=False,
        now=context.now(),
        bot_username=context.bot.username,
        preview=True,
    )
    written_in = _("🗣 Written in: {language} — change").format(
        language=context.i18n.language_name(language)
    )
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("✅ Publish"), callback_data="po:publish")],
            [InlineKeyboardButton(written_in, callback_data="po:lang")],
            navigation(context.i18n, PREVIEWING),
        ]
    )
    await reply(update, _("Here is your listing exactly as others will see it. Publish it?"))
    if card.photo_file_id:
        await update.effective_chat.send_photo(
            card.photo_file_id, caption=card.text, reply_markup=buttons
        )
    else:
        await update.effective_chat.send_message(card.text, reply_markup=buttons)


async def ask_language(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = answers(context, DIALOG)
    current = await listing_language(context, given)
    choices = views.language_keyboard("po:lang:", current)
    rows = [*choices.inline_keyboard, navigation(context.i18n, CHOOSING_LANGUAGE)]
    await reply(
        update,
        _("In which language is your listing written?"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def new_listing(context: BotContext, language: str) -> NewListing:
    """What the draft publishes."""
    given = answers(context, DIALOG)
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
        reach=given["reach"],
        duration_days=taxonomy.DURATIONS[given["duration"]],
        latitude=given.get("latitude"),
        longitude=given.get("longitude"),
        photo_file_id=given.get("photo_file_id"),
    )


QUESTIONS = {
    DECIDING_ON_DRAFT: ask_about_draft,
    CHOOSING_KIND: ask_kind,
    CHOOSING_CATEGORY: ask_category,
    CHOOSING_TAGS: ask_tags,
    TYPING_TITLE: ask_title,
    TYPING_DESCRIPTION: ask_description,
    CHOOSING_PLACE: ask_place,
    CHOOSING_COUNTRY: ask_country,
    TYPING_PLACE: ask_typed_place,
    CHOOSING_REACH: ask_reach,
    ADDING_PHOTO: ask_photo,
    CHOOSING_DURATION: ask_duration,
    PREVIEWING: ask_to_publish,
    CHOOSING_LANGUAGE: ask_language,
}


# --- moving between steps ----------------------------------------------------------------


def user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def draft_to_save(context: BotContext, step: int) -> dict[str, Any] | None:
    """Before each step: the draft, with every answer so far, to write with the step's
    checkpoint (one transaction); None when there is nothing to keep yet."""
    given = answers(context, DIALOG)
    given["step"] = step
    # Nothing is worth keeping before the first answer, and /post would offer an empty draft.
    if step == DECIDING_ON_DRAFT or "kind" not in given:
        return None
    return dict(given)


ASKING = Questions(DIALOG, QUESTIONS, draft=draft_to_save)
go_to = ASKING.go_to
resume = ASKING.resume


async def remember(update: Update, context: BotContext) -> None:
    """Write an answer that keeps the user on the same step (a tag ticked)."""
    step = current_step(context, DIALOG)
    assert step is not None
    await checkpoint(update, context, DIALOG, step, draft=draft_to_save(context, step))
