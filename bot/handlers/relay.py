"""Messages through the bot once a contact is accepted: how a relayed message and the end of
the relay read for the other person (outbox renderers), and the Stop button outside the
writing dialog. Writing itself is a step of :mod:`bot.dialogs.contact`; the rules are in
:mod:`bot.storage.relay`.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import END_RELAY, OPEN_LISTING
from bot.context import CommunityApplication
from bot.delivery.outbox import Rendered
from bot.dialogs.contact import end_relay
from bot.i18n import Translator
from bot.storage import Storage
from bot.storage.moderation import RELAY_PARTY_GONE
from bot.storage.outbox import Notification
from bot.storage.relay import RELAY_ENDED, RELAYED
from bot.storage.verification import RELAY_SPEAKER_GONE
from bot.views import contacts as views


def register(application: CommunityApplication) -> None:
    application.add_handler(END_RELAY.handler(end_relay))
    # A relayed message is one turn of a conversation: it arrives as written, with its own
    # Reply, never folded into a numbered bundle (quiet hours still hold it).
    application.outbox.add_renderer(RELAYED, render_relayed, bundled=False)
    application.outbox.add_renderer(RELAY_ENDED, render_relay_ended)
    application.outbox.add_renderer(RELAY_SPEAKER_GONE, render_speaker_gone)
    application.outbox.add_renderer(RELAY_PARTY_GONE, render_party_gone)


async def render_relayed(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """A message written through the bot, with Reply and Stop. Not sent once the relay ended
    (stopping means stopping, at once) or the sender was erased or banned meanwhile."""
    _ = t.gettext
    message = await storage.get_contact_message(int(notification.payload["message"]))
    contact = await storage.get_contact(message.contact_id) if message else None
    sender = await storage.get_member(message.sender_id) if message and message.sender_id else None
    if (
        message is None
        or contact is None
        or contact.relay_ended_at is not None
        or sender is None
        or sender.banned
    ):
        return None
    head = _("✉️ <b>{name}</b> writes about {title}:").format(
        name=escape(sender.first_name), title=views.title_of(t, contact)
    )
    return Rendered(
        f"{head}\n{views.quote(message.text)}", views.relay_keyboard(t, contact, replying=True)
    )


async def render_relay_ended(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the other person: the relay was stopped, by whom."""
    _ = t.gettext
    contact = await storage.get_contact(int(notification.payload["contact"]))
    if contact is None or contact.relay_ended_by is None:
        return None
    who = await storage.get_member(contact.relay_ended_by)
    return Rendered(
        _("🔕 {name} stopped the messages through the bot about {title}.").format(
            name=escape(who.first_name) if who else "—", title=views.title_of(t, contact)
        )
    )


async def render_speaker_gone(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To both people: the official who accepted the contact no longer speaks for the
    municipality, so the relay with them ended; the asker may write to the municipality again
    from its listing."""
    _ = t.gettext
    contact = await storage.get_contact(int(notification.payload["contact"]))
    if contact is None or contact.municipality_id is None:
        return None
    municipality = escape(await storage.municipality_name(contact.municipality_id) or "")
    title = views.title_of(t, contact)
    if notification.user_id != contact.asker_id:
        return Rendered(
            _(
                "🔕 Messages through the bot about {title} have ended: you no longer represent "
                "{municipality}."
            ).format(title=title, municipality=municipality)
        )
    text = _(
        "🔕 Messages through the bot about {title} have ended: the person who accepted your "
        "contact no longer represents {municipality}. To write to the municipality again, open "
        "the listing."
    ).format(title=title, municipality=municipality)
    if contact.listing_id is None:
        return Rendered(text)
    open_it = InlineKeyboardButton(
        _("📄 Open"), callback_data=OPEN_LISTING.data(contact.listing_id)
    )
    return Rendered(text, InlineKeyboardMarkup([[open_it]]))


async def render_party_gone(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    """To the other person: the relay ended because its other person was banned or erased
    (which of the two is not theirs to know)."""
    contact = await storage.get_contact(int(notification.payload["contact"]))
    if contact is None:
        return None
    return Rendered(
        t.gettext(
            "🔕 Messages through the bot about {title} have ended: the other person can no "
            "longer be reached through the bot."
        ).format(title=views.title_of(t, contact))
    )
