"""The language a listing is written in: the compact model ranks every labelled text exactly as
py3langid's own identifier does, finds the language of the quality set's listings in all 29
languages, and answers texts that say nothing with the author's interface language."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from py3langid.langid import (  # type: ignore[import-untyped]
    MODEL_DIR,
    MODEL_FILE,
    LanguageIdentifier,
)
from py3langid.modelio import load_model  # type: ignore[import-untyped]

from bot.i18n import LANGUAGES
from bot.semantic import language

LISTINGS = json.loads(
    (Path(__file__).parent / "data/crosslingual/listings.json").read_text(encoding="utf-8")
)["listings"]
# Texts whose walk through the automaton takes unusual paths: nothing, capitals only (lowered
# first), combining accents (composed first), emoji, a lone surrogate, mixed scripts.
ODD_TEXTS = [
    "",
    "12345 🙂🙂",
    "ÉCOLE PRIMAIRE DE LA COMMUNE",
    "Cafe\u0301 et e\u0301cole",
    "a",
    "\ud800x",
    "Пожарна помпа fire pump Feuerwehrpumpe",
    "x" * 4000,
]


@pytest.fixture(scope="module")
def library() -> LanguageIdentifier:
    """py3langid's identifier restricted to the same languages, as the bot once built it."""
    weights, priors, classes, moves, rows, outputs = load_model(MODEL_DIR / MODEL_FILE)
    wanted = set(language.identifier().languages)
    kept = [i for i, code in enumerate(classes) if code in wanted]
    return LanguageIdentifier(
        np.ascontiguousarray(weights[:, kept]),
        priors[kept],
        [classes[i] for i in kept],
        moves,
        outputs,
        norm_probs=True,
        tk_row=rows,
    )


def test_the_compact_model_ranks_as_py3langid_does(library):
    model = language.identifier()
    texts = [f"{item['title']}\n{item['description']}" for item in LISTINGS]
    texts += [item["title"] for item in LISTINGS] + ODD_TEXTS
    for text in texts:
        assert model.rank(text) == library.rank(text), text


def test_the_model_keeps_every_language_of_the_bot():
    kept = set(language.identifier().languages)
    assert {language._MODEL_CODES.get(code, code) for code in LANGUAGES if "_" not in code} <= kept


def test_listings_are_found_in_their_language_whatever_the_interface():
    """All 206 listings of the quality set (29 languages): right with the author's own
    interface, and at least 96% right (measured 97.6%, the misses are Bosnian and Croatian)
    when the author's interface is another language."""
    own = [language.detect(f"{i['title']}\n{i['description']}", i["language"]) for i in LISTINGS]
    assert own == [item["language"] for item in LISTINGS]
    others = [code for code in LANGUAGES if code != "sr_Latn"]
    right = 0
    for n, item in enumerate(LISTINGS):
        interface = next(c for c in others[n % len(others) :] + others if c != item["language"])
        found = language.detect(f"{item['title']}\n{item['description']}", interface)
        right += found == item["language"]
    assert right / len(LISTINGS) >= 0.96


@pytest.mark.parametrize("text", ["", "12345", "🙂🙂🙂", "  \n\t", "+359 888 123 456"])
def test_a_text_without_letters_is_in_the_authors_language(text):
    assert language.detect(text, "mt") == "mt"


async def test_a_listing_in_capitals_is_found_as_in_lower_case():
    greek = next(item for item in LISTINGS if item["language"] == "el")
    title, text = greek["title"], greek["description"]
    lower = await language.detect_listing(title, text, "en")
    upper = await language.detect_listing(title.upper(), text.upper(), "en")
    assert lower == upper == "el"
