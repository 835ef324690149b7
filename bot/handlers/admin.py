"""Who is an admin: the Telegram ids in ``ADMIN_IDS``, and members made admin in storage.

Every admin command and button calls :func:`is_admin` on the person pressing it: admin
buttons can be forwarded, replayed or forged like any other callback data.
"""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext


async def is_admin(context: BotContext, user_id: int) -> bool:
    """ADMIN_IDS, or a member made admin (``/makeadmin``) and not banned since."""
    if user_id in context.settings.admin_ids:
        return True
    member = context.member if context.member and context.member.id == user_id else None
    if member is None:
        member = await context.storage.get_member(user_id)
    return bool(member and member.is_admin and not member.banned)


def is_root_admin(context: BotContext, user_id: int) -> bool:
    """Only the admins of ADMIN_IDS may make or unmake other admins."""
    return user_id in context.settings.admin_ids


async def admin_recipients(context: BotContext) -> list[int]:
    """Everyone to tell about something for the admins: ADMIN_IDS and members made admin."""
    made = await context.storage.stored_admin_ids()
    return sorted(set(context.settings.admin_ids) | set(made))


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
