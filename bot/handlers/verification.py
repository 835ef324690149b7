"""Verification: asking (the dialog, :mod:`bot.dialogs.verification`), the admins' queue of
requests with Approve and Reject, and a member leaving their municipality (asked to confirm
first).

Approve and Reject check that the presser is an admin and that the request is still pending
(storage), so a forged or replayed button decides nothing. The member is told the outcome
through the outbox, in their language.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import ID, LEAVE_MUNICIPALITY, VERIFICATION, VERIFICATION_QUEUE
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs import verification as dialog
from bot.handlers.admin import refuse_unless_admin
from bot.i18n import N_
from bot.storage import VerificationRefused, VerificationRequest
from bot.views.texts import place_line, short_time

APPROVED = N_(
    "✅ You are now verified as representing {municipality}. Your listings show the badge ✅."
)
REJECTED = N_(
    "Your request to be verified as representing {municipality} was not approved. If you "
    "think this is a mistake, ask again with /verify and an official email address."
)


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            dialog.conversation(),
            LEAVE_MUNICIPALITY.handler(dialog.ask_leave),
            dialog.LEAVE_CONFIRMED.handler(leave),
            APPROVE.handler(approve),
            REJECT.handler(reject),
            VERIFICATION_QUEUE.handler(queue),
        ]
    )
    application.dialogs.append(dialog.DIALOG)


APPROVE = VERIFICATION.button("ok", ID)
REJECT = VERIFICATION.button("no", ID)


def _card(context: BotContext, request: VerificationRequest) -> str:
    _ = context.i18n.gettext
    person = f'<a href="tg://user?id={request.user_id}">{html.escape(request.first_name)}</a>'
    if request.username:
        person += f" @{html.escape(request.username)}"
    lines = [
        _("🪪 <b>Verification request</b> #{id}").format(id=request.id),
        f"{person} ({request.user_id})",
        "🏛 " + place_line(context.i18n, request.municipality_name, request.region, request.country),
    ]
    if request.population:
        lines.append(
            _("Population: {population}").format(population=context.i18n.number(request.population))
        )
    if request.email:
        lines.append(f"📧 {html.escape(request.email)}")
    if request.note:
        lines.append(f"📝 {html.escape(request.note)}")
    lines.append(_("Asked {when}").format(when=short_time(context.i18n, request.created_at)))
    return "\n".join(lines)


async def queue(update: Update, context: BotContext, _none: None) -> None:
    """The admin menu's verifications: a card per pending request, oldest first."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return
    await query.answer()
    requests = await context.storage.verification_queue()
    if not requests:
        await reply(update, _("No verification requests are waiting."))
        return
    for request in requests:
        buttons = [
            [
                InlineKeyboardButton(_("✅ Approve"), callback_data=APPROVE.data(request.id)),
                InlineKeyboardButton(_("❌ Reject"), callback_data=REJECT.data(request.id)),
            ]
        ]
        await reply(update, _card(context, request), reply_markup=InlineKeyboardMarkup(buttons))


async def _decide(update: Update, context: BotContext, request_id: int, approve: bool) -> None:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if not await refuse_unless_admin(update, context):
        return
    try:
        request = await context.storage.decide_verification(
            request_id, update.effective_user.id, approve=approve, now=context.now()
        )
    except VerificationRefused as refused:
        texts = {
            "decided": _("This request was already decided."),
            "outdated": _("The member has left that municipality since: request withdrawn."),
            "gone": _("This request no longer exists."),
        }
        await query.answer(texts.get(refused.reason, texts["decided"]), show_alert=True)
        return
    await query.answer()
    outcome = _("✅ Approved.") if approve else _("❌ Rejected.")
    if query.message is not None and query.message.is_accessible:
        await query.edit_message_text(_card(context, request) + "\n\n" + outcome)
    await context.community.outbox.notice(
        [request.user_id],
        f"vf:result:{request.id}",
        APPROVED if approve else REJECTED,
        now=context.now(),
        municipality=request.municipality_name,
    )


async def approve(update: Update, context: BotContext, request_id: int) -> None:
    await _decide(update, context, request_id, approve=True)


async def reject(update: Update, context: BotContext, request_id: int) -> None:
    await _decide(update, context, request_id, approve=False)


async def leave(update: Update, context: BotContext, _none: None) -> None:
    """Confirmed: the member leaves the municipality they belong to now."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    name = await context.storage.leave_municipality(update.effective_user.id, context.now())
    if name is None:
        await query.answer(_("You do not represent a municipality."), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        _(
            "You no longer represent {municipality}. You can edit your profile with /profile."
        ).format(municipality=html.escape(name))
    )
