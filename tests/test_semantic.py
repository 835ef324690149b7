"""Meaning across languages over HTTP, with the real model (loaded once for the whole test
session): /search finds listings in other languages and by taxonomy names in any language,
each result says its language; the matching pass meets a Bulgarian request with a French
offer on what they say; an alert in German is told of an Italian listing; bad input gets a
clear answer; and without a model the bot runs on words alone."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bot.app import running
from bot.i18n import translator
from bot.semantic.embedder import DEFAULT_MODEL, MODELS
from bot.storage import AlertDraft
from bot.storage.listings import DAY
from bot.views import cards
from tests import seed
from tests.talk import containing, onboard, plain, says, taps
from tests.test_alerts import member
from tests.test_browse import reader
from tests.test_posting import Answers, publish, walk_to_preview

NOW = 1_800_000_000
FRENCH, BULGARIAN, ITALIAN, DOCTORS = 811, 812, 813, 814

MOTOPOMPE = dict(
    kind="request",
    language="fr",
    title="Motopompe d'occasion",
    description="Notre centre de secours cherche une motopompe portative, avec ses tuyaux.",
    tags=("fire_rescue",),
)
BOOKS = dict(
    kind="offer",
    category="goods",
    tags=("books",),
    language="fr",
    title="Livres pour la bibliothèque",
    description="Nous donnons 300 livres pour enfants à une bibliothèque communale.",
)


@pytest.fixture
def settings(settings):
    """The bot with its default embedding model."""
    return dataclasses.replace(settings, embedding_model=DEFAULT_MODEL)


@pytest.fixture
def app(bot):
    bot.clock = lambda: NOW
    return bot


async def seeded(app) -> None:
    """Listings in storage as the posting dialog leaves them, then embedded by the vectors
    job (as listings published while the model was missing are)."""
    await seed.member(app.storage, FRENCH)
    await seed.member(app.storage, DOCTORS, country="BE", place="Namur")
    await seed.listing(app.storage, FRENCH, NOW, **MOTOPOMPE)
    await seed.listing(app.storage, FRENCH, NOW, **BOOKS)
    await seed.listing(
        app.storage, DOCTORS, NOW, kind="request", category="health", tags=("doctor",),
        title="Recherche généraliste pour la maison de santé",
        description="Le village de 900 habitants cherche quelqu'un pour reprendre le cabinet.",
    )  # fmt: skip
    assert await app.storage.vectors_waiting() == 3
    await app.scheduler.embed_listings()  # after the job's own run, if it came first
    assert await app.storage.vectors_waiting() == 0
    (embedded,) = await app.storage._fetchone("SELECT count(*) FROM listing_vectors")
    assert embedded == 3


async def test_search_finds_listings_in_other_languages(server, app):
    await seeded(app)
    user = await reader(server, app, "bg")
    found = await says(user, "/search помпа")
    assert "Motopompe d'occasion" in found.text
    assert "Livres" not in found.text
    # Each result says the language it was written in, in the reader's language.
    assert "🗣 " + translator("bg").language_name("fr") in found.text

    # "Arzt" is the German name of the tag doctor: the French listing tagged doctor is found,
    # though none of its words is "Arzt" or a translation of it in the text.
    user_de = server.create_user("Leser", language_code="de")
    await app.storage.register_member(user_de.id, "Leser", "de")
    found = await says(user_de, "/search Arzt")
    assert "Recherche généraliste" in found.text
    assert "Motopompe" not in found.text and "Livres" not in found.text
    assert server.errors() == []


async def test_bad_search_input_gets_a_clear_answer(server, app):
    await seeded(app)
    _ = translator("fr").gettext
    user = await reader(server, app, "fr")
    asked = await says(user, "/search")
    assert plain(_("What are you looking for?")) in asked.text
    # Emoji only: nothing to search, asked again, the search keeps waiting.
    again = await says(user, "🚒🚒🚒")
    assert _("Please type at least one word with letters or digits.") in again.text
    found = await says(user, "motopompe")
    assert "Motopompe d'occasion" in found.text
    # 4,000 characters: searched by their beginning, answered within Telegram's limits.
    long = await says(user, "/search " + "pompe à incendie portative " * 150)
    assert "Motopompe d'occasion" in long.text and len(long.text) < 4096
    # Several scripts in one search.
    mixed = await says(user, "/search pump помпа Pumpe 🚒")
    assert "Motopompe d'occasion" in mixed.text
    # Words that mean nothing here: nothing found, and the ways to widen it.
    nothing = await says(user, "/search xqzvw")
    assert _("Nothing found") in nothing.text
    assert server.errors() == []


async def test_a_bulgarian_request_meets_a_french_offer_by_what_they_say(server, app):
    maria = server.create_user("Мария", language_code="bg")
    lea = server.create_user("Léa", language_code="fr")
    for person in (maria, lea):
        await person.send_text("/start")
        await person.wait_for_bot_message()
    await seed.member(app.storage, maria.id, language="bg", country="BG", place="Sveti Vlas")
    await seed.member(app.storage, lea.id, language="fr", country="FR", place="Saint-Dié")
    # No shared tag, other countries: only the category and what they say bring them together.
    offer = await seed.listing(
        app.storage, lea.id, NOW - DAY, kind="offer", language="fr", tags=("machinery",),
        title="Motopompe d'occasion",
        description="Notre centre de secours cède sa motopompe portative, avec ses tuyaux.",
        reach="europe",
    )  # fmt: skip
    request = await seed.listing(
        app.storage, maria.id, NOW, kind="request", language="bg", tags=("fire_rescue",),
        title="Търсим моторна помпа за гасене на пожари",
        description="Доброволците в селото имат нужда от преносима помпа с маркучи.",
        country="BG", region="Burgas", place="Sveti Vlas", reach="europe",
    )  # fmt: skip
    await app.scheduler.embed_listings()
    await app.scheduler.match_new_listings()
    (match,) = await app.storage.matches_of(request.id)
    assert match.other(request.id) == offer.id and "meaning" in match.reasons
    bg = translator("bg").gettext
    card = await maria.wait_for_bot_message(containing(offer.title), timeout=10)
    assert bg("similar description") in card.text
    fr = translator("fr").gettext
    other = await lea.wait_for_bot_message(containing(request.title), timeout=10)
    assert fr("similar description") in other.text
    assert server.errors() == []


async def italian_motopompa(app) -> None:
    """A civil protection unit in Trento offers a used fire pump, in Italian."""
    await seed.member(app.storage, ITALIAN, language="it", country="IT", place="Trento")
    await seed.listing(
        app.storage, ITALIAN, NOW, kind="offer", language="it", country="IT", place="Trento",
        title="Motopompa antincendio usata",
        description="La protezione civile cede una motopompa portatile con tubi e raccordi.",
    )  # fmt: skip


async def test_an_alert_in_german_is_told_of_an_italian_listing(server, app):
    hans = server.create_user("Hans", language_code="de")
    await hans.send_text("/start")
    await hans.wait_for_bot_message()
    await seed.member(app.storage, hans.id, language="de", country="AT", place="Graz")
    await app.storage.save_alert(
        hans.id,
        AlertDraft(kind=None, categories=(), tags=(), area="europe", keywords="Feuerwehrpumpe"),
        now=NOW,
    )
    await italian_motopompa(app)
    books = {"language": "it", "title": "Libri per la biblioteca", "description": "Libri."}
    await seed.listing(app.storage, ITALIAN, NOW, **{**BOOKS, **books})
    await app.scheduler.embed_listings()
    await app.scheduler.match_new_listings()
    de = translator("de").gettext
    hit = await hans.wait_for_bot_message(containing("Motopompa antincendio usata"), timeout=10)
    assert plain(de("🔔 <b>New for your alert</b>: {alert}")).split(":")[0] in hit.text
    await app.scheduler.match_new_listings()
    assert not [m for m in hans.messages if "Libri per la biblioteca" in m.text]
    assert server.errors() == []


async def test_a_new_alert_shows_what_already_fits_it_in_other_languages(server, app):
    """What a new alert shows at once is judged as the pass judges what is new: by meaning
    too, so German words find an Italian listing already open (and not an unrelated one)."""
    hans = await member(server, app, "Hans")
    await italian_motopompa(app)
    books = {"category": "equipment", "language": "it", "title": "Scaffali per la biblioteca"}
    await seed.listing(app.storage, ITALIAN, NOW, **{**BOOKS, **books, "description": "Scaffali."})
    await app.scheduler.embed_listings()
    await app.scheduler.match_new_listings()

    await says(hans, "/alerts")
    await taps(hans, "➕ New alert")
    await taps(hans, "🟢🔴 Both")
    await hans.press(cards.category_label(translator("en"), "equipment"))
    await hans.wait_for_bot_message(include_edits=True)
    await taps(hans, "✅ Done")
    await taps(hans, "✅ Any tag")
    await hans.wait_for_bot_message(containing("Choose the area:"))
    await taps(hans, "🇪🇺 All of Europe")
    await hans.send_text("Feuerwehrpumpe")
    await hans.wait_for_bot_message(lambda m: "⚡ Right away" in m.button_labels)
    await hans.press("⚡ Right away")
    saved = await hans.wait_for_bot_message(containing("✅ Alert saved"))
    assert "📋 1 open listing already fits it." in saved.text
    assert "Motopompa antincendio usata" in saved.text
    assert "Scaffali" not in saved.text
    assert server.errors() == []


async def test_without_a_model_the_bot_runs_on_words_alone(server, settings, caplog, monkeypatch):
    """A model that cannot load (here: its package breaks on load): one warning, and search,
    posting and matching go on by words."""

    def broken() -> None:
        raise OSError("model file is damaged")

    monkeypatch.setitem(MODELS, "broken-model", broken)
    caplog.set_level(logging.WARNING, logger="bot.semantic.service")
    async with running(dataclasses.replace(settings, embedding_model="broken-model")) as bot:
        bot.clock = lambda: NOW
        await seed.member(bot.storage, FRENCH)
        await seed.listing(bot.storage, FRENCH, NOW, **MOTOPOMPE)
        assert await bot.scheduler.embed_listings() == 0
        assert await bot.scheduler.embed_listings() == 0
        user = await reader(server, bot, "fr")
        found = await says(user, "/search motopompe")
        assert "Motopompe d'occasion" in found.text
        # "incendie" is a word of the tag "fire and rescue" in French: found by the tag.
        found = await says(user, "/search incendie")
        assert "Motopompe d'occasion" in found.text
        assert await bot.storage.vectors_waiting() == 1
    warnings = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(warnings) == 1 and "words alone" in warnings[0].getMessage()
    assert server.errors() == []


async def test_a_listing_is_embedded_while_its_preview_is_read(server, app):
    """The preview starts embedding the listing, so that Publish does not wait for the model:
    the listing is stored with that vector in its own transaction, nothing is left for the
    vectors job, and the vector is the one its text gives."""
    user = server.create_user("Ana", language_code="en")
    await onboard(user, "en")
    answers = Answers(title="Used fire pump for a village")
    await walk_to_preview(user, "en", answers)
    description = answers.description
    assert list(app.meaning._ahead) == [(answers.title, description)]
    await publish(user, "en")
    assert not app.meaning._ahead  # taken by Publish
    assert await app.storage.vectors_waiting() == 0
    (stored,) = await app.storage._fetchall("SELECT vector FROM listing_vectors")
    again = await app.meaning.semantics.passage(answers.title, description)
    assert again is not None and stored[0] == again.vector
    assert server.errors() == []
