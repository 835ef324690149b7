"""Serbian in Latin script: transliterated from the Cyrillic catalog by rule, kept in step with
it, and chosen for readers whose Telegram says Latin."""

from __future__ import annotations

import re

import pytest

from bot import i18n
from bot.i18n import best_language, translator
from tools.serbian_latin import (
    LATIN,
    LOCALES,
    NotSerbian,
    latin_catalog,
    latin_glossary,
    to_latin,
)

CYRILLIC_LETTER = re.compile(r"[\u0400-\u04ff]")


def test_the_latin_catalog_is_the_cyrillic_one_transliterated():
    source = (LOCALES / "sr" / "LC_MESSAGES" / "bot.po").read_bytes()
    written = (LOCALES / LATIN / "LC_MESSAGES" / "bot.po").read_bytes()
    assert written == latin_catalog(source), "run `make update-catalogs` (tools/serbian_latin.py)"


def test_the_latin_glossary_is_the_cyrillic_one_transliterated():
    source = (LOCALES / "sr" / "glossary.toml").read_text(encoding="utf-8")
    written = (LOCALES / LATIN / "glossary.toml").read_text(encoding="utf-8")
    assert written == latin_glossary(source), "run `make update-catalogs` (tools/serbian_latin.py)"


def test_no_cyrillic_letter_is_left():
    text = (LOCALES / LATIN / "LC_MESSAGES" / "bot.po").read_text(encoding="utf-8")
    assert CYRILLIC_LETTER.findall(text) == []


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("Љубав, њива, џеп, ђак, ћерка", "Ljubav, njiva, džep, đak, ćerka"),
        ("ЉУБАВ ЊИВА ЏЕП", "LJUBAV NJIVA DŽEP"),
        ("Џ. Ђорђевић", "Dž. Đorđević"),
        ("ЏЏ", "DŽDŽ"),
        ("Љ. Њ. Ђ.", "Lj. Nj. Đ."),
        ("Чачак, Жабаљ, Шабац, Хоргош, Цер", "Čačak, Žabalj, Šabac, Horgoš, Cer"),
    ],
)
def test_letters_and_pairs(cyrillic, latin):
    assert to_latin(cyrillic) == latin


def test_placeholders_tags_commands_and_addresses_are_kept():
    text = '<b>{municipality}</b> /post &lt;а&gt; <a href="https://пример.срб/а">веза</a> {}'
    assert to_latin(text) == (
        '<b>{municipality}</b> /post &lt;a&gt; <a href="https://пример.срб/а">veza</a> {}'
    )


@pytest.mark.parametrize("letter", ["ы", "ќ", "ѓ", "й", "Є"])
def test_a_letter_serbian_does_not_have_stops_the_script(letter):
    with pytest.raises(NotSerbian, match=f"U\\+{ord(letter):04X}"):
        to_latin(f"општина{letter}")


def test_latin_readers_read_serbian_not_bosnian():
    latin, cyrillic = translator("sr_Latn"), translator("sr")
    assert latin.gettext("🏛 Municipality") == to_latin(cyrillic.gettext("🏛 Municipality"))
    assert "Opštin" in latin.gettext("🏛 Municipality")
    assert "Općin" in translator("bs").gettext("🏛 Municipality")
    assert latin.locale.script == "Latn"
    assert latin.quote("Pumpa") == "„Pumpa”"


@pytest.mark.parametrize("code", ["sr-Latn", "sr-latn", "sr_Latn", "sr-Latn-RS", "SR-LATN"])
def test_telegram_codes_that_say_latin(code):
    assert best_language(code) == "sr_Latn"


@pytest.mark.parametrize("code", ["sr", "sr-RS", "sr-Cyrl", "sr-cyrl-BA"])
def test_telegram_codes_that_say_cyrillic_or_nothing(code):
    assert best_language(code) == "sr"


def test_a_missing_latin_catalog_is_not_replaced_by_the_cyrillic_one(tmp_path, monkeypatch):
    """gettext would look for sr_Latn, then sr: the bot must say the catalog is missing."""
    compiled = tmp_path / "sr" / "LC_MESSAGES"
    compiled.mkdir(parents=True)
    (compiled / "bot.mo").write_bytes((LOCALES / "sr" / "LC_MESSAGES" / "bot.mo").read_bytes())
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    assert i18n._catalog.__wrapped__("sr").gettext("Skip") != "Skip"
    with pytest.raises(i18n.CatalogMissing, match="sr_Latn"):
        i18n._catalog.__wrapped__("sr_Latn")
