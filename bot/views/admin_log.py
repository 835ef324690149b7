"""The admin log as an admin reads it: who did what, why and when, in the reader's language,
date format (CLDR) and time zone, naming people, listings and municipalities rather than
their ids ("Maria (FR) hid the listing «Used fire pump» #10: 📢 Spam or advertising").

Names are read as they are now; someone erased since is "an erased member", a listing erased
since keeps its number. Everything a person typed (names, titles, reasons) is escaped.

A listing's History reads the same way: each step of its life (listing_history) a sentence
naming who took it ("Maria (FR) edited the listing: Description, Title"), never the words
the database stores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from bot.i18n import N_, Translator
from bot.places.timezones import local
from bot.storage.listings import HistoryEntry
from bot.storage.moderation import AdminAction
from bot.views.cards import OUTCOME_LABELS
from bot.views.html import TEXT_LIMIT, shorten, visible_length
from bot.views.texts import REPORT_REASON_LABELS, quoted_title

# One sentence per kind of action, whole, so that each language orders it its own way.
SENTENCES = {
    "hide": N_("{admin} hid the listing {listing}"),
    "restore": N_("{admin} restored the listing {listing}"),
    "dismiss": N_("{admin} dismissed the reports about the listing {listing}"),
    "warn": N_("{admin} warned {member} about the listing {listing}"),
    "ban": N_("{admin} banned {member}"),
    "unban": N_("{admin} lifted the ban on {member}"),
    "approve": N_("{admin} verified {member} as representing {municipality}"),
    "member_approve": N_(
        "{admin}, a verified representative of {municipality}, verified {member} as representing it"
    ),
    "reject": N_("{admin} rejected the request of {member} to represent {municipality}"),
    "revoke": N_("{admin} revoked the verification of {member} for {municipality}"),
    "make_admin": N_("{admin} made {member} an administrator"),
    "remove_admin": N_("{admin} removed {member} from the administrators"),
    "auto_review": N_("Several people reported {member}: their listings were hidden for a review"),
    "end_review": N_("{admin} ended the review of {member}"),
    "broadcast_send": N_("{admin} sent the broadcast {broadcast}"),
    "broadcast_schedule": N_("{admin} scheduled the broadcast {broadcast}"),
    "broadcast_pause": N_("{admin} paused the broadcast {broadcast}"),
    "broadcast_resume": N_("{admin} resumed the broadcast {broadcast}"),
    "broadcast_cancel": N_("{admin} cancelled the broadcast {broadcast}"),
}
# A listing's life (listing_history), one sentence per status; 'renewed' is counted in days
# (see life_line) and a listing hidden with nobody acting was hidden for a review.
LIFE_SENTENCES = {
    "open": N_("{person} published the listing"),
    "edited": N_("{person} edited the listing"),
    "fulfilled": N_("{person} marked the listing as fulfilled"),
    "closed": N_("{person} closed the listing"),
    "hidden": N_("{person} hid the listing"),
    "restored": N_("{person} restored the listing"),
}
# Why a listing was hidden or restored ('moderator': the sentence says it all).
LIFE_REASONS = {
    "review": N_("a review of its author"),
    "ban": N_("its author was banned"),
}
# The edited columns by the name the edit dialog gives them (bot/dialogs/editing.py).
EDITED_FIELDS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "language": N_("Language"),
    "category": N_("Category and tags"),
    "tags": N_("Category and tags"),
    "country": N_("Place"),
    "region": N_("Place"),
    "place": N_("Place"),
    "place_key": N_("Place"),
    "latitude": N_("Place"),
    "longitude": N_("Place"),
    "reach": N_("Reach"),
    "photo_file_id": N_("Photo"),
}
REPORT_STATUSES = {
    "open": N_("awaiting a decision"),
    "resolved": N_("acted on"),
    "dismissed": N_("dismissed"),
}
REASON_SHOWN = 200  # characters of a reason in the log (the person was told all of it)


def person(t: Translator, user_id: int | None, name: str | None, country: str | None) -> str:
    """'Maria (FR)'; an erased person (their id was cleared) or one never seen by the bot."""
    if name is None:
        return t.gettext("an erased member") if user_id is None else f"#{user_id}"
    shown = escape(shorten(name, 40)) or f"#{user_id}"
    return f"{shown} ({escape(country)})" if country else shown


def _listing(t: Translator, entry: AdminAction) -> str:
    if entry.listing_title is None:
        return f"#{entry.target_listing}"
    return f"{quoted_title(t, entry.listing_title, 60)} #{entry.target_listing}"


def _why(t: Translator, entry: AdminAction) -> str | None:
    """The admin's reason; for a listing hidden after reports, what it was reported for."""
    if entry.reason:
        return escape(shorten(entry.reason, REASON_SHOWN))
    if entry.action == "hide" and entry.detail:
        labels = [REPORT_REASON_LABELS.get(key) for key in entry.detail.split(",")]
        return ", ".join(t.gettext(label) for label in labels if label)
    return None


def when(t: Translator, at: int, zone: str) -> str:
    """A date and time, short, in the reader's language and time zone."""
    return t.datetime(local(at, zone), format="short")


def log_line(t: Translator, entry: AdminAction, zone: str) -> str:
    """'06/12/2026 05:44 · Maria (FR) hid the listing «Used fire pump» #10: spam'."""
    sentence = SENTENCES.get(entry.action)
    if sentence is None:  # an action of a newer version, read by an older one
        text = escape(entry.action)
    else:
        text = t.gettext(sentence).format(
            admin=person(t, entry.admin_id, entry.admin_name, entry.admin_country),
            member=person(t, entry.target_user, entry.user_name, entry.user_country),
            listing=_listing(t, entry),
            municipality=escape(entry.municipality_name or "—"),
            broadcast=f"#{entry.target_broadcast}",
        )
    why = _why(t, entry)
    if why:
        text = f"{t.colon(text)} {why}"
    return f"{when(t, entry.at, zone)} · {text}"


def _life_detail(t: Translator, entry: HistoryEntry) -> str | None:
    """What a step of a listing's life was about, in words; None where the sentence is all."""
    detail = entry.detail
    if not detail or entry.status == "open":
        return None
    if entry.status == "edited":
        # Each name once: a new place changes its name, country, coordinates...
        names = [
            t.gettext(EDITED_FIELDS[key]) if key in EDITED_FIELDS else escape(key)
            for key in detail.split(",")
        ]
        return ", ".join(dict.fromkeys(names))
    if entry.status == "fulfilled":
        # 'with:<contact>': with one of its contacts; 'followup:<contact>': said answering a
        # follow-up question (how is on the listing, not in its history); else the outcome.
        if detail.startswith("followup:"):
            return None
        label = OUTCOME_LABELS.get("platform" if detail.startswith("with:") else detail)
        return t.gettext(label) if label else escape(detail)
    if entry.status == "closed" and detail == "withdrawn":
        return None  # the only way an owner closes one: no longer needed
    if entry.status in ("hidden", "restored"):
        if detail == "moderator":
            return None
        reason = LIFE_REASONS.get(detail)
        return t.gettext(reason) if reason else escape(detail)
    return escape(detail)


def life_line(t: Translator, entry: HistoryEntry, zone: str) -> str:
    """'06/12/2026 05:44 · Maria (FR) edited the listing: Title, Description'."""
    who = person(t, entry.by_user, entry.by_name, entry.by_country)
    sentence = LIFE_SENTENCES.get(entry.status)
    detail = _life_detail(t, entry) if sentence is not None else None
    if entry.status == "renewed" and entry.detail and entry.detail.isdigit():
        days = int(entry.detail)
        text = t.ngettext(
            "{person} renewed the listing for {count} day",
            "{person} renewed the listing for {count} days",
            days,
        ).format(person=who, count=t.number(days))
    elif entry.status == "hidden" and entry.by_user is None and entry.detail == "review":
        text = t.gettext("The listing was hidden")  # by the bot, several people reported
    elif sentence is None:  # a status of a newer version, read by an older one
        text = f"{escape(entry.status)} · {who}"
        detail = escape(entry.detail) if entry.detail else None
    else:
        text = t.gettext(sentence).format(person=who)
    if detail:
        text = f"{t.colon(text)} {detail}"
    return f"{when(t, entry.at, zone)} · {text}"


def report_status(t: Translator, status: str) -> str:
    """A report's status in words; one of a newer version as it is stored."""
    label = REPORT_STATUSES.get(status)
    return t.gettext(label) if label else escape(status)


def log_text(t: Translator, title: str, entries: list[AdminAction], zone: str) -> str:
    """A title and the log lines, newest first, as many as fit in one Telegram message."""
    # The reader's time zone by its city, as /settings names it: 'Bruxelles', 'Açores'.
    lines = [log_line(t, entry, zone) for entry in entries]
    head = f"{title} · {escape(t.zone_city(zone))}"
    return fitted(head, [(None, lines)], limit=TEXT_LIMIT - 96)


def fitted(
    head: str,
    sections: Sequence[tuple[str | None, Sequence[str]]],
    *,
    left_out: Callable[[int], str] | None = None,
    limit: int = TEXT_LIMIT,
) -> str:
    """``head``, then each section (its heading, if any, after a blank line) with as many of
    its lines, the newest first, as fit in one message of ``limit`` visible characters. The
    sections take a line in turns, so that a long one (a listing edited a hundred times)
    leaves room for the newest of the others; ``left_out(count)``, under a section cut
    short, says how many older lines it does not show."""

    def text(counts: list[int]) -> str:
        parts = [head]
        for (heading, lines), count in zip(sections, counts, strict=True):
            if heading is not None:
                parts += ["", heading]
            parts += lines[:count]
            if left_out is not None and count < len(lines):
                parts.append(left_out(len(lines) - count))
        return "\n".join(parts)

    shown = [0] * len(sections)
    growing = [index for index, (_heading, lines) in enumerate(sections) if lines]
    while growing:
        for index in list(growing):
            more = [*shown]
            more[index] += 1
            if visible_length(text(more)) > limit:
                growing.remove(index)  # its next line does not fit: its older ones neither
                continue
            shown = more
            if shown[index] == len(sections[index][1]):
                growing.remove(index)
    return text(shown)
