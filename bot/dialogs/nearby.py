"""Choosing the place of a shared location: the few nearest places, or the name typed.

A shared point rarely falls on the town it means: a village has a few hundred people and a
bigger town may be closer to the point than the village's own centre. So onboarding and
posting show the nearest places (:func:`bot.places.index.nearest_places`) with their
distance, and "type the name"; the choices are kept with the dialog's answers (JSON) so
that a button pressed after a restart means what it showed.
"""

from __future__ import annotations

from typing import Any

from babel.units import format_unit
from telegram import InlineKeyboardButton

from bot.i18n import Translator
from bot.places import index, names

#: How many places are offered for a shared point.
CHOICES = 5


def nearby_choices(latitude: float, longitude: float) -> list[dict[str, Any]]:
    """The served places nearest to a point, as answers a dialog keeps."""
    return [
        {
            "key": found.place.key,
            "name": found.place.name,
            "region": found.place.region,
            "country": found.place.country,
            "km": round(found.distance_km, 1),
        }
        for found in index.nearest_places(latitude, longitude, CHOICES)
    ]


def distance(t: Translator, km: float) -> str:
    """'5.7 km', '5,7 км': CLDR's short unit in the reader's language."""
    value = round(km) if km >= 10 else round(km, 1)
    return format_unit(value, "length-kilometer", length="short", locale=t.locale)


def choice_buttons(
    t: Translator, choices: list[dict[str, Any]], prefix: str
) -> list[list[InlineKeyboardButton]]:
    """One button per place ('📍 Жеравна · 0,1 км'), then 'type the name'."""
    _ = t.gettext
    rows = [
        [
            InlineKeyboardButton(
                f"📍 {names.place_name(t.language, choice['key'], choice['name'])} · "
                f"{distance(t, choice['km'])}",
                callback_data=f"{prefix}{number}",
            )
        ]
        for number, choice in enumerate(choices)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("✏️ None of these: I will type the name"), callback_data=f"{prefix}type"
            )
        ]
    )
    return rows


def chosen(choices: list[dict[str, Any]], data: str, prefix: str) -> dict[str, Any] | None:
    """The choice a button names, or None for a button that names none (forged, stale)."""
    number = data.removeprefix(prefix)
    if not number.isdigit() or int(number) >= len(choices):
        return None
    return choices[int(number)]


def question(t: Translator) -> str:
    _ = t.gettext
    return _("Which place is it? Here are the nearest to the point you shared:")
