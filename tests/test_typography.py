"""Quotation marks and punctuation spacing per language: CLDR's delimiters, French spacing, and
the catalogs written with the same marks the code puts around titles."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot.i18n import (
    LANGUAGES,
    LOCALES_DIR,
    NBSP,
    QUOTES,
    SPACE_BEFORE,
    SPACE_INSIDE_QUOTES,
    translator,
)
from bot.storage import ContactMessage
from bot.views.contacts import conversation
from bot.views.texts import quoted_title

MARKS = set("“”„‟«»‘’‚‛‹›")
# An apostrophe inside a word (d’une, foto’s) is not a quotation mark.
APOSTROPHE = re.compile(r"(?<=\w)’(?=\w)")
# Where a colon or a semicolon is not punctuation: times, URLs, HTML entities.
NOT_PUNCTUATION = re.compile(r"(?<=\d):(?=\d)|https?:|tg:|&(?:amp;)?\w+;")
PLACEHOLDER = re.compile(r"\{\w*\}")


def catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as po:
        return read_po(po, locale=language)


def translations(language: str) -> list[tuple[str, str]]:
    pairs = []
    for message in catalog(language):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(msgid, string) for string in strings]
    return pairs


def test_every_language_has_its_quotation_marks():
    assert set(QUOTES) == set(LANGUAGES)
    for language, (start, end) in QUOTES.items():
        assert start in MARKS and end in MARKS, language


@pytest.mark.parametrize(
    ("language", "quoted"),
    [
        ("en", "“Fire pump”"),
        ("fr", "«\u00a0Fire pump\u00a0»"),
        ("de", "„Fire pump“"),
        ("bg", "„Fire pump“"),
        ("pl", "„Fire pump”"),
        ("uk", "«Fire pump»"),
        ("pt", "«Fire pump»"),
        ("sv", "”Fire pump”"),
        ("nl", "‘Fire pump’"),
    ],
)
def test_titles_are_quoted_in_the_readers_marks(language, quoted):
    assert translator(language).quote("Fire pump") == quoted


def test_a_shortened_title_is_cut_before_it_is_escaped():
    """Cutting the escaped text could leave half an entity ('&am…'), which Telegram refuses."""
    fits = "x" * 57 + "<&>"
    assert quoted_title(translator("en"), fits, 60) == "“" + "x" * 57 + "&lt;&amp;&gt;”"
    assert quoted_title(translator("de"), fits + "!", 60) == "„" + "x" * 57 + "&lt;&amp;…“"
    assert (
        quoted_title(translator("fr"), fits + "!") == "«\u00a0" + "x" * 57 + "&lt;&amp;&gt;!\u00a0»"
    )


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_catalogs_quote_with_their_languages_marks(language):
    """Quoted words in a translation (a button's name, say) use the language's marks, opened
    and closed in turn; titles are quoted by the code, never by the catalog."""
    start, end = QUOTES[language]
    for msgid, string in translations(language):
        marks = [ch for ch in APOSTROPHE.sub("", string) if ch in MARKS]
        expected = [start, end] * (len(marks) // 2)
        assert marks == expected, (language, msgid, string)
        assert not re.search(r"[“”„«»‘’‚]\W?\{title\}", string), (language, string)


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_punctuation_spacing(language):
    """French: a no-break space before ':' and inside « », a narrow no-break space before
    ';', '!' and '?'. Every other language: no space before them."""
    wanted = SPACE_BEFORE.get(language, {})
    for msgid, string in translations(language):
        text = NOT_PUNCTUATION.sub("", PLACEHOLDER.sub("X", string))
        for match in re.finditer(r"(.)([:;!?])", text):
            before, mark = match.groups()
            expected = wanted.get(mark, "")
            if expected and before not in "?!":
                assert before == expected, (language, msgid, string)
            elif not expected:
                assert not before.isspace(), (language, msgid, string)
        inside = SPACE_INSIDE_QUOTES.get(language)
        if inside:
            start, end = QUOTES[language]
            assert string.count(start + inside) == string.count(start), (language, string)
            assert string.count(inside + end) == string.count(end), (language, string)


def test_a_contact_thread_keeps_who_wrote_apart_from_the_text():
    messages = [
        ContactMessage(id=1, contact_id=1, sender_id=7, from_asker=True, text="Hallo", sent_at=0),
        ContactMessage(id=2, contact_id=1, sender_id=8, from_asker=False, text="Salut", sent_at=1),
    ]
    german = conversation(translator("de"), messages, "asker")
    assert "<b>Sie:</b>\n<blockquote>Hallo</blockquote>" in german
    french = conversation(translator("fr"), messages, "owner")
    assert f"<b>Vous{NBSP}:</b>\n<blockquote>Salut</blockquote>" in french
