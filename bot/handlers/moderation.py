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
from collections.abc import Awaitable, Callable

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.buttons import ID, MODERATION, REPORT_QUEUE
from bot.context import BotContext, CommunityApplication, reply
from bot.handlers.admin import ACTION_LABELS, member_argument, refuse_unless_admin
from bot.handlers.reports import REASON_LABELS, notice
from bot.i18n import N_
from bot.storage import ReportedListing
from bot.views.html import shorten
from bot.views.texts import short_time

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


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            REPORT_QUEUE.handler(report_queue),
            HIDE.handler(hide),
            RESTORE.handler(restore),
            DISMISS.handler(dismiss),
            WARN.handler(warn),
            BAN.handler(ban),
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
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return
    await query.answer()
    queue = await context.storage.moderation_queue()
    if not queue:
        await reply(update, _("No reports are waiting."))
        return
    for entry in queue:
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
        f"🚩 <b>{context.i18n.quote(html.escape(entry.title))}</b> (#{entry.listing_id}) · "
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
    """Show the card as it is now, after an action."""
    entry = await context.storage.reported_listing(listing_id)
    if entry is None or query.message is None or not query.message.is_accessible:
        return
    # An action pressed on a history or forged message: "not modified" is fine.
    with contextlib.suppress(BadRequest):
        await query.edit_message_text(
            await _card_text(context, entry), reply_markup=_card_keys(context, entry)
        )


async def _done(
    update: Update, context: BotContext, listing_id: int, changed: bool, text: str, already: str
) -> bool:
    """Answer the press: what was done, or that nothing changed; refresh the card."""
    query = update.callback_query
    assert query is not None
    await query.answer(text if changed else already, show_alert=not changed)
    if changed:
        await _refresh(query, context, listing_id)
    return changed


async def _admin_on_listing(update: Update, context: BotContext, listing_id: int) -> bool:
    """True if the presser is an admin and the listing a button names still exists (ids are
    never given twice: an erased listing's buttons find nothing); else say why."""
    if not await refuse_unless_admin(update, context):
        return False
    if await context.storage.get_listing(listing_id) is None:
        assert update.callback_query is not None
        await update.callback_query.answer(
            context.i18n.gettext("This listing does not exist any more."), show_alert=True
        )
        return False
    return True


async def _set_visibility(
    update: Update,
    context: BotContext,
    listing_id: int,
    change: Callable[[int, int, int], Awaitable[bool]],
    texts: tuple[str, str],
    event: str,
    message: str,
) -> None:
    """Hide or restore a listing, and tell its owner."""
    if not await _admin_on_listing(update, context, listing_id):
        return
    assert update.effective_user is not None
    changed = await change(listing_id, update.effective_user.id, context.now())
    if await _done(update, context, listing_id, changed, *texts):
        listing = await context.storage.get_listing(listing_id)
        assert listing is not None
        key = f"mod:{event}:{listing_id}:{context.now()}"
        await notice(context, [listing.owner_id], key, message, title=listing.title)


async def hide(update: Update, context: BotContext, listing_id: int) -> None:
    _ = context.i18n.gettext
    await _set_visibility(
        update, context, listing_id, context.storage.hide_listing,
        (_("Hidden."), _("It is not open.")), "hidden", HIDDEN,
    )  # fmt: skip


async def restore(update: Update, context: BotContext, listing_id: int) -> None:
    _ = context.i18n.gettext
    await _set_visibility(
        update, context, listing_id, context.storage.restore_listing,
        (_("Restored."), _("It is not hidden.")), "restored", RESTORED,
    )  # fmt: skip


async def dismiss(update: Update, context: BotContext, listing_id: int) -> None:
    """The reports were unfounded."""
    _ = context.i18n.gettext
    if not await _admin_on_listing(update, context, listing_id):
        return
    assert update.effective_user is not None
    settled = await context.storage.dismiss_reports(
        listing_id, update.effective_user.id, context.now()
    )
    await _done(update, context, listing_id, settled > 0, _("Dismissed."), _("No open reports."))


async def warn(update: Update, context: BotContext, listing_id: int) -> None:
    """Warn the listing's author (once per listing)."""
    _ = context.i18n.gettext
    if not await _admin_on_listing(update, context, listing_id):
        return
    assert update.effective_user is not None
    owner = await context.storage.warn_owner(listing_id, update.effective_user.id, context.now())
    changed = owner is not None
    already = _("The author was already warned about this listing.")
    if await _done(update, context, listing_id, changed, _("Warned."), already):
        listing = await context.storage.get_listing(listing_id)
        assert owner is not None and listing is not None
        await notice(context, [owner], f"mod:warn:{listing_id}", WARNED, title=listing.title)


async def ban(update: Update, context: BotContext, listing_id: int) -> None:
    """Ban the listing's author."""
    _ = context.i18n.gettext
    if not await _admin_on_listing(update, context, listing_id):
        return
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    listing = await context.storage.get_listing(listing_id)
    assert listing is not None
    if listing.owner_id == update.effective_user.id:
        await query.answer(_("You cannot ban yourself."), show_alert=True)
        return
    now = context.now()
    changed = await context.storage.ban(
        listing.owner_id, update.effective_user.id, now, listing_id=listing_id
    )
    if await _done(update, context, listing_id, changed, _("Banned."), _("Already banned.")):
        await notice(context, [listing.owner_id], f"mod:ban:{listing.owner_id}:{now}", BANNED)


async def unban_button(update: Update, context: BotContext, user_id: int) -> None:
    """Lift the ban of a listing's author."""
    _ = context.i18n.gettext
    if not await refuse_unless_admin(update, context):
        return
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    now = context.now()
    changed = await context.storage.unban(user_id, update.effective_user.id, now)
    await query.answer(_("Ban lifted.") if changed else _("Not banned."), show_alert=not changed)
    if changed:
        await notice(context, [user_id], f"mod:unban:{user_id}:{now}", UNBANNED)
        await query.edit_message_reply_markup(None)


async def history(update: Update, context: BotContext, listing_id: int) -> None:
    """A listing's life, its reports, and admin actions on it and its author."""
    _ = context.i18n.gettext
    t = context.i18n
    if not await _admin_on_listing(update, context, listing_id):
        return
    query = update.callback_query
    assert query is not None
    listing = await context.storage.get_listing(listing_id)
    assert listing is not None
    await query.answer()
    lines = [
        _("<b>History of {title}</b>").format(title=context.i18n.quote(html.escape(listing.title)))
    ]
    for status, at, by_user, detail in await context.storage.history(listing_id):
        extra = f" ({html.escape(detail)})" if detail else ""
        lines.append(f"{short_time(t, at)} · {html.escape(status)}{extra} · {by_user or '—'}")
    lines.append("")
    lines.append(_("<b>Reports</b>"))
    for reason, status, at in await context.storage.listing_reports(listing_id):
        lines.append(f"{short_time(t, at)} · {_(REASON_LABELS.get(reason, reason))} · {status}")
    lines.append("")
    lines.append(_("<b>Admin actions about the author</b>"))
    for action in await context.storage.admin_log(user=listing.owner_id, limit=10):
        label = ACTION_LABELS.get(action.action)
        name = _(label) if label else html.escape(action.action)
        lines.append(f"{short_time(t, action.at)} · {action.admin_id or '—'} {name}")
    await reply(update, "\n".join(lines))


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
    if await context.storage.unban(user_id, update.effective_user.id, now):
        await notice(context, [user_id], f"mod:unban:{user_id}:{now}", UNBANNED)
        await reply(update, _("Ban lifted."))
    else:
        await reply(update, _("Not banned."))
