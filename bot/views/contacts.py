"""How contacts read: who someone is (only once accepted), who they are without their identity
(before), relayed messages, and a contact's buttons. No side effects; user text escaped.

The rule this module keeps: :func:`identity` (name, link, municipality or organisation) is
only ever called for the other side of an *accepted* contact; everything shown before an
Accept uses :func:`anonymous`, the role and the country alone.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import ACCEPT_CONTACT, DECLINE_CONTACT, END_RELAY, RELAY, WRITE_AGAIN
from bot.i18n import N_, Translator
from bot.storage import Contact, ContactMessage, Counterpart, Member
from bot.views.html import shorten
from bot.views.texts import place_line_of, quoted_title

STATUS_LABELS = {
    "pending": N_("⏳ waiting for an answer"),
    "accepted": N_("✅ accepted"),
    "declined": N_("✖️ declined"),
    "withdrawn": N_("✖️ withdrawn"),
}
ANONYMOUS = {
    "municipality": N_("🏛 A municipality in {country}"),
    "organisation": N_("💼 A project holder or organisation in {country}"),
    "volunteer": N_("🤝 A volunteer in {country}"),
}


def title_of(t: Translator, contact: Contact) -> str:
    """The listing's title, escaped, in the reader's quotation marks."""
    return quoted_title(t, contact.listing_title)


def quote(text: str) -> str:
    return f"<blockquote>{escape(text)}</blockquote>"


def anonymous(t: Translator, member: Member | None) -> str:
    """Who wrote, without anything that identifies them: role, country, verified or not."""
    _ = t.gettext
    if member is None or member.role is None:
        return _("🤝 A member")
    country = escape(t.country(member.country)) if member.country else "?"
    line = _(ANONYMOUS[member.role]).format(country=country)
    if member.verified:
        line += " ✅"
    return line


def identity(t: Translator, member: Member | None, *, relay: bool = False) -> str:
    """Name, a handle that works whatever their Telegram privacy settings, and what they speak
    for: for accepted contacts only. The handle is their public username; without one, and
    for the two people of the contact (``relay``), the button that writes through the bot."""
    _ = t.gettext
    if member is None:
        return _("(this account was deleted)")
    name = escape(member.first_name or str(member.id))
    lines = [f"👤 <b>{name}</b>"]
    if member.username:
        username = escape(member.username)
        lines[0] += f' · <a href="https://t.me/{username}">@{username}</a>'
    elif relay:
        lines.append(
            _("✉️ No public username: write to them through the bot, with the button below.")
        )
    where = place_line_of(t, member)
    if member.municipality_name:
        badge = " ✅" if member.verified else ""
        lines.append(f"🏛 {escape(member.municipality_name)}{badge}")
    elif member.organisation_name:
        lines.append(f"💼 {escape(member.organisation_name)}")
    else:
        lines.append("🤝 " + _("Volunteer"))
    if where:
        lines.append(f"📍 {where}")
    return "\n".join(lines)


def relay_offered(contact: Contact, other: Member | None, used: bool) -> bool:
    """Whether the two people of an accepted contact are shown the relay's buttons: while it is
    open, when the other one has no public username or it was used already."""
    return (
        contact.status == "accepted"
        and contact.relay_ended_at is None
        and other is not None
        and (not other.username or used)
    )


def relay_keyboard(
    t: Translator, contact: Contact, *, stop: bool = True, replying: bool = False
) -> InlineKeyboardMarkup:
    """Write to the other one through the bot (Reply, under a message relayed that way), and
    end that for good."""
    _ = t.gettext
    label = _("✉️ Reply") if replying else _("✉️ Write through the bot")
    rows = [[InlineKeyboardButton(label, callback_data=RELAY.data(contact.id))]]
    if stop:
        rows.append(
            [
                InlineKeyboardButton(
                    _("🔕 Stop messages through the bot"), callback_data=END_RELAY.data(contact.id)
                )
            ]
        )
    return InlineKeyboardMarkup(rows)


def declined_notice(t: Translator, contact: Contact) -> str:
    """What the asker is told of a decline, for the part they offered to play: help with a
    request, or an interest in an offer."""
    _ = t.gettext
    if contact.listing_kind == "request":
        text = _(
            "Thank you for offering your help with {title}. The author cannot take it up this "
            "time. Other requests may need you: /browse"
        )
    else:
        text = _(
            "Thank you for your interest in {title}. The author cannot take it up this time. "
            "Other offers may suit you: /browse. A request of your own (/post) lets those who "
            "can help find you."
        )
    return text.format(title=title_of(t, contact))


def counterpart_label(counterpart: Counterpart) -> str:
    """Someone to choose as "with whom": first name, and what they speak for or where."""
    where = f" · {counterpart.where}" if counterpart.where else ""
    return shorten(f"👤 {counterpart.first_name}{where}", 60)


def asked_line(t: Translator, contact: Contact) -> str:
    """The headline of a new request, for the owner side."""
    _ = t.gettext
    if contact.listing_kind == "request":
        text = _("💬 <b>Someone can help with your request {title}</b>")
    else:
        text = _("💬 <b>Someone is interested in your offer {title}</b>")
    return text.format(title=title_of(t, contact))


def keyboard(t: Translator, contact: Contact, side: str) -> InlineKeyboardMarkup | None:
    """A pending contact's buttons: the owner side answers or replies; the asker replies."""
    _ = t.gettext
    if contact.status != "pending":
        return None
    reply = InlineKeyboardButton(_("✉️ Reply"), callback_data=WRITE_AGAIN.data(contact.id))
    if side == "asker":
        return InlineKeyboardMarkup([[reply]])
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✅ Accept"), callback_data=ACCEPT_CONTACT.data(contact.id)),
                InlineKeyboardButton(
                    _("✖️ Decline"), callback_data=DECLINE_CONTACT.data(contact.id)
                ),
            ],
            [reply],
        ]
    )


# A card shows the latest messages, each cut short, to stay within Telegram's 4096 characters.
CARD_MESSAGES, CARD_MESSAGE_LENGTH = 6, 400


def conversation(t: Translator, messages: list[ContactMessage], side: str) -> str:
    """The latest messages relayed, marked as the reader's or the other side's."""
    _ = t.gettext
    lines = []
    for message in messages[-CARD_MESSAGES:]:
        mine = message.from_asker == (side == "asker")
        who = _("You") if mine else _("Them")
        # The quote is a block in Telegram; the line break keeps "You:" apart from the text
        # where it is not (notification previews, plain-text clients).
        lines.append(f"<b>{t.colon(who)}</b>\n{quote(shorten(message.text, CARD_MESSAGE_LENGTH))}")
    return "\n".join(lines)


def card(
    t: Translator,
    contact: Contact,
    side: str,
    messages: list[ContactMessage],
    other: Member | None,
    *,
    relay: bool = False,
) -> str:
    """A contact as /contacts shows it; ``other`` is only passed once accepted, ``relay`` when
    the reader is one of its two people and the relay is open."""
    _ = t.gettext
    if side == "asker":
        role = _("You wrote to the author of {title}.")
    else:
        role = _("Someone wrote about your listing {title}.")
    lines = [
        role.format(title=title_of(t, contact)),
        _("Status: {status}").format(status=_(STATUS_LABELS[contact.status])),
    ]
    if contact.status == "accepted":
        lines += ["", _("You can now write to each other:"), identity(t, other, relay=relay)]
    if messages:
        lines += ["", conversation(t, messages, side)]
    return "\n".join(lines)
