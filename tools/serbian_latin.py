"""Serbian in Latin script, made from the Cyrillic catalog: ``python -m tools.serbian_latin``.

Serbian is written in both scripts, letter for letter: Gaj's Latin alphabet maps every letter of
Vuk's Cyrillic one to one letter or to a fixed pair (љ → lj, њ → nj, џ → dž), so the Latin
catalog is not translated but transliterated from ``locales/sr``, its glossary with it. Both
files say so in their first line; ``make update-catalogs`` writes them again, and
tests/test_serbian_latin.py fails when they differ from what this script makes.

Placeholders, HTML tags and entities, commands and addresses are kept as they are (they are
ASCII in a correct catalog; a Cyrillic letter inside one is left for the catalog tests to
find). A Cyrillic letter that is not Serbian (a Russian ы, a Macedonian ќ) stops the script:
it would be a typo in the Cyrillic catalog, and guessing its Latin would hide it.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
CYRILLIC, LATIN = "sr", "sr_Latn"
NOTICE = (
    "Made from locales/sr by tools/serbian_latin.py (make update-catalogs): "
    "change the Cyrillic file, not this one."
)

_LETTERS = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž", "з": "z",
    "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
# Upper case: the pair takes one capital before a small letter ("Љубав" → "Ljubav") and two in
# a word of capitals ("ЉУБАВ" → "LJUBAV").
_UPPER = {cyrillic.upper(): latin.upper() for cyrillic, latin in _LETTERS.items()}
_TITLE = {cyrillic.upper(): latin.capitalize() for cyrillic, latin in _LETTERS.items()}
# Never transliterated: {placeholders}, <tags>, &entities;, /commands, addresses.
_KEPT = re.compile(r"\{\w*\}|<[^>]*>|&#?\w+;|(?<![\w/])/[a-z]+\b|(?:https?|tg)://[^\s\"'<>]*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


class NotSerbian(ValueError):
    """A Cyrillic letter outside Serbian's alphabet."""


def _letter(text: str, i: int) -> str:
    char = text[i]
    if char in _LETTERS:
        return _LETTERS[char]
    if char in _UPPER:
        if len(_UPPER[char]) == 1:
            return _UPPER[char]
        after = text[i + 1] if i + 1 < len(text) else ""
        before = text[i - 1] if i else ""
        in_capitals = after.isupper() or (not after.isalpha() and before.isupper())
        return _UPPER[char] if in_capitals else _TITLE[char]
    if _CYRILLIC.match(char):
        raise NotSerbian(f"{char!r} (U+{ord(char):04X}) is not a letter of Serbian: {text!r}")
    return char


def _plain(text: str) -> str:
    return "".join(_letter(text, i) for i in range(len(text)))


def to_latin(text: str) -> str:
    """Serbian Cyrillic text in Latin letters, placeholders, tags and commands untouched."""
    kept, last = [], 0
    for found in _KEPT.finditer(text):
        kept += [_plain(text[last : found.start()]), found.group()]
        last = found.end()
    return "".join([*kept, _plain(text[last:])])


def _latin_header(comment: str) -> str:
    first, _, rest = comment.partition("\n")
    first = first.replace("# Serbian translations", "# Serbian (Latin script) translations")
    return f"{first}\n# {NOTICE}\n{rest}"


def _latin_strings(string: str | Sequence[str] | None) -> str | tuple[str, ...]:
    """A message's translation, or its plural forms, in Latin."""
    if string is None or isinstance(string, str):
        return to_latin(string or "")
    return tuple(map(to_latin, string))


def latin_catalog(cyrillic: bytes) -> bytes:
    """The Latin .po file for a Cyrillic one, in the form `make update-catalogs` writes."""
    source = read_po(io.BytesIO(cyrillic), locale=CYRILLIC)
    catalog = Catalog(
        locale=LATIN,
        domain=source.domain,
        header_comment=_latin_header(source.header_comment),
        project=source.project,
        version=source.version,
        copyright_holder=source.copyright_holder,
        msgid_bugs_address=source.msgid_bugs_address,
        creation_date=source.creation_date,
        revision_date=source.revision_date,
        last_translator=source.last_translator,
        language_team=f"{LATIN} <LL@li.org>",
        charset="utf-8",
        fuzzy=source.fuzzy,
    )
    for message in source:
        if not message.id:
            continue
        catalog.add(
            message.id,
            _latin_strings(message.string),
            flags=message.flags,
            auto_comments=message.auto_comments,
            user_comments=message.user_comments,
            context=message.context,
        )
    out = io.BytesIO()
    write_po(out, catalog, width=0, ignore_obsolete=True)
    # As the Makefile's UNDATE: the template's date would change every file at every run.
    return re.sub(rb'^"POT-Creation-Date: [^"]*"\n', b"", out.getvalue(), flags=re.M)


def latin_glossary(cyrillic: str) -> str:
    """The Latin glossary for the Cyrillic one: terms, patterns and avoided words alike."""
    head, _, rest = cyrillic.partition("\n\n")
    head = head.replace("Glossary for sr:", "Glossary for sr_Latn:", 1)
    return f"# {NOTICE}\n{to_latin(head)}\n\n{to_latin(rest)}"


def write(locales: Path = LOCALES) -> list[Path]:
    """Write the Latin catalog and glossary; the paths written."""
    po = locales / LATIN / "LC_MESSAGES" / "bot.po"
    glossary = locales / LATIN / "glossary.toml"
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_bytes(latin_catalog((locales / CYRILLIC / "LC_MESSAGES" / "bot.po").read_bytes()))
    glossary.write_text(
        latin_glossary((locales / CYRILLIC / "glossary.toml").read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    return [po, glossary]


if __name__ == "__main__":
    for path in write():
        sys.stdout.write(f"wrote {path.relative_to(ROOT)}\n")
