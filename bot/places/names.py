"""Places and regions named in the reader's language and script.

A place chosen from the extract is stored by its key ('g726287'), a region by its ISO 3166-2
code ('BG-07'); what a person typed is stored as typed and shown as typed. For a key or a
code, a reader sees, in order:

1. the name in their own language where the data has one ('Мюнхен' for a Bulgarian,
   'Nordholland' for a German);
2. the local spelling if it is in the reader's script ('Трявна' for a Ukrainian, 'Zürich'
   for a Frenchman), or for a Serbian reading Latin, a Serbian Cyrillic spelling in Serbian
   Latin ('Чачак' → 'Čačak');
3. the international Latin-script name ('Tryavna' for a German or a Greek).

A name is only chosen if every letter of it is in the reader's script: a Serbian reading
Latin gets 'Tryavna', never 'Trяvna' (Bulgarian 'я' has no Serbian Latin letter).

Each language's names are read on first use (``data/names/<language>.tsv``, a few hundred
to a few thousand lines); the regions table is about a thousand lines.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from bot.places import index
from bot.places.scripts import language_of, reader_script, to_latin, written_in

DATA = Path(__file__).parent / "data"


def _read_tsv(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]


@cache
def _regions() -> dict[str, tuple[str, str, str]]:
    """ISO 3166-2 code → (country, international name, local name)."""
    return {
        code: (country, international, local or international)
        for code, country, international, local in _read_tsv(DATA / "regions.tsv")
    }


@cache
def _own_names(language: str) -> dict[str, str]:
    base = language_of(language)
    names = dict(row[:2] for row in _read_tsv(DATA / "names" / f"{base}.tsv"))
    if base == "sr" and reader_script(language) == "Latn":
        latin = {key: to_latin(name) for key, name in names.items()}
        names = {key: name for key, name in latin.items() if name}
    return names


def _choose(language: str, key: str, international: str, local: str) -> str:
    script = reader_script(language)
    candidates = [_own_names(language).get(key), local]
    if script == "Latn" and language_of(language) == "sr":
        candidates.append(to_latin(local))
    for name in candidates:
        if name and written_in(name, script):
            return name
    return international


def region_name(language: str, region: str | None) -> str:
    """A region for a reader: an ISO code in their language, anything else as it was typed."""
    if not region:
        return ""
    known = _regions().get(region)
    if known is None:
        return region
    _country, international, local = known
    return _choose(language, region, international, local)


def known_place_name(language: str, place: index.KnownPlace) -> str:
    return _choose(language, place.key, place.name, place.local)


def place_name(language: str, key: str | None, stored: str | None) -> str:
    """A place for a reader: by its key in their language, or as stored (typed) without one."""
    if key:
        found = index.place(key)
        if found is not None and found.served:
            return known_place_name(language, found)
    return stored or ""
