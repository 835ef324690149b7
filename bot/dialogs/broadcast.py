"""The broadcast composer (``/broadcast``, admins only), as a persistent conversation.

language → text (HTML, or a photo with a caption; checked against Telegram's rules and
limits) → texts written so far: add another language, choose which text readers of other
languages get, remove the photo → audience: roles, languages and countries, combined, with
the live recipient count → now or at a date and time in the admin's timezone → previews,
exactly as recipients will see them (Telegram checks each) → confirm.

Every handler checks that the person is an admin, not only the entry point: an admin may be
removed from ADMIN_IDS in the middle, and buttons can be forged. Confirming turns the draft
into a scheduled or sending broadcast in one conditional UPDATE, so a second tap sends
nothing more; the confirmation message becomes the live progress message.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot.broadcasting import broadcaster, progress_keyboard, progress_text
from bot.context import BotContext
from bot.dialogs.broadcast_questions import (
    CAPTION_MAX,
    CHOOSING_AUDIENCE,
    CHOOSING_COUNTRIES,
    CHOOSING_LANGUAGE,
    CHOOSING_WHEN,
    CONFIRMING,
    DIALOG,
    REVIEWING_TEXTS,
    TYPING_TEXT,
    TYPING_TIME,
    audience_keyboard,
    audience_summary,
    check_text,
    check_time,
    countries_keyboard,
    draft,
    go_to,
    resume,
)
from bot.dialogs.steps import END, answers, close_buttons, current_step, finish
from bot.geo import COUNTRIES
from bot.handlers.admin import is_admin, refuse_unless_admin
from bot.handlers.common import RESUMERS, reply
from bot.i18n import LANGUAGES
from bot.markup import check_html
from bot.storage import ROLES, Segment

RESUMERS[DIALOG] = resume

Handler = Callable[[Update, BotContext], Awaitable[int | None]]


def admin_only(handler: Handler) -> Handler:
    """Refuse anyone who is not (or no longer) an admin, and end their conversation."""

    @functools.wraps(handler)
    async def checked(update: Update, context: BotContext) -> int | None:
        if not await refuse_unless_admin(update, context):
            return END
        return await handler(update, context)

    return checked


def _value(update: Update) -> str:
    """What follows the last colon of the pressed button's data."""
    assert update.callback_query is not None and update.callback_query.data is not None
    return update.callback_query.data.rsplit(":", 1)[-1]


async def _invalid(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(context.i18n.gettext("This button is no longer valid."))


# --- starting and texts --------------------------------------------------------------------


@admin_only
async def start(update: Update, context: BotContext) -> int:
    assert context.member is not None
    answers(context, DIALOG).clear()
    # The admin's own time zone: the one chosen in /settings, else their country's.
    zone = (await context.storage.preferences(context.member.id)).timezone
    answers(context, DIALOG)["id"] = await context.storage.create_broadcast(
        context.member.id, zone, context.now()
    )
    return await go_to(update, context, CHOOSING_LANGUAGE)


@admin_only
async def show_current_step(update: Update, context: BotContext) -> int | None:
    """``/broadcast`` in the middle: show where the admin is."""
    if not await resume(update, context):
        return await start(update, context)
    return None


@admin_only
async def language_chosen(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None
    code = _value(update)
    if code not in LANGUAGES:
        await _invalid(update, context)
        return None
    await close_buttons(query, context)
    answers(context, DIALOG)["language"] = code
    return await go_to(update, context, TYPING_TEXT)


async def _save_text(
    update: Update, context: BotContext, html: str, photo: str | None
) -> int | None:
    broadcast = await draft(context)
    language = answers(context, DIALOG)["language"]
    with_photo = bool(photo or broadcast.photo_file_id)
    refusal = check_text(context.i18n, html, with_photo=with_photo)
    if refusal is None and photo:
        # The photo goes with every language's text: each must fit in a caption.
        for code, other in broadcast.texts.items():
            if code != language and check_html(other).length > CAPTION_MAX:
                refusal = context.i18n.gettext(
                    "With a photo, every text can have at most {limit} characters, and the "
                    "{language} text is longer. Shorten it first, or send this text without "
                    "the photo."
                ).format(
                    limit=context.i18n.number(CAPTION_MAX),
                    language=context.i18n.language_name(code),
                )
    if refusal is not None:
        await reply(update, refusal)
        return None
    texts = {**broadcast.texts, language: html}
    changes: dict[str, object] = {"texts": texts, "fallback": broadcast.fallback or language}
    if photo:
        changes["photo_file_id"] = photo
    await context.storage.update_draft(broadcast.id, **changes)
    return await go_to(update, context, REVIEWING_TEXTS)


@admin_only
async def text_typed(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.text is not None
    # The admin writes HTML: the text is taken as typed, tags and all.
    return await _save_text(update, context, update.message.text, None)


@admin_only
async def photo_sent(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.photo
    return await _save_text(
        update, context, update.message.caption or "", update.message.photo[-1].file_id
    )


@admin_only
async def more_languages(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, CHOOSING_LANGUAGE)


@admin_only
async def fallback_chosen(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None
    broadcast = await draft(context)
    code = _value(update)
    if code not in broadcast.texts:
        await _invalid(update, context)
        return None
    await close_buttons(query, context)
    await context.storage.update_draft(broadcast.id, fallback=code)
    return await go_to(update, context, REVIEWING_TEXTS)


@admin_only
async def photo_removed(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    await context.storage.update_draft((await draft(context)).id, photo_file_id=None)
    return await go_to(update, context, REVIEWING_TEXTS)


@admin_only
async def back_to_texts(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, REVIEWING_TEXTS)


# --- audience ------------------------------------------------------------------------------


@admin_only
async def to_audience(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, CHOOSING_AUDIENCE)


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


@admin_only
async def audience_toggled(update: Update, context: BotContext) -> int | None:
    """``bc:r:<role>`` or ``bc:l:<language>``: change the audience, edit the message in place."""
    query = update.callback_query
    assert query is not None and query.data is not None
    broadcast = await draft(context)
    segment, value = broadcast.segment, _value(update)
    if query.data.startswith("bc:r:") and value in ROLES:
        segment = Segment(_toggle(segment.roles, value), segment.countries, segment.languages)
    elif query.data.startswith("bc:l:") and value in LANGUAGES:
        segment = Segment(segment.roles, segment.countries, _toggle(segment.languages, value))
    else:
        await _invalid(update, context)
        return None
    await context.storage.update_draft(broadcast.id, segment=segment)
    broadcast = await draft(context)
    counts = await context.storage.count_recipients(segment)
    await query.answer()
    await query.edit_message_text(
        audience_summary(context.i18n, broadcast, counts),
        reply_markup=audience_keyboard(context.i18n, broadcast),
    )
    return None


@admin_only
async def to_countries(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, CHOOSING_COUNTRIES)


@admin_only
async def country_toggled(update: Update, context: BotContext) -> int | None:
    query = update.callback_query
    assert query is not None
    broadcast = await draft(context)
    code = _value(update)
    if code not in COUNTRIES:
        await _invalid(update, context)
        return None
    segment = broadcast.segment
    segment = Segment(segment.roles, _toggle(segment.countries, code), segment.languages)
    await context.storage.update_draft(broadcast.id, segment=segment)
    await query.answer()
    await query.edit_message_reply_markup(countries_keyboard(context.i18n, await draft(context)))
    return None


# --- when, and confirming ------------------------------------------------------------------


async def _nobody(update: Update, context: BotContext) -> bool:
    """True (and the admin told) if the audience has nobody in it."""
    broadcast = await draft(context)
    if sum((await context.storage.count_recipients(broadcast.segment)).values()):
        return False
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("Nobody is in this audience. Please choose another one."),
        show_alert=True,
    )
    return True


@admin_only
async def to_when(update: Update, context: BotContext) -> int | None:
    assert update.callback_query is not None
    if await _nobody(update, context):
        return None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, CHOOSING_WHEN)


@admin_only
async def send_now(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    await context.storage.update_draft((await draft(context)).id, send_at=None)
    return await go_to(update, context, CONFIRMING)


@admin_only
async def send_later(update: Update, context: BotContext) -> int:
    assert update.callback_query is not None
    await close_buttons(update.callback_query, context)
    return await go_to(update, context, TYPING_TIME)


@admin_only
async def time_typed(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.text is not None
    broadcast = await draft(context)
    found = check_time(context.i18n, update.message.text, broadcast.timezone, context.now())
    if isinstance(found, str):
        await reply(update, found)
        return None
    await context.storage.update_draft(broadcast.id, send_at=found[0], timezone=found[1])
    return await go_to(update, context, CONFIRMING)


@admin_only
async def confirmed(update: Update, context: BotContext) -> int | None:
    """``bc:go:<id>``: start or schedule the broadcast; this message becomes its progress."""
    query = update.callback_query
    assert query is not None and query.message is not None
    broadcast = await draft(context)
    if _value(update) != str(broadcast.id):
        await _invalid(update, context)
        return None
    if await _nobody(update, context):
        return None
    started = await context.storage.confirm_broadcast(broadcast.id, context.now())
    if started is None:  # confirmed already (a second tap)
        await _invalid(update, context)
        return await finish(update, context, DIALOG)
    text = progress_text(context.i18n, started, {}, context.now(), None)
    await query.answer()
    await query.edit_message_text(text, reply_markup=progress_keyboard(context.i18n, started))
    await context.storage.set_progress_message(
        started.id, query.message.chat.id, query.message.message_id, text
    )
    broadcaster(context.application).wake()
    return await finish(update, context, DIALOG)


@admin_only
async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await close_buttons(update.callback_query, context)
    if "id" in answers(context, DIALOG):
        await context.storage.delete_draft_broadcast(answers(context, DIALOG)["id"])
    await finish(update, context, DIALOG)
    await reply(update, _("Cancelled: nothing was sent."))
    return END


async def refuse_button(update: Update, context: BotContext) -> int | None:
    """A composer button from an earlier step (or forged): change nothing."""
    if not await refuse_unless_admin(update, context):
        return END
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("This button belongs to an earlier step. Please use the latest one."),
        show_alert=True,
    )
    return None


async def use_the_buttons(update: Update, context: BotContext) -> int | None:
    _ = context.i18n.gettext
    if not await is_admin(context, update.effective_user.id if update.effective_user else 0):
        return END
    if current_step(context, DIALOG) in (TYPING_TEXT, TYPING_TIME):
        await reply(update, _("Please send a text message."))
    else:
        await reply(update, _("Please use the buttons above, or send /cancel to stop."))
    return None


# The composer's buttons; the progress message's (pause, resume, cancel) are not the dialog's.
COMPOSER_BUTTONS = (
    r"^bc:(lang|more|fb|nophoto|texts|aud|r|l|countries|c|cdone|when|now|later|go|cancel)(:|$)"
)


def build() -> ConversationHandler:  # type: ignore[type-arg]
    message = f.UpdateType.MESSAGE
    text = message & f.TEXT & ~f.COMMAND
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[CommandHandler("broadcast", start)],
        states={
            CHOOSING_LANGUAGE: [CallbackQueryHandler(language_chosen, pattern=r"^bc:lang:")],
            TYPING_TEXT: [
                MessageHandler(text, text_typed),
                MessageHandler(message & f.PHOTO, photo_sent),
            ],
            REVIEWING_TEXTS: [
                CallbackQueryHandler(more_languages, pattern=r"^bc:more$"),
                CallbackQueryHandler(fallback_chosen, pattern=r"^bc:fb:"),
                CallbackQueryHandler(photo_removed, pattern=r"^bc:nophoto$"),
                CallbackQueryHandler(to_audience, pattern=r"^bc:aud$"),
            ],
            CHOOSING_AUDIENCE: [
                CallbackQueryHandler(audience_toggled, pattern=r"^bc:[rl]:"),
                CallbackQueryHandler(to_countries, pattern=r"^bc:countries$"),
                CallbackQueryHandler(back_to_texts, pattern=r"^bc:texts$"),
                CallbackQueryHandler(to_when, pattern=r"^bc:when$"),
            ],
            CHOOSING_COUNTRIES: [
                CallbackQueryHandler(country_toggled, pattern=r"^bc:c:"),
                CallbackQueryHandler(to_audience, pattern=r"^bc:cdone$"),
            ],
            CHOOSING_WHEN: [
                CallbackQueryHandler(send_now, pattern=r"^bc:now$"),
                CallbackQueryHandler(send_later, pattern=r"^bc:later$"),
                CallbackQueryHandler(to_audience, pattern=r"^bc:aud$"),
            ],
            TYPING_TIME: [MessageHandler(text, time_typed)],
            CONFIRMING: [
                CallbackQueryHandler(confirmed, pattern=r"^bc:go:\d+$"),
                CallbackQueryHandler(to_audience, pattern=r"^bc:aud$"),
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^bc:cancel$"),
            CommandHandler("broadcast", show_current_step),
            CallbackQueryHandler(refuse_button, pattern=COMPOSER_BUTTONS),
            MessageHandler(message & ~f.COMMAND, use_the_buttons),
        ],
    )
