"""Choosing the place of a shared location: the few nearest places, or the name typed.

A shared point rarely falls on the town it means: a village has a few hundred people and a
bigger town may be closer to the point than the village's own centre. So onboarding and
posting show the nearest places (:func:`bot.places.index.nearest_places`) with their
distance, and "type the name"; the choices are kept with the dialog's answers (JSON) so
that a button pressed after a restart means what it showed.
"""

from __future__ import annotations

from html import escape
from typing import Any, Literal

from telegram import CallbackQuery, InlineKeyboardButton, Update

from bot import geo
from bot.context import BotContext
from bot.dialogs.steps import close_buttons
from bot.geo import Place
from bot.handlers.common import reply
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


#: The answers that say where: forgotten when another place is given.
PLACE_ANSWERS = ("place", "place_key", "region", "latitude", "longitude", "nearby")


def forget_place(given: dict[str, Any]) -> None:
    for field in PLACE_ANSWERS:
        given.pop(field, None)


def located(given: dict[str, Any], place: Place) -> None:
    """A shared location: its country, region and point, and the nearest places to offer."""
    forget_place(given)
    given.update(
        country=place.country,
        region=place.region,
        latitude=place.latitude,
        longitude=place.longitude,
        nearby=nearby_choices(place.latitude, place.longitude),
    )


async def shared(
    update: Update, context: BotContext, given: dict[str, Any]
) -> Literal["located", "at sea", "not served"]:
    """A location shared in a dialog: 'located' (the nearest places to offer are in the
    answers), 'at sea' (nothing said: each dialog says what to do instead), or 'not served'
    (said; the dialog asks for the country next). The answers change only when located."""
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    place = geo.locate(point.latitude, point.longitude)
    if place is None:
        return "at sea"
    if place.country not in geo.COUNTRIES:
        _ = context.i18n.gettext
        await reply(
            update,
            _(
                "{country} is not among the countries we serve yet. "
                "Please choose a country from the list."
            ).format(country=escape(context.i18n.country(place.country))),
        )
        return "not served"
    located(given, place)
    return "located"


#: What :func:`pressed` says for the "type the name" button.
TYPE_THE_NAME = "type"


async def pressed(
    query: CallbackQuery, context: BotContext, given: dict[str, Any], prefix: str
) -> str | None:
    """What a button of the nearest places meant: :data:`TYPE_THE_NAME`, a place (its name,
    key, region and country become the answers: 'chosen'), or None for a button that names
    none of the choices (forged or stale; the buttons stay)."""
    assert query.data is not None
    if query.data == f"{prefix}{TYPE_THE_NAME}":
        await close_buttons(query, context)
        return TYPE_THE_NAME
    choice = chosen(given.get("nearby", []), query.data, prefix)
    if choice is None:
        return None
    await close_buttons(query, context)
    given.update(
        place=choice["name"],
        place_key=choice["key"],
        region=choice["region"],
        country=choice["country"],
    )
    return "chosen"


def choice_buttons(
    t: Translator, choices: list[dict[str, Any]], prefix: str
) -> list[list[InlineKeyboardButton]]:
    """One button per place ('📍 Жеравна · 0,1 км'), then 'type the name'."""
    _ = t.gettext
    rows = [
        [
            InlineKeyboardButton(
                f"📍 {names.place_name(t.language, choice['key'], choice['name'])} · "
                f"{t.kilometres(choice['km'], near=True)}",
                callback_data=f"{prefix}{number}",
            )
        ]
        for number, choice in enumerate(choices)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("✏️ None of these: I will type the name"), callback_data=f"{prefix}{TYPE_THE_NAME}"
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
