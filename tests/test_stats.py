"""Figures for admins: counted from seeded data, shown by /stats over HTTP, a chart that is a
real PNG, CSV exports as documents; non-admins refused."""

from __future__ import annotations

import csv
import io
import struct
import time

from bot.handlers.stats import FIGURE_COLUMNS, LISTING_COLUMNS
from bot.i18n import translator
from bot.storage import Storage
from tests import seed
from tests.conftest import ADMIN_ID
from tests.talk import says

E = translator("en").gettext
DAY = 86_400


def read_csv(raw: str, columns: dict[str, str], language: str = "en") -> list[dict[str, str]]:
    """The rows of an export by column key, after checking that its header row is the
    columns' names in the admin's ``language``, in order."""
    header, *rows = csv.reader(io.StringIO(raw))
    _ = translator(language).gettext
    assert header == [_(label) for label in columns.values()]
    return [dict(zip(columns, row, strict=True)) for row in rows]


async def seeded(storage: Storage, now: int) -> dict[str, int]:
    """People and listings at known times; contacts and matches as their features store them."""
    await seed.member(storage, 1, language="fr", role="municipality", country="FR")
    await seed.member(storage, 2, language="bg", role="volunteer", country="BG")
    await seed.member(storage, 3, language="de", role="organisation", country="DE")
    await seed.member(storage, 4, language="fr", role="volunteer", country="BE")
    offer = await seed.listing(storage, 1, now - 3 * DAY, kind="offer", category="equipment")
    request = await seed.listing(storage, 2, now - 5 * DAY, kind="request", category="equipment")
    expired = await seed.listing(
        storage, 3, now - 20 * DAY, kind="request", category="volunteers", duration_days=7
    )
    fulfilled = await seed.listing(storage, 4, now - 10 * DAY, kind="offer", category="goods")
    await storage.close_listing(
        fulfilled.id, 4, fulfilled=True, outcome="platform", now=now - 2 * DAY
    )
    closed = await seed.listing(storage, 1, now - 6 * DAY, kind="offer", category="goods")
    await storage.close_listing(closed.id, 1, fulfilled=False, outcome=None, now=now - DAY)
    old = await seed.listing(storage, 1, now - 200 * DAY, kind="offer", category="equipment")
    async with storage.transaction() as db:
        # Contacts: the offer's first after 2 hours, the request's after 1 day (and a second
        # one later), the old listing's long ago (outside 30 days).
        for listing, asker, owner, after, status in (
            (offer, 2, 1, 2 * 3600, "accepted"),
            (request, 1, 2, DAY, "pending"),
            (request, 3, 2, 2 * DAY, "declined"),
            (old, 2, 1, DAY, "accepted"),
        ):
            at = listing.published_at + after
            await db.execute(
                """INSERT INTO contacts (listing_id, listing_title, listing_kind, asker_id,
                       owner_id, status, created_at, decided_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                (listing.id, listing.title, listing.kind, asker, owner, status, at,
                 at + 60 if status != "pending" else None),
            )  # fmt: skip
        # The running bot's matching pass may have stored this pair already.
        await db.execute(
            "INSERT INTO matches (listing_a, listing_b, score, reasons, created_at) "
            "VALUES (?, ?, 1.0, '', ?) ON CONFLICT (listing_a, listing_b) DO NOTHING",
            (offer.id, request.id, now - 3 * DAY),
        )
    return {"offer": offer.id, "expired": expired.id, "old": old.id}


async def test_figures_match_the_seeded_data(tmp_path):
    storage = await Storage.open(tmp_path / "db.sqlite3")
    now = int(time.time())
    await seeded(storage, now)
    month = await storage.figures(30, now)
    assert month.users_total == 4 and month.users_new == 4
    assert month.users_by_role == {
        "volunteer": (2, 2),
        "municipality": (1, 1),
        "organisation": (1, 1),
    }
    assert month.users_by_language["fr"] == (2, 2)
    assert month.users_by_country == {"BE": (1, 1), "BG": (1, 1), "DE": (1, 1), "FR": (1, 1)}
    assert month.listings == {
        ("equipment", "offer"): {"open": 1},
        ("equipment", "request"): {"open": 1},
        ("volunteers", "request"): {"expired": 1},
        ("goods", "offer"): {"fulfilled": 1, "closed": 1},
    }
    assert month.listings_by_state() == {"open": 2, "expired": 1, "fulfilled": 1, "closed": 1}
    assert month.outcomes == {"platform": 1}
    found = month.interactions
    assert (found.matches, found.contacts, found.accepted_contacts) == (1, 3, 1)
    assert found.median_first_contact == (2 * 3600 + DAY) / 2  # two listings got contacts
    week = await storage.figures(7, now)
    assert week.listings_by_state() == {"open": 2, "closed": 1}
    assert week.interactions.contacts == 3
    year = await storage.figures(365, now)
    assert year.listings[("equipment", "offer")] == {"open": 1, "expired": 1}
    assert year.interactions.median_first_contact == DAY  # of 2 hours, 1 day, 1 day
    series = await storage.weekly_series(30, now)
    assert sum(series.offers) == 3 and sum(series.requests) == 2
    assert series.contacts is not None and sum(series.contacts) == 3
    rows = await storage.listing_rows(30, now)
    assert len(rows) == 5 and {r["state"] for r in rows} == {
        "open",
        "expired",
        "fulfilled",
        "closed",
    }
    await storage.close()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's signature and IHDR chunk (fails if it is no PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    return struct.unpack(">II", data[16:24])


async def test_stats_over_http_with_chart_and_csv_exports(server, bot):
    now = int(time.time())
    bot.clock = lambda: now
    ids = await seeded(bot.storage, now)
    admin = server.create_user("Admin", language_code="en", user_id=ADMIN_ID)
    shown = await says(admin, "/stats")
    assert "Figures: last 30 days" in shown.text
    assert "People: 5 (5 new)" in shown.text  # the admin is counted too
    assert "Listings published: 5" in shown.text
    assert "closed 1 · expired 1 · fulfilled 1 · open 2" in shown.text
    assert "Equipment and machinery: offers 1 (open 1); requests 1 (open 1)" in shown.text
    assert "Fulfilled in the period: 1 (🤝 Thanks to Community Sharing 1)" in shown.text
    assert "Matches: 1" in shown.text and "Contacts: 3" in shown.text
    assert "Accepted contacts: 1" in shown.text
    assert "Median time from posting to first contact: 13 hours" in shown.text

    await admin.press(E("{days} days").format(days=365))
    year = await admin.wait_for_bot_message(include_edits=True)
    assert "Figures: last 365 days" in year.text and "Listings published: 6" in year.text

    await admin.press(E("📈 Chart"))
    chart = await admin.wait_for_bot_message(timeout=15)
    assert chart.photo
    width, height = png_size(server.file_bytes(chart.photo[-1]))
    assert (width, height) == (900, 850)

    await admin.press(E("📄 Listings (CSV)"))
    document = await admin.wait_for_bot_message(timeout=10)
    assert document.document["file_name"].startswith("listings-365d-")
    raw = server.file_bytes(document.document["file_id"]).decode("utf-8-sig")
    rows = read_csv(raw, LISTING_COLUMNS)
    assert len(rows) == 6 and {int(r["id"]) for r in rows} >= {ids["old"], ids["expired"]}
    assert {r["state"] for r in rows} == {"open", "expired", "fulfilled", "closed"}

    await admin.press(E("📄 Figures (CSV)"))
    document = await admin.wait_for_bot_message(timeout=10)
    raw = server.file_bytes(document.document["file_id"]).decode("utf-8-sig")
    figures = {(r["section"], r["key"]): r for r in read_csv(raw, FIGURE_COLUMNS)}
    assert figures[("people", "all")]["total"] == "5"
    assert figures[("listings", "equipment/offer/expired")]["in_period"] == "1"
    assert figures[("interactions", "contacts")]["in_period"] == "4"
    # The seeded people have no sandbox chats, so the matching pass may fail to tell them of
    # their match (timing decides whether it runs first): only the admin's calls must succeed.
    assert [e for e in server.errors() if str(e.params.get("chat_id")) == str(ADMIN_ID)] == []


async def test_non_admins_get_no_figures(server, bot):
    await seeded(bot.storage, int(time.time()))
    mallory = server.create_user("Mallory", language_code="en")
    answer = await says(mallory, "/stats")
    assert answer.text == E("This is for administrators only.")
    for data in ("st:p:365", "st:chart:30", "st:csvl:30", "st:csvf:7"):
        await mallory.press_data(answer.id, data)
        refusal = await mallory.wait_for_callback_answer()
        assert refusal.text == E("This is for administrators only.")
    assert not [m for m in mallory.messages if m.from_bot and (m.photo or m.document)]


async def test_a_formula_in_a_title_is_not_run_by_a_spreadsheet(server, bot):
    now = int(time.time())
    await seed.member(bot.storage, 1)
    await seed.listing(bot.storage, 1, now, title='=HYPERLINK("http://x")')
    admin = server.create_user("Admin", language_code="en", user_id=ADMIN_ID)
    await says(admin, "/stats")
    await admin.press(E("📄 Listings (CSV)"))
    document = await admin.wait_for_bot_message(timeout=10)
    raw = server.file_bytes(document.document["file_id"]).decode("utf-8-sig")
    (row,) = read_csv(raw, LISTING_COLUMNS)
    assert row["title"] == '\'=HYPERLINK("http://x")'
