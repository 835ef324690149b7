"""How an announcement reads to the people who get it: the line naming who sent it and what
kind of announcement it is, above the admin's text, and the button that turns that kind off.

The kinds are few and fixed (:data:`KIND_LABELS`), so that a person can tell at a glance what
they turn off: service news (what changed in the bot or the community), calls for help (hands
or equipment needed now) and events (meetings, trainings, visits): what a community's
administrators write about, and what a volunteer, a mayor or a project holder may want one of
without the others.

The sender line is in the reader's language (it is the bot speaking, as its buttons do), the
admin's text in the language it was written in. It takes room from Telegram's 4096 characters
(1024 for a photo's caption): :func:`sender_room` is what the composer keeps free for it.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import STOP_ANNOUNCEMENTS
from bot.i18n import LANGUAGES, N_, Translator, translator
from bot.storage import Broadcast
from bot.storage.broadcasts import ANNOUNCEMENT_KINDS
from bot.views.html import visible_length

KIND_LABELS = {
    "news": N_("📰 Service news"),
    "help": N_("🆘 Calls for help"),
    "events": N_("📅 Events"),
}
assert tuple(KIND_LABELS) == ANNOUNCEMENT_KINDS
SENDER_LINE = N_("{kind} · announcement from <b>{sender}</b>")
URGENT_SENDER_LINE = N_("⚠️ <b>Urgent</b> · {kind} · announcement from <b>{sender}</b>")
STOP = N_("🔕 No more announcements like this")
SEPARATOR = "\n\n"  # between the sender line and the admin's text


def kind_label(t: Translator, kind: str) -> str:
    return t.gettext(KIND_LABELS[kind])


def sender_line(t: Translator, sender: str, kind: str, *, urgent: bool) -> str:
    """'📰 Service news · announcement from <b>Community Sharing</b>' (the name escaped)."""
    line = URGENT_SENDER_LINE if urgent else SENDER_LINE
    return t.gettext(line).format(kind=kind_label(t, kind), sender=escape(sender))


def with_sender(t: Translator, text: str, sender: str, kind: str, *, urgent: bool) -> str:
    """An announcement's text (HTML) under its sender line."""
    return sender_line(t, sender, kind, urgent=urgent) + SEPARATOR + text


@lru_cache(maxsize=8)
def sender_room(sender: str) -> int:
    """The most characters (as Telegram counts them) the sender line and its separator can
    take, whatever the reader's language, the kind and the urgency: the admin's text is
    checked before these are chosen, and a fallback text reaches readers of every language."""
    return len(SEPARATOR) + max(
        visible_length(sender_line(translator(language), sender, kind, urgent=urgent))
        for language in LANGUAGES
        for kind in ANNOUNCEMENT_KINDS
        for urgent in (False, True)
    )


def stop_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup | None:
    """The button under an announcement that turns its kind off; none under an urgent one,
    which reaches everyone whatever they turned off (a button there would do nothing for the
    message it is on)."""
    if broadcast.urgent:
        return None
    data = STOP_ANNOUNCEMENTS.data((broadcast.kind, broadcast.id))
    return InlineKeyboardMarkup([[InlineKeyboardButton(t.gettext(STOP), callback_data=data)]])
