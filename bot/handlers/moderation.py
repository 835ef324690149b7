"""Moderation: the queue of reported listings (from ``/admin``), a reported listing's card with
its actions (hide, restore, warn, ban, lift a ban, dismiss, history), and ``/unban``.

Every button and command checks first that the person pressing is an admin (buttons can be
forwarded, replayed or forged), and storage changes only what is in the expected state, so a
second press says what already happened and changes nothing. Every action is logged in
storage with who and when; the member concerned is told through the outbox.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Awaitable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.buttons import ID, MODERATION, REPORT_QUEUE, drop_buttons
from bot.context import BotContext, CommunityApplication, reply
from bot.dialogs import decision
from bot.dialogs.decision import Decision, Nothing
from bot.handlers import verification
from bot.handlers.admin import (
    admin_member,
    already_done,
    member_argument,
    read_for_admin,
    reader_zone,
    refuse_unless_admin,
)
from bot.i18n import N_, Translator
from bot.storage import Listing, Member, ReportedListing, Storage
from bot.storage.moderation import Outcome
from bot.storage.outbox import Notice
from bot.views.admin_log import fitted, life_line, log_line, person, report_status, when
from bot.views.html import shorten
from bot.views.texts import REPORT_REASON_LABELS as REASON_LABELS
from bot.views.texts import quoted_title

HIDDEN = N_("🚫 A moderator hid your listing {title}: it does not follow the community's rules.")
RESTORED = N_("♻️ Your listing {title} is visible again.")
WARNED = N_(
    "⚠️ A moderator warns you about your listing {title}. Please keep to the rules: honest "
    "and respectful listings only. Repeated problems lead to a suspension."
)
BANNED = N_(
    "⛔ A moderator suspended your account. You can still get your data with /mydata or erase "
    "it with /deleteme."
)
UNBANNED = N_("Your account is active again. Welcome back!")
# An admin who could ban another would lock them out of /unban and /unadmin (see Storage.ban).
ADMINS_NOT_BANNED = N_("Administrators cannot be banned.")


def register(application: CommunityApplication) -> None:
    # The decisions the person concerned is told about, with a reason and a confirmation:
    # one dialog for all of them (moderation's and verification's), before the features.
    decisions = [WARNING, BANNING, verification.REJECTION, verification.REVOCATION]
    application.add_handler(decision.conversation(decisions), group=decision.GROUP)
    application.dialogs.append(decision.DIALOG)
    application.add_handlers(
        [
            REPORT_QUEUE.handler(report_queue),
            HIDE.handler(hide),
            RESTORE.handler(restore),
            DISMISS.handler(dismiss),
            UNBAN.handler(unban_button),
            HISTORY.handler(history),
            CommandHandler("unban", unban_command),
        ]
    )


# An admin's actions on a reported listing (the listing's id; the member's for Lift ban).
HIDE = MODERATION.button("hide", ID)
RESTORE = MODERATION.button("rest", ID)
DISMISS = MODERATION.button("dis", ID)
WARN = MODERATION.button("warn", ID)
BAN = MODERATION.button("ban", ID)
UNBAN = MODERATION.button("unban", ID)
HISTORY = MODERATION.button("hist", ID)


async def report_queue(update: Update, context: BotContext, _none: None) -> None:
    """The admin menu's reports: a card per reported listing (and per listing hidden for a
    review)."""
    _ = context.i18n.gettext
    empty = _("No reports are waiting.")
    for entry in await read_for_admin(update, context, context.storage.moderation_queue, empty):
        await reply(
            update, await _card_text(context, entry), reply_markup=_card_keys(context, entry)
        )


# --- a reported listing's card -------------------------------------------------------------


async def _card_text(context: BotContext, entry: ReportedListing) -> str:
    _ = context.i18n.gettext
    listing = await context.storage.get_listing(entry.listing_id)
    owner = f'<a href="tg://user?id={entry.owner_id}">{html.escape(entry.owner_name)}</a>'
    if entry.owner_username:
        owner += f" @{html.escape(entry.owner_username)}"
    flags = []
    if entry.owner_warnings:
        flags.append(
            context.i18n.ngettext(
                "⚠️ {count} warning", "⚠️ {count} warnings", entry.owner_warnings
            ).format(count=context.i18n.number(entry.owner_warnings))
        )
    if entry.owner_banned:
        flags.append(_("⛔ banned"))
    if entry.owner_under_review:
        flags.append(_("👁 under review"))
    reasons = ", ".join(
        f"{_(REASON_LABELS.get(reason, reason))} ×{count}"
        for reason, count in sorted(entry.reasons.items())
    )
    lines = [
        f"🚩 <b>{quoted_title(context.i18n, entry.title)}</b> (#{entry.listing_id}) · "
        f"{entry.status}",
        _("Author: {owner} ({id})").format(owner=owner, id=entry.owner_id)
        + (" · " + " · ".join(flags) if flags else ""),
        _("Open reports: {reasons} ({people})").format(
            reasons=reasons or "—",
            people=context.i18n.ngettext(
                "{count} person", "{count} people", entry.reporters
            ).format(count=context.i18n.number(entry.reporters)),
        ),
    ]
    if listing is not None:
        lines.append(f"<blockquote>{html.escape(shorten(listing.description, 300))}</blockquote>")
    return "\n".join(lines)


def _card_keys(context: BotContext, entry: ReportedListing) -> InlineKeyboardMarkup:
    _ = context.i18n.gettext
    lid = entry.listing_id
    first = []
    if entry.status == "open":
        first.append(InlineKeyboardButton(_("🚫 Hide"), callback_data=HIDE.data(lid)))
    elif entry.status == "hidden":
        first.append(InlineKeyboardButton(_("♻️ Restore"), callback_data=RESTORE.data(lid)))
    if entry.reasons:
        first.append(InlineKeyboardButton(_("✔️ Dismiss"), callback_data=DISMISS.data(lid)))
    second = [InlineKeyboardButton(_("⚠️ Warn"), callback_data=WARN.data(lid))]
    if entry.owner_banned:
        second.append(
            InlineKeyboardButton(_("✅ Lift ban"), callback_data=UNBAN.data(entry.owner_id))
        )
    else:
        second.append(InlineKeyboardButton(_("⛔ Ban"), callback_data=BAN.data(lid)))
    third = [InlineKeyboardButton(_("📜 History"), callback_data=HISTORY.data(lid))]
    return InlineKeyboardMarkup([row for row in (first, second, third) if row])


async def _refresh(query: CallbackQuery, context: BotContext, listing_id: int) -> None:
    """Show the card as it is now, after an action (this admin's, or another's meanwhile:
    then its buttons differ)."""
    message = query.message
    if message is None or not isinstance(message, Message):
        return
    entry = await context.storage.reported_listing(listing_id)
    if entry is not None and _card_keys(context, entry) != message.reply_markup:
        await _redraw(context, message.chat.id, message.message_id, entry)


async def refresh_card(context: BotContext, chat_id: int, message_id: int, listing_id: int) -> None:
    """Show a reported listing's card as it is now (after an action, by this admin or another)."""
    entry = await context.storage.reported_listing(listing_id)
    if entry is not None:
        await _redraw(context, chat_id, message_id, entry)


async def _redraw(
    context: BotContext, chat_id: int, message_id: int, entry: ReportedListing
) -> None:
    # An action pressed on a history or forged message: "not modified" is fine.
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_text(
            await _card_text(context, entry),
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=_card_keys(context, entry),
        )


async def _done(
    update: Update,
    context: BotContext,
    listing_id: int,
    changed: bool,
    text: str,
    already: tuple[str, str],
) -> bool:
    """Answer the press: what was done, or - nothing changed - who did it first (the latest
    of the listing's log lines of this kind and its opposite is this kind) or ``already``'s
    text; refresh the card either way, so that it shows what is left to do."""
    query = update.callback_query
    assert query is not None
    if changed:
        await query.answer(text)
    else:
        action, otherwise = already
        first = await context.storage.last_action(_FAMILIES[action], listing=listing_id)
        if first is not None and first.action != action:
            first = None
        await query.answer(await already_done(context, first, otherwise), show_alert=True)
    await _refresh(query, context, listing_id)
    return changed


# An action and what undoes it: the latest of them says whether it still stands.
_FAMILIES = {
    "hide": ("hide", "restore"),
    "restore": ("hide", "restore"),
    "dismiss": ("dismiss", "hide"),
}


class _Change(Protocol):
    """Storage.hide_listing or Storage.restore_listing, unbound."""

    def __call__(
        self, storage: Storage, listing_id: int, admin: int, now: int, /, *, notice: Notice | None
    ) -> Awaitable[bool]: ...


@dataclass(frozen=True)
class _Visibility:
    """Hiding or restoring a listing: the storage change (False when the listing is not in the
    state it changes), its action in the admin log, what the admin is told (done, or why
    nothing changed), and the owner's notice with the event its key names."""

    change: _Change
    action: str
    done: str
    unchanged: str
    notice: str
    event: str


_HIDING = _Visibility(
    Storage.hide_listing, "hide", N_("Hidden."), N_("It is not open."), HIDDEN, "hidden"
)
_RESTORING = _Visibility(
    Storage.restore_listing,
    "restore",
    N_("Restored."),
    N_("It is not hidden."),
    RESTORED,
    "restored",
)


async def _set_visibility(
    update: Update, context: BotContext, listing_id: int, visibility: _Visibility
) -> None:
    """Hide or restore a listing, and tell its owner."""
    _ = context.i18n.gettext
    listing = await _admin_on_listing(update, context, listing_id)
    if listing is None:
        return
    assert update.effective_user is not None
    admin = update.effective_user.id
    now = context.now()
    told = Notice(
        f"mod:{visibility.event}:{listing_id}:{now}", visibility.notice,
        {"title": listing.title}, side={"listing": listing_id},
    )  # fmt: skip
    changed = await visibility.change(context.storage, listing_id, admin, now, notice=told)
    already = (visibility.action, _(visibility.unchanged))
    if await _done(update, context, listing_id, changed, _(visibility.done), already):
        context.community.outbox.wake()


async def _admin_on_listing(update: Update, context: BotContext, listing_id: int) -> Listing | None:
    """The listing a button names, if the presser is an admin and it still exists (ids are
    never given twice: an erased listing's buttons find nothing); else say why, and None."""
    if not await refuse_unless_admin(update, context):
        return None
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        await _gone(update, context)
    return listing


async def _gone(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer(gone_text(context), show_alert=True)


def gone_text(context: BotContext) -> str:
    return context.i18n.gettext(
        "This listing does not exist any more: its author erased their data. Nothing changed."
    )


async def hide(update: Update, context: BotContext, listing_id: int) -> None:
    await _set_visibility(update, context, listing_id, _HIDING)


async def restore(update: Update, context: BotContext, listing_id: int) -> None:
    await _set_visibility(update, context, listing_id, _RESTORING)


async def dismiss(update: Update, context: BotContext, listing_id: int) -> None:
    """The reports were unfounded."""
    _ = context.i18n.gettext
    if await _admin_on_listing(update, context, listing_id) is None:
        return
    assert update.effective_user is not None
    settled = await context.storage.dismiss_reports(
        listing_id, update.effective_user.id, context.now()
    )
    already = ("dismiss", _("No open reports."))
    await _done(update, context, listing_id, settled > 0, _("Dismissed."), already)


# --- Warn and Ban: a reason, then a confirmation (bot/dialogs/decision.py) ----------------------


def _about(context: BotContext, listing: Listing, owner: Member | None) -> dict[str, str]:
    """The author (``owner``, as read) and the listing, as the admin's texts name them."""
    t = context.i18n
    author = person(
        t, listing.owner_id, owner.first_name if owner else None, owner.country if owner else None
    )
    title = quoted_title(t, listing.title, 60)
    return {"member": author, "listing": f"{title} #{listing.id}"}


async def plan_warning(context: BotContext, listing_id: int) -> str | Nothing:
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return Nothing(gone_text(context))
    first = await context.storage.last_action(("warn",), listing=listing_id)
    if first is not None:
        return Nothing(await already_done(context, first, ""))
    return context.i18n.gettext("⚠️ Warn {member} about the listing {listing}?").format(
        **_about(context, listing, await context.storage.get_member(listing.owner_id))
    )


async def warn(context: BotContext, listing_id: int, reason: str | None) -> str:
    """Warn the listing's author (once per listing), and tell them why."""
    _ = context.i18n.gettext
    assert context.member is not None
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return gone_text(context)
    told = Notice(f"mod:warn:{listing_id}", WARNED, {"title": listing.title}, reason=reason)
    outcome = await context.storage.warn_owner(
        listing_id, context.member.id, context.now(), reason=reason, notice=told
    )
    if outcome is Outcome.GONE:
        return gone_text(context)
    if outcome is Outcome.ALREADY:
        first = await context.storage.last_action(("warn",), listing=listing_id)
        return await already_done(
            context, first, _("The author was already warned about this listing.")
        )
    context.community.outbox.wake()
    return _("Warned.")


async def plan_ban(context: BotContext, listing_id: int) -> str | Nothing:
    _ = context.i18n.gettext
    assert context.member is not None
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return Nothing(gone_text(context))
    if listing.owner_id == context.member.id:
        return Nothing(_("You cannot ban yourself."))
    owner = await context.storage.get_member(listing.owner_id)
    if admin_member(context, listing.owner_id, owner):
        return Nothing(_(ADMINS_NOT_BANNED))
    if owner is not None and owner.banned:
        first = await context.storage.last_action(("ban",), user=listing.owner_id)
        return Nothing(await already_done(context, first, _("Already banned.")))
    question = _(
        "⛔ Ban {member}, the author of {listing}? Their open listings are hidden and their "
        "pending contact requests withdrawn; they keep /mydata and /deleteme."
    ).format(**_about(context, listing, owner))
    if owner is not None and owner.verified and owner.municipality_name:
        # Storage.ban ends it (a ban is a revocation too); lifting the ban does not restore it.
        ends = _("Their verification for {municipality} ends too.")
        question += "\n" + ends.format(municipality=html.escape(owner.municipality_name))
    return question


async def ban(context: BotContext, listing_id: int, reason: str | None) -> str:
    """Ban the listing's author, and tell them why."""
    _ = context.i18n.gettext
    assert context.member is not None
    listing = await context.storage.get_listing(listing_id)
    if listing is None:
        return gone_text(context)
    now = context.now()
    outcome = await context.storage.ban(
        listing.owner_id,
        context.member.id,
        now,
        listing_id=listing_id,
        reason=reason,
        administrators=context.settings.admin_ids,
        notice=Notice(f"mod:ban:{listing.owner_id}:{now}", BANNED, reason=reason),
    )
    if outcome is Outcome.GONE:
        return gone_text(context)
    if outcome is Outcome.ADMIN:  # made admin since the question, or a forged press
        return _(ADMINS_NOT_BANNED)
    if outcome is Outcome.ALREADY:
        first = await context.storage.last_action(("ban",), user=listing.owner_id)
        return await already_done(context, first, _("Already banned."))
    context.community.outbox.wake()
    return _("Banned.")


WARNING = Decision("warn", WARN, N_("⚠️ Warn"), plan_warning, warn, refresh=refresh_card)
BANNING = Decision("ban", BAN, N_("⛔ Ban"), plan_ban, ban, refresh=refresh_card)


def _unbanned(user_id: int, now: int) -> Notice:
    return Notice(f"mod:unban:{user_id}:{now}", UNBANNED)


async def unban_button(update: Update, context: BotContext, user_id: int) -> None:
    """Lift the ban of a listing's author."""
    _ = context.i18n.gettext
    if not await refuse_unless_admin(update, context):
        return
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    now = context.now()
    changed = await context.storage.unban(
        user_id, update.effective_user.id, now, notice=_unbanned(user_id, now)
    )
    if not changed:
        first = await context.storage.last_action(("unban",), user=user_id)
        await query.answer(await already_done(context, first, _("Not banned.")), show_alert=True)
        return
    await query.answer(_("Ban lifted."))
    context.community.outbox.wake()
    await drop_buttons(update)


async def history(update: Update, context: BotContext, listing_id: int) -> None:
    """A listing's life, its reports, and admin actions on it and its author: each the newest
    first, as much as one message holds."""
    _ = context.i18n.gettext
    t = context.i18n
    listing = await _admin_on_listing(update, context, listing_id)
    if listing is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    zone = await reader_zone(context)
    life = [
        life_line(t, entry, zone) for entry in reversed(await context.storage.history(listing_id))
    ]
    reported = [
        f"{when(t, at, zone)} · {_(REASON_LABELS.get(reason, reason))} · {report_status(t, status)}"
        for reason, status, at in reversed(await context.storage.listing_reports(listing_id))
    ]
    actions = [
        log_line(t, action, zone)
        for action in await context.storage.admin_log(user=listing.owner_id, limit=10)
    ]
    title = _("<b>History of {title}</b>").format(title=quoted_title(context.i18n, listing.title))
    sections = [
        (None, life),
        (_("<b>Reports</b>"), reported),
        (_("<b>Admin actions about the author</b>"), actions),
    ]
    await reply(update, fitted(title, sections, left_out=partial(_older_left_out, t)))


def _older_left_out(t: Translator, count: int) -> str:
    return t.ngettext(
        "Not shown: {count} older entry", "Not shown: {count} older entries", count
    ).format(count=t.number(count))


# --- /unban -----------------------------------------------------------------------------


async def unban_command(update: Update, context: BotContext) -> None:
    """``/unban <id>``."""
    _ = context.i18n.gettext
    if not await refuse_unless_admin(update, context):
        return
    user_id = member_argument(context)
    assert update.effective_user is not None
    if user_id is None:
        # The angle brackets are text, not HTML: escape them on the way out.
        await reply(update, html.escape(_("Usage: /unban <member id>")))
        return
    now = context.now()
    if await context.storage.unban(
        user_id, update.effective_user.id, now, notice=_unbanned(user_id, now)
    ):
        context.community.outbox.wake()
        await reply(update, _("Ban lifted."))
    else:
        await reply(update, _("Not banned."))
