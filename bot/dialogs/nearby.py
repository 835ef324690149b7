"""Choosing the place of a shared location: the few nearest places, or the name typed.

A shared point rarely falls on the town it means: a village has a few hundred people and a
bigger town may be closer to the point than the village's own centre. So onboarding and
posting show the nearest places (:func:`bot.places.index.nearest_places`) with their
distance, and "type the name"; the choices are kept with the dialog's answers (JSON) so
that a button pressed after a restart means what it showed.

:class:`ChooseNearby` is the step, parameterised by the dialog that uses it (its button,
where a choice leads, where typing the name leads).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.buttons import Button, InvalidButton, OneOf
from bot.context import BotContext, reply
from bot.dialogs.dialog import Dialog, Handler, Step, Then
from bot.i18n import Translator
from bot.places import index, names
from bot.places.geocoding import Place

#: How many places are offered for a shared point.
CHOICES = 5
#: The choice of the "type the name" button.
TYPE_THE_NAME = "type"
#: What a button of the step carries: a choice's number, or "type the name".
CHOICE = OneOf((TYPE_THE_NAME, *(str(number) for number in range(CHOICES))))

#: The answers that say where: forgotten when another place is given.
PLACE_ANSWERS = ("place", "place_key", "region", "latitude", "longitude", "nearby")


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


def offer_nearest(
    dialog: Dialog, state: int
) -> Callable[[Update, BotContext, Place], Awaitable[int]]:
    """What a shared location does in a dialog that then offers the nearest places (its
    :class:`ChooseNearby` step, ``state``): the place is kept, and the step asked."""

    async def found(update: Update, context: BotContext, place: Place) -> int:
        located(dialog.answers(context), place)
        return await dialog.go_to(update, context, state)

    return found


def choice_buttons(
    t: Translator, choices: list[dict[str, Any]], button: Button[str]
) -> list[list[InlineKeyboardButton]]:
    """One button per place ('📍 Жеравна · 0,1 км'), then 'type the name'."""
    _ = t.gettext
    rows = [
        [
            InlineKeyboardButton(
                f"📍 {names.place_name(t.language, choice['key'], choice['name'])} · "
                f"{t.kilometres(choice['km'], near=True)}",
                callback_data=button.data(str(number)),
            )
        ]
        for number, choice in enumerate(choices)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                _("✏️ None of these: I will type the name"),
                callback_data=button.data(TYPE_THE_NAME),
            )
        ]
    )
    return rows


def question(t: Translator) -> str:
    _ = t.gettext
    return _("Which place is it? Here are the nearest to the point you shared:")


class ChooseNearby(Step):
    """One of the places nearest the shared point (its name, key, region and country become
    the answers, then ``then``), or "type the name" (``typing``; the point, its country and
    region are kept). A button naming none of the choices is refused, the buttons stay."""

    def __init__(
        self, button: Button[str], *, then: Then, typing: int, also: Sequence[Handler] = ()
    ) -> None:
        self.button, self.then, self.typing, self.also = button, then, typing, also

    async def ask(self, update: Update, context: BotContext) -> None:
        given = self.dialog.answers(context)
        if "nearby" not in given:  # a conversation from before the choice was offered
            given["nearby"] = nearby_choices(given["latitude"], given["longitude"])
        rows = [
            *choice_buttons(context.i18n, given["nearby"], self.button),
            *self.dialog.navigation(context.i18n, self.state),
        ]
        await reply(update, question(context.i18n), reply_markup=InlineKeyboardMarkup(rows))

    def handlers(self) -> list[Handler]:
        return [self.button.handler(self.chosen), *self.also]

    async def chosen(self, update: Update, context: BotContext, choice: str) -> int:
        if choice == TYPE_THE_NAME:
            return await self.dialog.answered(update, context, self.typing)
        choices = self.dialog.answers(context).get("nearby", [])
        if int(choice) >= len(choices):
            raise InvalidButton(choice)
        place = choices[int(choice)]
        return await self.dialog.answered(
            update,
            context,
            self.then,
            place=place["name"],
            place_key=place["key"],
            region=place["region"],
            country=place["country"],
        )
