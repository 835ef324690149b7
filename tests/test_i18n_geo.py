"""Languages, CLDR formatting, places, and the checks on typed answers."""

import pytest

from bot.dialogs.steps import check_name, clean_line, parse_count
from bot.i18n import LANGUAGES, autonym, best_language, translator
from bot.places import geocoding as geo
from bot.places.countries import find_country


@pytest.mark.parametrize(
    ("telegram", "expected"),
    [
        ("fr", "fr"),
        ("fr-BE", "fr"),
        ("en-GB", "en"),
        ("de_AT", "de"),
        ("bg", "bg"),
        ("pt-br", "pt"),
        ("mk", "mk"),
        ("sr", "sr"),
        ("sr-Latn", "sr_Latn"),
        ("cnr", "sr"),
        ("ga-IE", "ga"),
        ("nb", "nb"),
        ("no", "nb"),
        ("nn", "nb"),
        ("tr", "tr"),
        ("az", "tr"),
        ("is", "is"),
        ("ka-GE", "ka"),
        ("fo", "da"),
        ("lb", "de"),
        ("zh-hans", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_best_language_for_telegram_codes(telegram, expected):
    assert best_language(telegram) == expected


def test_best_language_falls_back_to_the_default():
    assert best_language("ja", default="fr") == "fr"


def test_country_names_and_numbers_come_from_cldr():
    assert translator("fr").country("DE") == "Allemagne"
    assert translator("bg").country("FR") == "Франция"
    assert translator("de").number(1200) == "1.200"
    assert translator("fr").number(1200) == "1\u202f200"


def test_every_language_has_a_button_name():
    names = [autonym(code) for code in LANGUAGES]
    assert names[:4] == ["English", "Български", "Čeština", "Dansk"]
    assert "Српски" in names and "Shqip" in names and "Gaeilge" in names
    assert {"Srpski (latinica)", "Türkçe", "Norsk bokmål", "Íslenska"} <= set(names)
    assert "ქართული" in names  # Georgian starts no word with a capital (Mtavruli)
    assert all(len(name) <= 20 for name in names)


def test_typed_countries_in_any_language():
    assert find_country(translator("fr"), "allemagne") == "DE"
    assert find_country(translator("fr"), "Germany") == "DE"
    assert find_country(translator("bg"), "  българия ") == "BG"
    assert find_country(translator("en"), "mk") == "MK"
    assert find_country(translator("en"), "Atlantis") is None


def test_locate_a_town_and_refuse_the_sea():
    sofia = geo.locate(42.6977, 23.3219)
    assert sofia is not None and sofia.country == "BG" and sofia.name == "Sofia"
    assert geo.locate(43.0, 5.0) is None  # Gulf of Lion, 38 km from the coast
    assert geo.locate(95.0, 0.0) is None


def test_distance():
    assert geo.distance_km(48.8566, 2.3522, 50.8503, 4.3517) == pytest.approx(264, abs=2)


@pytest.mark.parametrize(
    ("typed", "count"),
    [
        ("1200", 1200),
        ("1 200", 1200),
        ("1.200", 1200),
        ("1'200", 1200),
        ("12,000", 12000),
        ("abc", None),
        ("-5", None),
        ("1e5", None),
        ("١٢٣", None),
        ("9" * 12, None),
    ],
)
def test_parse_count(typed, count):
    assert parse_count(typed) == count


def test_names_need_letters_and_a_sensible_length():
    en = translator("en")
    assert check_name(en, "Sveti Vlas") is None
    assert check_name(en, "🔥🔥🔥") == "A name needs at least one letter."
    assert "2 to 100" in check_name(en, "x")
    assert "2 to 100" in check_name(en, "y" * 101)
    assert clean_line(" a\tb \n c\x00d ") == "a b c d"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_each_catalog_is_compiled_and_loaded(language):
    assert translator(language).gettext("Skip") != "Skip"
