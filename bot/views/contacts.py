"""How contacts read: who someone is (only once accepted), who they are without their identity
(before), relayed messages, and a contact's buttons. No side effects; user text escaped.

The rule this module keeps: :func:`identity` (name, link, municipality or organisation) is
only ever called for the other side of an *accepted* contact; everything shown before an
Accept uses :func:`anonymous`, the role and the country alone.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import ACCEPT_CONTACT, DECLINE_CONTACT, WRITE_AGAIN
from bot.i18n import N_, Translator
from bot.storage import Contact, ContactMessage, Member
from bot.views.html import shorten
from bot.views.texts import place_line

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
    return t.quote(escape(contact.listing_title))


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


def identity(t: Translator, member: Member | None) -> str:
    """Name, a link that opens the chat, @username, and what they speak for: for accepted
    contacts only."""
    _ = t.gettext
    if member is None:
        return _("(this account was deleted)")
    name = escape(member.first_name or str(member.id))
    lines = [f'👤 <a href="tg://user?id={member.id}">{name}</a>']
    if member.username:
        lines[0] += f" · @{escape(member.username)}"
    where = place_line(t, member.place, member.region, member.country, member.place_key)
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
) -> str:
    """A contact as /contacts shows it; ``other`` is only passed once accepted."""
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
        lines += ["", _("You can write to each other directly:"), identity(t, other)]
    if messages:
        lines += ["", conversation(t, messages, side)]
    return "\n".join(lines)
