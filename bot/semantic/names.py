"""Category and tag names in every language of the bot, back to their keys: someone searching
"médecin", "Arzt" or "лекар" means the tag *doctor*, whatever language the listings were
written in. The names come from the bot's own catalogs (the translations people see on the
buttons), so they stay in step with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot import taxonomy
from bot.i18n import LANGUAGES, translator
from bot.storage import fold

# A word of a name is matched by a typed word that is the same word, or the same but for an
# ending ("médecins", "Ärztin", "лекари"): up to this many letters more or fewer, the shorter
# having at least SHORTEST letters.
ENDING = 3
SHORTEST = 4


@dataclass(frozen=True)
class Named:
    """The taxonomy keys a search's words name."""

    tags: frozenset[str]
    categories: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.tags or self.categories)


def words(text: str) -> list[str]:
    return [word for word in re.split(r"[\W_]+", fold(text)) if word]


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, dict[str, frozenset[tuple[str, str]]]]:
    """Every word of every category and tag name in every language -> (what, key), by the
    word's first SHORTEST letters (a typed word is compared only with words starting as
    it does: a few instead of thousands)."""
    found: dict[str, set[tuple[str, str]]] = {}
    names = [("category", c.key, c.name) for c in taxonomy.CATEGORIES]
    names += [("tag", key, name) for key, name in taxonomy.TAG_NAMES.items()]
    for language in LANGUAGES:
        gettext = translator(language).gettext
        for what, key, name in names:
            for word in words(gettext(name)):
                if len(word) >= SHORTEST:
                    found.setdefault(word, set()).add((what, key))
    by_start: dict[str, dict[str, frozenset[tuple[str, str]]]] = {}
    for word, keys in found.items():
        by_start.setdefault(word[:SHORTEST], {})[word] = frozenset(keys)
    return by_start


def _same_word(typed: str, known: str) -> bool:
    if typed == known:
        return True
    shorter, longer = sorted((typed, known), key=len)
    return (
        len(shorter) >= SHORTEST
        and len(longer) - len(shorter) <= ENDING
        and longer.startswith(shorter)
    )


@lru_cache(maxsize=4096)
def named(text: str) -> Named:
    """The tags and categories whose name, in any language, a word of ``text`` is."""
    tags: set[str] = set()
    categories: set[str] = set()
    vocabulary = _vocabulary()
    for typed in words(text):
        if len(typed) < SHORTEST:
            continue
        for known, keys in vocabulary.get(typed[:SHORTEST], {}).items():
            if _same_word(typed, known):
                for what, key in keys:
                    (tags if what == "tag" else categories).add(key)
    return Named(frozenset(tags), frozenset(categories))
