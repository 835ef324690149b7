"""``/settings``: how and when the bot tells a person about matches: right away or in a daily
or weekly digest, quiet hours at night, and their timezone (taken from their country until
they choose one); and which kinds of announcements they receive (each can be turned off, as
from the button under an announcement; urgent ones come all the same). One message, edited
as buttons are pressed.
"""

from __future__ import annotations

import dataclasses
from datetime import time
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.buttons import SETTINGS, SHOW_SETTINGS, OneOf
from bot.context import BotContext, CommunityApplication, reply
from bot.delivery.broadcasts import announcements_sender
from bot.delivery.timing import DIGEST_HOUR, Preferences, next_digest
from bot.handlers.members import onboarded_member
from bot.i18n import N_, Translator
from bot.places.timezones import ZONES, local
from bot.storage import fold
from bot.storage.broadcasts import ANNOUNCEMENT_KINDS
from bot.views import texts as views
from bot.views.announcements import kind_label
from bot.views.texts import FREQUENCY_LABELS

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
ANNOUNCEMENT_KIND = SETTINGS.button("ann", OneOf(ANNOUNCEMENT_KINDS))


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
            ANNOUNCEMENT_KIND.handler(announcement_kind_toggled),
        ]
    )


def _clock(t: Translator, prefs: Preferences, now: int) -> str:
    return t.time(local(now, prefs.timezone))


def zones_by_city(t: Translator) -> list[str]:
    """The zones a person may choose, ordered by their city's name in the reader's language."""
    return sorted(ZONES, key=lambda zone: fold(t.zone_city(zone)))


def announcements_text(t: Translator, sender: str, received: tuple[str, ...]) -> str:
    if not received:
        return t.gettext("Announcements from {sender}: urgent ones only.").format(
            sender=escape(sender)
        )
    return t.gettext("Announcements from {sender}: {kinds} (and urgent ones).").format(
        sender=escape(sender), kinds=", ".join(kind_label(t, kind) for kind in received)
    )


def settings_text(
    t: Translator, prefs: Preferences, now: int, sender: str, received: tuple[str, ...]
) -> str:
    """The settings as they are; ``received``: the kinds of announcements the person gets."""
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
    lines.append(announcements_text(t, sender, received))
    lines += ["", _("Each alert has its own frequency: see /alerts.")]
    return "\n".join(lines)


def settings_keyboard(
    t: Translator, prefs: Preferences, received: tuple[str, ...]
) -> InlineKeyboardMarkup:
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
    kinds = [
        InlineKeyboardButton(
            views.tick(kind_label(t, kind), kind in received),
            callback_data=ANNOUNCEMENT_KIND.data(kind),
        )
        for kind in ANNOUNCEMENT_KINDS
    ]
    return InlineKeyboardMarkup([frequencies, quiet[:3], quiet[3:], [zone], kinds])


async def settings_view(
    context: BotContext, user_id: int, prefs: Preferences
) -> tuple[str, InlineKeyboardMarkup]:
    """The settings message and its keyboard, for ``prefs`` and the stored announcements."""
    turned_off = await context.storage.announcement_opt_outs(user_id)
    received = tuple(kind for kind in ANNOUNCEMENT_KINDS if kind not in turned_off)
    sender = announcements_sender(context.community)
    t = context.i18n
    return (
        settings_text(t, prefs, context.now(), sender, received),
        settings_keyboard(t, prefs, received),
    )


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
    member = await onboarded_member(update, context)
    if member is None:
        return
    prefs = await context.storage.preferences(member.id)
    text, keyboard = await settings_view(context, member.id, prefs)
    await reply(update, text, reply_markup=keyboard)


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
    text, keyboard = await settings_view(context, update.effective_user.id, prefs)
    await query.edit_message_text(text, reply_markup=keyboard)


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
    user, now = update.effective_user.id, context.now()
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
    text, keyboard = await settings_view(context, user, wanted)
    await query.edit_message_text(text, reply_markup=keyboard)


async def announcement_kind_toggled(update: Update, context: BotContext, kind: str) -> None:
    """Turn a kind of announcement off (what of it waits is cancelled) or on again."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    user = update.effective_user.id
    turned_off = await context.storage.opt_out_of_announcements(user, kind, context.now())
    if not turned_off:
        await context.storage.opt_in_to_announcements(user, kind)
    await query.answer(context.i18n.gettext("Saved."))
    prefs = await context.storage.preferences(user)
    text, keyboard = await settings_view(context, user, prefs)
    await query.edit_message_text(text, reply_markup=keyboard)
