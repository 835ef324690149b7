"""Writing to someone through the bot: a dialog of one question, the message.

"I can help" on a request, "I'm interested" on an offer (on a card or a match) → the message
→ sent: a contact is opened and relayed to the listing's owner and the officials of its
municipality, who Accept or Decline. Reply on a pending contact → a follow-up message, relayed
to the other side. Nobody's identity is in any of it: that comes only with an Accept
(:mod:`bot.handlers.contacts`).

Once accepted, "Write through the bot" (or Reply on a message relayed that way) opens the
relay (:mod:`bot.storage.relay`): every message typed goes to the other person until Done,
for when one of them has no public username to be reached by.

Who may write is checked when the button is pressed and again, in the same transaction as the
insert, when the message is sent (limits, duplicates, a contact decided meanwhile).

This dialog has a handler group of its own, before every feature's (:data:`GROUP`): the
message goes here even when the person was in the middle of posting, and nothing else sees
what this dialog takes. Anything else they do meanwhile (a command, another button) ends it
and goes on to the features, as if this dialog had not been there; help and a new language
keep it (the question is asked again after them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot.buttons import (
    CONTACTS,
    END_RELAY,
    LANGUAGE,
    MENU,
    RELAY,
    WRITE_AGAIN,
    WRITE_TO_AUTHOR,
    drop_buttons,
)
from bot.context import BotContext, reply
from bot.delivery.timing import after_quiet_hours
from bot.dialogs.dialog import END, Ask, Dialog, Handler, resume_dialogs
from bot.dialogs.steps import TypedText, clean_block, has_letter
from bot.i18n import N_, Translator
from bot.places.timezones import DEFAULT_ZONE, local
from bot.storage import ContactRefused
from bot.storage.contacts import MESSAGE_MAX, MESSAGES_PER_SIDE
from bot.storage.relay import RELAY_PER_HOUR
from bot.views import cards
from bot.views.texts import quoted_title

GROUP = -1  # before every feature's handlers (group 0), after identifying and the ban guard
DIALOG = Dialog("contact", CONTACTS, stops=True)
TYPING, RELAYING = 0, 1


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
    if refused.next_at is not None and refused.reason in ("daily", "listing_busy", "relay_busy"):
        when = t.when(local(refused.next_at, zone), local(now, zone))
        if refused.reason == "daily":
            text = _("You have sent many contact requests today. You can send the next one {when}.")
        elif refused.reason == "listing_busy":
            text = _("This listing received many requests today. You can try again {when}.")
        else:
            text = t.ngettext(
                "You have sent {count} message through the bot in the last hour. You can write "
                "again {when}.",
                "You have sent {count} messages through the bot in the last hour. You can write "
                "again {when}.",
                RELAY_PER_HOUR,
            ).replace("{count}", t.number(RELAY_PER_HOUR))
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
        "not_declined": _("There is nothing to undo."),
        "too_late": _("Too late to undo: they have already been told."),
        "not_accepted": _("Messages through the bot are possible once the contact is accepted."),
        "relay_ended": _("Messages through the bot about this contact have been stopped."),
        "unreachable": _("They can no longer be reached through the bot."),
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


# --- starting: may this person write? --------------------------------------------------------


async def _refuse(update: Update, text: str) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer(text, show_alert=True)
    return END


async def write_to_author(update: Update, context: BotContext, listing_id: int) -> int:
    """May this person write to the listing's author? Then ask for the message."""
    assert update.callback_query is not None and update.effective_user is not None
    try:
        await context.storage.check_contact(update.effective_user.id, listing_id, context.now())
    except ContactRefused as refused:
        return await _refuse(update, await refusal_for(context, refused))
    listing = await context.storage.get_listing(listing_id)
    assert listing is not None
    await update.callback_query.answer()
    return await DIALOG.begin(
        update, context, TYPING, listing=listing_id, title=listing.title, kind=listing.kind
    )


async def write_again(update: Update, context: BotContext, contact_id: int) -> int:
    """A follow-up message, by someone who is part of the contact."""
    assert update.callback_query is not None and update.effective_user is not None
    contact = await context.storage.get_contact(contact_id)
    if contact is None or not await context.storage.contact_side(contact, update.effective_user.id):
        return await _refuse(update, refusal(context.i18n, ContactRefused("not_party")))
    if contact.status != "pending":
        return await _refuse(update, refusal(context.i18n, ContactRefused("decided")))
    await update.callback_query.answer()
    return await DIALOG.begin(
        update, context, TYPING, contact=contact.id, title=contact.listing_title
    )


# --- the message -------------------------------------------------------------------------------


async def ask_message(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = DIALOG.answers(context)
    title = quoted_title(context.i18n, given.get("title", ""))
    if "contact" in given:
        text = _(
            "Type your message about {title} (up to {maximum} characters). The bot relays it; "
            "names stay hidden until the contact is accepted."
        )
    elif given.get("kind") == "request":
        text = _(
            "You can help with {title}: write a short message to its author (up to {maximum} "
            "characters): who you are, what you can offer, when. Your name and contact stay "
            "hidden until they accept."
        )
    else:
        text = _(
            "You are interested in {title}: write a short message to its author (up to "
            "{maximum} characters): who you are, what you need, when. Your name and contact "
            "stay hidden until they accept."
        )
    await reply(
        update,
        text.format(title=title, maximum=context.i18n.number(MESSAGE_MAX)),
        reply_markup=InlineKeyboardMarkup(DIALOG.navigation(context.i18n, TYPING)),
    )


def check_message(t: Translator, typed: str) -> str | None:
    """Why a message is refused: too long, or without a word."""
    text = clean_block(typed)
    if len(text) > MESSAGE_MAX:
        return too_long(t, len(text))
    if not has_letter(text):
        return t.gettext("Please write a few words.")
    return None


def too_long(t: Translator, length: int) -> str:
    return t.ngettext(
        "Your message has {length} character; please shorten it to {maximum} at most.",
        "Your message has {length} characters; please shorten it to {maximum} at most.",
        length,
    ).format(length=t.number(length), maximum=t.number(MESSAGE_MAX))


async def send(update: Update, context: BotContext, text: str) -> int | None:
    """Store the message and what the other side is told (through the outbox), then end."""
    _ = context.i18n.gettext
    assert update.effective_user is not None
    given = DIALOG.answers(context)
    me, now = update.effective_user.id, context.now()
    try:
        async with DIALOG.ending(update, context):  # one transaction: the message, the end
            # The storage queues what the other side is told, in the same transaction.
            if "contact" in given:
                await context.storage.add_contact_message(int(given["contact"]), me, text, now)
            else:
                await context.storage.open_contact(me, int(given["listing"]), text, now)
    except ContactRefused as refused:
        await reply(update, await refusal_for(context, refused))
        if refused.reason == "duplicate":
            return None  # they may write another message
        return await DIALOG.finish(update, context)
    await DIALOG.finish(update, context)
    context.community.outbox.wake()
    await reply(
        update, _("✉️ Sent! You will be told here when they answer. Your contacts: /contacts")
    )
    await resume_dialogs(update, context)
    return END


def typed_message(
    ask: Ask,
    answered: Callable[[Update, BotContext, str], Awaitable[int | None]],
    check: Callable[[Translator, str], str | None],
) -> TypedText:
    """A step where a message to the other person is typed: a first one, or one through the
    bot. Either keeps the lines as written, and has the same hint."""
    return TypedText(
        ask,
        answered=answered,
        check=check,
        clean=clean_block,
        hint=N_("Please type your message as text, or send /cancel."),
    )


DIALOG.add(TYPING, typed_message(ask_message, send, check_message))


# --- the relay, once accepted --------------------------------------------------------------------


async def write_through_bot(update: Update, context: BotContext, contact_id: int) -> int:
    """Write to the other person of an accepted contact: every message typed is relayed."""
    assert update.callback_query is not None and update.effective_user is not None
    me = update.effective_user.id
    try:
        contact = await context.storage.relay_contact(contact_id, me, now=context.now())
    except ContactRefused as refused:
        return await _refuse(update, await refusal_for(context, refused))
    other = await context.storage.get_member(contact.other_side(me) or 0)
    await update.callback_query.answer()
    return await DIALOG.begin(
        update,
        context,
        RELAYING,
        relay=contact.id,
        title=contact.listing_title,
        name=other.first_name if other else "",
    )


async def ask_relayed(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    given = DIALOG.answers(context)
    text = context.i18n.ngettext(
        "✉️ Type your message to {name} about {title}. The bot forwards each message you send "
        "here (up to {count} character) until you tap Done.",
        "✉️ Type your message to {name} about {title}. The bot forwards each message you send "
        "here (up to {count} characters) until you tap Done.",
        MESSAGE_MAX,
    ).format(
        name=escape(given.get("name", "")),
        title=quoted_title(context.i18n, given.get("title", "")),
        count=context.i18n.number(MESSAGE_MAX),
    )
    done = InlineKeyboardButton(_("✅ Done"), callback_data=DIALOG.cancel.data(None))
    await reply(update, text, reply_markup=InlineKeyboardMarkup([[done]]))


def check_relayed(t: Translator, typed: str) -> str | None:
    """A relayed message may be anything but empty, within the length of a message."""
    text = clean_block(typed)
    if len(text) > MESSAGE_MAX:
        return too_long(t, len(text))
    if not text:
        return t.gettext("Please write a few words.")
    return None


async def send_relayed(update: Update, context: BotContext, text: str) -> int | None:
    """Store and queue the message for the other person (once, whatever happens), and stay
    on this step for the next one."""
    _ = context.i18n.gettext
    assert update.effective_user is not None and update.message is not None
    given = DIALOG.answers(context)
    try:
        await context.storage.relay_message(
            int(given["relay"]),
            update.effective_user.id,
            text,
            telegram_message_id=update.message.message_id,
            now=context.now(),
        )
    except ContactRefused as refused:
        await reply(update, await refusal_for(context, refused))
        if refused.reason == "relay_busy":
            return None
        return await DIALOG.finish(update, context)
    context.community.outbox.wake()
    await DIALOG.stay(update, context, RELAYING)  # this update moved the dialog: never twice
    name = escape(given.get("name", ""))
    if await _in_quiet_hours(context, int(given["relay"]), update.effective_user.id):
        # The truth, without the other person's time zone or hours: those are theirs.
        told = _("✓ Your message to {name} will be delivered when their quiet hours end.")
    else:
        told = _("✓ Forwarded to {name}.")
    await reply(update, told.format(name=name))
    return None


async def _in_quiet_hours(context: BotContext, contact_id: int, sender: int) -> bool:
    """Whether the outbox would hold a message for the sender's other person now (as it
    decides at send time, by the recipient's settings and time zone)."""
    contact = await context.storage.get_contact(contact_id)
    other = contact.other_side(sender) if contact else None
    if other is None:
        return False
    now = context.now()
    prefs = await context.storage.preferences_of([other], blocked_too=True)
    return other in prefs and after_quiet_hours(now, prefs[other]) > now


DIALOG.add(RELAYING, typed_message(ask_relayed, send_relayed, check_relayed))


async def end_relay(update: Update, context: BotContext, contact_id: int) -> int:
    """Stop messages through the bot about a contact, for good, either way; the other person
    is told. Also ends writing through the bot, if one was."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if DIALOG.in_progress(context):
        await DIALOG.finish(update, context)
    try:
        contact = await context.storage.end_relay(
            contact_id, update.effective_user.id, now=context.now()
        )
    except ContactRefused as refused:
        await query.answer(await refusal_for(context, refused), show_alert=True)
        return END
    context.community.outbox.wake()
    await query.answer()
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await drop_buttons(update)
    await reply(
        update,
        _("Stopped: no more messages through the bot about {title}, either way.").format(
            title=quoted_title(context.i18n, contact.listing_title)
        ),
    )
    return END


# --- leaving -----------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    _ = context.i18n.gettext
    if "relay" in DIALOG.answers(context):  # what was typed is on its way: Done, not Cancel
        text = _("Done. To write to them again: /contacts")
    else:
        text = _("Cancelled: nothing was sent.")
    await DIALOG.cancelled(update, context, text)
    await resume_dialogs(update, context)
    return END


def _keeps(update: Update) -> bool:
    """Help and a new language leave the message waiting (it is asked again after them)."""
    if update.callback_query is not None:
        data = update.callback_query.data
        return LANGUAGE.matches(data) or data in (MENU.data("help"), MENU.data("language"))
    command = (update.message.text or "") if update.message is not None else ""
    return command.split(" ", 1)[0].split("@", 1)[0] in ("/help", "/language")


async def elsewhere(update: Update, context: BotContext) -> int | None:
    """A command or a button that is not this dialog's: it goes on to the features. Help and
    language keep the dialog; anything else ends it, so that the next text goes where the
    person now is."""
    if _keeps(update):
        return None
    return await DIALOG.finish(update, context)


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[
            WRITE_TO_AUTHOR.handler(write_to_author),
            WRITE_AGAIN.handler(write_again),
            RELAY.handler(write_through_bot),
        ],
        fallbacks=[
            CommandHandler("cancel", cancel),
            DIALOG.cancel.handler(cancel),
            END_RELAY.handler(end_relay),
        ],
        passing=[
            MessageHandler(f.UpdateType.MESSAGE & f.COMMAND, elsewhere),
            CallbackQueryHandler(elsewhere),
        ],
        allow_reentry=True,
    )
