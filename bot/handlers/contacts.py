"""Contacts after the first message: the owner side's Accept and Decline, /contacts and one
contact's card, and how every contact notification reads (outbox renderers).

Each button names a contact (``ct:<action>:<id>``); storage checks on every press that the
person is on the right side of it and that it is still pending, so a forged, forwarded or
replayed button changes nothing. Everything said to someone other than the person pressing
goes through the outbox, rendered in the recipient's language when it is sent, and only while
it still makes sense (a request decided meanwhile is not relayed any more).
"""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import cards
from bot import contact_views as views
from bot.callback_data import id_of
from bot.cards import shorten
from bot.context import BotContext
from bot.handlers.common import drop_buttons, reply
from bot.i18n import Translator
from bot.localtime import DEFAULT_ZONE, local
from bot.outbox import Rendered, renderer
from bot.storage import Contact, ContactRefused, Enqueued, Storage
from bot.storage.contacts import MESSAGE_MAX, MESSAGES_PER_SIDE
from bot.storage.outbox import Notification


def refusal(
    t: Translator,
    refused: ContactRefused,
    *,
    now: int = 0,
    zone: str = DEFAULT_ZONE,
    municipal: bool = True,
) -> str:
    """Why a contact or a message cannot be sent, in the reader's words: when it will be
    possible again in the reader's time ``zone`` ('tomorrow, 09:14'), and "your municipality"
    only for a ``municipal`` reader (a member of one)."""
    _ = t.gettext
    if refused.next_at is not None and refused.reason in ("daily", "listing_busy"):
        when = t.when(local(refused.next_at, zone), local(now, zone))
        if refused.reason == "daily":
            text = _("You have sent many contact requests today. You can send the next one {when}.")
        else:
            text = _("This listing received many requests today. You can try again {when}.")
        return t.sentence(text, when=when)
    if refused.reason in cards.ENDED_NOTICES and refused.at is not None:
        return cards.ended(t, refused.reason, refused.at)
    own = (
        _("This is your own listing (or your municipality's).")
        if municipal
        else _("This is your own listing.")
    )
    texts = {
        "gone": _("This listing is no longer open."),
        "own": own,
        "profile": _("Please set up your profile first: send /start."),
        "review": _("Your account is being reviewed by a moderator; please wait."),
        "already": _("You have already contacted the author of this listing: see /contacts."),
        "listing_busy": _("This listing received many requests today; please try tomorrow."),
        "duplicate": _(
            "You already sent this exact message. Please write a message for this contact."
        ),
        "too_many": t.ngettext(
            "You have sent {count} follow-up message already; please wait for an answer.",
            "You have sent {count} follow-up messages already; please wait for an answer.",
            MESSAGES_PER_SIDE,
        ).format(count=t.number(MESSAGES_PER_SIDE)),
        "not_party": _("This is not your contact."),
        "decided": _("This contact was already answered."),
    }
    return texts.get(refused.reason, _("This button is no longer valid."))


async def refusal_for(context: BotContext, refused: ContactRefused) -> str:
    """:func:`refusal` for the person of this update, in their time zone."""
    member = context.member
    zone = DEFAULT_ZONE
    if member is not None and refused.next_at is not None:
        zone = (await context.storage.preferences(member.id)).timezone
    municipal = member is not None and member.municipality_id is not None
    return refusal(context.i18n, refused, now=context.now(), zone=zone, municipal=municipal)


def too_long(t: Translator, length: int) -> str:
    return t.ngettext(
        "Your message has {length} character; please shorten it to {maximum} at most.",
        "Your message has {length} characters; please shorten it to {maximum} at most.",
        length,
    ).format(length=t.number(length), maximum=t.number(MESSAGE_MAX))


async def notify_relay(
    context: BotContext, kind: str, key: str, ids: dict[str, int], to: list[int]
):
    """Queue a notification of ``kind`` for each recipient, once each, and send it now."""
    notifications = [
        Enqueued(user, kind, f"{key}:{user}", ids, not_before=context.now()) for user in to
    ]
    await context.storage.enqueue(notifications, now=context.now())
    context.application.outbox.wake()  # type: ignore[attr-defined]


# --- Accept and Decline --------------------------------------------------------------------


async def _decide(update: Update, context: BotContext, accept: bool) -> Contact | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    contact_id = id_of(query.data, "ct:ok:" if accept else "ct:no:")
    if contact_id is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return None
    try:
        contact = await context.storage.decide_contact(
            contact_id, update.effective_user.id, accept=accept, now=context.now()
        )
    except ContactRefused as refused:
        await query.answer(await refusal_for(context, refused), show_alert=True)
        return None
    await query.answer()
    await drop_buttons(query)
    return contact


async def accept(update: Update, context: BotContext) -> None:
    """``ct:ok:<id>``: both sides get each other's contact; colleagues are told too."""
    _ = context.i18n.gettext
    contact = await _decide(update, context, accept=True)
    if contact is None:
        return
    asker = await context.storage.get_member(contact.asker_id) if contact.asker_id else None
    await reply(
        update,
        _("✅ You accepted. You can write to each other directly:")
        + "\n"
        + views.identity(context.i18n, asker)
        + "\n\n"
        + _("They have received your contact too."),
    )
    ids = {"contact": contact.id}
    if contact.asker_id is not None:
        await notify_relay(
            context, "contact_accepted", f"ct:acc:{contact.id}", ids, [contact.asker_id]
        )
    colleagues = [
        user for user in await context.storage.owner_side(contact) if user != contact.decided_by
    ]
    await notify_relay(context, "contact_accepted_team", f"ct:team:{contact.id}", ids, colleagues)


async def decline(update: Update, context: BotContext) -> None:
    """``ct:no:<id>``: the asker is told politely, without the owner side's identity."""
    _ = context.i18n.gettext
    contact = await _decide(update, context, accept=False)
    if contact is None:
        return
    await reply(update, _("Declined. They will be told politely, without your name."))
    if contact.asker_id is not None:
        await notify_relay(
            context, "contact_declined", f"ct:dec:{contact.id}", {"contact": contact.id},
            [contact.asker_id],
        )  # fmt: skip


# --- /contacts -----------------------------------------------------------------------------


async def contacts_command(update: Update, context: BotContext) -> None:
    """``/contacts`` (or the menu's button): the person's open and past contacts, newest
    first."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    if update.callback_query is not None:
        await update.callback_query.answer()
    found = await context.storage.contacts_of(update.effective_user.id)
    if not found:
        await reply(
            update,
            _(
                "You have no contacts yet. On a listing, tap “I can help” or “I'm interested” "
                "to write to its author."
            ),
        )
        return
    lines = [_("<b>Your contacts</b>"), ""]
    buttons = []
    for number, (contact, side) in enumerate(found, start=1):
        direction = "→" if side == "asker" else "←"
        title = html.escape(shorten(contact.listing_title, 60))
        lines.append(
            f"{number}. {direction} <b>{context.i18n.quote(title)}</b> · "
            f"{_(views.STATUS_LABELS[contact.status])}"
        )
        buttons.append(InlineKeyboardButton(str(number), callback_data=f"ct:show:{contact.id}"))
    lines += ["", _("→ you wrote · ← someone wrote to you. Tap a number to open it.")]
    rows = [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def show(update: Update, context: BotContext) -> None:
    """``ct:show:<id>``: one contact, with its messages, for someone who is part of it."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    contact_id = id_of(query.data, "ct:show:")
    if contact_id is None:
        await query.answer(context.i18n.gettext("This button is no longer valid."))
        return
    contact = await context.storage.get_contact(contact_id)
    side = (
        await context.storage.contact_side(contact, update.effective_user.id) if contact else None
    )
    if contact is None or side is None:
        await query.answer(context.i18n.gettext("This is not your contact."), show_alert=True)
        return
    await query.answer()
    await reply(
        update,
        await contact_card(context.storage, context.i18n, contact, side),
        reply_markup=views.keyboard(context.i18n, contact, side),
    )


async def contact_card(storage: Storage, t: Translator, contact: Contact, side: str) -> str:
    other = None
    if contact.status == "accepted":
        other_id = contact.decided_by if side == "asker" else contact.asker_id
        other = await storage.get_member(other_id) if other_id else None
    messages = await storage.contact_messages(contact.id)
    return views.card(t, contact, side, messages, other)


# --- notifications -------------------------------------------------------------------------


async def _contact_of(storage: Storage, notification: Notification) -> Contact | None:
    return await storage.get_contact(int(notification.payload["contact"]))


@renderer("contact_request")
async def render_request(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the owner side: the request, without the asker's identity."""
    _ = t.gettext
    contact = await _contact_of(storage, notification)
    if contact is None or contact.status != "pending":
        return None  # answered (or withdrawn) before this was sent
    messages = await storage.contact_messages(contact.id)
    asker = await storage.get_member(contact.asker_id) if contact.asker_id else None
    lines = [views.asked_line(t, contact), views.anonymous(t, asker)]
    if asker is not None:
        lines.append(_("🗣 Written in {language}").format(language=t.language_name(asker.language)))
    if messages:
        lines.append(views.quote(messages[0].text))
    lines.append(_("Their name and contact stay hidden until you accept; so do yours."))
    return Rendered("\n".join(lines), views.keyboard(t, contact, "owner"))


@renderer("contact_message")
async def render_message(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """A follow-up message, to the other side."""
    _ = t.gettext
    message = await storage.get_contact_message(int(notification.payload["message"]))
    contact = await storage.get_contact(message.contact_id) if message else None
    if message is None or contact is None or contact.status == "withdrawn":
        return None
    if message.from_asker:
        head = _("✉️ <b>New message about {title}</b> from the person who wrote to you:")
        side = "owner"
    else:
        head = _("✉️ <b>New message about {title}</b> from the listing's author:")
        side = "asker"
    text = head.format(title=views.title_of(t, contact)) + "\n" + views.quote(message.text)
    return Rendered(text, views.keyboard(t, contact, side))


@renderer("contact_accepted")
async def render_accepted(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the asker: accepted, and who accepted (the only way identity reaches them)."""
    _ = t.gettext
    contact = await _contact_of(storage, notification)
    if contact is None or contact.status != "accepted":
        return None
    author = await storage.get_member(contact.decided_by) if contact.decided_by else None
    if author is None:
        return None  # the author erased their data meanwhile
    return Rendered(
        _("🎉 <b>Your message about {title} was accepted!</b>").format(
            title=views.title_of(t, contact)
        )
        + "\n"
        + _("You can write to each other directly:")
        + "\n"
        + views.identity(t, author)
    )


@renderer("contact_accepted_team")
async def render_accepted_team(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the other officials: a colleague accepted; here is the person."""
    _ = t.gettext
    contact = await _contact_of(storage, notification)
    if contact is None or contact.status != "accepted":
        return None
    colleague = await storage.get_member(contact.decided_by) if contact.decided_by else None
    asker = await storage.get_member(contact.asker_id) if contact.asker_id else None
    return Rendered(
        _("✅ {colleague} accepted the contact about {title}. The person:").format(
            colleague=html.escape(colleague.first_name) if colleague else "—",
            title=views.title_of(t, contact),
        )
        + "\n"
        + views.identity(t, asker)
    )


@renderer("contact_declined")
async def render_declined(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the asker: politely, and nothing about who declined."""
    _ = t.gettext
    contact = await _contact_of(storage, notification)
    if contact is None or contact.status != "declined":
        return None
    return Rendered(
        _(
            "Thank you for your message about {title}. The author cannot take it up this "
            "time. Other listings may need you: /browse"
        ).format(title=views.title_of(t, contact))
    )
