"""Places: the nearest places to a point, and places and regions in the reader's script.

The names asserted here come from the extract committed in bot/places/data (built by
tools/build_places.py), not from a library that may change them between versions.
"""

from __future__ import annotations

import pytest
from babel.units import format_unit

from bot.i18n import LANGUAGES, translator
from bot.places import geocoding as geo
from bot.places import index, names
from bot.places.countries import COUNTRIES
from bot.places.scripts import (
    reader_script,
    romanize,
    script_of,
    scripts_in,
    to_cyrillic,
    to_latin,
    written_in,
)
from bot.views.texts import place_line
from tests.talk import plain, says, taps

ZHERAVNA = (42.8333, 26.4667)  # a village of about 200 people, 6 km from Kotel
TRYAVNA = "g726287@42.87,25.5"
KYIV = "g703448@50.45,30.52"
SKOPJE = "g785842@42.0,21.43"
BELGRADE = "g792680@42.0,20.47"  # a stale position: the key's cell is wrong


def km(value: float) -> str:
    """A distance as CLDR (the locked Babel) writes it in Bulgarian."""
    return format_unit(value, "length-kilometer", length="short", locale="bg")


def test_the_nearest_places_keep_a_tenth_of_a_kilometre_under_ten():
    t = translator("bg")
    assert t.kilometres(0.44, near=True) == km(0.4)
    assert t.kilometres(5.74, near=True) == km(5.7)
    assert t.kilometres(12.34, near=True) == km(12)
    assert t.kilometres(5.74) == km(6)  # listings' distances stay whole kilometres


def test_a_village_is_among_the_nearest_places():
    found = index.nearest_places(*ZHERAVNA, limit=5)
    assert [n.place.name for n in found][:1] == ["Zheravna"]
    assert "Kotel" in [n.place.name for n in found]
    assert [n.distance_km for n in found] == sorted(n.distance_km for n in found)
    assert all(n.distance_km <= 30 for n in found) and len(found) == 5
    assert {n.place.region for n in found} == {"BG-20"}  # Sliven


def test_the_sea_and_other_countries():
    assert index.nearest_places(43.0, 5.0) == []  # Gulf of Lion
    tokyo = geo.locate(35.6762, 139.6503)
    assert tokyo is not None and tokyo.country == "JP" and tokyo.key is None
    edirne = geo.locate(41.677, 26.556)  # Turkey, 8 km from Bulgaria
    assert edirne is not None and edirne.country == "TR"
    sofia = geo.locate(42.6977, 23.3219)
    assert sofia is not None and sofia.country == "BG" and sofia.key is not None


def test_a_key_finds_its_place_and_nothing_else():
    tryavna = index.place(TRYAVNA)
    assert tryavna is not None and (tryavna.name, tryavna.local) == ("Tryavna", "Трявна")
    assert index.place("g726287@10.0,10.0") is None  # the key's position is elsewhere
    assert index.place("not a key") is None
    assert index.place("g726287@x,y") is None
    assert index.place("g1@42.87,25.5") is None


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("bg", "Трявна, Габрово, България"),
        ("uk", "Трявна, Габровська область, Болгарія"),
        ("el", "Tryavna, Γκάμπροβο, Βουλγαρία"),
        ("sr", "Трявна, Габрово, Бугарска"),
        ("mk", "Трявна, Габрово, Бугарија"),
        ("de", "Tryavna, Gabrowo, Bulgarien"),
        ("fr", "Tryavna, Gabrovo, Bulgarie"),
        ("en", "Tryavna, Gabrovo, Bulgaria"),
    ],
)
def test_a_bulgarian_town_for_each_reader(language, expected):
    assert place_line(translator(language), "Tryavna", "BG-07", "BG", TRYAVNA) == expected


@pytest.mark.parametrize(
    ("language", "kyiv", "north_holland", "baden"),
    [
        ("uk", "Київ", "Північна Голландія", "Баден-Вюртемберг"),
        ("bg", "Киев", "North Holland", "Baden-Württemberg"),  # no Bulgarian name: English
        ("de", "Kyiw", "Nordholland", "Baden-Württemberg"),
        ("nl", "Kyiv", "Noord-Holland", "Baden-Württemberg"),
        ("fr", "Kyiv", "Hollande septentrionale", "Bade-Wurtemberg"),
        ("en", "Kyiv", "North Holland", "Baden-Württemberg"),
        ("sr", "Кијев", "Норд Холанд", "Баден Виртемберг"),
        ("el", "Κίεβο", "North Holland", "Baden-Württemberg"),
    ],
)
def test_places_and_regions_in_the_readers_language(language, kyiv, north_holland, baden):
    assert names.place_name(language, KYIV, "Kyiv") == kyiv
    assert names.region_name(language, "NL-NH") == north_holland
    assert names.region_name(language, "DE-BW") == baden


def test_the_local_spelling_where_the_reader_has_no_name_of_their_own():
    skopje = index.place("g785842@42.0,21.43")
    assert skopje is not None
    assert names.known_place_name("mk", skopje) == "Скопје"
    assert names.known_place_name("el", skopje) == "Σκόπια"  # the Greek name
    assert names.known_place_name("sl", skopje) == "Skopje"
    [village] = index.nearest_places(*ZHERAVNA, limit=1)
    assert names.known_place_name("uk", village.place) == "Жеравна"  # local, same script
    assert names.known_place_name("el", village.place) == "Zheravna"  # Latin otherwise
    assert names.known_place_name("sr-Latn", village.place) == "Žeravna"


def test_a_name_the_readers_script_cannot_spell_falls_back_to_latin():
    tryavna = index.place(TRYAVNA)
    assert tryavna is not None
    # Bulgarian 'я' has no letter in Serbian Latin: not 'Trяvna', the Latin name.
    assert to_latin("Трявна") is None and to_latin("Чачак") == "Čačak"
    for latin_serbian in ("sr-Latn", "sr_Latn", "sr@latin"):
        assert names.known_place_name(latin_serbian, tryavna) == "Tryavna"
        assert names.region_name(latin_serbian, "BG-07") == "Gabrovo"
    assert names.known_place_name("sr", tryavna) == "Трявна"
    assert names.region_name("sr-Latn", "RS-VO") == "Vojvodina"  # Serbian Cyrillic converts
    assert (written_in("Trяvna", "Latn"), written_in("Trяvna", "Cyrl")) == (False, False)
    assert scripts_in("Trяvna") == {"Latn", "Cyrl"} and scripts_in("Kamʼianets") == {"Latn"}


# Every reader: the bot's catalogs, the languages the place names are prepared for, and
# Serbian read in Latin letters.
READERS = sorted({*LANGUAGES, *(p.stem for p in (names.DATA / "names").glob("*.tsv")), "sr-Latn"})


def _sample_of_the_extract(per_country: int = 80) -> list[index.KnownPlace]:
    """Every place some language names in its own way (where mixed spellings hide), and an
    evenly spread sample of each served country's places (local spellings, transliterations)."""
    own_named = {
        line.split("\t")[0]
        for path in (names.DATA / "names").glob("*.tsv")
        for line in path.read_text(encoding="utf-8").splitlines()
    }
    served = [p for p in index.index() if p.served]
    per = {}
    for place in served:
        per[place.country] = per.get(place.country, 0) + 1
    seen: dict[str, int] = {}
    sample = []
    for place in served:
        seen[place.country] = seen.get(place.country, 0) + 1
        stride = max(1, per[place.country] // per_country)
        if place.key in own_named or seen[place.country] % stride == 0:
            sample.append(place)
    return sample


def test_no_reader_gets_a_name_mixing_scripts():
    sample = _sample_of_the_extract()
    assert {p.country for p in sample} == set(COUNTRIES)  # every served country
    regions = {line.split("\t")[0] for line in names.DATA.joinpath("regions.tsv").open()}
    wrong = []
    for language in READERS:
        readable = {reader_script(language), "Latn"}  # the reader's script, else Latin
        shown = [(p.key, names.known_place_name(language, p)) for p in sample]
        shown += [(code, names.region_name(language, code)) for code in regions]
        wrong += [
            (language, key, name)
            for key, name in shown
            if len(scripts_in(name)) != 1 or not scripts_in(name) <= readable
        ]
    assert wrong == []


def test_typed_names_and_regions_stay_as_typed():
    assert names.place_name("bg", None, "Горно Нанадолнище") == "Горно Нанадолнище"
    assert names.region_name("bg", "Gabrovo") == "Gabrovo"  # typed, not a code
    assert names.place_name("bg", "g1@1,1", "Typed") == "Typed"  # a key no longer known
    line = place_line(translator("de"), "<Dorf>", "Bezirk & Co", "AT")
    assert line == "&lt;Dorf&gt;, Bezirk &amp; Co, Österreich"


def test_official_transliterations():
    assert romanize("Жеравна", "bg") == "Zheravna"
    assert romanize("Малчовци", "bg") == "Malchovtsi"
    assert romanize("Стара Загора", "bg") == "Stara Zagora"
    assert romanize("Київ", "uk") == "Kyiv"
    assert romanize("Згурівка", "uk") == "Zghurivka"
    assert romanize("Яготин", "uk") == "Yahotyn"
    assert romanize("Трявна", "ru") == "Трявна"  # no rule: unchanged
    assert to_cyrillic("Čačak") == "Чачак" and to_cyrillic("Ljubovija") == "Љубовија"
    assert to_cyrillic("München") is None  # not Serbian Latin: left as it is
    assert to_latin("Нови Сад") == "Novi Sad"
    assert (script_of("Αθήνα"), script_of("Київ"), script_of("Wien"), script_of("42")) == (
        "Grek",
        "Cyrl",
        "Latn",
        "",
    )
    assert (reader_script("sr"), reader_script("sr-Latn"), reader_script("el")) == (
        "Cyrl",
        "Latn",
        "Grek",
    )


# --- over HTTP: the nearest places offered in onboarding and posting ----------------------


async def start_located(server, name: str, role_label: str, location=ZHERAVNA):
    _ = translator("bg").gettext
    user = server.create_user(name, language_code="bg")
    await says(user, "/start")
    await taps(user, "✓ Български")
    await taps(user, _(role_label))
    await user.tap_reply_button(_("📍 Share my location"), location=location)
    question = await user.wait_for_bot_message()
    return user, question


async def test_a_mayor_chooses_the_village_and_is_asked_its_population(server, bot):
    _ = translator("bg").gettext
    user, question = await start_located(server, "Кмет", "🏛 Municipality")
    assert question.text == plain(
        _("Which place is it? Here are the nearest to the point you shared:")
    )
    labels = question.button_labels
    # CLDR's short unit: Bulgarian writes "km" under one kilometre, "км" from one on.
    assert labels[0] == f"📍 Жеравна · {km(0.0)}"
    assert f"📍 Котел · {km(5.7)}" in labels
    assert labels[-1] == _("✏️ None of these: I will type the name")
    population = await taps(user, labels[0])
    assert "Жеравна" in population.text and "Котел" not in population.text
    summary = await says(user, "200")
    assert "Жеравна, Сливен, България" in summary.text
    await taps(user, _("✅ Save"))
    member = await bot.storage.get_member(user.id)
    assert (member.place, member.region, member.country) == ("Zheravna", "BG-20", "BG")
    assert member.place_key is not None and member.place_key.startswith("pBG")
    assert (member.municipality_name, member.municipality_population) == ("Zheravna", 200)
    assert server.errors() == []


async def test_a_typed_name_is_kept_as_typed_with_the_locations_region(server, bot):
    _ = translator("bg").gettext
    user, _question = await start_located(server, "Кмет", "🏛 Municipality")
    asked = await taps(user, _("✏️ None of these: I will type the name"))
    assert asked.text == plain(_("{country}: what is the name of your municipality?")).format(
        country="България"
    )
    population = await says(user, "Кметство Жеравна")
    assert "Кметство Жеравна" in population.text  # no region question: the point gave it
    await says(user, "180")
    await taps(user, _("✅ Save"))
    member = await bot.storage.get_member(user.id)
    assert (member.place, member.place_key, member.region) == ("Кметство Жеравна", None, "BG-20")
    assert member.latitude == pytest.approx(ZHERAVNA[0])


async def test_a_volunteer_is_not_asked_a_population(server, bot):
    _ = translator("bg").gettext
    user, question = await start_located(server, "Доброволец", "🤝 Volunteer")
    summary = await taps(user, question.button_labels[2])
    assert summary.button_labels == [_("✅ Save"), _("🔁 Start over")]
    await taps(user, _("✅ Save"))
    member = await bot.storage.get_member(user.id)
    assert member.municipality_id is None and member.place_key is not None


async def test_a_forged_or_stale_choice_changes_nothing(server, bot):
    _ = translator("bg").gettext
    user, question = await start_located(server, "Кмет", "🏛 Municipality")
    await user.press_data(question.id, "ob:place:7")
    answer = await user.wait_for_callback_answer()
    assert answer.text == _("This button is no longer valid.")
    await user.press_data(question.id, "ob:place:-1")
    assert (await user.wait_for_callback_answer()).text == answer.text
    population = await taps(user, question.button_labels[0])  # the real choice still works
    assert "Жеравна" in population.text
    member = await bot.storage.get_member(user.id)
    assert not member.onboarded


async def test_a_listing_at_the_village_reads_in_each_readers_script(server, bot):
    """Posting from a shared point: the village chosen, typed names kept; the card in each
    reader's script."""
    from bot.dialogs import posting as q
    from bot.views import cards
    from tests.test_posting import publish, question, tap, type_in, walk_to_title

    _ = translator("bg").gettext
    user = server.create_user("Кмет", language_code="bg")
    await walk_to_title(user, "bg")
    await type_in(user, "Дърва за огрев")
    await type_in(user, "Два кубика сухи букови дърва.")
    await user.tap_reply_button(_("📍 Share a location"), location=ZHERAVNA)
    nearest = await question(user)
    assert nearest.button_labels[0].startswith("📍 Жеравна · ")
    navigation = q.navigation(translator("bg"), q.CHOOSING_NEARBY)
    assert nearest.button_labels[-len(navigation) :] == [button.text for button in navigation]
    await user.press_data(nearest.id, "po:near:9")  # forged: refused, nothing changes
    assert (await user.wait_for_callback_answer()).text == _("This button is no longer valid.")
    await tap(user, nearest.button_labels[0])
    await tap(user, _(cards.REACH_LABELS["region"]))
    await tap(user, _("Skip"))
    await tap(user, _("1 month"))
    await publish(user, "bg")
    [listing] = await bot.storage.listings_of(user.id)
    assert (listing.place, listing.region) == ("Zheravna", "BG-20")
    assert listing.place_key is not None and listing.place_key.startswith("pBG")
    bulgarian = cards.listing_card(
        translator("bg"), listing, may_manage=False, now=listing.published_at, bot_username="b"
    )
    german = cards.listing_card(
        translator("de"), listing, may_manage=False, now=listing.published_at, bot_username="b"
    )
    assert "Жеравна, Сливен, България" in bulgarian.text
    assert "Zheravna, Sliwen, Bulgarien" in german.text
    assert server.errors() == []
