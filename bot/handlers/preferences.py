"""``/settings``: how and when the bot tells a person about matches: right away or in a daily
or weekly digest, quiet hours at night, and their timezone (taken from their country until
they choose one). One message, edited as buttons are pressed.
"""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.buttons import SETTINGS, SHOW_SETTINGS, OneOf
from bot.context import BotContext, CommunityApplication, reply
from bot.delivery.timing import DIGEST_HOUR, Preferences, next_digest
from bot.i18n import N_, Translator
from bot.places.timezones import ZONES, local
from bot.storage import fold
from bot.views import texts as views

FREQUENCY_LABELS = {
    "instant": N_("⚡ Right away"),
    "daily": N_("📅 Daily"),
    "weekly": N_("🗓 Weekly"),
}
FREQUENCY_TEXTS = {
    "instant": N_("right away (one message per match)"),
    "daily": N_("in a daily digest, at about {time}"),
    "weekly": N_("in a weekly digest, on Mondays at about {time}"),
}
QUIET_CHOICES: dict[str, tuple[int | None, int | None]] = {
    "22-8": (22, 8),
    "21-7": (21, 7),
    "23-9": (23, 9),
    "off": (None, None),
}


FREQUENCY = SETTINGS.button("f", OneOf(FREQUENCY_LABELS))
QUIET_HOURS = SETTINGS.button("q", OneOf(QUIET_CHOICES))
SHOW_ZONES = SETTINGS.button("tzs")
ZONE = SETTINGS.button("tz", OneOf(ZONES))
BACK = SETTINGS.button("back")


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("settings", settings_command),
            SHOW_SETTINGS.handler(settings_command),
            SHOW_ZONES.handler(show_zones),
            BACK.handler(back),
            FREQUENCY.handler(frequency_chosen),
            QUIET_HOURS.handler(quiet_hours_chosen),
            ZONE.handler(zone_chosen),
        ]
    )


def _clock(t: Translator, prefs: Preferences, now: int) -> str:
    return t.time(local(now, prefs.timezone))


def zones_by_city(t: Translator) -> list[str]:
    """The zones a person may choose, ordered by their city's name in the reader's language."""
    return sorted(ZONES, key=lambda zone: fold(t.zone_city(zone)))


def settings_text(t: Translator, prefs: Preferences, now: int) -> str:
    _ = t.gettext
    lines = [
        _("⚙️ <b>Notification settings</b>"),
        "",
        _("New matches: {how}.").format(
            how=_(FREQUENCY_TEXTS[prefs.frequency]).format(time=t.time(time(DIGEST_HOUR)))
        ),
    ]
    if prefs.quiet_start is None or prefs.quiet_end is None:
        lines.append(_("Quiet hours: none."))
    else:
        lines.append(
            _("Quiet hours: {hours} (what comes then waits until they end).").format(
                hours=t.hours(time(prefs.quiet_start), time(prefs.quiet_end))
            )
        )
    lines.append(
        _("Your timezone: {zone} (it is {time} there now).").format(
            zone=t.zone_city(prefs.timezone), time=_clock(t, prefs, now)
        )
    )
    lines += ["", _("Each alert has its own frequency: see /alerts.")]
    return "\n".join(lines)


def settings_keyboard(t: Translator, prefs: Preferences) -> InlineKeyboardMarkup:
    _ = t.gettext
    frequencies = [
        InlineKeyboardButton(
            views.tick(_(label), key == prefs.frequency), callback_data=FREQUENCY.data(key)
        )
        for key, label in FREQUENCY_LABELS.items()
    ]
    quiet = []
    for key, (start, end) in QUIET_CHOICES.items():
        if start is None or end is None:
            label = _("No quiet hours")
        else:
            label = "🌙 " + t.hours(time(start), time(end), minutes=False)
        chosen = (start, end) == (prefs.quiet_start, prefs.quiet_end)
        quiet.append(
            InlineKeyboardButton(views.tick(label, chosen), callback_data=QUIET_HOURS.data(key))
        )
    zone = InlineKeyboardButton(
        _("🕒 Timezone: {zone}").format(zone=t.zone_city(prefs.timezone)),
        callback_data=SHOW_ZONES.data(None),
    )
    return InlineKeyboardMarkup([frequencies, quiet[:3], quiet[3:], [zone]])


def zones_keyboard(t: Translator, prefs: Preferences, now: int) -> InlineKeyboardMarkup:
    _ = t.gettext
    buttons = [
        InlineKeyboardButton(
            views.tick(
                f"{t.zone_city(zone)} {_clock(t, dataclasses.replace(prefs, timezone=zone), now)}",
                zone == prefs.timezone,
            ),
            callback_data=ZONE.data(zone),
        )
        for zone in zones_by_city(t)
    ]
    back = [InlineKeyboardButton(_("⬅ Back"), callback_data=BACK.data(None))]
    return InlineKeyboardMarkup([*views.rows(buttons, 3), back])


async def settings_command(update: Update, context: BotContext, _none: None = None) -> None:
    """``/settings`` (or the menu's button)."""
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
    member = context.member
    if member is None or not member.onboarded:
        await reply(update, _("Please set up your profile first: send /start."))
        return
    prefs = await context.storage.preferences(member.id)
    await reply(
        update,
        settings_text(context.i18n, prefs, context.now()),
        reply_markup=settings_keyboard(context.i18n, prefs),
    )


async def show_zones(update: Update, context: BotContext, _none: None) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    prefs = await context.storage.preferences(update.effective_user.id)
    await query.answer()
    await query.edit_message_text(
        context.i18n.gettext("Choose your timezone (the time there now is shown):"),
        reply_markup=zones_keyboard(context.i18n, prefs, context.now()),
    )


async def back(update: Update, context: BotContext, _none: None) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    prefs = await context.storage.preferences(update.effective_user.id)
    await query.answer()
    await query.edit_message_text(
        settings_text(context.i18n, prefs, context.now()),
        reply_markup=settings_keyboard(context.i18n, prefs),
    )


async def frequency_chosen(update: Update, context: BotContext, frequency: str) -> None:
    await _change(update, context, frequency=frequency)


async def quiet_hours_chosen(update: Update, context: BotContext, hours: str) -> None:
    start, end = QUIET_CHOICES[hours]
    await _change(update, context, quiet_start=start, quiet_end=end)


async def zone_chosen(update: Update, context: BotContext, zone: str) -> None:
    await _change(update, context, timezone=zone, timezone_chosen=True)


async def _change(update: Update, context: BotContext, **changes: Any) -> None:
    """Save the preferences a button asks for, and show them in the same message."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user, now, t = update.effective_user.id, context.now(), context.i18n
    prefs = await context.storage.preferences(user)
    wanted = dataclasses.replace(prefs, **changes)
    if wanted == prefs:
        await query.answer(_("That is already your choice."))
        return
    await context.storage.save_preferences(user, wanted, now)
    # What waits for a digest now waits for the new one (or goes now, for "right away").
    due = next_digest(now, wanted)
    await context.storage.reschedule_digests(user, due, wanted.frequency)
    # What quiet hours held is due at once: the outbox sends it now, or holds it again until
    # the new quiet hours end (in the new timezone).
    released = await context.storage.release_held(user, now)
    if due <= now or released:
        context.community.outbox.wake()
    await query.answer(_("Saved."))
    await query.edit_message_text(
        settings_text(t, wanted, now), reply_markup=settings_keyboard(t, wanted)
    )
