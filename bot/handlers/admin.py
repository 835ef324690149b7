"""The admins' home: ``/admin`` (what waits for them, a button per queue), the admin log, and
making or unmaking admins; and who is an admin: the Telegram ids in ``ADMIN_IDS``, and members
made admin in storage.

Every admin command and button calls :func:`is_admin` on the person pressing it: admin
buttons can be forwarded, replayed or forged like any other callback data. The queues are
their features': reported listings are moderation's, verification requests verification's.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.buttons import (
    ADMIN_LOG,
    ID,
    REPORT_QUEUE,
    VERIFICATION_QUEUE,
    VERIFIED_MUNICIPALITIES,
    parse,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.i18n import N_
from bot.storage import Member
from bot.storage.moderation import AdminAction
from bot.views.admin_log import log_text, person, when

T = TypeVar("T")

# What to answer when another admin acted first (or a press is replayed).
ALREADY = N_("{admin} already did this on {when}. Nothing changed.")


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("admin", admin_command),
            ADMIN_LOG.handler(admin_log),
            CommandHandler("makeadmin", make_admin),
            CommandHandler("unadmin", unmake_admin),
        ]
    )


async def is_admin(context: BotContext, user_id: int) -> bool:
    """ADMIN_IDS, or a member made admin (``/makeadmin``) and not banned since."""
    if user_id in context.settings.admin_ids:
        return True
    member = context.member if context.member and context.member.id == user_id else None
    if member is None:
        member = await context.storage.get_member(user_id)
    return admin_member(context, user_id, member)


def admin_member(context: BotContext, user_id: int, member: Member | None) -> bool:
    """:func:`is_admin`, the member already read (None: never seen, or erased)."""
    if user_id in context.settings.admin_ids:
        return True
    return bool(member and member.is_admin and not member.banned)


def is_root_admin(context: BotContext, user_id: int) -> bool:
    """Only the admins of ADMIN_IDS may make or unmake other admins."""
    return user_id in context.settings.admin_ids


async def admin_recipients(context: BotContext) -> list[int]:
    """Everyone to tell about something for the admins: ADMIN_IDS and members made admin."""
    made = await context.storage.stored_admin_ids()
    return sorted(set(context.settings.admin_ids) | set(made))


def member_argument(context: BotContext) -> int | None:
    """The member id a command was given (``/unban 123``), if it was given one."""
    args = context.args or []
    return parse(args[0], ID) if len(args) == 1 else None


async def refuse_unless_admin(update: Update, context: BotContext) -> bool:
    """True if the person is an admin; otherwise tell them (in their language) and say False."""
    user = update.effective_user
    if user is not None and await is_admin(context, user.id):
        return True
    _ = context.i18n.gettext
    refusal = _("This is for administrators only.")
    if update.callback_query is not None:
        await update.callback_query.answer(refusal, show_alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(refusal)
    return False


async def admin_pressed(update: Update, context: BotContext) -> bool:
    """A button of the admin menu: True, the press answered, if the presser is an admin;
    otherwise refused (see :func:`refuse_unless_admin`) and False."""
    if not await refuse_unless_admin(update, context):
        return False
    assert update.callback_query is not None
    await update.callback_query.answer()
    return True


async def read_for_admin(
    update: Update, context: BotContext, read: Callable[[], Awaitable[list[T]]], empty: str
) -> list[T]:
    """A button of the admin menu that lists something (a queue, the log): what ``read``
    finds, if the presser is an admin (else refused, and nothing read); ``empty`` is said
    when it finds nothing."""
    if not await admin_pressed(update, context):
        return []
    found = await read()
    if not found:
        await reply(update, empty)
    return found


# --- /admin and the admin log ---------------------------------------------------------


async def admin_command(update: Update, context: BotContext) -> None:
    """``/admin``: what waits for the admins, with a button per queue."""
    _ = context.i18n.gettext
    if not await refuse_unless_admin(update, context):
        return
    counts = await context.storage.moderation_counts()
    buttons = [
        [
            InlineKeyboardButton(
                _("🪪 Verifications ({count})").format(count=counts["verifications"]),
                callback_data=VERIFICATION_QUEUE.data(None),
            )
        ],
        [
            InlineKeyboardButton(
                _("🚩 Reports ({count})").format(count=counts["reports"]),
                callback_data=REPORT_QUEUE.data(None),
            )
        ],
        [
            InlineKeyboardButton(
                _("✅ Verified people"), callback_data=VERIFIED_MUNICIPALITIES.data(None)
            )
        ],
        [InlineKeyboardButton(_("📜 Admin log"), callback_data=ADMIN_LOG.data(None))],
    ]
    text = _("<b>Moderation</b>\nMembers under review: {review}").format(review=counts["review"])
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


async def admin_log(update: Update, context: BotContext, _none: None) -> None:
    """The latest admin actions: who, what, why and when, in the reader's language and time
    zone."""
    _ = context.i18n.gettext
    actions = await read_for_admin(
        update,
        context,
        lambda: context.storage.admin_log(limit=30),
        _("Nothing in the admin log yet."),
    )
    if not actions:
        return
    title = _("<b>Admin log</b> (newest first)")
    await reply(update, log_text(context.i18n, title, actions, await reader_zone(context)))


async def reader_zone(context: BotContext) -> str:
    """The time zone the person reading chose in /settings (else their country's)."""
    assert context.member is not None  # every update's person is known (members.identify)
    return (await context.storage.preferences(context.member.id)).timezone


async def already_done(context: BotContext, entry: AdminAction | None, otherwise: str) -> str:
    """Who did it first, and when (in the reader's time zone); ``otherwise`` if the log
    does not say (done before the log named it)."""
    if entry is None:
        return otherwise
    t = context.i18n
    return t.gettext(ALREADY).format(
        admin=person(t, entry.admin_id, entry.admin_name, entry.admin_country),
        when=when(t, entry.at, await reader_zone(context)),
    )


# --- making admins -----------------------------------------------------------------------


async def set_admin(update: Update, context: BotContext, flag: bool) -> None:
    _ = context.i18n.gettext
    user = update.effective_user
    assert user is not None
    if not is_root_admin(context, user.id):
        await reply(update, _("Only the administrators named in ADMIN_IDS can do this."))
        return
    user_id = member_argument(context)
    if user_id is None:
        await reply(update, html.escape(_("Usage: /makeadmin <member id> or /unadmin <member id>")))
        return
    changed = await context.storage.set_admin(user_id, flag, by=user.id, now=context.now())
    if not changed:
        await reply(update, _("Nothing changed (unknown member, or already so)."))
    elif flag:
        await reply(update, _("Member {id} is now an admin.").format(id=user_id))
    else:
        await reply(update, _("Member {id} is no longer an admin.").format(id=user_id))


async def make_admin(update: Update, context: BotContext) -> None:
    """``/makeadmin <id>``."""
    await set_admin(update, context, True)


async def unmake_admin(update: Update, context: BotContext) -> None:
    """``/unadmin <id>``."""
    await set_admin(update, context, False)
