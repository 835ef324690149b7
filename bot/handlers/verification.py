"""Verification, the admins' side and leaving: the queue of requests (``ad:vq``) with Approve
(``vf:ok:<id>``) and Reject (``vf:no:<id>``), and a member leaving their municipality
(``vf:leave`` → ``vf:leave:yes``). Asking is a dialog: :mod:`bot.dialogs.verification`.

Approve and Reject check that the presser is an admin and that the request is still pending
(storage), so a forged or replayed button decides nothing. The member is told the outcome
through the outbox, in their language.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callback_data import id_of
from bot.context import BotContext
from bot.handlers.admin import refuse_unless_admin
from bot.handlers.common import reply
from bot.handlers.moderation import when
from bot.handlers.reports import notice
from bot.i18n import N_
from bot.storage import VerificationRefused, VerificationRequest
from bot.views import place_line

APPROVED = N_(
    "✅ You are now verified as representing {municipality}. Your listings show the badge ✅."
)
REJECTED = N_(
    "Your request to be verified as representing {municipality} was not approved. If you "
    "think this is a mistake, ask again with /verify and an official email address."
)


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
    lines.append(_("Asked {when}").format(when=when(context.i18n, request.created_at)))
    return "\n".join(lines)


async def queue(update: Update, context: BotContext) -> None:
    """``ad:vq``: a card per pending request, oldest first."""
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
                InlineKeyboardButton(_("✅ Approve"), callback_data=f"vf:ok:{request.id}"),
                InlineKeyboardButton(_("❌ Reject"), callback_data=f"vf:no:{request.id}"),
            ]
        ]
        await reply(update, _card(context, request), reply_markup=InlineKeyboardMarkup(buttons))


async def _decide(update: Update, context: BotContext, approve: bool) -> None:
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    if not await refuse_unless_admin(update, context):
        return
    request_id = id_of(query.data, "vf:ok:" if approve else "vf:no:")
    if request_id is None:
        await query.answer(_("This button is no longer valid."))
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
    await notice(
        context,
        [request.user_id],
        f"vf:result:{request.id}",
        APPROVED if approve else REJECTED,
        municipality=request.municipality_name,
    )


async def approve(update: Update, context: BotContext) -> None:
    await _decide(update, context, approve=True)


async def reject(update: Update, context: BotContext) -> None:
    await _decide(update, context, approve=False)


async def ask_leave(update: Update, context: BotContext) -> None:
    """``vf:leave``: confirm before leaving the municipality."""
    _ = context.i18n.gettext
    if update.callback_query is not None:
        await update.callback_query.answer()
    member = context.member
    if member is None or member.municipality_id is None:
        await reply(update, _("You do not represent a municipality."))
        return
    buttons = [[InlineKeyboardButton(_("🚪 Yes, leave"), callback_data="vf:leave:yes")]]
    await reply(
        update,
        _(
            "Stop representing <b>{municipality}</b>? Your verification ends and you stay as a "
            "volunteer; the listings you posted stay with the municipality."
        ).format(municipality=html.escape(member.municipality_name or "")),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def leave(update: Update, context: BotContext) -> None:
    """``vf:leave:yes``: the member leaves the municipality they belong to now."""
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
