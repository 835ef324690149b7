"""Verification: asking (the dialog, :mod:`bot.dialogs.verification`), the decision on a
request, the verified people of each municipality, revoking, and a member leaving their
municipality (asked to confirm first).

A request is decided by an admin (Approve, or Reject with a reason), or approved by a verified
official of the same municipality, the admins being told. Revoking, like Reject, asks for a
reason the person reads in their language (:mod:`bot.dialogs.decision`). Every button checks
who presses it and storage checks the request's state in the transaction that changes it, so
a forged or replayed button decides nothing.
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import (
    APPROVE_REQUEST,
    ID,
    LEAVE_MUNICIPALITY,
    VERIFICATION,
    VERIFICATION_QUEUE,
    VERIFIED_MUNICIPALITIES,
    InvalidButton,
    Number,
    close_message,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs import verification as dialog
from bot.dialogs.decision import Decision, Nothing
from bot.handlers.admin import (
    admin_pressed,
    admin_recipients,
    already_done,
    is_admin,
    read_for_admin,
    reader_zone,
    refuse_unless_admin,
)
from bot.i18n import N_
from bot.storage import Enqueued, VerificationRefused, VerificationRequest
from bot.storage.outbox import Notice
from bot.views.admin_log import person, when
from bot.views.verification import approve_button, request_card

APPROVED = N_(
    "✅ You are now verified as representing {municipality}. Your new listings show the badge ✅."
)
REJECTED = N_(
    "Your request to be verified as representing {municipality} was not approved. If you "
    "think this is a mistake, ask again with /verify and an official email address."
)
REVOKED = N_(
    "A moderator revoked your verification as representing {municipality}. Your new listings "
    "no longer show the badge ✅; those already published keep it."
)
APPROVED_BY_OFFICIAL = N_(
    "✅ {official}, a verified representative of {municipality}, verified {name} as "
    "representing it. Send /admin to see the verified people."
)
PER_PAGE = 8


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            dialog.conversation(),
            LEAVE_MUNICIPALITY.handler(dialog.ask_leave),
            dialog.LEAVE_CONFIRMED.handler(leave),
            APPROVE_REQUEST.handler(approve),
            VERIFICATION_QUEUE.handler(queue),
            VERIFIED_MUNICIPALITIES.handler(first_municipalities),
            MUNICIPALITIES_PAGE.handler(municipalities),
            OFFICIALS.handler(officials),
        ]
    )
    application.dialogs.append(dialog.DIALOG)


REJECT = VERIFICATION.button("no", ID)  # a request; through bot/dialogs/decision.py
OFFICIALS = VERIFICATION.button("of", ID)  # a municipality's verified people
MUNICIPALITIES_PAGE = VERIFICATION.button("pg", Number(1, 10_000))  # the list's next pages
REVOKE = VERIFICATION.button("rv", ID)  # an approved request; through bot/dialogs/decision.py


async def queue(update: Update, context: BotContext, _none: None) -> None:
    """The admin menu's verifications: a card per pending request, oldest first."""
    _ = context.i18n.gettext
    empty = _("No verification requests are waiting.")
    for request in await read_for_admin(update, context, context.storage.verification_queue, empty):
        buttons = [
            [
                approve_button(context.i18n, request),
                InlineKeyboardButton(_("❌ Reject"), callback_data=REJECT.data(request.id)),
            ]
        ]
        await reply(
            update, request_card(context.i18n, request), reply_markup=InlineKeyboardMarkup(buttons)
        )


def refusal(context: BotContext, reason: str) -> str:
    _ = context.i18n.gettext
    texts = {
        "gone": _("This request no longer exists."),
        "decided": _("This request was already decided."),
        "outdated": _("The member has left that municipality since: request withdrawn."),
        "not_allowed": _(
            "Only an administrator or a verified representative of that municipality can "
            "approve this request."
        ),
        "not_verified": _("This person is not verified for that municipality any more."),
    }
    return texts.get(reason, texts["decided"])


async def _decided_by(context: BotContext, request_id: int, reason: str) -> str:
    """Why nothing changed: who decided first, if that is it."""
    if reason != "decided":
        return refusal(context, reason)
    first = await context.storage.last_action(
        ("approve", "member_approve", "reject", "revoke"), request=request_id
    )
    return await already_done(context, first, refusal(context, reason))


async def approve(update: Update, context: BotContext, request_id: int) -> None:
    """Approve: an admin, or a verified official of the request's municipality (storage
    checks which, in the transaction that approves; the admins are told of the latter)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    by_admin = await is_admin(context, update.effective_user.id)
    told: list[Enqueued] = []
    if (asked := await context.storage.get_verification(request_id)) is not None:
        told = _member_notice(context, asked, f"vf:result:{asked.id}", APPROVED, side="official")
        if not by_admin:
            assert context.member is not None
            told += Notice(
                f"vf:approved:{asked.id}", APPROVED_BY_OFFICIAL,
                {"official": context.member.first_name, "name": asked.first_name,
                 "municipality": asked.municipality_name},
            ).to(await admin_recipients(context), context.now())  # fmt: skip
    try:
        request = await context.storage.decide_verification(
            request_id, update.effective_user.id, approve=True, now=context.now(),
            by_admin=by_admin, told=told,
        )  # fmt: skip
    except VerificationRefused as refused:
        text = await _decided_by(context, request_id, refused.reason)
        await query.answer(text, show_alert=True)
        return
    context.community.outbox.wake()
    await query.answer()
    close_message(update, context)
    if query.message is not None and query.message.is_accessible:
        await query.edit_message_text(
            request_card(context.i18n, request) + "\n\n" + _("✅ Approved.")
        )


def _member_notice(
    context: BotContext,
    request: VerificationRequest,
    key: str,
    message: str,
    reason: str | None = None,
    *,
    side: str = "member",
) -> list[Enqueued]:
    """The person the request is about, to be told the decision (and why) in their language,
    while they are on that ``side`` of its municipality when it is sent: still its verified
    official for an approval (not revoked or gone since), still its member for the others (a
    notice about a municipality they left since says nothing to them). Queued with the
    decision, in its transaction."""
    notice = Notice(
        key, message, {"municipality": request.municipality_name}, reason=reason,
        side={side: request.municipality_id},
    )  # fmt: skip
    return notice.to([request.user_id], context.now())


async def _tell_member(
    context: BotContext, request_id: int, key: str, message: str, reason: str | None
) -> list[Enqueued]:
    """:func:`_member_notice` of a Reject or a Revoke, for the request as it is read now;
    nothing to tell when it is gone."""
    asked = await context.storage.get_verification(request_id)
    return [] if asked is None else _member_notice(context, asked, key, message, reason)


# --- Reject and Revoke: a reason, then a confirmation -----------------------------------------


def _about(context: BotContext, request: VerificationRequest) -> dict[str, str]:
    return {
        "member": person(context.i18n, request.user_id, request.first_name, request.country),
        "municipality": html.escape(request.municipality_name),
    }


async def plan_rejection(context: BotContext, request_id: int) -> str | Nothing:
    request = await context.storage.get_verification(request_id)
    if request is None:
        return Nothing(refusal(context, "gone"))
    if request.status != "pending":
        return Nothing(await _decided_by(context, request_id, "decided"))
    text = context.i18n.gettext("❌ Reject the request of {member} to represent {municipality}?")
    return text.format(**_about(context, request))


async def reject(context: BotContext, request_id: int, reason: str | None) -> str:
    assert context.member is not None
    told = await _tell_member(context, request_id, f"vf:result:{request_id}", REJECTED, reason)
    try:
        await context.storage.decide_verification(
            request_id, context.member.id, approve=False, now=context.now(), reason=reason,
            told=told,
        )  # fmt: skip
    except VerificationRefused as refused:
        return await _decided_by(context, request_id, refused.reason)
    context.community.outbox.wake()
    return context.i18n.gettext("❌ Rejected.")


async def refresh_request(
    context: BotContext, chat_id: int, message_id: int, request_id: int
) -> None:
    """The request's card, decided: its outcome instead of its buttons."""
    _ = context.i18n.gettext
    request = await context.storage.get_verification(request_id)
    if request is None or request.status == "pending":
        return
    outcome = {"approved": _("✅ Approved."), "rejected": _("❌ Rejected.")}.get(request.status, "")
    await context.bot.edit_message_text(
        request_card(context.i18n, request) + "\n\n" + outcome,
        chat_id=chat_id,
        message_id=message_id,
    )


async def plan_revocation(context: BotContext, request_id: int) -> str | Nothing:
    request = await context.storage.get_verification(request_id)
    if request is None:
        return Nothing(refusal(context, "gone"))
    if request.status != "approved":
        first = await context.storage.last_action(("revoke",), request=request_id)
        return Nothing(await already_done(context, first, refusal(context, "not_verified")))
    text = context.i18n.gettext(
        "Revoke the verification of {member} for {municipality}? Their new listings show no "
        "badge and they can no longer act for the municipality; their published listings keep "
        "theirs."
    )
    return text.format(**_about(context, request))


async def revoke(context: BotContext, request_id: int, reason: str | None) -> str:
    assert context.member is not None
    told = await _tell_member(context, request_id, f"vf:revoked:{request_id}", REVOKED, reason)
    try:
        await context.storage.revoke_verification(
            request_id, context.member.id, reason=reason, now=context.now(), told=told
        )
    except VerificationRefused as refused:
        first = await context.storage.last_action(("revoke",), request=request_id)
        return await already_done(context, first, refusal(context, refused.reason))
    context.community.outbox.wake()
    return context.i18n.gettext("Verification revoked.")


async def refresh_officials(
    context: BotContext, chat_id: int, message_id: int, request_id: int
) -> None:
    """The municipality's list of verified people, as it is now."""
    request = await context.storage.get_verification(request_id)
    if request is not None:
        text, keyboard = await _officials_view(context, request.municipality_id)
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard
        )


REJECTION = Decision(
    "reject", REJECT, N_("❌ Reject"), plan_rejection, reject, refresh=refresh_request
)
REVOCATION = Decision(
    "revoke", REVOKE, N_("🚫 Revoke"), plan_revocation, revoke, refresh=refresh_officials
)


# --- the verified people, per municipality ----------------------------------------------------


def _page(page: int) -> str:
    return MUNICIPALITIES_PAGE.data(page) if page else VERIFIED_MUNICIPALITIES.data(None)


async def first_municipalities(update: Update, context: BotContext, _none: None) -> None:
    await municipalities(update, context, 0)


async def municipalities(update: Update, context: BotContext, page: int) -> None:
    """The admin menu's verified people: the municipalities that have some, a page at a time."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return
    found, total = await context.storage.verified_municipalities(
        offset=page * PER_PAGE, limit=PER_PAGE
    )
    await query.answer()
    if not total:
        await reply(update, _("Nobody is verified yet."))
        return
    buttons = [
        [
            InlineKeyboardButton(
                f"🏛 {municipality.name} ({municipality.country}) · {municipality.officials}",
                callback_data=OFFICIALS.data(municipality.id),
            )
        ]
        for municipality in found
    ]
    pages = []
    if page > 0:
        pages.append(InlineKeyboardButton("◀", callback_data=_page(page - 1)))
    if (page + 1) * PER_PAGE < total:
        pages.append(InlineKeyboardButton("▶", callback_data=_page(page + 1)))
    keyboard = InlineKeyboardMarkup([*buttons, *([pages] if pages else [])])
    text = context.i18n.ngettext(
        "<b>Verified people</b>: {count} municipality. Choose one to see who speaks for it.",
        "<b>Verified people</b>: {count} municipalities. Choose one to see who speaks for it.",
        total,
    ).format(count=context.i18n.number(total))
    if MUNICIPALITIES_PAGE.matches(query.data) and query.message is not None:
        await query.edit_message_text(text, reply_markup=keyboard)  # turning the list's pages
    else:
        await reply(update, text, reply_markup=keyboard)


async def _officials_view(
    context: BotContext, municipality_id: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    _ = context.i18n.gettext
    officials = await context.storage.verified_officials(municipality_id)
    name = await context.storage.municipality_name(municipality_id)
    zone = await reader_zone(context)
    lines = [_("🏛 <b>{municipality}</b>: verified people").format(
        municipality=html.escape(name or "—")
    )]  # fmt: skip
    buttons = []
    for official in officials:
        who = html.escape(official.first_name) + (
            f" @{html.escape(official.username)}" if official.username else ""
        )
        since = _("verified since {when}").format(when=when(context.i18n, official.since, zone))
        lines.append(f"• {who} ({official.user_id}) · {since}")
        label = _("🚫 Revoke {name}").format(name=official.first_name)
        buttons.append(
            [InlineKeyboardButton(label, callback_data=REVOKE.data(official.request_id))]
        )
    if not officials:
        lines.append(_("Nobody is verified for this municipality any more."))
    return "\n".join(lines), InlineKeyboardMarkup(buttons) if buttons else None


async def officials(update: Update, context: BotContext, municipality_id: int) -> None:
    """One municipality's verified people, each with Revoke."""
    if not await admin_pressed(update, context):
        return
    text, keyboard = await _officials_view(context, municipality_id)
    await reply(update, text, reply_markup=keyboard)


# --- leaving ----------------------------------------------------------------------------------


async def leave(update: Update, context: BotContext, municipality_id: int) -> None:
    """Confirmed: the member leaves the municipality they were asked about, if they still
    belong to it (moved to another one since, the button is out of date)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    member = context.member
    if member is None or member.municipality_id is None:
        await query.answer(_("You do not represent a municipality."), show_alert=True)
        return
    name = await context.storage.leave_municipality(
        update.effective_user.id, context.now(), municipality_id=municipality_id
    )
    if name is None:
        raise InvalidButton(municipality_id)
    await query.answer()
    await query.edit_message_text(
        _(
            "You no longer represent {municipality}. You can edit your profile with /profile."
        ).format(municipality=html.escape(name))
    )
