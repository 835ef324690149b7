"""The person's own data: ``/mydata`` sends everything stored about them as a JSON file;
``/deleteme`` asks for confirmation (a button valid a few minutes), then erases it.

Both work for banned members too (see :mod:`bot.handlers.members`). Erasing deletes the
person's rows, PTB's included (user and chat data, conversation states), and drops PTB's copies
in memory of their user and chat data, so that the flush after this very update does not write
them back. A dialog they were in ends at their next update: its answers are gone
(:mod:`bot.dialogs.dialog`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CommandHandler

from bot.buttons import PRIVACY, Number, close_message
from bot.context import BotContext, CommunityApplication, reply
from bot.places.timezones import local
from bot.views.command_menu import forget_chat_menu

CONFIRM_WITHIN = 15 * 60  # seconds a /deleteme confirmation button stays valid
# Neither names a message: copied elsewhere, "erase" would erase without the warning having
# been read, and either would rewrite that message.
ERASE = PRIVACY.button("del", Number(0), own_message=True)  # carries when it was asked (Unix s)
KEEP = PRIVACY.button("keep", own_message=True)


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("mydata", my_data),
            CommandHandler("deleteme", delete_me),
            ERASE.handler(confirmed),
            KEEP.handler(kept),
        ]
    )


def is_date_field(name: str) -> bool:
    """The columns that hold a moment: ``at``, ``*_at`` and ``not_before`` (Unix seconds, or
    ISO text for a few written by SQLite itself)."""
    return name == "at" or name.endswith("_at") or name == "not_before"


def iso_dates(value: Any, zone: str, name: str = "") -> Any:
    """``value`` with every moment in it as ISO 8601 in ``zone``, with its offset from UTC
    ('2030-05-01T09:30:00+02:00'), whether it was stored as Unix seconds or as ISO text."""
    if isinstance(value, dict):
        return {key: iso_dates(item, zone, key) for key, item in value.items()}
    if isinstance(value, list):
        return [iso_dates(item, zone, name) for item in value]
    if not is_date_field(name):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return local(value, zone).isoformat(timespec="seconds")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return local(int(moment.timestamp()), zone).isoformat(timespec="seconds")
    return value


async def my_data(update: Update, context: BotContext) -> None:
    """``/mydata``: a JSON file of the profile, listings, contacts, alerts, notifications...,
    every date in it in one format (ISO 8601 in the person's time zone, with the offset)."""
    _ = context.i18n.gettext
    assert update.effective_user is not None and update.effective_chat is not None
    user = update.effective_user.id
    data = await context.storage.export_member(user)
    zone = (await context.storage.preferences(user)).timezone
    now = context.now()
    exported = {
        "about": {
            "dates": _(
                "Every date and time in this file is written in ISO 8601, in your time zone "
                "({zone}) with its offset from UTC: {example}."
            ).format(
                zone=context.i18n.zone_city(zone),
                example=local(now, zone).isoformat(timespec="seconds"),
            ),
            "time_zone": zone,
        },
        "exported_at": now,
        "telegram_id": user,
        **data,
    }
    exported = iso_dates(exported, zone)
    content = json.dumps(exported, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await update.effective_chat.send_document(
        InputFile(content, filename="community-sharing-my-data.json"),
        caption=_("Everything Community Sharing stores about you. /deleteme erases it."),
    )


async def delete_me(update: Update, context: BotContext) -> None:
    """``/deleteme``: say what erasing means, and ask to confirm."""
    _ = context.i18n.gettext
    buttons = [
        [
            InlineKeyboardButton(
                _("🗑 Yes, erase everything"), callback_data=ERASE.data(context.now())
            )
        ],
        [InlineKeyboardButton(_("Keep my data"), callback_data=KEEP.data(None))],
    ]
    await reply(
        update,
        _(
            "This erases your profile, your listings, your messages, alerts and everything else "
            "stored about you. People you were put in touch with keep what they already "
            "received; your contacts with them stay, without your name. This cannot be undone."
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def confirmed(update: Update, context: BotContext, asked: int) -> None:
    """Erase, if confirmed within a few minutes of asking."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    assert update.effective_user is not None and update.effective_chat is not None
    now = context.now()
    if not 0 <= now - asked <= CONFIRM_WITHIN:
        await query.answer(
            _("This button has expired. Send /deleteme again if you want to erase your data."),
            show_alert=True,
        )
        return
    user_id = update.effective_user.id
    close_message(update, context)  # a second tap already in flight is stale
    await context.storage.erase_member(user_id, now)
    context.member = None
    await query.answer()
    # The language they chose is forgotten with the rest: so is their chat's own menu.
    await forget_chat_menu(context.bot, update.effective_chat.id)
    await query.edit_message_text(
        _("Your data is erased. Goodbye! If you come back one day, /start sets you up afresh.")
    )
    # Last, with no await after it: PTB marks this update's user for the persistence flush
    # right after the handler returns, in the same step as this drop, so that no flush in
    # between (after another user's update) can write the user's data back.
    context.application.drop_user_data(user_id)
    context.application.drop_chat_data(update.effective_chat.id)


async def kept(update: Update, context: BotContext, _none: None) -> None:
    """Keep my data."""
    query = update.callback_query
    assert query is not None
    close_message(update, context)  # a second tap already in flight is stale
    await query.answer()
    await query.edit_message_text(context.i18n.gettext("Nothing was erased."))
