"""``/settings``: how and when the bot tells a person about matches: right away or in a daily
or weekly digest, quiet hours at night, and their timezone (taken from their country until
they choose one). One message, edited as buttons are pressed (``set:<what>[:<value>]``).
"""

from __future__ import annotations

import dataclasses
from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import views
from bot.context import BotContext
from bot.handlers.common import reply
from bot.i18n import N_, Translator
from bot.localtime import DIGEST_HOUR, ZONES, Preferences, local, next_digest
from bot.storage import fold

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


def _tick(label: str, chosen: bool) -> str:
    return f"✓ {label}" if chosen else label


def settings_keyboard(t: Translator, prefs: Preferences) -> InlineKeyboardMarkup:
    _ = t.gettext
    frequencies = [
        InlineKeyboardButton(_tick(_(label), key == prefs.frequency), callback_data=f"set:f:{key}")
        for key, label in FREQUENCY_LABELS.items()
    ]
    quiet = []
    for key, (start, end) in QUIET_CHOICES.items():
        if start is None or end is None:
            label = _("No quiet hours")
        else:
            label = "🌙 " + t.hours(time(start), time(end), minutes=False)
        chosen = (start, end) == (prefs.quiet_start, prefs.quiet_end)
        quiet.append(InlineKeyboardButton(_tick(label, chosen), callback_data=f"set:q:{key}"))
    zone = InlineKeyboardButton(
        _("🕒 Timezone: {zone}").format(zone=t.zone_city(prefs.timezone)),
        callback_data="set:tzs",
    )
    return InlineKeyboardMarkup([frequencies, quiet[:3], quiet[3:], [zone]])


def zones_keyboard(t: Translator, prefs: Preferences, now: int) -> InlineKeyboardMarkup:
    _ = t.gettext
    buttons = [
        InlineKeyboardButton(
            _tick(
                f"{t.zone_city(zone)} {_clock(t, dataclasses.replace(prefs, timezone=zone), now)}",
                zone == prefs.timezone,
            ),
            callback_data=f"set:tz:{zone}",
        )
        for zone in zones_by_city(t)
    ]
    back = [InlineKeyboardButton(_("⬅ Back"), callback_data="set:back")]
    return InlineKeyboardMarkup([*views.rows(buttons, 3), back])


async def settings_command(update: Update, context: BotContext) -> None:
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


def _changed(prefs: Preferences, what: str, value: str) -> Preferences | None:
    """The preferences a button asks for; None if the button is not a valid one."""
    if what == "f" and value in FREQUENCY_LABELS:
        return dataclasses.replace(prefs, frequency=value)
    if what == "q" and value in QUIET_CHOICES:
        start, end = QUIET_CHOICES[value]
        return dataclasses.replace(prefs, quiet_start=start, quiet_end=end)
    if what == "tz" and value in ZONES:
        return dataclasses.replace(prefs, timezone=value, timezone_chosen=True)
    return None


async def settings_button(update: Update, context: BotContext) -> None:
    """``set:f:<frequency>``, ``set:q:<hours>``, ``set:tz:<zone>``, ``set:tzs``, ``set:back``."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    user, now, t = update.effective_user.id, context.now(), context.i18n
    prefs = await context.storage.preferences(user)
    _prefix, what, value = [*query.data.split(":", 2), "", ""][:3]
    if what == "tzs":
        await query.answer()
        await query.edit_message_text(
            _("Choose your timezone (the time there now is shown):"),
            reply_markup=zones_keyboard(t, prefs, now),
        )
        return
    if what == "back":
        await query.answer()
        await query.edit_message_text(
            settings_text(t, prefs, now), reply_markup=settings_keyboard(t, prefs)
        )
        return
    wanted = _changed(prefs, what, value)
    if wanted is None:
        await query.answer(_("This button is no longer valid."))
        return
    if wanted == prefs:
        await query.answer(_("That is already your choice."))
        return
    await context.storage.save_preferences(user, wanted, now)
    # What waits for a digest now waits for the new one (or goes now, for "right away").
    due = next_digest(now, wanted)
    await context.storage.reschedule_digests(user, due)
    if due <= now:
        context.application.outbox.wake()  # type: ignore[attr-defined]
    await query.answer(_("Saved."))
    await query.edit_message_text(
        settings_text(t, wanted, now), reply_markup=settings_keyboard(t, wanted)
    )
