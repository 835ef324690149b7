"""One term per concept in each language, and one form of address: every catalog checked
against its glossary (locales/glossary.toml for the concepts and where the English names them,
locales/<lang>/glossary.toml for each language's chosen terms and the alternatives it avoids)."""

from __future__ import annotations

import re
import tomllib
from functools import cache

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR

TRANSLATED = [code for code in LANGUAGES if code != "en"]
# Placeholders, commands and HTML tags are not words: "{municipality}" names no municipality,
# and "/post" is a command in every language.
NOT_WORDS = re.compile(r"\{\w*\}|(?<!\w)/[a-z]+\b|<[^>]*>")


def words(text: str) -> str:
    return NOT_WORDS.sub(" ", text)


@cache
def concepts() -> dict[str, dict]:
    with (LOCALES_DIR / "glossary.toml").open("rb") as file:
        return tomllib.load(file)


@cache
def glossary(language: str) -> dict[str, dict]:
    with (LOCALES_DIR / language / "glossary.toml").open("rb") as file:
        return tomllib.load(file)


@cache
def messages(language: str) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
    """(msgid and msgid_plural, every msgstr form) for each message of the catalog."""
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    found = []
    for message in catalog:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found.append((ids, tuple(words(s) for s in strings)))
    return tuple(found)


def template_ids() -> set[str]:
    with (LOCALES_DIR / "bot.pot").open("rb") as pot:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}


def names_concept(concept: dict, ids: tuple[str, ...]) -> bool:
    if ids[0] in concept.get("ids", ()):
        return True
    if ids[0] in concept.get("except", ()) or "english" not in concept:
        return False
    return any(re.search(concept["english"], words(msgid), re.IGNORECASE) for msgid in ids)


def test_the_concepts_name_existing_messages():
    """An exception or an explicit message that no longer exists is a glossary to update."""
    known = template_ids()
    for name, concept in concepts().items():
        assert concept.get("meaning"), name
        listed = [*concept.get("except", ()), *concept.get("ids", ())]
        assert set(listed) <= known, (name, sorted(set(listed) - known))
        assert any(names_concept(concept, (msgid,)) for msgid in known), name


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_concept_has_one_chosen_term(language):
    terms = glossary(language)
    assert set(concepts()) <= set(terms), sorted(set(concepts()) - set(terms))
    for name in concepts():
        term = terms[name]
        assert term.get("term") and term.get("match"), (language, name)
        re.compile(term["match"])
        for avoided in term.get("avoid", ()):
            assert not re.search(term["match"], avoided, re.IGNORECASE), (language, name, avoided)
    assert terms["address"].get("form"), language


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_concept_reads_the_same_everywhere(language):
    """Where the English names a concept, every form of the translation uses the chosen term;
    no translation uses an alternative the glossary avoids."""
    terms = glossary(language)
    wrong = []
    for ids, strings in messages(language):
        for name, concept in concepts().items():
            term = terms[name]
            chosen = re.compile(term["match"], re.IGNORECASE)
            if names_concept(concept, ids):
                wrong += [
                    f"{name} ({term['term']}): {ids[0]!r} -> {s!r}"
                    for s in strings
                    if not chosen.search(s)
                ]
            for avoided in term.get("avoid", ()):
                wrong += [
                    f"{name} avoids {avoided!r}: {ids[0]!r} -> {s!r}"
                    for s in strings
                    if re.search(avoided, s, re.IGNORECASE)
                ]
    assert not wrong, f"{len(wrong)} in {language}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_one_form_of_address(language):
    """The glossary's forbidden forms (the informal 'you', a lower-case polite pronoun where
    the language capitalises it...) appear in no translation. Case-sensitive: a pattern that
    does not care about case says so with (?i)."""
    address = glossary(language)["address"]
    wrong = [
        f"{pattern!r}: {ids[0]!r} -> {s!r}"
        for ids, strings in messages(language)
        for pattern in address.get("forbidden", ())
        for s in strings
        if re.search(pattern, s)
    ]
    assert not wrong, f"{len(wrong)} in {language}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", [code for code in TRANSLATED if "country" in glossary(code)])
def test_country_names_read_right(language):
    """Where a language's country names take an article or a case (a França, il-Ġermanja,
    i Paesi Bassi), a translation names the country apart ('Um município – {country}'),
    never right after a preposition that would need the article."""
    rules = glossary(language)["country"]
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as po:
        strings = [
            s
            for m in read_po(po, locale=language)
            if m.id
            for s in (m.string if isinstance(m.string, tuple) else (m.string,))
        ]
    assert rules["forbidden"], language
    wrong = [s for s in strings for p in rules["forbidden"] if re.search(p, s)]
    assert not wrong, (language, wrong)
