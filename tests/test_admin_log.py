"""The lines of a listing's History as bot/views/admin_log renders them, one per step of its
life, without the bot: each stored word in words of the reader's language."""

from __future__ import annotations

from bot.i18n import translator
from bot.storage.listings import HistoryEntry
from bot.views.admin_log import life_line, report_status

AT = 1_796_000_000  # 2026-12-01
ZONE = "Europe/Paris"


def line(language: str, status: str, detail: str | None, by: int | None = 7, **names) -> str:
    entry = HistoryEntry(status, AT, by, detail, **names)
    return life_line(translator(language), entry, ZONE).split(" · ", 1)[1]


def test_each_step_is_a_sentence_naming_who_acted():
    maria = {"by_name": "Maria <3", "by_country": "FR"}
    assert line("en", "open", None, **maria) == "Maria &lt;3 (FR) published the listing"
    assert line("en", "edited", "description,latitude,longitude,place,title") == (
        "#7 edited the listing: Description, Place, Title"
    )
    assert line("en", "fulfilled", "with:12") == (
        "#7 marked the listing as fulfilled: 🤝 Thanks to Community Sharing"
    )
    assert line("en", "fulfilled", "followup:12") == "#7 marked the listing as fulfilled"
    assert line("en", "closed", "withdrawn") == "#7 closed the listing"
    assert line("en", "hidden", "review", by=None) == (
        "The listing was hidden: a review of its author"
    )
    assert line("en", "hidden", "ban", by=None) == (
        "an erased member hid the listing: its author was banned"
    )
    assert line("en", "restored", "moderator") == "#7 restored the listing"


def test_a_renewal_counts_its_days_in_the_readers_language():
    assert line("en", "renewed", "1") == "#7 renewed the listing for 1 day"
    assert line("pl", "renewed", "2") == "#7: odnowienie ogłoszenia na 2 dni"
    assert line("pl", "renewed", "1") == "#7: odnowienie ogłoszenia na 1 dzień"
    assert line("sl", "renewed", "2") == "#7: podaljšanje oglasa za 2 dneva"


def test_what_a_newer_version_stored_is_shown_as_stored_escaped():
    assert line("fr", "archived", "<x>") == "archived · #7\xa0: &lt;x&gt;"
    assert line("fr", "edited", "title,<colour>") == (
        "#7 a modifié l’annonce\xa0: Titre, &lt;colour&gt;"
    )
    assert line("en", "renewed", "soon") == "renewed · #7: soon"
    assert report_status(translator("de"), "dismissed") == "verworfen"
    assert report_status(translator("de"), "<new>") == "&lt;new&gt;"
