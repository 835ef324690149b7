"""Reporting a listing: the card's Report button → a reason → filed, and the admins told
through the outbox.

Several people reporting one member hides that member's listings until an admin has looked
(storage decides, in the same transaction as the report); the member is told, without who
reported them.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import ID, REPORT_LISTING, REPORTS, OneOf
from bot.context import BotContext, CommunityApplication, reply
from bot.handlers.admin import admin_recipients
from bot.i18n import N_
from bot.storage import Enqueued, ReportRefused
from bot.storage.moderation import REPORT_REASONS, Filed
from bot.storage.outbox import Notice
from bot.views import cards
from bot.views.texts import REPORT_REASON_LABELS as REASON_LABELS

assert set(REASON_LABELS) == set(REPORT_REASONS)
REASON = REPORTS.button("", ID, OneOf(REPORT_REASONS))

REPORTED = N_("🚩 The listing {title} was reported. Send /admin to see the queue.")
UNDER_REVIEW = N_(
    "👁 Several people reported the listings of {name}: they are hidden until you review them. "
    "Send /admin to see the queue."
)
HIDDEN_FOR_REVIEW = N_(
    "👁 Several people reported your listings: they are hidden until a moderator has looked at them."
)


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            REPORT_LISTING.handler(report_button),
            REASON.handler(reason_chosen),
        ]
    )


async def report_button(update: Update, context: BotContext, listing_id: int) -> None:
    """A card's Report button: ask why."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    listing = await context.storage.get_listing(listing_id)
    if listing is None or listing.status == "hidden":
        await query.answer(_("This listing is no longer available."), show_alert=True)
        return
    if listing.status in cards.ENDED_NOTICES:
        ended = cards.ended(context.i18n, listing.status, listing.status_changed_at)
        await query.answer(ended, show_alert=True)
        return
    if listing.owner_id == update.effective_user.id:
        await query.answer(_("This is your own listing."), show_alert=True)
        return
    await query.answer()
    buttons = [
        [InlineKeyboardButton(_(label), callback_data=REASON.data((listing.id, reason)))]
        for reason, label in REASON_LABELS.items()
    ]
    await reply(
        update,
        _("Why are you reporting {title}? The author will not know who reported it.").format(
            title=html.escape(listing.title)
        ),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def reason_chosen(update: Update, context: BotContext, pressed: tuple[int, str]) -> None:
    """File the report (once per person and listing)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    listing_id, reason = pressed
    told = await _report_notices(context, listing_id)
    try:
        await context.storage.report_listing(
            listing_id, update.effective_user.id, reason, context.now(), told=told
        )
    except ReportRefused as refused:
        if refused.reason in cards.ENDED_NOTICES and refused.at is not None:
            await query.answer(
                cards.ended(context.i18n, refused.reason, refused.at), show_alert=True
            )
            return
        texts = {
            "gone": _("This listing is no longer available."),
            "own": _("This is your own listing."),
            "already": _("You have already reported this listing. Thank you!"),
        }
        await query.answer(texts[refused.reason], show_alert=True)
        return
    await query.answer()
    context.community.outbox.wake()
    await query.edit_message_text(
        _("Thank you. A moderator will look at it; the author will not know it was you.")
    )


async def _report_notices(
    context: BotContext, listing_id: int
) -> Callable[[Filed], list[Enqueued]]:
    """What a report on the listing tells, once filed (queued in its transaction): the admins,
    and, when it puts the author under review, the admins and the author."""
    listing = await context.storage.get_listing(listing_id)
    owner = await context.storage.get_member(listing.owner_id) if listing else None
    admins = await admin_recipients(context)
    now = context.now()

    def told(filed: Filed) -> list[Enqueued]:
        title = listing.title if listing else ""
        rows = Notice(f"report:{filed.report_id}", REPORTED, {"title": title}).to(admins, now)
        if filed.review_started:
            name = owner.first_name if owner else str(filed.owner_id)
            key = f"review:{filed.owner_id}:{filed.report_id}"
            rows += Notice(key, UNDER_REVIEW, {"name": name}).to(admins, now)
            rows += Notice(key, HIDDEN_FOR_REVIEW).to([filed.owner_id], now)
        return rows

    return told
