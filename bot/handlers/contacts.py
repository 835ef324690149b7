"""Contacts: writing to someone (the dialog, :mod:`bot.dialogs.contact`), the owner side's
Accept and Decline, /contacts and one contact's card, and how every contact notification reads
(outbox renderers).

Declining asks for a confirmation, then can be undone for a few minutes: the notices it
queues (to the asker, worded for the part they offered to play, and to the decider's
colleagues) wait in the outbox until the window ends, and an Undo cancels them
(:meth:`bot.storage.contacts.ContactQueries.undo_decline`).

Each button names a contact; storage checks on every press that the person is on the right
side of it and that it is still pending, so a forged, forwarded or replayed button changes
nothing. Everything said to someone other than the person pressing
goes through the outbox, rendered in the recipient's language when it is sent, and only while
it still makes sense (a request decided meanwhile is not relayed any more).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.buttons import (
    ACCEPT_CONTACT,
    CONTACT_LIST,
    CONTACTS,
    DECLINE_CONTACT,
    ID,
    drop_buttons,
)
from bot.context import BotContext, CommunityApplication, reply
from bot.delivery.outbox import Rendered, Renderer
from bot.dialogs import contact as writing
from bot.dialogs.contact import refusal_for
from bot.i18n import Translator
from bot.storage import Contact, ContactRefused, Member, Storage
from bot.storage.contacts import (
    ACCEPTED,
    ACCEPTED_TEAM,
    DECLINED,
    DECLINED_TEAM,
    MESSAGE,
    REQUEST,
    UNDO_WINDOW,
)
from bot.storage.outbox import Notification
from bot.views import contacts as views
from bot.views.texts import quoted_title


def register(application: CommunityApplication) -> None:
    # The message being written goes to the dialog first, in a group of its own: see
    # bot/dialogs/contact.py.
    application.add_handler(writing.conversation(), group=writing.GROUP)
    application.dialogs.append(writing.DIALOG)
    application.add_handlers(
        [
            ACCEPT_CONTACT.handler(accept),
            DECLINE_CONTACT.handler(ask_decline),
            CONFIRM_DECLINE.handler(decline),
            UNDO_DECLINE.handler(undo_decline),
            SHOW_CONTACT.handler(show),
            CommandHandler("contacts", contacts_command),
            CONTACT_LIST.handler(contacts_command),
        ]
    )
    outbox = application.outbox
    outbox.add_renderer(REQUEST, _while(_still("pending"), render_request, "owner"))
    outbox.add_renderer(MESSAGE, render_message)
    outbox.add_renderer(ACCEPTED, _while(_still("accepted"), render_accepted, "asker"))
    outbox.add_renderer(ACCEPTED_TEAM, _while(_still("accepted"), render_accepted_team, "owner"))
    outbox.add_renderer(DECLINED, _while(_decline_stands, render_declined, "asker"))
    outbox.add_renderer(DECLINED_TEAM, _while(_decline_stands, render_declined_team, "owner"))


SHOW_CONTACT = CONTACTS.button("show", ID)
CONFIRM_DECLINE = CONTACTS.button("nox", ID)
UNDO_DECLINE = CONTACTS.button("undo", ID)


# --- Accept and Decline --------------------------------------------------------------------


class _ContactChange(Protocol):
    """A storage change of a contact by one person (:class:`ContactRefused` when they may
    not, or not any more)."""

    def __call__(self, contact_id: int, user_id: int, *, now: int) -> Awaitable[Contact]: ...


async def _by_presser(
    update: Update, context: BotContext, change: _ContactChange, contact_id: int
) -> Contact | None:
    """``change`` the contact for the person who pressed; the press answered: quietly when
    done, else with the refusal in an alert, and None (an Undo too late also loses its button:
    nothing can be undone any more)."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        contact = await change(contact_id, update.effective_user.id, now=context.now())
    except ContactRefused as refused:
        await query.answer(await refusal_for(context, refused), show_alert=True)
        if refused.reason == "too_late":
            await drop_buttons(update)
        return None
    await query.answer()
    return contact


async def _change_and_say(
    update: Update,
    context: BotContext,
    change: _ContactChange,
    contact_id: int,
    answer: Callable[[Translator, Contact], tuple[str, InlineKeyboardMarkup | None]],
) -> None:
    """``change`` the contact for the person who pressed, then the pressed message says how
    it stands now, with its buttons (``answer``)."""
    contact = await _by_presser(update, context, change, contact_id)
    if contact is None:
        return
    assert update.callback_query is not None
    text, keyboard = answer(context.i18n, contact)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


async def accept(update: Update, context: BotContext, contact_id: int) -> None:
    """Accept: both sides get each other's contact; colleagues are told too."""
    _ = context.i18n.gettext
    contact = await _by_presser(update, context, context.storage.accept_contact, contact_id)
    if contact is None:
        return
    await drop_buttons(update)
    asker = await context.storage.get_member(contact.asker_id) if contact.asker_id else None
    await reply(
        update,
        _("✅ You accepted. You can now write to each other:")
        + "\n"
        + views.identity(context.i18n, asker, relay=True)
        + "\n\n"
        + _("They have received your contact too."),
        reply_markup=_relay_buttons(context.i18n, contact, asker),
    )
    context.community.outbox.wake()  # the Accept's notices were queued with it


def _relay_buttons(
    t: Translator, contact: Contact, other: Member | None
) -> InlineKeyboardMarkup | None:
    """Writing through the bot, for a newly accepted contact whose other side has no public
    username."""
    if not views.relay_offered(contact, other, used=False):
        return None
    return views.relay_keyboard(t, contact, stop=False)


async def _with_side(
    context: BotContext, contact_id: int, user_id: int
) -> tuple[Contact | None, str | None]:
    """The contact and the person's side of it ("asker", "owner", or None: not theirs)."""
    contact = await context.storage.get_contact(contact_id)
    side = await context.storage.contact_side(contact, user_id) if contact else None
    return contact, side


def _undo_ends(t: Translator) -> str:
    """When the Undo window ends, as the reader says it: 'in 5 minutes', 'dans 5 minutes'."""
    return t.timedelta(timedelta(seconds=UNDO_WINDOW), direction=True)


async def ask_decline(update: Update, context: BotContext, contact_id: int) -> None:
    """Decline? A question under the request, for someone who may still answer it."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.message is not None and update.effective_user is not None
    contact, side = await _with_side(context, contact_id, update.effective_user.id)
    if contact is None or side != "owner":
        await query.answer(await refusal_for(context, ContactRefused("not_party")), show_alert=True)
        return
    if contact.status != "pending":
        await query.answer(await refusal_for(context, ContactRefused("decided")), show_alert=True)
        return
    await query.answer()
    yes = InlineKeyboardButton(_("✖️ Yes, decline"), callback_data=CONFIRM_DECLINE.data(contact.id))
    await query.message.chat.send_message(
        _(
            "Decline the contact about {title}? They will be told politely, without your "
            "name, {when}; until then you can undo it."
        ).format(title=views.title_of(context.i18n, contact), when=_undo_ends(context.i18n)),
        reply_markup=InlineKeyboardMarkup([[yes]]),
    )


async def decline(update: Update, context: BotContext, contact_id: int) -> None:
    """Declined, confirmed: the notices wait in the outbox for the Undo window."""
    await _change_and_say(
        update, context, context.storage.decline_contact, contact_id, _declined_answer
    )


def _declined_answer(t: Translator, contact: Contact) -> tuple[str, InlineKeyboardMarkup]:
    _ = t.gettext
    # The message keeps its buttons (Undo, then the answers again): a second tap already in
    # flight is refused by storage, which decides once.
    undo = InlineKeyboardButton(_("↩️ Undo"), callback_data=UNDO_DECLINE.data(contact.id))
    text = _("Declined. They will be told politely, without your name, {when}.").format(
        when=_undo_ends(t)
    )
    return text, InlineKeyboardMarkup([[undo]])


async def undo_decline(update: Update, context: BotContext, contact_id: int) -> None:
    """Undo a decline while nobody has been told: the request waits for an answer again."""
    await _change_and_say(update, context, context.storage.undo_decline, contact_id, _undone_answer)


def _undone_answer(t: Translator, contact: Contact) -> tuple[str, InlineKeyboardMarkup | None]:
    text = t.gettext(
        "Undone: nobody was told. The contact about {title} waits for your answer again."
    ).format(title=views.title_of(t, contact))
    return text, views.keyboard(t, contact, "owner")


# --- /contacts -----------------------------------------------------------------------------


async def contacts_command(update: Update, context: BotContext, _none: None = None) -> None:
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
        title = quoted_title(context.i18n, contact.listing_title, 60)
        lines.append(
            f"{number}. {direction} <b>{title}</b> · {_(views.STATUS_LABELS[contact.status])}"
        )
        buttons.append(
            InlineKeyboardButton(str(number), callback_data=SHOW_CONTACT.data(contact.id))
        )
    lines += ["", _("→ you wrote · ← someone wrote to you. Tap a number to open it.")]
    rows = [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def show(update: Update, context: BotContext, contact_id: int) -> None:
    """One contact, with its messages, for someone who is part of it."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    contact, side = await _with_side(context, contact_id, update.effective_user.id)
    if contact is None or side is None:
        await query.answer(context.i18n.gettext("This is not your contact."), show_alert=True)
        return
    await query.answer()
    text, keyboard = await contact_card(
        context.storage, context.i18n, contact, side, update.effective_user.id
    )
    await reply(update, text, reply_markup=keyboard)


async def contact_card(
    storage: Storage, t: Translator, contact: Contact, side: str, reader: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card and its buttons: a pending contact's answers, or an accepted one's relay for
    its two people."""
    other, keyboard = None, views.keyboard(t, contact, side)
    party = reader in (contact.asker_id, contact.decided_by)
    if contact.status == "accepted":
        other_id = contact.decided_by if side == "asker" else contact.asker_id
        other = await storage.get_member(other_id) if other_id else None
    relay = party and views.relay_offered(contact, other, used=await storage.relay_used(contact.id))
    if relay:
        keyboard = views.relay_keyboard(t, contact)
    messages = await storage.contact_messages(contact.id)
    if not party:  # a colleague of who accepted: the request's messages, not their relay
        messages = [message for message in messages if not message.relayed]
    return views.card(t, contact, side, messages, other, relay=relay), keyboard


# --- notifications -------------------------------------------------------------------------


ContactRenderer = Callable[[Storage, Contact, Translator], Awaitable[Rendered | None]]
Stands = Callable[[Contact, dict[str, Any]], bool]  # the contact, the notice's payload


def _while(stands: Stands, render: ContactRenderer, side: str) -> Renderer:
    """The outbox renderer of a notice about a contact for its ``side``: ``render``, while
    what the notice tells still ``stands`` (else the notice is dropped: the contact was
    answered, withdrawn, or the decline undone, before it was sent) and the reader is still
    on that side (an official who left the municipality, or lost the verification, while the
    notice waited for their quiet hours must not read the asker's message nor who they are)."""

    async def rendered(
        storage: Storage, notification: Notification, t: Translator, now: int
    ) -> Rendered | None:
        contact = await storage.get_contact(int(notification.payload["contact"]))
        if contact is None or not stands(contact, notification.payload):
            return None
        if await storage.contact_side(contact, notification.user_id) != side:
            return None
        return await render(storage, contact, t)

    return rendered


def _still(status: str) -> Stands:
    return lambda contact, _payload: contact.status == status


def _decline_stands(contact: Contact, payload: dict[str, Any]) -> bool:
    """The decline the notice is about (an Undo cancels the notice; a row from before has no
    count of declines, and is dropped too)."""
    return contact.status == "declined" and contact.declines == payload.get("declines")


async def _decider(storage: Storage, contact: Contact) -> str:
    """Who of the owner side answered, for their colleagues: the first name, escaped."""
    colleague = await storage.get_member(contact.decided_by) if contact.decided_by else None
    return html.escape(colleague.first_name) if colleague else "—"


async def render_request(storage: Storage, contact: Contact, t: Translator) -> Rendered | None:
    """To the owner side: the request, without the asker's identity."""
    _ = t.gettext
    messages = await storage.contact_messages(contact.id)
    asker = await storage.get_member(contact.asker_id) if contact.asker_id else None
    lines = [views.asked_line(t, contact), views.anonymous(t, asker)]
    if asker is not None:
        lines.append(_("🗣 Written in {language}").format(language=t.language_name(asker.language)))
    if messages:
        lines.append(views.quote(messages[0].text))
    lines.append(_("Their name and contact stay hidden until you accept; so do yours."))
    return Rendered("\n".join(lines), views.keyboard(t, contact, "owner"))


async def render_message(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """A follow-up message, to the other side."""
    _ = t.gettext
    message = await storage.get_contact_message(int(notification.payload["message"]))
    contact = await storage.get_contact(message.contact_id) if message else None
    if message is None or contact is None or contact.status == "withdrawn":
        return None
    reader = await storage.contact_side(contact, notification.user_id)
    if reader != ("owner" if message.from_asker else "asker"):
        return None  # no longer the owner side's (left, revoked): see _while
    if message.from_asker:
        head = _("✉️ <b>New message about {title}</b> from the person who wrote to you:")
        side = "owner"
    else:
        head = _("✉️ <b>New message about {title}</b> from the listing's author:")
        side = "asker"
    text = head.format(title=views.title_of(t, contact)) + "\n" + views.quote(message.text)
    return Rendered(text, views.keyboard(t, contact, side))


async def render_accepted(storage: Storage, contact: Contact, t: Translator) -> Rendered | None:
    """To the asker: accepted, and who accepted (the only way identity reaches them)."""
    _ = t.gettext
    author = await storage.get_member(contact.decided_by) if contact.decided_by else None
    if author is None:
        return None  # the author erased their data meanwhile
    return Rendered(
        _("🎉 <b>Your message about {title} was accepted!</b>").format(
            title=views.title_of(t, contact)
        )
        + "\n"
        + _("You can now write to each other:")
        + "\n"
        + views.identity(t, author, relay=True),
        _relay_buttons(t, contact, author),
    )


async def render_accepted_team(
    storage: Storage, contact: Contact, t: Translator
) -> Rendered | None:
    """To the other officials: a colleague accepted; here is the person."""
    _ = t.gettext
    asker = await storage.get_member(contact.asker_id) if contact.asker_id else None
    return Rendered(
        _("✅ {colleague} accepted the contact about {title}. The person:").format(
            colleague=await _decider(storage, contact),
            title=views.title_of(t, contact),
        )
        + "\n"
        + views.identity(t, asker)
    )


async def render_declined(storage: Storage, contact: Contact, t: Translator) -> Rendered | None:
    """To the asker: politely, worded for the part they offered, and nothing about who
    declined."""
    return Rendered(views.declined_notice(t, contact))


async def render_declined_team(
    storage: Storage, contact: Contact, t: Translator
) -> Rendered | None:
    """To the decider's colleagues: who declined (the request they were sent is answered)."""
    _ = t.gettext
    return Rendered(
        _("✖️ {colleague} declined the contact about {title}.").format(
            colleague=await _decider(storage, contact),
            title=views.title_of(t, contact),
        )
    )
