"""Languages: gettext catalogs compiled by Babel, the choice of a catalog, and CLDR formatting.

Every user-facing string goes through a :class:`Translator`. Handlers get the reader's one as
``context.i18n`` and write ``_ = context.i18n.gettext`` at the top of a callback, so that
``pybabel extract`` (see ``babel.cfg``) finds each ``_("...")``. Strings defined at import time
(category names, button labels in tables) are marked with :func:`N_` and translated when shown.

Catalogs live in ``locales/<lang>/LC_MESSAGES/bot.po`` and are compiled to ``.mo`` by the
set-up command (``make``); English is the source language and needs no catalog.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError, dates, numbers, units
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "bot"

#: The catalogs the bot ships, as ISO 639-1 codes (Babel's locale name where a language is
#: written in two scripts: "sr" is Serbian in Cyrillic, "sr_Latn" in Latin); English is the
#: source language. The 24 official languages of the EU, the Western Balkans' (Albanian,
#: Serbian in both scripts, Macedonian, Bosnian) and Ukrainian.
LANGUAGES: tuple[str, ...] = (
    "en", "bg", "cs", "da", "de", "el", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
    "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "sq", "sr", "sr_Latn", "mk", "bs",
    "uk", "tr", "ka", "nb", "is",
)  # fmt: skip

# Where a language has no catalog of its own, the closest one its speakers read, in order.
# Telegram clients send codes such as "pt-br", "en-GB", "sr-Latn" or "cnr".
_RELATED: dict[str, tuple[str, ...]] = {
    "cnr": ("sr", "bs", "hr"),  # Montenegrin
    "sh": ("hr", "bs", "sr"),  # Serbo-Croatian
    "be": ("uk",),
    "ru": ("uk", "bg"),
    "lb": ("de", "fr"),
    "rm": ("de", "it"),
    "ca": ("es", "fr"),
    "gl": ("pt", "es"),
    "eu": ("es", "fr"),
    "no": ("nb",),  # Norwegian, the written standard unnamed: most write Bokmål
    "nn": ("nb",),  # Nynorsk readers read Bokmål every day
    "fo": ("da", "is"),
    "az": ("tr",),  # Azerbaijani readers read Turkish
}
# A Serbian reader whose Telegram is set to the Latin script ("sr-Latn", "sr-latn-RS") gets
# the Latin catalog.
_LATIN_FOR = {"sr": ("sr_Latn",)}


# The CLDR locale whose data (plural rules, names, formats) fits each catalog, where the bare
# language code would pick another variety: Babel's "pt" is Brazilian, our catalog European.
_CLDR_LOCALE: dict[str, str] = {"pt": "pt_PT"}

# Telegram's setMyCommands and setMyDescription take a two-letter ISO 639-1 code only, and a
# Telegram user's menu is chosen by that code: a catalog named with its script (sr_Latn) has
# no menu of its own there, and its readers see the one of their language's code.
MENU_LANGUAGES: tuple[str, ...] = tuple(code for code in LANGUAGES if len(code) == 2)


def cldr_locale(language: str) -> Locale:
    """The CLDR locale for one of our catalogs ('pt' → pt_PT)."""
    return Locale.parse(_CLDR_LOCALE.get(language, language))


# CLDR's quotation marks per catalog (common/main/<lang>.xml, <delimiters>: quotationStart and
# quotationEnd; "pt" is pt_PT's, taken from CLDR 48). The locked Babel does not carry CLDR's
# delimiters, so they are kept here; tests/test_typography.py checks the catalogs use them.
QUOTES: dict[str, tuple[str, str]] = {
    "en": ("“", "”"), "bg": ("„", "“"), "cs": ("„", "“"), "da": ("“", "”"), "de": ("„", "“"),
    "el": ("«", "»"), "es": ("“", "”"), "et": ("„", "“"), "fi": ("”", "”"), "fr": ("«", "»"),
    "ga": ("“", "”"), "hr": ("„", "“"), "hu": ("„", "”"), "it": ("«", "»"), "lt": ("„", "“"),
    "lv": ("“", "”"), "mt": ("“", "”"), "nl": ("‘", "’"), "pl": ("„", "”"), "pt": ("«", "»"),
    "ro": ("„", "”"), "sk": ("„", "“"), "sl": ("„", "“"), "sv": ("”", "”"), "sq": ("“", "”"),
    "sr": ("„", "”"), "sr_Latn": ("„", "”"), "mk": ("„", "“"), "bs": ("„", "”"),
    "uk": ("«", "»"), "tr": ("“", "”"), "ka": ("„", "“"), "nb": ("«", "»"),
    "is": ("„", "“"),
}  # fmt: skip

# French typography (Imprimerie nationale's rules, which the French catalog follows): a no-break
# space inside « » and before a colon, a narrow no-break space before ; ! and ?. No other of
# our languages puts a space there.
NBSP, NNBSP = "\u00a0", "\u202f"
SPACE_INSIDE_QUOTES: dict[str, str] = {"fr": NBSP}
SPACE_BEFORE: dict[str, dict[str, str]] = {"fr": {":": NBSP, ";": NNBSP, "!": NNBSP, "?": NNBSP}}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def best_language(code: str | None, default: str = "en") -> str:
    """The catalog to use for a Telegram ``language_code`` such as ``pt-br`` or ``en-GB``."""
    if code:
        parts = code.replace("_", "-").lower().split("-")
        primary = parts[0]
        if "latn" in parts[1:] and primary in _LATIN_FOR:
            return _LATIN_FOR[primary][0]
        for candidate in (primary, *_RELATED.get(primary, ())):
            if candidate in LANGUAGES:
                return candidate
    return default if default in LANGUAGES else "en"


@cache  # the language keyboard shows all 34 at /start: 0.23 ms of CLDR look-ups each time
def autonym(language: str) -> str:
    """A language's name in itself, capitalised for a button: 'Français', 'Български'.

    Title case, not upper case: Georgian has capitals (Mtavruli) but never starts a word
    with one, and Unicode gives its letters no title case ('ქართული' stays as it is)."""
    locale = cldr_locale(language)
    name = locale.get_display_name(locale) or language
    return name[:1].title() + name[1:]


class CatalogMissing(RuntimeError):
    """A supported language has no compiled catalog: the set-up command was not run."""


@cache
def _catalog(language: str) -> _gettext.NullTranslations:
    if language == "en":
        return _gettext.NullTranslations()
    # The catalog's own file, not gettext's search: that one quietly falls back from sr_Latn
    # to sr, and Babel's from any language to English; serving Cyrillic to a Latin reader, or
    # English to a French mayor, because a build step was skipped must not go unnoticed.
    compiled = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not compiled.is_file():
        raise CatalogMissing(
            f"no compiled catalog for {language!r} in {LOCALES_DIR}: run `make install` "
            f"(pybabel compile -d locales -D {DOMAIN})"
        )
    with compiled.open("rb") as file:
        return Translations(file, domain=DOMAIN)


def load_catalogs() -> None:
    """Load every catalog now, so that a missing one stops start-up instead of a reply."""
    for language in LANGUAGES:
        _catalog(language)


class Translator:
    """The strings and formats of one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = cldr_locale(language)
        self._catalog = _catalog(language)

    def gettext(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def sentence(self, message: str, **values: str) -> str:
        """``message.format(**values)``, except that a value ending with an abbreviation's full
        stop ('утре, 9:14 ч.', '9:14 π.μ.', '1. svi 2030.') also ends the sentence when it
        comes last: one full stop, not two, as every language we ship writes it."""
        for name, value in values.items():
            if value.endswith("."):
                message = message.replace("{" + name + "}.", "{" + name + "}")
        return message.format(**values)

    def quote(self, text: str) -> str:
        """``text`` in this language's quotation marks: “…” in English, « … » in French, „…“ in
        German. ``text`` is inserted as given (escape it first for HTML)."""
        start, end = QUOTES[self.language]
        space = SPACE_INSIDE_QUOTES.get(self.language, "")
        return f"{start}{space}{text}{space}{end}"

    def colon(self, label: str) -> str:
        """``label`` followed by a colon, spaced as this language wants ('Vous\u00a0:')."""
        return label + SPACE_BEFORE.get(self.language, {}).get(":", "") + ":"

    def country(self, code: str) -> str:
        """A country's name from CLDR, in this language ('DE' → 'Allemagne' in French)."""
        return str(self.locale.territories.get(code.upper(), code))

    def language_name(self, code: str) -> str:
        """A language's name in this language ('bg' → 'bulgare' in French)."""
        try:
            return Locale.parse(code).get_display_name(self.locale) or code
        except (ValueError, UnknownLocaleError):
            return code

    def number(self, value: float) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def kilometres(self, value: float, *, near: bool = False) -> str:
        """A distance rounded to the kilometre, with CLDR's short unit in this language:
        '27 km', '1.700 χλμ.' (the unit, its spacing and its place are CLDR's). ``near``
        keeps a tenth under 10 km ('5,7 км'): the places nearest a shared point are that
        close, and a village 0.4 km away is not '0 km' away."""
        shown = round(value, 1) if near and value < 10 else round(value)
        return units.format_unit(shown, "length-kilometer", length="short", locale=self.locale)

    def date(self, value: date | datetime, format: str = "medium") -> str:
        return dates.format_date(value, format=format, locale=self.locale)

    def datetime(self, value: datetime, format: str = "medium") -> str:
        return dates.format_datetime(value, format=format, locale=self.locale)

    def skeleton(self, value: dt.date | dt.datetime, skeleton: str) -> str:
        """``value`` in the pattern CLDR has for ``skeleton`` in this language ('MMMd': 'May 1',
        '1 mai', 'máj. 1.'): the fields are chosen, their order and words are the language's."""
        return dates.format_skeleton(skeleton, value, locale=self.locale)

    def time(self, value: dt.datetime | dt.time) -> str:
        """A time of day without seconds: '09:30', '9:30 AM' (an aware ``value`` is shown in
        its own zone)."""
        zone = value.tzinfo if isinstance(value, dt.datetime) else None
        return dates.format_time(value, "short", tzinfo=zone, locale=self.locale)

    def hours(self, start: dt.time, end: dt.time, *, minutes: bool = True) -> str:
        """From one time of day to another, as CLDR writes the interval: '22:00–08:00',
        '10:00 PM – 8:00 AM', '22–08 Uhr' (``minutes=False``), on the language's own clock."""
        hour = "h" if "h" in str(self.locale.time_formats["short"].pattern) else "H"
        return dates.format_interval(
            start, end, hour + ("m" if minutes else ""), locale=self.locale
        )

    def moment(self, value: dt.datetime) -> str:
        """A date and a time without seconds, joined as CLDR joins them: '1 May 2030, 09:30'
        (an aware ``value`` is shown in its own zone)."""
        joined = dates.get_datetime_format("medium", locale=self.locale)
        return (
            str(joined)
            .replace("'", "")
            .replace("{0}", self.time(value))
            .replace("{1}", self.date(value))
        )

    def when(self, value: dt.datetime, now: dt.datetime) -> str:
        """When something happens, as a reader would say it: 'today, 17:05', 'tomorrow,
        09:14' with CLDR's names for near days, else a date and a time ('3 May 2030, 09:14').
        Both are aware; the days are counted and the time shown in ``value``'s zone."""
        days = (value.date() - now.astimezone(value.tzinfo).date()).days
        near = dates.get_relative_name("day", days, locale=self.locale)
        if near is None:
            return self.moment(value)
        return dates.format_relative_datetime(
            near, value, format="short", tzinfo=value.tzinfo, locale=self.locale
        )

    def zone_city(self, zone: str) -> str:
        """A time zone by the city CLDR names it after, in this language: 'Europe/Paris' →
        'Paris', 'Παρίσι'; 'Atlantic/Canary' → 'Canaries', 'Îles Canaries'."""
        return dates.get_timezone_location(zone, locale=self.locale, return_city=True)

    def timedelta(
        self,
        delta: timedelta,
        *,
        direction: bool = False,
        threshold: float = 0.85,
        granularity: Literal["year", "month", "week", "day", "hour", "minute", "second"] = "second",
    ) -> str:
        """'3 days', or with ``direction`` 'in 3 days' / '3 days ago', in this language."""
        return dates.format_timedelta(
            delta,
            threshold=threshold,
            granularity=granularity,
            add_direction=direction,
            locale=self.locale,
        )


@cache
def translator(language: str) -> Translator:
    """The shared :class:`Translator` for a supported language (English for any other)."""
    return Translator(language if language in LANGUAGES else "en")
