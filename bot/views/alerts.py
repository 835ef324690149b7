"""How alerts read: one alert in a line, the list with its buttons. User text escaped."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import ALERTS, ID, OPEN_LISTING
from bot.i18n import N_, Translator
from bot.matching.fitting import COUNT_CAP, Fitting
from bot.storage import Alert
from bot.storage.alerts import MAX_ALERTS
from bot.views import cards
from bot.views.texts import rows

AREA_LABELS = {
    "region": N_("in my region"),
    "country": N_("in my country"),
    "europe": N_("anywhere in Europe"),
}
ALERT_KINDS = {
    "offer": N_("🟢 Offers"),
    "request": N_("🔴 Requests"),
    None: N_("🟢🔴 Offers and requests"),
}
FREQUENCY_NAMES = {"instant": N_("right away"), "daily": N_("daily"), "weekly": N_("weekly")}

# The list's buttons: act on one alert (its id), or go back to the list.
PAUSE = ALERTS.button("pa", ID)
RESUME = ALERTS.button("re", ID)
EDIT = ALERTS.button("ed", ID)
DELETE = ALERTS.button("de", ID)
DELETE_CONFIRMED = ALERTS.button("dy", ID)
BACK_TO_LIST = ALERTS.button("ls")
NEW = ALERTS.button("new")


def alert_summary(t: Translator, alert: Alert) -> str:
    """'🔴 Requests · 🚒 Equipment and machinery · in my country · “pump”' (escaped)."""
    _ = t.gettext
    parts = [_(ALERT_KINDS[alert.kind])]
    if alert.categories:
        parts.append(", ".join(cards.category_label(t, key) for key in alert.categories))
    if alert.tags:
        parts.append("🏷 " + cards.tag_labels(t, alert.tags))
    if alert.area == "radius" and alert.radius_km:
        parts.append(_("within {radius}").format(radius=t.kilometres(alert.radius_km)))
    elif alert.area in AREA_LABELS:
        parts.append(_(AREA_LABELS[alert.area]))
    if alert.keywords:
        parts.append(t.quote(html.escape(alert.keywords)))
    return " · ".join(parts)


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
                _("{number}. ▶️ Resume").format(number=number), callback_data=RESUME.data(alert.id)
            )
        else:
            toggle = InlineKeyboardButton(
                _("{number}. ⏸ Pause").format(number=number), callback_data=PAUSE.data(alert.id)
            )
        rows.append(
            [
                toggle,
                InlineKeyboardButton(_("✏️ Edit"), callback_data=EDIT.data(alert.id)),
                InlineKeyboardButton(_("🗑 Delete"), callback_data=DELETE.data(alert.id)),
            ]
        )
    if len(alerts) < MAX_ALERTS:
        rows.append([InlineKeyboardButton(_("➕ New alert"), callback_data=NEW.data(None))])
    return InlineKeyboardMarkup(rows)


def delete_keyboard(t: Translator, alert: Alert) -> InlineKeyboardMarkup:
    _ = t.gettext
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("🗑 Yes, delete it"), callback_data=DELETE_CONFIRMED.data(alert.id)
                ),
                InlineKeyboardButton(_("⬅ Keep it"), callback_data=BACK_TO_LIST.data(None)),
            ]
        ]
    )


def saved_text(t: Translator, alert: Alert, fitting: Fitting, now: int) -> str:
    """The alert just saved, and what already fits it: a count and the best few, each with
    its place, distance and age; then that only new listings will follow."""
    _ = t.gettext
    lines = [_("✅ Alert saved: {alert}").format(alert=alert_summary(t, alert)), ""]
    if not fitting.count:
        if alert.paused:  # edited while paused: it stays paused, and tells nothing new
            lines.append(
                _(
                    "No open listing fits it yet. This alert is paused: send /alerts to resume "
                    "it and be told when a new one does."
                )
            )
        else:
            lines.append(_("No open listing fits it yet. I will tell you when a new one does."))
        return "\n".join(lines)
    if fitting.more_than_cap:
        lines.append(
            t.ngettext(
                "📋 More than {count} open listing already fits it.",
                "📋 More than {count} open listings already fit it.",
                COUNT_CAP,
            ).format(count=t.number(COUNT_CAP))
        )
    else:
        lines.append(
            t.ngettext(
                "📋 {count} open listing already fits it.",
                "📋 {count} open listings already fit it.",
                fitting.count,
            ).format(count=t.number(fitting.count))
        )
    if fitting.count > len(fitting.best):
        shown = len(fitting.best)
        lines.append(
            t.ngettext("The best {count}:", "The best {count}:", shown).format(
                count=t.number(shown)
            )
        )
    lines.append("")
    lines += [
        cards.result_line(t, listing, number, now)
        for number, listing in enumerate(fitting.best, start=1)
    ]
    if alert.paused:
        last = _(
            "Tap a number to open it. This alert is paused: send /alerts to resume it and be "
            "told about new ones."
        )
    else:
        last = _("Tap a number to open it. From now on I will tell you only about new ones.")
    lines += ["", last]
    return "\n".join(lines)


def saved_keyboard(fitting: Fitting) -> InlineKeyboardMarkup | None:
    """A button to open each listing shown."""
    if not fitting.best:
        return None
    buttons = [
        InlineKeyboardButton(str(number), callback_data=OPEN_LISTING.data(listing.id))
        for number, listing in enumerate(fitting.best, start=1)
    ]
    return InlineKeyboardMarkup(rows(buttons, 5))
