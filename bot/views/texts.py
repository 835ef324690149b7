"""What the bot shows: texts and keyboards rendered for one reader, with no side effects.

Handlers fetch data and call these; keeping rendering here means every screen can be built in
every language by a test without a Telegram update. Everything a user typed is passed through
:func:`html.escape`, because messages are sent with HTML parse mode.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.buttons import (
    ALERT_LIST,
    CONTACT_LIST,
    MENU,
    MY_LIST,
    NEW_POST,
    NEW_SEARCH,
    SHOW_SETTINGS,
    Button,
)
from bot.i18n import LANGUAGES, N_, Translator, autonym
from bot.places import names
from bot.places.countries import countries_by_name, flag
from bot.storage import Member
from bot.views.html import shorten

# How often a person is told of what fits them: /settings (matches) and an alert's own choice.
FREQUENCY_LABELS = {
    "instant": N_("⚡ Right away"),
    "daily": N_("📅 Daily"),
    "weekly": N_("🗓 Weekly"),
}
REPORT_REASON_LABELS = {
    "spam": N_("📢 Spam or advertising"),
    "scam": N_("💸 Scam or fraud"),
    "offensive": N_("🤬 Offensive or hateful"),
    "misleading": N_("❓ Misleading or false"),
    "other": N_("✋ Something else"),
}
ROLE_LABELS = {
    "municipality": N_("🏛 Municipality"),
    "organisation": N_("💼 Project holder or organisation"),
    "volunteer": N_("🤝 Volunteer"),
}


def tick(label: str, chosen: bool) -> str:
    """A choice's label, ticked when it is the one chosen."""
    return f"✓ {label}" if chosen else label


def quoted_title(t: Translator, title: str, units: int | None = None) -> str:
    """A listing's title as a text names it: cut to ``units`` UTF-16 units if given (before
    escaping, so no entity is cut in half), escaped, in the reader's quotation marks."""
    shown = title if units is None else shorten(title, units)
    return t.quote(escape(shown))


def rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def language_keyboard(button: Button[str], current: str) -> InlineKeyboardMarkup:
    """One button per catalog, each in its own language; the current one ticked."""
    buttons = [
        InlineKeyboardButton(tick(autonym(code), code == current), callback_data=button.data(code))
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(rows(buttons, 3))


def country_keyboard(t: Translator, button: Button[str]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(f"{flag(code)} {t.country(code)}", callback_data=button.data(code))
        for code in countries_by_name(t)
    ]
    return InlineKeyboardMarkup(rows(buttons, 2))


def place_line(
    t: Translator,
    place: str | None,
    region: str | None,
    country: str | None,
    place_key: str | None = None,
) -> str:
    """'Трявна, Габрово, България' for a Bulgarian, 'Tryavna, Gabrovo, Bulgarien' for a German:
    a chosen place (``place_key``) and a region code in the reader's language and script,
    typed names as typed; escaped."""
    named = (
        names.place_name(t.language, place_key, place),
        names.region_name(t.language, region),
    )
    parts = [escape(part) for part in named if part]
    if country:
        parts.append(escape(t.country(country)))
    return ", ".join(parts)


class Placed(Protocol):
    """A record that says where: a listing, a member's profile."""

    @property
    def place(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def place_key(self) -> str | None: ...


def place_line_of(t: Translator, placed: Placed) -> str:
    """:func:`place_line` of a listing's or a member's place."""
    return place_line(t, placed.place, placed.region, placed.country, placed.place_key)


def profile_card(t: Translator, member: Member) -> str:
    _ = t.gettext
    lines = [_("<b>Your profile</b>")]
    if member.role:
        lines.append(_("Role: {role}").format(role=_(ROLE_LABELS[member.role])))
    if member.municipality_name:
        badge = " ✅" if member.verified else ""
        lines.append(
            _("Municipality: <b>{name}</b>{badge}").format(
                name=escape(member.municipality_name), badge=badge
            )
        )
        if member.municipality_population:
            lines.append(
                _("Population: {population}").format(
                    population=t.number(member.municipality_population)
                )
            )
    if member.organisation_name:
        lines.append(_("Organisation: <b>{name}</b>").format(name=escape(member.organisation_name)))
    if member.country:
        lines.append(_("Place: {place}").format(place=place_line_of(t, member)))
    lines.append(_("Language: {language}").format(language=autonym(t.language)))
    if not member.onboarded:
        lines.append("")
        lines.append(_("Your profile is not complete yet: send /start to set it up."))
    return "\n".join(lines)


def main_menu(t: Translator) -> InlineKeyboardMarkup:
    _ = t.gettext
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("➕ Post an offer or request"), callback_data=NEW_POST.data(None)
                )
            ],
            [
                InlineKeyboardButton(_("👤 My profile"), callback_data=MENU.data("profile")),
                InlineKeyboardButton(_("💬 My contacts"), callback_data=CONTACT_LIST.data(None)),
            ],
            [
                InlineKeyboardButton(_("🔎 Browse"), callback_data=NEW_SEARCH.data(None)),
                InlineKeyboardButton(_("📋 My listings"), callback_data=MY_LIST.data(None)),
            ],
            [
                InlineKeyboardButton(_("🔔 Alerts"), callback_data=ALERT_LIST.data(None)),
                InlineKeyboardButton(_("⚙️ Settings"), callback_data=SHOW_SETTINGS.data(None)),
            ],
            [
                InlineKeyboardButton(_("🌐 Language"), callback_data=MENU.data("language")),
                InlineKeyboardButton(_("❓ Help"), callback_data=MENU.data("help")),
            ],
        ]
    )


def not_understood(t: Translator, member: Member | None) -> tuple[str, InlineKeyboardMarkup | None]:
    """What to say to a message nothing else understood: the menu, or how to begin."""
    _ = t.gettext
    if member is None or not member.onboarded:
        return _("Welcome! Send /start to set up your profile."), None
    return _("I did not understand that. Here is what you can do:"), main_menu(t)


def help_text(t: Translator) -> str:
    _ = t.gettext
    return "\n".join(
        [
            _(
                "<b>Community Sharing</b> brings municipalities, project holders and volunteers "
                "across Europe together: post what you need or what you can offer, and we tell "
                "you when someone matches."
            ),
            "",
            _("/start – set up your profile or open the menu"),
            _("/post – post an offer or a request"),
            _("/mylistings – your listings and your municipality's: edit, renew, close"),
            _("/browse – browse offers and requests by kind, category and place"),
            _("/search – search by words, for example /search fire pump"),
            _("Send a location to see what is near you."),
            _("/alerts – be told when a new listing fits what you look for"),
            _("/settings – right away or in a daily or weekly digest, quiet hours, timezone"),
            _("/contacts – the people you wrote to, and who wrote to you"),
            _("/verify – get verified as a municipality's representative"),
            _("/profile – see and edit your profile"),
            _("/language – choose your language"),
            _("/mydata – download everything stored about you; /deleteme – erase it"),
            _("/cancel – stop what you are doing"),
            _("/help – this help"),
        ]
    )


def short_time(t: Translator, at: int) -> str:
    """A date and time, short, in the reader's language (UTC)."""
    return t.datetime(datetime.fromtimestamp(at, UTC), format="short")
