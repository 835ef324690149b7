"""Every count reads right in every language: each counted message of the template, rendered
with the numbers that reach the plural categories, is a translation that shows the number; and
the places that count things (the owner's card, the admin's report card) go through ngettext."""

from __future__ import annotations

import re
from dataclasses import replace
from gettext import c2py

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR, translator
from bot.storage import Listing
from bot.views.cards import audience_line, listing_text

# 0, 1, 2, the few (5), and the numbers whose last digits decide in Slavic and Baltic languages.
COUNTS = (0, 1, 2, 5, 21, 101)
COUNTED = ("count", "days", "length")  # the placeholder that holds the number, by name
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def counted_messages() -> list[tuple[str, str]]:
    with (LOCALES_DIR / "bot.pot").open("rb") as pot:
        return [m.id for m in read_po(pot) if m.id and isinstance(m.id, tuple)]


def catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as po:
        return read_po(po, locale=language)


def render(text: str, n: int) -> str:
    names = PLACEHOLDER.findall(text)
    counted = next(name for name in COUNTED if name in names)
    return text.format(**{name: str(n) if name == counted else "X" for name in names})


def test_the_template_has_counted_messages():
    messages = counted_messages()
    assert len(messages) >= 15
    for singular, _plural in messages:
        assert any(name in PLACEHOLDER.findall(singular) for name in COUNTED), singular


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_counted_message_in_every_language(language):
    t = translator(language)
    po = None if language == "en" else catalog(language)
    choose = c2py(po.plural_expr) if po else (lambda n: int(n != 1))
    for singular, plural in counted_messages():
        # The catalog's own form for n's category, not the English that gettext falls back to
        # ("1 person" is Danish too: comparing with the English would prove nothing).
        forms = (singular, plural) if po is None else po[singular].string
        for n in COUNTS:
            chosen = t.ngettext(singular, plural, n)
            assert chosen and chosen == forms[choose(n)], (language, singular, n)
            assert str(n) in render(chosen, n), (language, chosen, n)


def owner_listing(views: int, contacts: int) -> Listing:
    return Listing(
        id=1, owner_id=7, municipality_id=None, organisation_id=None, kind="offer",
        category="equipment", title="Fire pump", description="A portable fire pump.",
        language="en", country="FR", region="Vosges", place="Saint-Dié", latitude=None,
        longitude=None, reach="country", photo_file_id=None, status="open", outcome=None,
        published_at=0, expires_at=10**9, status_changed_at=0, views=views, contacts=contacts,
        author_role="volunteer", author_name=None, author_verified=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("language", "views", "contacts", "expected"),
    [
        ("en", 1, 1, "👁 1 view · 💬 1 contact"),
        ("en", 2, 0, "👁 2 views · 💬 0 contacts"),
        ("fr", 1, 1, "👁 1 vue · 💬 1 contact"),
        ("fr", 0, 5, "👁 0 vue · 💬 5 contacts"),
        ("bg", 1, 2, "👁 1 преглед · 💬 2 контакта"),
        ("pl", 2, 5, "👁 2 wyświetlenia · 💬 5 kontaktów"),
        ("pl", 22, 1, "👁 22 wyświetlenia · 💬 1 kontakt"),
        ("uk", 21, 11, "👁 21 перегляд · 💬 11 контактів"),
    ],
)
def test_the_owners_card_counts_views_and_contacts(language, views, contacts, expected):
    t = translator(language)
    listing = owner_listing(views, contacts)
    assert audience_line(t, listing) == expected
    assert expected in listing_text(t, listing, now=0, for_owner=True)
    assert expected not in listing_text(t, replace(listing), now=0, for_owner=False)
