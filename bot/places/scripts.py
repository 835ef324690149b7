"""Writing systems: which script a name or a reader's language uses, and the official rules
that turn a Bulgarian, Ukrainian or Macedonian name into Latin letters and Serbian Latin
into Cyrillic.

Used by ``tools/build_places.py`` to prepare the place extract and by
:mod:`bot.places.names` to choose the spelling a reader can read.
"""

from __future__ import annotations

import unicodedata

#: Readers' languages not written in the Latin script.
LANGUAGE_SCRIPTS: dict[str, str] = {
    "bg": "Cyrl", "uk": "Cyrl", "sr": "Cyrl", "mk": "Cyrl", "ru": "Cyrl", "be": "Cyrl",
    "el": "Grek", "ka": "Geor",
}  # fmt: skip

_SCRIPT_PREFIXES = (
    ("LATIN", "Latn"),
    ("CYRILLIC", "Cyrl"),
    ("GREEK", "Grek"),
    ("GEORGIAN", "Geor"),
)


def _script_of_letter(char: str) -> str:
    name = unicodedata.name(char, "")
    for prefix, script in _SCRIPT_PREFIXES:
        if name.startswith(prefix):
            return script
    # 'ª', 'º': Latin letters whose Unicode names do not say so.
    return "Latn" if ord(char) < 0x250 else name.split(" ")[0]


def _letters(text: str) -> list[str]:
    # Modifier letters (the Ukrainian apostrophe 'ʼ') belong to no script of their own.
    return [c for c in text if c.isalpha() and unicodedata.category(c) != "Lm"]


def script_of(text: str) -> str:
    """The script of the first letter of ``text`` ('Latn', 'Cyrl', 'Grek', 'Geor'), or ''."""
    letters = _letters(text)
    return _script_of_letter(letters[0]) if letters else ""


def scripts_in(text: str) -> set[str]:
    """The scripts of all the letters of ``text``: one for a name written in one script."""
    return {_script_of_letter(c) for c in _letters(text)}


def written_in(text: str, script: str) -> bool:
    """Whether every letter of ``text`` is of ``script`` ('Trяvna' is neither Latin nor
    Cyrillic)."""
    return scripts_in(text) == {script}


def language_of(language: str) -> str:
    """The language of a reader's code, without its script or country ('sr-Latn' → 'sr')."""
    return language.replace("_", "-").replace("@", "-").split("-")[0].casefold()


def reader_script(language: str) -> str:
    """The script a reader of ``language`` reads ('sr-Latn', 'sr_Latn' and 'sr@latin' read
    Latin)."""
    variants = language.replace("_", "-").replace("@", "-").casefold().split("-")[1:]
    if "latn" in variants or "latin" in variants:
        return "Latn"
    return LANGUAGE_SCRIPTS.get(language_of(language), "Latn")


# Bulgarian: the Streamlined System of the Transliteration Act (2009).
_BULGARIAN = dict(
    zip(
        "абвгдежзийклмнопрстуфхцчшщъьюя",
        "a b v g d e zh z i y k l m n o p r s t u f h ts ch sh sht a y yu ya".split(),  # noqa: SIM905
        strict=True,
    )
)
# Ukrainian: the national system (Cabinet of Ministers resolution 55, 2010). Some letters are
# written one way at the start of a word and another way inside it.
_UKRAINIAN = dict(
    zip(
        "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
        "a b v h g d e ie zh z y i i i k l m n o p r s t u f kh ts ch sh shch _ iu ia".split(),  # noqa: SIM905
        strict=True,
    )
)
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
# Macedonian: BGN/PCGN 2013, the system of North Macedonia's government.
_MACEDONIAN = dict(
    zip(
        "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
        "a b v g d ǵ e ž z dz i j k l lj m n nj o p r s t ḱ u f h c č dž š".split(),  # noqa: SIM905
        strict=True,
    )
)


def _bulgarian(word: str) -> str:
    # "-ия" at the end of a word is "-ia" (България → Bulgaria).
    ending = "ia" if word.casefold().endswith("ия") else ""
    body = word[:-2] if ending else word
    return "".join(_BULGARIAN.get(c.casefold(), c) for c in body) + ending


def _ukrainian(word: str) -> str:
    out = []
    lower = word.casefold()
    for i, char in enumerate(lower):
        if char in "'’ʼ" or char == "ь":
            continue
        if i == 0 and char in _UKRAINIAN_INITIAL:
            out.append(_UKRAINIAN_INITIAL[char])
        elif char == "г" and i > 0 and lower[i - 1] == "з":
            out.append("gh")  # зг → zgh, telling it apart from ж (zh)
        else:
            out.append(_UKRAINIAN.get(char, char))
    return "".join(out)


def _macedonian(word: str) -> str:
    return "".join(_MACEDONIAN.get(c.casefold(), c) for c in word)


_ROMANIZERS = {"bg": _bulgarian, "uk": _ukrainian, "mk": _macedonian}


def romanize(name: str, language: str) -> str:
    """A Bulgarian, Ukrainian or Macedonian name in Latin letters by the official rule; others
    as given."""
    if script_of(name) != "Cyrl" or language not in _ROMANIZERS:
        return name
    words = name.split(" ")
    latin = []
    for word in words:
        parts = word.split("-")
        latin.append("-".join(_capitalised(part, _ROMANIZERS[language](part)) for part in parts))
    return " ".join(latin)


def _capitalised(original: str, latin: str) -> str:
    if original[:1].isupper():
        return latin[:1].upper() + latin[1:]
    return latin


# Serbian: one Latin letter (or digraph) for each Cyrillic letter, both ways.
_SERBIAN_PAIRS = (
    "a а,b б,v в,g г,d д,đ ђ,e е,ž ж,z з,i и,j ј,k к,l л,lj љ,m м,n н,nj њ,o о,p п,r р,s с,"
    "t т,ć ћ,u у,f ф,h х,c ц,č ч,dž џ,š ш"
)
_TO_CYRILLIC = dict(pair.split(" ") for pair in _SERBIAN_PAIRS.split(","))
_TO_LATIN = {cyrillic: latin for latin, cyrillic in _TO_CYRILLIC.items()}


def to_cyrillic(text: str) -> str | None:
    """Serbian Latin in Cyrillic ('Čačak' → 'Чачак'), or None when ``text`` has letters the
    Serbian Latin alphabet lacks (a foreign name such as 'München' keeps its spelling)."""
    out = []
    i = 0
    while i < len(text):
        pair, char = text[i : i + 2], text[i]
        if pair.casefold() in ("lj", "nj", "dž"):
            out.append(_case(pair, _TO_CYRILLIC[pair.casefold()]))
            i += 2
            continue
        if char.isalpha():
            if char.casefold() not in _TO_CYRILLIC:
                return None
            out.append(_case(char, _TO_CYRILLIC[char.casefold()]))
        else:
            out.append(char)
        i += 1
    return "".join(out)


def to_latin(text: str) -> str | None:
    """Serbian Cyrillic in Latin ('Чачак' → 'Čačak'), or None when ``text`` has Cyrillic
    letters the Serbian alphabet lacks (a Bulgarian 'Трявна' has no Serbian Latin spelling)."""
    out = []
    for char in text:
        latin = _TO_LATIN.get(char.casefold())
        if latin is None and _script_of_letter(char) == "Cyrl" and char.isalpha():
            return None
        out.append(char if latin is None else _case(char, latin))
    return "".join(out)


def _case(original: str, converted: str) -> str:
    if original.isupper() and len(original) > 1:
        return converted.upper()
    if original[:1].isupper():
        return converted[:1].upper() + converted[1:]
    return converted
