"""The catalogs: up to date with the code, complete, and safe to send as HTML."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?[a-z][a-z0-9-]*(?:\s[^>]*)?>")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")


def catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "bot.po").open("rb") as po:
        return read_po(po, locale=language)


def source_messages(tmp_dir: Path) -> set[str]:
    """The msgids the code uses now, extracted afresh."""
    template = tmp_dir / "extracted.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    with template.open("rb") as extracted:
        return ids(read_po(extracted))


def ids(messages) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in messages if m.id}


def test_the_template_matches_the_code(tmp_path):
    with (LOCALES_DIR / "bot.pot").open("rb") as pot:
        template = ids(read_po(pot))
    assert source_messages(tmp_path) == template, "run `make update-catalogs` and translate"


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_catalog_is_complete_and_consistent(language, tmp_path):
    messages = [m for m in catalog(language) if m.id]
    wanted = source_messages(tmp_path)
    have = ids(messages)
    assert wanted <= have, f"missing in {language}: {sorted(wanted - have)[:5]}"
    for message in messages:
        msgids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert "fuzzy" not in message.flags, (language, msgids[0])
        for string in strings:
            assert string, f"{language}: untranslated {msgids[0]!r}"
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(msgids[0])), (
                language,
                msgids[0],
                string,
            )
            assert TAG.findall(string) == TAG.findall(msgids[0]), (language, msgids[0], string)
            assert sorted(COMMAND.findall(string)) == sorted(COMMAND.findall(msgids[0])), (
                language,
                msgids[0],
                string,
            )
            assert "<" not in TAG.sub("", string) and not re.search(r"&(?!\w+;)", string), (
                language,
                string,
            )


# Whole numbers that reach every plural category of every CLDR rule (0, 1, 2, teens, 21, 101,
# the millions that French, Spanish, Italian and Portuguese set apart).
COUNTS = [*range(0, 1201), 10**6, 2 * 10**6, 10**6 + 1, 10**7]


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_plural_forms_follow_cldr(language):
    """The catalog's Plural-Forms sorts every count into the category (one, few, many...) the
    locked Babel's CLDR gives it, one form per category: compared by category, not by number
    of forms, so the test says *which* numbers would read wrong."""
    from gettext import c2py

    from bot.i18n import cldr_locale

    rule = cldr_locale(language).plural_form
    po = catalog(language)
    choose = c2py(po.plural_expr)
    form_of: dict[str, int] = {}
    for n in COUNTS:
        category, form = rule(n), choose(n)
        assert form_of.setdefault(category, form) == form, (
            f"{language}: {n} is '{category}' in CLDR but takes form {form}; "
            f"earlier '{category}' numbers took form {form_of[category]} ({po.plural_forms})"
        )
    assert sorted(form_of.values()) == list(range(po.num_plurals)), (language, form_of)
    for message in po:
        if message.id and isinstance(message.id, tuple):
            assert len(message.string) == po.num_plurals, (language, message.id[0])
            assert all(message.string), (language, message.id[0])


@pytest.mark.parametrize("language", LANGUAGES)
def test_telegram_metadata_fits_telegrams_limits(language):
    from bot.i18n import translator
    from bot.views.command_menu import COMMANDS, DESCRIPTION, SHORT_DESCRIPTION

    _ = translator(language).gettext
    assert 1 <= len(_(DESCRIPTION)) <= 512
    assert 1 <= len(_(SHORT_DESCRIPTION)) <= 120
    for _name, description in COMMANDS:
        assert 1 <= len(_(description)) <= 256
