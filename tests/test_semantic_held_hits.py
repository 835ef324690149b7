"""An alert hit found by meaning across languages, held for the night, is weighed again by
meaning when sent (relayq, item 2; words alone: tests/test_alert_words_when_sent.py), with the
real model (loaded once for the whole test session)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.semantic.embedder import DEFAULT_MODEL
from bot.storage import AlertDraft
from tests import seed
from tests.talk import containing
from tests.test_alert_words_when_sent import told
from tests.test_quiet_hours import held
from tests.waiting import settled, wait_until

NOW = 1_800_000_000  # 08:00 UTC, 09:00 in Graz
GRAZ_NIGHT = NOW - 10 * 3600  # 23:00 in Graz


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, embedding_model=DEFAULT_MODEL)


async def austrian(server, bot, name: str):
    person = server.create_user(name, language_code="de")
    await person.send_text("/start")
    await person.wait_for_bot_message()
    await seed.member(bot.storage, person.id, language="de", country="AT", place="Graz",
                      quiet_hours=(22, 8))  # fmt: skip
    return person


async def test_a_hit_found_by_meaning_is_weighed_by_meaning_when_sent(server, bot):
    """Hans and Greta both look for a "Feuerwehrpumpe"; an Italian fire pump is found for
    both by meaning at night. Hans edits his words to "Bücherregal": his hit is dropped.
    Greta's words match no word of the listing, only its meaning: hers still comes."""
    bot.clock = lambda: GRAZ_NIGHT
    hans, greta = await austrian(server, bot, "Hans"), await austrian(server, bot, "Greta")
    search = AlertDraft(kind=None, categories=(), tags=(), area="europe", keywords="Feuerwehrpumpe")
    alert = await bot.storage.save_alert(hans.id, search, now=GRAZ_NIGHT)
    await bot.storage.save_alert(greta.id, search, now=GRAZ_NIGHT)
    await seed.member(bot.storage, 813, language="it", country="IT", place="Trento")
    await seed.listing(
        bot.storage, 813, GRAZ_NIGHT, kind="offer", language="it", country="IT", place="Trento",
        title="Motopompa antincendio usata",
        description="La protezione civile cede una motopompa portatile con tubi e raccordi.",
    )  # fmt: skip
    assert await bot.scheduler.embed_listings() == 1
    await bot.scheduler.match_new_listings()
    await wait_until(held(bot.storage, hans.id, 1))
    await wait_until(held(bot.storage, greta.id, 1))
    books = dataclasses.replace(search, keywords="Bücherregal")
    assert await bot.storage.save_alert(hans.id, books, now=GRAZ_NIGHT, alert_id=alert.id)

    bot.clock = lambda: NOW
    bot.outbox.wake()
    await greta.wait_for_bot_message(containing("Motopompa antincendio usata"), timeout=20)
    await wait_until(lambda: settled(bot.storage))
    assert "Motopompa" not in told(hans)
    assert server.errors() == []
