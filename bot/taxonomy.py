"""What can be offered or requested: categories and their tags, as language-neutral keys.

Listings store keys (``equipment``, ``fire_rescue``), never names, so a Bulgarian request and
a French offer share their category and tags whatever language they were written in. Names
are marked with :func:`~bot.i18n.N_` and translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True)
class Category:
    key: str
    emoji: str
    name: str  # English source; translate with gettext when showing
    tags: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("expertise", "🎓", N_("Expertise and good practice"),
             ("planning", "energy", "digital", "tourism", "eu_funds", "water", "waste")),
    Category("staff", "🧑‍💼", N_("Interim managers and staff on loan"),
             ("management", "engineering", "finance", "legal", "it_staff")),
    Category("volunteers", "🤝", N_("Volunteers"),
             ("emergency", "elderly", "children", "environment", "events", "building")),
    Category("equipment", "🚒", N_("Equipment and machinery"),
             ("vehicles", "fire_rescue", "it_equipment", "school", "furniture", "medical",
              "machinery")),
    Category("goods", "📦", N_("Goods, materials and raw materials"),
             ("building_materials", "food", "clothing", "wood", "books")),
    Category("services", "🛠", N_("Services"),
             ("transport", "maintenance", "training", "translation", "cleaning")),
    Category("premises", "🏠", N_("Premises, land and housing"),
             ("shop_premises", "office", "housing", "land", "industrial_site")),
    Category("investment", "💶", N_("Business partners and investment"),
             ("investor", "partner", "funding", "renewables")),
    Category("local_business", "🥖", N_("Local businesses and project ideas"),
             ("shop", "cafe", "bakery", "craft", "restaurant", "market")),
    Category("health", "🩺", N_("Health and care professionals"),
             ("doctor", "nurse", "pharmacist", "dentist", "carer")),
    Category("community", "🎭", N_("Community life"),
             ("youth", "culture", "sport", "clean_up", "twinning")),
)  # fmt: skip

TAG_NAMES: dict[str, str] = {
    "planning": N_("urban planning"),
    "energy": N_("energy"),
    "digital": N_("digital services"),
    "tourism": N_("tourism"),
    "eu_funds": N_("EU funding"),
    "water": N_("water"),
    "waste": N_("waste"),
    "management": N_("management"),
    "engineering": N_("engineering"),
    "finance": N_("finance"),
    "legal": N_("legal"),
    "it_staff": N_("IT specialists"),
    "emergency": N_("emergency relief"),
    "elderly": N_("elderly people"),
    "children": N_("children"),
    "environment": N_("environment"),
    "events": N_("events"),
    "building": N_("building work"),
    "vehicles": N_("vehicles"),
    "fire_rescue": N_("fire and rescue"),
    "it_equipment": N_("IT equipment"),
    "school": N_("school"),
    "furniture": N_("furniture"),
    "medical": N_("medical"),
    "machinery": N_("machinery"),
    "building_materials": N_("building materials"),
    "food": N_("food"),
    "clothing": N_("clothing"),
    "wood": N_("wood"),
    "books": N_("books"),
    "transport": N_("transport"),
    "maintenance": N_("maintenance"),
    "training": N_("training"),
    "translation": N_("translation"),
    "cleaning": N_("cleaning"),
    "shop_premises": N_("shop premises"),
    "office": N_("offices"),
    "housing": N_("housing"),
    "land": N_("land"),
    "industrial_site": N_("industrial site"),
    "investor": N_("investor"),
    "partner": N_("business partner"),
    "funding": N_("funding"),
    "renewables": N_("renewable energy"),
    "shop": N_("shop"),
    "cafe": N_("café"),
    "bakery": N_("bakery"),
    "craft": N_("craft"),
    "restaurant": N_("restaurant"),
    "market": N_("market"),
    "doctor": N_("doctor"),
    "nurse": N_("nurse"),
    "pharmacist": N_("pharmacist"),
    "dentist": N_("dentist"),
    "carer": N_("carer"),
    "youth": N_("youth"),
    "culture": N_("culture"),
    "sport": N_("sport"),
    "clean_up": N_("clean-ups"),
    "twinning": N_("town twinning"),
}

BY_KEY: dict[str, Category] = {category.key: category for category in CATEGORIES}

KINDS = ("offer", "request")
REACHES = ("municipality", "region", "country", "europe")
#: How long a listing stays open, in days, by the key the dialog's buttons carry.
DURATIONS: dict[str, int] = {"1w": 7, "1m": 30, "3m": 91, "6m": 182}
#: How a fulfilled listing's need was met.
OUTCOMES = ("platform", "elsewhere")


def category(key: str) -> Category | None:
    return BY_KEY.get(key)
