"""The countries the platform serves, their flags, and finding one by its name.

Countries are ISO 3166 codes everywhere (storage, callback data); names come from CLDR in the
reader's language (:meth:`bot.i18n.Translator.country`).
"""

from __future__ import annotations

from bot.i18n import Translator, translator
from bot.storage import fold

#: EU member states, the Western Balkans, and the neighbours whose municipalities take part.
COUNTRIES: tuple[str, ...] = (
    # European Union
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    # Western Balkans
    "AL", "BA", "XK", "ME", "MK", "RS",
    # Neighbours
    "UA", "MD", "NO", "IS", "CH", "LI", "GB",
)  # fmt: skip


def flag(country: str) -> str:
    """The flag emoji of an ISO country code ('FR' → 🇫🇷)."""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country.upper())


def countries_by_name(t: Translator) -> list[str]:
    """The served countries ordered by their name in the reader's language."""
    return sorted(COUNTRIES, key=lambda code: fold(t.country(code)))


def find_country(t: Translator, typed: str) -> str | None:
    """A served country named by what the user typed, in their language, English, or as code."""
    wanted = fold(typed)
    english = translator("en")
    for code in COUNTRIES:
        if wanted in (fold(t.country(code)), fold(english.country(code)), code.casefold()):
            return code
    return None
