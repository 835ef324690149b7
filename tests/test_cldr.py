"""Every locale format from CLDR, through the Translator, in the reader's language: distances,
times without seconds, time zones by their city, chart dates, limits in the reader's own time,
/mydata's dates, the CSV exports' headers, and Portuguese from pt_PT.

The expected values are computed with the locked Babel in each test (never written out), so
a Babel upgrade that changes CLDR's data changes what is expected with it."""

from __future__ import annotations

import ast
import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_relative_datetime,
    format_skeleton,
    format_time,
    format_timedelta,
    get_datetime_format,
    get_relative_name,
    get_timezone_location,
)
from babel.units import format_unit

from bot.dialogs import search as browse
from bot.handlers.stats import FIGURE_COLUMNS, LISTING_COLUMNS
from bot.i18n import autonym, translator
from bot.places.timezones import COUNTRY_ZONES, ZONES
from bot.storage import Series, fold
from bot.storage.contacts import CONTACTS_PER_DAY, DAY, LISTING_CONTACTS_PER_DAY
from bot.views import charts
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import plain, says, taps

ROOT = Path(__file__).resolve().parent.parent
NOW = int(datetime(2030, 6, 5, 10, 7, tzinfo=UTC).timestamp())

# The languages the issue names, each with a country of its own (and so a time zone).
LANGUAGES = {
    "en": "IE", "fr": "FR", "de": "DE", "bg": "BG", "hu": "HU", "pt": "PT", "el": "GR",
    "uk": "UA",
}  # fmt: skip
# CLDR's locale for a catalog where the language code alone would pick another variety: the
# Portuguese catalog is European Portuguese (Babel's "pt" is Brazilian).
CLDR = {"pt": "pt_PT"}


def locale(language: str) -> Locale:
    return Locale.parse(CLDR.get(language, language))


def km(value: int, language: str) -> str:
    return format_unit(value, "length-kilometer", length="short", locale=locale(language))


def moment(value: datetime, language: str) -> str:
    """A date and a time without seconds, joined by CLDR's pattern."""
    joined = str(get_datetime_format("medium", locale=locale(language))).replace("'", "")
    return joined.replace("{0}", format_time(value, "short", locale=locale(language))).replace(
        "{1}", format_date(value, "medium", locale=locale(language))
    )


def relative(then: datetime, now: datetime, language: str) -> str:
    """'tomorrow, 09:14': CLDR's name of the day and the time, in ``then``'s zone."""
    days = (then.date() - now.astimezone(then.tzinfo).date()).days
    name = get_relative_name("day", days, locale=locale(language))
    assert name is not None
    return format_relative_datetime(
        name, then, format="short", tzinfo=then.tzinfo, locale=locale(language)
    )


@pytest.fixture
def app(bot):
    bot.clock = lambda: NOW
    return bot


# --- the Translator gives what Babel gives ------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_translators_formats_are_the_locked_babels(language):
    t = translator(language)
    cldr = locale(language)
    zone = ZoneInfo("Europe/Sofia")
    at = datetime(2030, 5, 1, 9, 14, tzinfo=zone)
    assert t.kilometres(27.4) == km(27, language)
    assert t.kilometres(1700) == km(1700, language)
    assert t.time(at) == format_time(at, "short", locale=cldr)
    assert t.time(at) != format_time(at, "medium", locale=cldr)  # no seconds
    assert t.moment(at) == moment(at, language)
    assert t.when(at, at - timedelta(hours=20)) == relative(at, at - timedelta(hours=20), language)
    assert t.when(at, at - timedelta(hours=2)) == relative(at, at - timedelta(hours=2), language)
    assert t.when(at, at - timedelta(days=9)) == moment(at, language)  # no name that far
    assert t.skeleton(at, "MMMd") == format_skeleton("MMMd", at, locale=cldr)
    for name in ("Europe/Paris", "Europe/Kyiv", "Atlantic/Canary", "Europe/Athens"):
        assert t.zone_city(name) == get_timezone_location(name, locale=cldr, return_city=True)
    hour = "h" if "h" in str(cldr.time_formats["short"].pattern) else "H"
    assert t.hours(time(22), time(8)) == format_interval(time(22), time(8), hour + "m", locale=cldr)
    assert t.timedelta(timedelta(days=30)) == format_timedelta(timedelta(days=30), locale=cldr)
    assert t.country("PL") == cldr.territories["PL"]
    assert t.language_name("pl") == Locale.parse("pl").get_display_name(cldr)


def test_portuguese_reads_european_portuguese_data():
    """Where Babel's Brazilian "pt" and "pt_PT" differ, the Portuguese reader gets pt_PT's."""
    t = translator("pt")
    european, brazilian = Locale.parse("pt_PT"), Locale.parse("pt")
    assert t.locale == european
    differ = [
        c for c in european.territories if european.territories[c] != brazilian.territories[c]
    ]
    assert differ, "the locked Babel no longer tells pt_PT from pt"
    for code in differ:
        assert t.country(code) == european.territories[code]
    at = datetime(2030, 5, 1, 9, 14, tzinfo=UTC)
    assert t.moment(at) == moment(at, "pt")
    assert t.kilometres(5) == format_unit(5, "length-kilometer", length="short", locale=european)


def test_no_module_formats_with_babel_but_the_translator():
    """Every CLDR lookup goes through bot.i18n (and so through cldr_locale): no other module
    imports Babel's formatting, except the settings, which only check a locale's name."""
    allowed = {"bot/i18n.py": None, "bot/config.py": {"babel"}}
    found = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                if module.split(".")[0] == "babel" and name not in allowed:
                    found.setdefault(name, set()).add(module)
                elif module.split(".")[0] == "babel" and allowed[name] is not None:
                    assert module in allowed[name], (name, module)
    assert found == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_chart_dates_follow_the_languages_pattern(language):
    t = translator(language)
    start = int(datetime(2030, 4, 28, tzinfo=UTC).timestamp())
    series = Series(start=start, bucket=86_400, offers=[1] * 5, requests=[0] * 5, contacts=None)
    expected = [
        format_skeleton("MMMd", datetime.fromtimestamp(start + i * 86_400, UTC), locale=t.locale)
        for i in range(5)
    ]
    assert charts.day_labels(t, series) == expected
    assert expected == [
        format_skeleton("MMMd", date(2030, 4, 28) + timedelta(days=i), locale=locale(language))
        for i in range(5)
    ]


# --- over HTTP, in each language ------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
async def test_distances_near_a_location_carry_cldrs_unit(server, app, language):
    """The result page, its heading and its radius buttons, in the reader's language."""
    _ = translator(language).gettext
    await seed.member(app.storage, 11)
    # 0.1° of latitude north of the reader: about 11 km.
    await seed.listing(app.storage, 11, NOW, title="Pump", latitude=48.38, longitude=6.95)
    reader = server.create_user("Reader", language_code=language)
    await seed.member(app.storage, reader.id, language=language, role="volunteer")
    await reader.send_location(48.28, 6.95)
    near = await reader.wait_for_bot_message()
    heading = _("📍 within {radius} of your location").format(radius=km(50, language))
    assert heading in near.text
    assert f" · {km(11, language)} · " in near.text
    radii = [
        button["text"].removeprefix("✓ ")
        for row in near.inline_keyboard
        for button in row
        if ":r:" in button.get("callback_data", "")
    ]
    assert radii == [km(r, language) for r in browse.RADII]
    assert server.errors() == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_settings_show_the_zone_by_its_city_and_times_without_seconds(server, app, language):
    t = translator(language)
    _ = t.gettext
    cldr = locale(language)
    zone = COUNTRY_ZONES[LANGUAGES[language]]
    person = server.create_user("Person", language_code=language)
    await seed.member(
        app.storage,
        person.id,
        language=language,
        country=LANGUAGES[language],
        quiet_hours=(22, 8),  # everyone's default
    )
    shown = await says(person, "/settings")
    here = datetime.fromtimestamp(NOW, ZoneInfo(zone))
    city = get_timezone_location(zone, locale=cldr, return_city=True)
    assert (
        plain(
            _("Your timezone: {zone} (it is {time} there now).").format(
                zone=city, time=format_time(here, "short", locale=cldr)
            )
        )
        in shown.text
    )
    hour = "h" if "h" in str(cldr.time_formats["short"].pattern) else "H"
    assert format_interval(time(22), time(8), hour + "m", locale=cldr) in shown.text
    assert "/" not in shown.text.split("\n")[-3]  # no tz database id
    await person.press(_("🕒 Timezone: {zone}").format(zone=city))
    zones = await person.wait_for_bot_message(include_edits=True)
    cities = [get_timezone_location(z, locale=cldr, return_city=True) for z in ZONES]
    labels = [label.removeprefix("✓ ") for label in zones.button_labels[: len(ZONES)]]
    assert [label.rsplit(" ", 1)[0] for label in labels] == sorted(cities, key=fold)
    assert server.errors() == []


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_contact_limit_says_when_in_the_readers_own_time(server, app, language):
    country = LANGUAGES[language]
    owner, asker = 21, server.create_user("Asker", language_code=language)
    await seed.member(app.storage, owner)
    await seed.member(app.storage, asker.id, language=language, country=country, role="volunteer")
    listings = [
        await seed.listing(app.storage, owner, NOW - DAY // 2, title=f"Listing {i}")
        for i in range(CONTACTS_PER_DAY + 1)
    ]
    for index in range(CONTACTS_PER_DAY):
        await app.storage.open_contact(asker.id, listings[index].id, f"Hello {index}", NOW - index)
    started = await says(asker, "/start")
    await asker.press_data(started.id, f"ct:ask:{listings[-1].id}")
    answer = await asker.wait_for_callback_answer()
    zone = ZoneInfo(COUNTRY_ZONES[country])
    # The tenth request leaves the 24 hours first: then the next one may go.
    then = datetime.fromtimestamp(NOW - (CONTACTS_PER_DAY - 1) + DAY, zone)
    when = relative(then, datetime.fromtimestamp(NOW, zone), language)
    message = translator(language).gettext(
        "You have sent many contact requests today. You can send the next one {when}."
    )
    assert answer.text.rstrip(".") == message.format(when=when).rstrip(".")
    assert "UTC" not in answer.text and ".." not in answer.text


@pytest.mark.parametrize("language", LANGUAGES)
async def test_mydata_writes_every_date_in_iso_8601_with_the_offset(server, app, language):
    t = translator(language)
    country = LANGUAGES[language]
    zone = ZoneInfo(COUNTRY_ZONES[country])
    person = server.create_user("Person", language_code=language)
    await seed.member(app.storage, person.id, language=language, country=country)
    await seed.listing(app.storage, person.id, NOW - DAY)
    sent = await says(person, "/mydata")
    data = json.loads(server.file_bytes(sent.document["file_id"]))
    example = datetime.fromtimestamp(NOW, zone).isoformat(timespec="seconds")
    assert data["about"]["time_zone"] == COUNTRY_ZONES[country]
    assert data["about"]["dates"] == t.gettext(
        "Every date and time in this file is written in ISO 8601, in your time zone ({zone}) "
        "with its offset from UTC: {example}."
    ).format(
        zone=get_timezone_location(zone.key, locale=locale(language), return_city=True),
        example=example,
    )
    assert data["exported_at"] == example
    dates = list(moments(data))
    assert len(dates) >= 5  # the export, the profile's, the listing's and its history's
    for key, value in dates:
        assert isinstance(value, str), (key, value)
        parsed = datetime.fromisoformat(value)
        assert parsed.utcoffset() == zone.utcoffset(parsed.replace(tzinfo=None)), (key, value)
    listing = data["listings"][0]
    assert datetime.fromisoformat(listing["published_at"]).timestamp() == NOW - DAY


def moments(value, name=""):
    """(key, value) of every moment of an export: ``at``, ``*_at`` and ``not_before``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from moments(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from moments(item, name)
    elif value is not None and (name == "at" or name.endswith("_at") or name == "not_before"):
        yield name, value


@pytest.mark.parametrize("language", LANGUAGES)
async def test_csv_exports_are_headed_in_the_admins_language(server, app, language):
    _ = translator(language).gettext
    await seed.member(app.storage, 31)
    await seed.listing(app.storage, 31, NOW - DAY, title="Ladders")
    admin = server.create_user("Admin", language_code=language, user_id=ADMIN_ID)
    await says(admin, "/stats")
    for button, columns in (
        (_("📄 Listings (CSV)"), LISTING_COLUMNS),
        (_("📄 Figures (CSV)"), FIGURE_COLUMNS),
    ):
        await admin.press(button)
        document = await admin.wait_for_bot_message(timeout=10)
        raw = server.file_bytes(document.document["file_id"]).decode("utf-8-sig")
        header, *rows = csv.reader(io.StringIO(raw))
        assert header == [_(label) for label in columns.values()]
        assert rows  # the values stay what a program reads: ids, codes, dates
    assert rows[0][0] == "people" or any(row[0] == "people" for row in rows)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_broadcast_time_typed_with_a_city_in_the_admins_language(server, app, language):
    """The admin's zone is named by its city; a time typed with another city (in the admin's
    language, in any case) is read in that city's zone and shown back without seconds."""
    _ = translator(language).gettext
    cldr = locale(language)
    app.clock = lambda: int(datetime(2030, 4, 1, 12, tzinfo=UTC).timestamp())
    admin = server.create_user("Admin", language_code=language, user_id=ADMIN_ID)
    await seed.member(app.storage, ADMIN_ID, language=language, country="FR")
    await says(admin, "/broadcast")
    await taps(admin, autonym("en"))
    await says(admin, "Meeting «bc-city»")
    await taps(admin, _("➡ Choose the audience"))
    await taps(admin, _("➡ Continue"))
    ask = await taps(admin, _("🕒 At a date and time"))
    paris = get_timezone_location("Europe/Paris", locale=cldr, return_city=True)
    sofia = get_timezone_location("Europe/Sofia", locale=cldr, return_city=True)
    assert ask.text == plain(
        _(
            "Type the date and time in your time zone ({timezone}), like {example}. "
            "For another time zone, add its city: {example} {city}."
        ).format(timezone=paris, example="2030-05-01 09:30", city=sofia)
    )
    await admin.send_text(f"2030-05-01 09:30 {sofia.upper()}")
    summary = await admin.wait_for_bot_message(
        lambda m: _("✅ Schedule it") in m.button_labels, timeout=15
    )
    at = datetime(2030, 5, 1, 9, 30, tzinfo=ZoneInfo("Europe/Sofia"))
    assert f"{moment(at, language)} ({sofia})" in summary.text
    assert format_datetime(at, "medium", locale=cldr) not in summary.text  # no seconds
    drafts = await app.storage._fetchall("SELECT timezone, send_at FROM broadcasts")
    assert [tuple(row) for row in drafts] == [("Europe/Sofia", int(at.timestamp()))]
    assert server.errors() == []


@pytest.mark.parametrize("language", ("en", "bg", "el", "hu"))
async def test_a_busy_listing_says_when_in_the_readers_own_time(server, app, language):
    """Twenty requests in 24 hours to one listing: the next asker is told when, in their own
    time; where CLDR's time ends with an abbreviation ("ч.", "π.μ."), one full stop."""
    country = LANGUAGES[language]
    await seed.member(app.storage, 41)
    listing = await seed.listing(app.storage, 41, NOW - DAY, title="Popular")
    for index in range(LISTING_CONTACTS_PER_DAY):
        await seed.member(app.storage, 1000 + index, role="volunteer", country="AT")
        await app.storage.open_contact(1000 + index, listing.id, f"Hi {index}", NOW - 60 * index)
    asker = server.create_user("Asker", language_code=language)
    await seed.member(app.storage, asker.id, language=language, country=country, role="volunteer")
    started = await says(asker, "/start")
    await asker.press_data(started.id, f"ct:ask:{listing.id}")
    answer = await asker.wait_for_callback_answer()
    zone = ZoneInfo(COUNTRY_ZONES[country])
    oldest = NOW - 60 * (LISTING_CONTACTS_PER_DAY - 1)
    when = relative(
        datetime.fromtimestamp(oldest + DAY, zone), datetime.fromtimestamp(NOW, zone), language
    )
    message = translator(language).gettext(
        "This listing received many requests today. You can try again {when}."
    )
    assert answer.text.rstrip(".") == message.format(when=when).rstrip(".")
    assert ".." not in answer.text
