"""The admins' side: ``/admin`` (the queues), a reported listing's card with its actions
(hide, restore, warn, ban, unban, dismiss, history), the admin log, and making admins.

Every button and command checks first that the person pressing is an admin (buttons can be
forwarded, replayed or forged), and storage changes only what is in the expected state, so a
second press says what already happened and changes nothing. Every action is logged in
storage with who and when; the member concerned is told through the outbox.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.callback_data import id_of, parse_number
from bot.cards import shorten
from bot.context import BotContext
from bot.handlers.admin import is_root_admin, refuse_unless_admin
from bot.handlers.common import reply
from bot.handlers.reports import REASON_LABELS, notice
from bot.i18n import N_, Translator
from bot.storage import ReportedListing

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
ACTION_LABELS = {
    "hide": N_("hid a listing"),
    "restore": N_("restored a listing"),
    "dismiss": N_("dismissed reports"),
    "warn": N_("warned a member"),
    "ban": N_("banned a member"),
    "unban": N_("lifted a ban"),
    "approve": N_("approved a verification"),
    "reject": N_("rejected a verification"),
    "make_admin": N_("made an admin"),
    "remove_admin": N_("removed an admin"),
    "auto_review": N_("(automatic) hid a member's listings pending review"),
    "end_review": N_("ended a review"),
}


def when(t: Translator, at: int) -> str:
    return t.datetime(datetime.fromtimestamp(at, UTC), format="short")


# --- /admin --------------------------------------------------------------------------------


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
                callback_data="ad:vq",
            )
        ],
        [
            InlineKeyboardButton(
                _("🚩 Reports ({count})").format(count=counts["reports"]), callback_data="ad:rq"
            )
        ],
        [InlineKeyboardButton(_("📜 Admin log"), callback_data="ad:log")],
    ]
    text = _("<b>Moderation</b>\nMembers under review: {review}").format(review=counts["review"])
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


async def report_queue(update: Update, context: BotContext) -> None:
    """``ad:rq``: one card per reported listing (and per listing hidden for a review)."""
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


async def admin_log(update: Update, context: BotContext) -> None:
    """``ad:log``: the latest admin actions, who and when."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return
    await query.answer()
    actions = await context.storage.admin_log(limit=20)
    if not actions:
        await reply(update, _("Nothing in the admin log yet."))
        return
    lines = [_("<b>Admin log</b> (newest first)")]
    for action in actions:
        targets = []
        if action.target_listing:
            targets.append(_("listing #{id}").format(id=action.target_listing))
        if action.target_user:
            targets.append(_("member {id}").format(id=action.target_user))
        label = ACTION_LABELS.get(action.action)
        lines.append(
            f"{when(context.i18n, action.at)} · {action.admin_id or '—'} "
            f"{_(label) if label else html.escape(action.action)} {' · '.join(targets)}"
        )
    await reply(update, "\n".join(lines))


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
        first.append(InlineKeyboardButton(_("🚫 Hide"), callback_data=f"mod:hide:{lid}"))
    elif entry.status == "hidden":
        first.append(InlineKeyboardButton(_("♻️ Restore"), callback_data=f"mod:rest:{lid}"))
    if entry.reasons:
        first.append(InlineKeyboardButton(_("✔️ Dismiss"), callback_data=f"mod:dis:{lid}"))
    second = [InlineKeyboardButton(_("⚠️ Warn"), callback_data=f"mod:warn:{lid}")]
    if entry.owner_banned:
        second.append(
            InlineKeyboardButton(_("✅ Lift ban"), callback_data=f"mod:unban:{entry.owner_id}")
        )
    else:
        second.append(InlineKeyboardButton(_("⛔ Ban"), callback_data=f"mod:ban:{lid}"))
    third = [InlineKeyboardButton(_("📜 History"), callback_data=f"mod:hist:{lid}")]
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


async def _target(update: Update, context: BotContext, prefix: str) -> int | None:
    """The listing (or member) id of an admin button, once the presser is known an admin."""
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return None
    number = id_of(query.data, prefix)
    if number is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
    return number


async def _listing_target(update: Update, context: BotContext, prefix: str) -> int | None:
    """The listing an admin button names, once the presser is known an admin and the listing
    still exists (ids are never given twice: an erased listing's buttons find nothing)."""
    listing_id = await _target(update, context, prefix)
    if listing_id is None:
        return None
    if await context.storage.get_listing(listing_id) is None:
        await update.callback_query.answer(  # type: ignore[union-attr]
            context.i18n.gettext("This listing does not exist any more."), show_alert=True
        )
        return None
    return listing_id


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


async def _set_visibility(
    update: Update,
    context: BotContext,
    prefix: str,
    change: Callable[[int, int, int], Awaitable[bool]],
    texts: tuple[str, str],
    event: str,
    message: str,
) -> None:
    """Hide or restore the listing a ``<prefix><listing>`` button names, and tell its owner."""
    listing_id = await _listing_target(update, context, prefix)
    if listing_id is None:
        return
    assert update.effective_user is not None
    changed = await change(listing_id, update.effective_user.id, context.now())
    if await _done(update, context, listing_id, changed, *texts):
        listing = await context.storage.get_listing(listing_id)
        assert listing is not None
        key = f"mod:{event}:{listing_id}:{context.now()}"
        await notice(context, [listing.owner_id], key, message, title=listing.title)


async def hide(update: Update, context: BotContext) -> None:
    """``mod:hide:<listing>``."""
    _ = context.i18n.gettext
    await _set_visibility(
        update, context, "mod:hide:", context.storage.hide_listing,
        (_("Hidden."), _("It is not open.")), "hidden", HIDDEN,
    )  # fmt: skip


async def restore(update: Update, context: BotContext) -> None:
    """``mod:rest:<listing>``."""
    _ = context.i18n.gettext
    await _set_visibility(
        update, context, "mod:rest:", context.storage.restore_listing,
        (_("Restored."), _("It is not hidden.")), "restored", RESTORED,
    )  # fmt: skip


async def dismiss(update: Update, context: BotContext) -> None:
    """``mod:dis:<listing>``: the reports were unfounded."""
    _ = context.i18n.gettext
    listing_id = await _listing_target(update, context, "mod:dis:")
    if listing_id is None:
        return
    assert update.effective_user is not None
    settled = await context.storage.dismiss_reports(
        listing_id, update.effective_user.id, context.now()
    )
    await _done(update, context, listing_id, settled > 0, _("Dismissed."), _("No open reports."))


async def warn(update: Update, context: BotContext) -> None:
    """``mod:warn:<listing>``: warn its author (once per listing)."""
    _ = context.i18n.gettext
    listing_id = await _listing_target(update, context, "mod:warn:")
    if listing_id is None:
        return
    assert update.effective_user is not None
    owner = await context.storage.warn_owner(listing_id, update.effective_user.id, context.now())
    changed = owner is not None
    already = _("The author was already warned about this listing.")
    if await _done(update, context, listing_id, changed, _("Warned."), already):
        listing = await context.storage.get_listing(listing_id)
        assert owner is not None and listing is not None
        await notice(context, [owner], f"mod:warn:{listing_id}", WARNED, title=listing.title)


async def ban(update: Update, context: BotContext) -> None:
    """``mod:ban:<listing>``: ban the listing's author."""
    _ = context.i18n.gettext
    listing_id = await _listing_target(update, context, "mod:ban:")
    if listing_id is None:
        return
    assert update.effective_user is not None
    listing = await context.storage.get_listing(listing_id)
    assert listing is not None
    if listing.owner_id == update.effective_user.id:
        await update.callback_query.answer(_("You cannot ban yourself."), show_alert=True)  # type: ignore[union-attr]
        return
    now = context.now()
    changed = await context.storage.ban(
        listing.owner_id, update.effective_user.id, now, listing_id=listing_id
    )
    if await _done(update, context, listing_id, changed, _("Banned."), _("Already banned.")):
        await notice(context, [listing.owner_id], f"mod:ban:{listing.owner_id}:{now}", BANNED)


async def unban_button(update: Update, context: BotContext) -> None:
    """``mod:unban:<member>``."""
    _ = context.i18n.gettext
    query = update.callback_query
    user_id = await _target(update, context, "mod:unban:")
    if user_id is None or query is None:
        return
    assert update.effective_user is not None
    now = context.now()
    changed = await context.storage.unban(user_id, update.effective_user.id, now)
    await query.answer(_("Ban lifted.") if changed else _("Not banned."), show_alert=not changed)
    if changed:
        await notice(context, [user_id], f"mod:unban:{user_id}:{now}", UNBANNED)
        await query.edit_message_reply_markup(None)


async def history(update: Update, context: BotContext) -> None:
    """``mod:hist:<listing>``: its life, its reports, and admin actions on it and its author."""
    _ = context.i18n.gettext
    t = context.i18n
    listing_id = await _listing_target(update, context, "mod:hist:")
    if listing_id is None:
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
        lines.append(f"{when(t, at)} · {html.escape(status)}{extra} · {by_user or '—'}")
    lines.append("")
    lines.append(_("<b>Reports</b>"))
    for reason, status, at in await context.storage.listing_reports(listing_id):
        lines.append(f"{when(t, at)} · {_(REASON_LABELS.get(reason, reason))} · {status}")
    lines.append("")
    lines.append(_("<b>Admin actions about the author</b>"))
    for action in await context.storage.admin_log(user=listing.owner_id, limit=10):
        label = ACTION_LABELS.get(action.action)
        name = _(label) if label else html.escape(action.action)
        lines.append(f"{when(t, action.at)} · {action.admin_id or '—'} {name}")
    await reply(update, "\n".join(lines))


# --- commands: unban and admins ------------------------------------------------------------


def _argument(context: BotContext) -> int | None:
    args = context.args or []
    return parse_number(args[0]) if len(args) == 1 else None


async def unban_command(update: Update, context: BotContext) -> None:
    """``/unban <id>``."""
    _ = context.i18n.gettext
    if not await refuse_unless_admin(update, context):
        return
    user_id = _argument(context)
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


async def set_admin(update: Update, context: BotContext, flag: bool) -> None:
    _ = context.i18n.gettext
    user = update.effective_user
    assert user is not None
    if not is_root_admin(context, user.id):
        await reply(update, _("Only the administrators named in ADMIN_IDS can do this."))
        return
    user_id = _argument(context)
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
