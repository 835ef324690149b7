"""``/alerts``: saved searches. The list with pause, resume, edit and delete, and the dialog
that makes or edits one: kind → categories → tags (optional) → area (my region, my country,
Europe, or a radius around a place) → words (optional) → how often.

The list's buttons carry ``al:<action>:<id>``; who owns the alert is checked in storage on
every press, so a forged or replayed button changes nothing. The dialog is a persistent
conversation like posting: each step is checkpointed before its question is shown.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as f

from bot import taxonomy
from bot.callback_data import id_of, parse_number
from bot.context import BotContext
from bot.dialogs.alert_questions import (
    AREA_CHOICES,
    CHOOSING_AREA,
    CHOOSING_CATEGORIES,
    CHOOSING_FREQUENCY,
    CHOOSING_KIND,
    CHOOSING_RADIUS,
    CHOOSING_TAGS,
    DIALOG,
    FREQUENCY_CHOICES,
    KIND_CHOICES,
    PREVIOUS,
    RADII,
    SHARING_LOCATION,
    TYPING_KEYWORDS,
    areas,
    categories_keyboard,
    draft,
    go_to,
    offered_tags,
    resume,
    tags_keyboard,
)
from bot.dialogs.steps import (
    END,
    answers,
    checkpoint,
    clean_line,
    close_buttons,
    current_step,
    finish,
    has_letter,
)
from bot.handlers.common import RESUMERS, reply
from bot.i18n import N_, Translator
from bot.notifications import alert_summary
from bot.storage import Alert
from bot.storage.alerts import MAX_ALERTS

RESUMERS[DIALOG] = resume
KEYWORDS_MAX = 100
FREQUENCY_NAMES = {"instant": N_("right away"), "daily": N_("daily"), "weekly": N_("weekly")}


# --- the list --------------------------------------------------------------------------------


def list_text(t: Translator, alerts: list[Alert]) -> str:
    _ = t.gettext
    if not alerts:
        return _(
            "🔔 <b>Alerts</b>\n\nYou have no alerts yet. An alert tells you when a new listing "
            "fits what you are looking for: right away, or once a day or week."
        )
    lines = [_("🔔 <b>Your alerts</b>"), ""]
    for number, alert in enumerate(alerts, start=1):
        state = _("⏸ paused") if alert.paused else _(FREQUENCY_NAMES[alert.frequency])
        lines.append(f"{number}. {alert_summary(t, alert)} — <i>{state}</i>")
    return "\n".join(lines)


def list_keyboard(t: Translator, alerts: list[Alert]) -> InlineKeyboardMarkup:
    _ = t.gettext
    rows = []
    for number, alert in enumerate(alerts, start=1):
        if alert.paused:
            toggle = InlineKeyboardButton(
                _("{number}. ▶️ Resume").format(number=number), callback_data=f"al:re:{alert.id}"
            )
        else:
            toggle = InlineKeyboardButton(
                _("{number}. ⏸ Pause").format(number=number), callback_data=f"al:pa:{alert.id}"
            )
        rows.append(
            [
                toggle,
                InlineKeyboardButton(_("✏️ Edit"), callback_data=f"al:ed:{alert.id}"),
                InlineKeyboardButton(_("🗑 Delete"), callback_data=f"al:de:{alert.id}"),
            ]
        )
    if len(alerts) < MAX_ALERTS:
        rows.append([InlineKeyboardButton(_("➕ New alert"), callback_data="al:new")])
    return InlineKeyboardMarkup(rows)


async def _onboarded(update: Update, context: BotContext) -> bool:
    if context.member is not None and context.member.onboarded:
        return True
    await reply(update, context.i18n.gettext("Please set up your profile first: send /start."))
    return False


async def alerts_command(update: Update, context: BotContext) -> None:
    """``/alerts`` (or the menu's button): the person's alerts, with their buttons."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not await _onboarded(update, context):
        return
    assert context.member is not None
    alerts = await context.storage.alerts_of(context.member.id)
    await reply(
        update, list_text(context.i18n, alerts), reply_markup=list_keyboard(context.i18n, alerts)
    )


async def alert_button(update: Update, context: BotContext) -> None:
    """``al:<pa|re|de|dy|pn>:<id>`` and ``al:ls``: act on one alert, then show the list in
    the same message (``pn``: paused from a notification, which keeps its card)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    user, now = update.effective_user.id, context.now()
    action = [*query.data.split(":"), ""][1]
    alert_id = id_of(query.data, f"al:{action}:")
    storage = context.storage
    if action != "ls":
        if alert_id is None:
            await query.answer(_("This button is no longer valid."))
            return
        alert = await storage.own_alert(alert_id, user)
        if alert is None:
            await query.answer(_("This alert no longer exists."), show_alert=True)
            return
    if action == "de":
        await query.answer()
        await query.edit_message_text(
            _("Delete this alert?") + "\n\n" + alert_summary(context.i18n, alert),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("🗑 Yes, delete it"), callback_data=f"al:dy:{alert.id}"
                        ),
                        InlineKeyboardButton(_("⬅ Keep it"), callback_data="al:ls"),
                    ]
                ]
            ),
        )
        return
    if action in ("pa", "pn", "re"):
        await storage.set_alert_paused(alert.id, user, action != "re", now)
    elif action == "dy":
        await storage.delete_alert(alert.id, user)
    elif action != "ls":
        await query.answer(_("This button is no longer valid."))
        return
    if action == "pn":
        await query.answer(_("Alert paused. Send /alerts to resume it."), show_alert=True)
        kept = [
            [b for b in row if not (b.callback_data or "").startswith("al:")]
            for row in (query.message.reply_markup.inline_keyboard if query.message else [])  # type: ignore[union-attr]
        ]
        await query.edit_message_reply_markup(InlineKeyboardMarkup([r for r in kept if r]))
        return
    await query.answer()
    alerts = await storage.alerts_of(user)
    await query.edit_message_text(
        list_text(context.i18n, alerts), reply_markup=list_keyboard(context.i18n, alerts)
    )


# --- the dialog --------------------------------------------------------------------------


async def _refuse(update: Update, context: BotContext, stale: bool = True) -> None:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    if stale:
        await query.answer(
            _("This button belongs to an earlier step. Please use the latest one."),
            show_alert=True,
        )
    else:
        await query.answer(_("This button is no longer valid."))


async def start_new(update: Update, context: BotContext) -> int:
    """``al:new``: a new alert from the first step."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    if not await _onboarded(update, context):
        return END
    assert context.member is not None
    if len(await context.storage.alerts_of(context.member.id)) >= MAX_ALERTS:
        await reply(
            update,
            context.i18n.ngettext(
                "You have {count} alert, as many as one may have. Delete one to add another.",
                "You have {count} alerts, as many as one may have. Delete one to add another.",
                MAX_ALERTS,
            ).format(count=context.i18n.number(MAX_ALERTS)),
        )
        return END
    answers(context, DIALOG).clear()
    return await go_to(update, context, CHOOSING_KIND)


async def start_edit(update: Update, context: BotContext) -> int:
    """``al:ed:<id>``: the dialog again, with the alert's answers ticked."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    alert_id = id_of(query.data, "al:ed:")
    if alert_id is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return END
    alert = await context.storage.own_alert(alert_id, update.effective_user.id)
    if alert is None:
        await query.answer(context.i18n.gettext("This alert no longer exists."), show_alert=True)
        return END
    await query.answer()
    given = answers(context, DIALOG)
    given.clear()
    given.update(
        editing=alert.id,
        kind=alert.kind,
        categories=list(alert.categories),
        tags=list(alert.tags),
        area=alert.area if alert.area in areas(context) else None,
        latitude=alert.latitude,
        longitude=alert.longitude,
        radius_km=round(alert.radius_km) if alert.radius_km else None,
        keywords=alert.keywords,
        frequency=alert.frequency,
    )
    return await go_to(update, context, CHOOSING_KIND)


async def show_current_step(update: Update, context: BotContext) -> int | None:
    """``/alerts`` in the middle of the dialog: show where the user is."""
    if current_step(context, DIALOG) is None:
        await alerts_command(update, context)
        return END
    await resume(update, context)
    return None


async def kind_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    kind = query.data.removeprefix("an:kind:")
    if kind not in KIND_CHOICES:
        await _refuse(update, context, stale=False)
        return CHOOSING_KIND
    answers(context, DIALOG)["kind"] = None if kind == "any" else kind
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_CATEGORIES)


async def _toggle(update: Update, context: BotContext, key: str, value: str, step: int) -> int:
    query = update.callback_query
    assert query is not None
    given = answers(context, DIALOG)
    chosen = given.setdefault(key, [])
    if value in chosen:
        chosen.remove(value)
    else:
        chosen.append(value)
    await checkpoint(update, context, DIALOG, step)
    keyboard = categories_keyboard if step == CHOOSING_CATEGORIES else tags_keyboard
    await query.edit_message_reply_markup(keyboard(context.i18n, given))
    await query.answer()
    return step


async def category_toggled(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    key = query.data.removeprefix("an:cat:")
    if taxonomy.category(key) is None:
        await _refuse(update, context, stale=False)
        return CHOOSING_CATEGORIES
    return await _toggle(update, context, "categories", key, CHOOSING_CATEGORIES)


async def categories_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    given = answers(context, DIALOG)
    given.setdefault("categories", [])
    given["tags"] = [tag for tag in given.get("tags", []) if tag in offered_tags(given)]
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_TAGS if offered_tags(given) else CHOOSING_AREA)


async def tag_toggled(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    tag = query.data.removeprefix("an:tag:")
    if tag not in offered_tags(answers(context, DIALOG)):
        await _refuse(update, context, stale=False)
        return CHOOSING_TAGS
    return await _toggle(update, context, "tags", tag, CHOOSING_TAGS)


async def tags_done(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_AREA)


async def area_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    area = query.data.removeprefix("an:area:")
    if area not in AREA_CHOICES or area not in areas(context):
        await _refuse(update, context, stale=False)
        return CHOOSING_AREA
    answers(context, DIALOG)["area"] = area
    await close_buttons(query, context)
    return await go_to(update, context, SHARING_LOCATION if area == "radius" else TYPING_KEYWORDS)


async def location_shared(update: Update, context: BotContext) -> int:
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    answers(context, DIALOG).update(latitude=point.latitude, longitude=point.longitude)
    return await go_to(update, context, CHOOSING_RADIUS)


async def profile_location_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None
    member = context.member
    if member is None or member.latitude is None or member.longitude is None:
        await _refuse(update, context, stale=False)
        return SHARING_LOCATION
    answers(context, DIALOG).update(latitude=member.latitude, longitude=member.longitude)
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_RADIUS)


async def radius_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    assert query is not None and query.data is not None
    radius = parse_number(query.data.removeprefix("an:rad:"))
    if radius not in RADII:
        await _refuse(update, context, stale=False)
        return CHOOSING_RADIUS
    answers(context, DIALOG)["radius_km"] = radius
    await close_buttons(query, context)
    return await go_to(update, context, TYPING_KEYWORDS)


async def keywords_typed(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    words = clean_line(update.message.text)
    if len(words) > KEYWORDS_MAX or not (has_letter(words) or any(c.isdigit() for c in words)):
        await reply(
            update,
            _("Please type a few words ({maximum} characters at most), or skip.").format(
                maximum=KEYWORDS_MAX
            ),
        )
        return TYPING_KEYWORDS
    answers(context, DIALOG)["keywords"] = words
    return await go_to(update, context, CHOOSING_FREQUENCY)


async def keywords_decided(update: Update, context: BotContext) -> int:
    """``an:kw:skip`` (no words) or ``an:kw:keep`` (the words saved before)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    given = answers(context, DIALOG)
    if query.data == "an:kw:skip":
        given["keywords"] = ""
    elif not given.get("keywords"):
        await _refuse(update, context)
        return TYPING_KEYWORDS
    await close_buttons(query, context)
    return await go_to(update, context, CHOOSING_FREQUENCY)


async def frequency_chosen(update: Update, context: BotContext) -> int:
    """The last answer: save the alert and show the list."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    frequency = query.data.removeprefix("an:freq:")
    given = answers(context, DIALOG)
    if frequency not in FREQUENCY_CHOICES:
        await _refuse(update, context, stale=False)
        return CHOOSING_FREQUENCY
    if "area" not in given or given["area"] is None:  # answers lost: ask again
        await close_buttons(query, context)
        return await go_to(update, context, CHOOSING_AREA)
    given["frequency"] = frequency
    await close_buttons(query, context)
    user = update.effective_user.id
    saved = await context.storage.save_alert(
        user, draft(context), now=context.now(), alert_id=given.get("editing")
    )
    await finish(update, context, DIALOG)
    if saved is None:
        await reply(update, _("This alert could not be saved: it was deleted meanwhile."))
    else:
        await reply(
            update,
            _("✅ Alert saved: {alert}").format(alert=alert_summary(context.i18n, saved)),
        )
    alerts = await context.storage.alerts_of(user)
    await reply(
        update, list_text(context.i18n, alerts), reply_markup=list_keyboard(context.i18n, alerts)
    )
    return END


async def back(update: Update, context: BotContext) -> int | None:
    """``an:back:<step>``: the previous step, if the button is the current step's."""
    query = update.callback_query
    assert query is not None and query.data is not None
    step = current_step(context, DIALOG)
    if query.data != f"an:back:{step}" or step not in PREVIOUS:
        await _refuse(update, context)
        return None
    given = answers(context, DIALOG)
    previous = PREVIOUS[step]
    if step == TYPING_KEYWORDS and given.get("area") == "radius":
        previous = CHOOSING_RADIUS
    elif step == CHOOSING_AREA and offered_tags(given):
        previous = CHOOSING_TAGS
    await close_buttons(query, context)
    return await go_to(update, context, previous)


async def cancel(update: Update, context: BotContext) -> int:
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await close_buttons(update.callback_query, context)
    editing = answers(context, DIALOG).get("editing")
    await finish(update, context, DIALOG)
    text = _("Cancelled: the alert is unchanged.") if editing else _("Cancelled: no alert saved.")
    await reply(update, text, reply_markup=ReplyKeyboardRemove())
    return END


async def use_the_buttons(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    step = current_step(context, DIALOG)
    if step == SHARING_LOCATION:
        await reply(update, _("Please share a location with the button below the text field."))
    else:
        await reply(update, _("Please use the buttons above, or send /cancel to stop."))


def build() -> ConversationHandler:  # type: ignore[type-arg]
    message = f.UpdateType.MESSAGE
    return ConversationHandler(
        name=DIALOG,
        persistent=True,
        entry_points=[
            CallbackQueryHandler(start_new, pattern=r"^al:new$"),
            CallbackQueryHandler(start_edit, pattern=r"^al:ed:"),
        ],
        states={
            CHOOSING_KIND: [CallbackQueryHandler(kind_chosen, pattern=r"^an:kind:")],
            CHOOSING_CATEGORIES: [
                CallbackQueryHandler(category_toggled, pattern=r"^an:cat:"),
                CallbackQueryHandler(categories_done, pattern=r"^an:cats:done$"),
            ],
            CHOOSING_TAGS: [
                CallbackQueryHandler(tag_toggled, pattern=r"^an:tag:"),
                CallbackQueryHandler(tags_done, pattern=r"^an:tags:done$"),
            ],
            CHOOSING_AREA: [CallbackQueryHandler(area_chosen, pattern=r"^an:area:")],
            SHARING_LOCATION: [
                MessageHandler(message & f.LOCATION, location_shared),
                CallbackQueryHandler(profile_location_chosen, pattern=r"^an:loc:profile$"),
            ],
            CHOOSING_RADIUS: [CallbackQueryHandler(radius_chosen, pattern=r"^an:rad:")],
            TYPING_KEYWORDS: [
                MessageHandler(message & f.TEXT & ~f.COMMAND, keywords_typed),
                CallbackQueryHandler(keywords_decided, pattern=r"^an:kw:(skip|keep)$"),
            ],
            CHOOSING_FREQUENCY: [CallbackQueryHandler(frequency_chosen, pattern=r"^an:freq:")],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^an:cancel$"),
            CallbackQueryHandler(back, pattern=r"^an:back:"),
            CommandHandler("alerts", show_current_step),
            CallbackQueryHandler(start_new, pattern=r"^al:new$"),
            CallbackQueryHandler(start_edit, pattern=r"^al:ed:"),
            # Any other button of this dialog is from an earlier step (or forged).
            CallbackQueryHandler(_refuse, pattern=r"^an:"),
            MessageHandler(message & ~f.COMMAND, use_the_buttons),
        ],
    )
