"""Which of the bot's languages a listing is written in, from its title and description.

py3langid (a maintained fork of langid.py) ships its naive Bayes model in the package: nothing
is downloaded, and it does well on short texts (measured on the catalogs' own messages: 96% of
texts of 30 to 80 characters right, Maltese included, where lingua's low-accuracy mode got 89%
and its high-accuracy mode needs 600 MB; measured again with 34 catalogs, 94%, where the
smaller fastText lid.176, CLD2 and CLD3 got 89-93%: see BENCHMARKS.md). Its 142 languages are
cut down to ours and its automaton compacted as the model is read
(:mod:`bot.semantic.language_model`: 18 MB resident instead of 59, and no 102 MB peak while
loading). It is loaded once per process, on the first listing, in a worker thread.

Bosnian, Croatian and Serbian in Latin script, or Danish and Norwegian, are close: on a close
call the author's interface language wins (it does when its probability is at least a fifth of
the best one's), which keeps "same as my interface" right 99.9% of the time and costs
texts in another language under half a point. The author can correct it at the preview.
"""

from __future__ import annotations

import asyncio
import threading

from bot.i18n import LANGUAGES
from bot.memory import give_back
from bot.semantic.language_model import LanguageModel

# Our code → the model's, where they differ (Norwegian Bokmål is "no" in the model).
_MODEL_CODES = {"nb": "no"}
# How close the interface language must come to the best guess to win: see the docstring.
INTERFACE_RATIO = 0.2

_identifier: LanguageModel | None = None
_loading = threading.Lock()


def identifier() -> LanguageModel:
    global _identifier
    with _loading:
        if _identifier is None:
            _identifier = LanguageModel.load({_MODEL_CODES.get(code, code) for code in LANGUAGES})
            give_back()  # reading the file's members left freed buffers in the heap
        return _identifier


def detect(text: str, interface: str) -> str:
    """The language ``text`` is written in, among the bot's; ``interface`` (the author's
    language) on a close call, and when the text says nothing (digits, emoji)."""
    if not any(character.isalpha() for character in text):
        return interface
    ours = {_MODEL_CODES.get(code, code): code for code in LANGUAGES}
    ranked = identifier().rank(text)
    best, best_p = ranked[0]
    probabilities = dict(ranked)
    if probabilities.get(_MODEL_CODES.get(interface, interface), 0.0) >= INTERFACE_RATIO * best_p:
        return interface
    return ours.get(best, interface)


async def detect_listing(title: str, description: str, interface: str) -> str:
    """:func:`detect` on a listing's title and description; the first call loads the model in
    a worker thread (a second or two), so the bot keeps answering meanwhile."""
    text = f"{title}\n{description}"
    if _identifier is None:
        return await asyncio.to_thread(detect, text, interface)
    return detect(text, interface)
