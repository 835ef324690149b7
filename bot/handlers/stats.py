"""``/stats`` for admins: the platform's figures over the last 7, 30 or 365 days (the
exchanges too: fulfilled listings with whom, by country, category and between places), a
chart of activity and one of exchanges across borders, and CSV exports of the listings and of
the figures.

Every press checks that the presser is an admin.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot import taxonomy
from bot.buttons import STATS, OneOf
from bot.context import BotContext, CommunityApplication, reply
from bot.handlers.admin import refuse_unless_admin
from bot.i18n import N_, Translator
from bot.places.countries import flag
from bot.storage import Exchanges, ExchangeSeries, Figures
from bot.views import charts
from bot.views import texts as views
from bot.views.cards import OUTCOME_LABELS, STATE_NAMES
from bot.views.charts import period

PERIODS = (7, 30, 365)
KIND_NAMES = {"offer": N_("offers"), "request": N_("requests")}
TOP_COUNTRIES = 10
TOP_PLACES = 5  # pairs of places shown in the text (all of them in the CSV)

# The CSV exports' columns, in this order, headed in the admin's language. Only the header
# row is translated: the cells stay what a program reads (ids, codes such as "offer" or
# "equipment", dates as YYYY-MM-DD HH:MM in UTC), and a program finds a column by its place.
# No second row of English keys: spreadsheets and csv readers take the first row as the
# header and every other row as data.
LISTING_COLUMNS = {
    "id": N_("ID"),
    "published_at": N_("Published (UTC)"),
    "kind": N_("Kind"),
    "category": N_("Category"),
    "country": N_("Country"),
    "state": N_("State"),
    "outcome": N_("Outcome"),
    "expires_at": N_("Open until (UTC)"),
    "views": N_("Views"),
    "contacts": N_("Contacts"),
    "language": N_("Language"),
    "title": N_("Title"),
}
FIGURE_COLUMNS = {
    "section": N_("Section"),
    "key": N_("Item"),
    "total": N_("Total"),
    "in_period": N_("In the period"),
}


# Each carries the period, in days.
PERIOD = STATS.button("p", OneOf(str(days) for days in PERIODS))
CHART = STATS.button("chart", OneOf(str(days) for days in PERIODS))
EXCHANGES_CHART = STATS.button("xchart", OneOf(str(days) for days in PERIODS))
LISTINGS_CSV = STATS.button("csvl", OneOf(str(days) for days in PERIODS))
FIGURES_CSV = STATS.button("csvf", OneOf(str(days) for days in PERIODS))


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [
            CommandHandler("stats", stats_command),
            PERIOD.handler(period_chosen),
            CHART.handler(chart),
            EXCHANGES_CHART.handler(exchanges_chart),
            LISTINGS_CSV.handler(listings_export),
            FIGURES_CSV.handler(figures_export),
        ]
    )


def _counted(t: Translator, pairs: list[tuple[str, tuple[int, int]]]) -> str:
    """'Name 120 (+5) · Other 30' (the new ones in brackets, when there are any)."""
    return " · ".join(
        f"{name} {t.number(total)}" + (f" (+{t.number(new)})" if new else "")
        for name, (total, new) in pairs
    )


def figures_text(t: Translator, figures: Figures) -> str:
    _ = t.gettext
    n = t.number
    unavailable = _("not yet available")
    end = datetime.fromtimestamp(figures.now, UTC)
    lines = [
        _("📊 <b>Figures: {period}</b> (to {date})").format(
            period=period(t, figures.days), date=t.date(end)
        ),
        "",
        _("<b>People</b>: {total} ({new})").format(
            total=n(figures.users_total),
            new=t.ngettext("{count} new", "{count} new", figures.users_new).format(
                count=n(figures.users_new)
            ),
        ),
    ]
    roles = [
        (_(views.ROLE_LABELS[role]) if role else _("no role yet"), counts)
        for role, counts in figures.users_by_role.items()
    ]
    lines.append(_("By role: {counts}").format(counts=_counted(t, roles)))
    languages = [
        (escape(t.language_name(code)), c) for code, c in figures.users_by_language.items()
    ]
    lines.append(_("By language: {counts}").format(counts=_counted(t, languages)))
    countries = [
        (f"{flag(code)} {escape(t.country(code))}" if code else _("not set"), counts)
        for code, counts in figures.users_by_country.items()
    ]
    more = len(countries) - TOP_COUNTRIES
    text = _counted(t, countries[:TOP_COUNTRIES])
    if more > 0:
        text += " " + t.ngettext("and {count} more", "and {count} more", more).format(count=more)
    lines.append(_("By country: {counts}").format(counts=text))

    states = figures.listings_by_state()
    lines += [
        "",
        _("<b>Listings published</b>: {count}").format(count=n(sum(states.values()))),
    ]
    if states:
        lines.append(
            " · ".join(f"{_(STATE_NAMES.get(s, s))} {n(c)}" for s, c in sorted(states.items()))
        )
    names = {c.key: f"{c.emoji} {_(c.name)}" for c in taxonomy.CATEGORIES}
    for category in sorted({c for c, _k in figures.listings}, key=lambda k: names.get(k, k)):
        kinds = []
        for kind in ("offer", "request"):
            counted = figures.listings.get((category, kind))
            if counted:
                detail = ", ".join(
                    f"{_(STATE_NAMES.get(s, s))} {n(c)}" for s, c in sorted(counted.items())
                )
                kinds.append(f"{_(KIND_NAMES[kind])} {n(sum(counted.values()))} ({detail})")
        lines.append(f"{names.get(category, escape(category))}: " + "; ".join(kinds))

    outcomes = [
        f"{_(OUTCOME_LABELS[o]) if o in OUTCOME_LABELS else _('not said')} {n(c)}"
        for o, c in figures.outcomes.items()
    ]
    lines += [
        "",
        _("<b>Fulfilled in the period</b>: {count}").format(count=n(sum(figures.outcomes.values())))
        + (" (" + " · ".join(outcomes) + ")" if outcomes else ""),
    ]
    lines += exchanges_lines(t, figures.exchanges)
    found = figures.interactions
    median = found.median_first_contact
    lines += [
        _("<b>Matches</b>: {count}").format(
            count=unavailable if found.matches is None else n(found.matches)
        ),
        _("<b>Contacts</b>: {count}").format(
            count=unavailable if found.contacts is None else n(found.contacts)
        ),
        _("<b>Accepted contacts</b>: {count}").format(
            count=unavailable if found.accepted_contacts is None else n(found.accepted_contacts)
        ),
        _("<b>Median time from posting to first contact</b>: {time}").format(
            time=unavailable if median is None else t.timedelta(timedelta(seconds=median))
        ),
    ]
    return "\n".join(lines)


def _side(t: Translator, place: str | None, country: str | None) -> str:
    """One side of an exchange: its place and flag (or the country's name, without a place)."""
    if place:
        return f"{escape(place)} {flag(country)}" if country else escape(place)
    return f"{flag(country)} {escape(t.country(country))}" if country else "?"


def exchanges_lines(t: Translator, found: Exchanges) -> list[str]:
    """Exchanges in the period: how many (across borders), by country, category, places."""
    _ = t.gettext
    n = t.number
    lines = [
        _("<b>Exchanges</b>: {count} (across borders: {across})").format(
            count=n(found.total), across=n(found.across_borders)
        )
    ]
    if found.by_country:
        countries = [
            f"{flag(code)} {escape(t.country(code))} {n(count)}"
            for code, count in list(found.by_country.items())[:TOP_COUNTRIES]
        ]
        lines.append(_("Exchanges by country: {counts}").format(counts=" · ".join(countries)))
    if found.by_category:
        names = {c.key: f"{c.emoji} {_(c.name)}" for c in taxonomy.CATEGORIES}
        categories = [
            f"{names.get(key, escape(key))} {n(count)}" for key, count in found.by_category.items()
        ]
        lines.append(_("Exchanges by category: {counts}").format(counts=" · ".join(categories)))
    if found.between:
        places = [
            f"{_side(t, *giver)} → {_side(t, *receiver)} {n(count)}"
            for giver, receiver, count in found.between[:TOP_PLACES]
        ]
        lines.append(_("Between places (giver → receiver): {counts}").format(
            counts=" · ".join(places)
        ))  # fmt: skip
    return lines


def stats_keyboard(t: Translator, days: int) -> InlineKeyboardMarkup:
    _ = t.gettext
    periods = [
        InlineKeyboardButton(
            views.tick(
                t.ngettext("{days} day", "{days} days", d).format(days=t.number(d)), d == days
            ),
            callback_data=PERIOD.data(str(d)),
        )
        for d in PERIODS
    ]
    return InlineKeyboardMarkup(
        [
            periods,
            [
                InlineKeyboardButton(_("📈 Chart"), callback_data=CHART.data(str(days))),
                InlineKeyboardButton(
                    _("🌍 Exchanges chart"), callback_data=EXCHANGES_CHART.data(str(days))
                ),
            ],
            [
                InlineKeyboardButton(
                    _("📄 Listings (CSV)"), callback_data=LISTINGS_CSV.data(str(days))
                ),
                InlineKeyboardButton(
                    _("📄 Figures (CSV)"), callback_data=FIGURES_CSV.data(str(days))
                ),
            ],
        ]
    )


async def stats_command(update: Update, context: BotContext) -> None:
    if not await refuse_unless_admin(update, context):
        return
    figures = await context.storage.figures(30, context.now())
    await reply(
        update, figures_text(context.i18n, figures), reply_markup=stats_keyboard(context.i18n, 30)
    )


def _cell(value: object) -> object:
    """A spreadsheet must not run what a listing's title says (=, +, -, @ start formulas)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM tells spreadsheets it is UTF-8


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def header(t: Translator, columns: dict[str, str]) -> list[object]:
    return [t.gettext(label) for label in columns.values()]


async def listings_csv(context: BotContext, days: int) -> bytes:
    rows = await context.storage.listing_rows(days, context.now())
    body = [
        [
            _iso(row[key]) if key in ("published_at", "expires_at") else row[key]
            for key in LISTING_COLUMNS
        ]
        for row in rows
    ]
    return _csv([header(context.i18n, LISTING_COLUMNS), *body])


def _csv_side(place: str | None, country: str | None) -> str:
    return f"{place or '?'} ({country or '?'})"


def _exchange_rows(found: Exchanges, series: ExchangeSeries) -> list[list[object]]:
    """The exchanges' sections of the figures CSV: totals, by country, by category, between
    places (giver > receiver), and per day or week (all, and across borders)."""
    rows: list[list[object]] = [
        ["exchanges", "all", "", found.total],
        ["exchanges", "across_borders", "", found.across_borders],
    ]
    rows += [["exchanges_by_country", code, "", count] for code, count in found.by_country.items()]
    rows += [["exchanges_by_category", key, "", count] for key, count in found.by_category.items()]
    rows += [
        ["exchanges_between", f"{_csv_side(*giver)} > {_csv_side(*receiver)}", "", count]
        for giver, receiver, count in found.between
    ]
    for index, counts in enumerate(zip(series.within, series.across, series.unknown, strict=True)):
        day = _iso(series.start + index * series.bucket)[:10]
        rows.append(["exchanges_over_time", day, "", sum(counts)])
        rows.append(["exchanges_across_borders_over_time", day, "", counts[1]])
    return rows


def figures_csv(t: Translator, figures: Figures, series: ExchangeSeries) -> bytes:
    rows: list[list[object]] = [header(t, FIGURE_COLUMNS)]
    rows.append(["people", "all", figures.users_total, figures.users_new])
    for section, found in (
        ("people_by_role", figures.users_by_role),
        ("people_by_language", figures.users_by_language),
        ("people_by_country", figures.users_by_country),
    ):
        rows += [[section, key or "", total, new] for key, (total, new) in found.items()]
    for (category, kind), states in sorted(figures.listings.items()):
        rows += [
            ["listings", f"{category}/{kind}/{state}", "", count]
            for state, count in sorted(states.items())
        ]
    rows += [["outcomes", key or "", "", count] for key, count in figures.outcomes.items()]
    interactions = figures.interactions
    for key, value in (
        ("matches", interactions.matches),
        ("contacts", interactions.contacts),
        ("accepted_contacts", interactions.accepted_contacts),
        ("median_seconds_to_first_contact", interactions.median_first_contact),
    ):
        rows.append(["interactions", key, "", "" if value is None else value])
    rows += _exchange_rows(figures.exchanges, series)
    return _csv(rows)


async def period_chosen(update: Update, context: BotContext, days: str) -> None:
    """The figures over another period, in the same message."""
    query = update.callback_query
    assert query is not None
    if not await refuse_unless_admin(update, context):
        return
    figures = await context.storage.figures(int(days), context.now())
    await query.answer()
    try:
        await query.edit_message_text(
            figures_text(context.i18n, figures),
            reply_markup=stats_keyboard(context.i18n, int(days)),
        )
    except BadRequest as refused:  # the same period again, and nothing changed meanwhile
        if "not modified" not in refused.message:
            raise


async def _send_chart(
    update: Update,
    context: BotContext,
    days: int,
    draw: Callable[[], Awaitable[Callable[[], bytes]]],
    name: str,
    caption: str,
) -> None:
    """For an admin: the chart ``draw`` prepares (its data read, then drawn off the event
    loop), as a photo named and captioned for the period."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    if not await refuse_unless_admin(update, context):
        return
    await query.answer()
    png = await asyncio.to_thread(await draw())
    await chat.send_photo(
        InputFile(png, filename=f"{name}-{days}d-{_stamp(context.now())}.png"),
        caption=caption.format(period=period(context.i18n, days)),
    )


async def chart(update: Update, context: BotContext, days: str) -> None:
    """A chart of the period's listings, as a photo."""
    _ = context.i18n.gettext

    async def draw() -> Callable[[], bytes]:
        now = context.now()
        figures = await context.storage.figures(int(days), now)
        series = await context.storage.weekly_series(int(days), now)
        return partial(charts.activity_chart, context.i18n, series, figures)

    await _send_chart(
        update, context, int(days), draw, "activity",
        _("Listings published and their state: {period}."),
    )  # fmt: skip


async def exchanges_chart(update: Update, context: BotContext, days: str) -> None:
    """A chart of the period's exchanges, within countries and across borders, as a photo."""
    _ = context.i18n.gettext

    async def draw() -> Callable[[], bytes]:
        series = await context.storage.exchange_series(int(days), context.now())
        return partial(charts.exchanges_chart, context.i18n, series, int(days))

    await _send_chart(
        update, context, int(days), draw, "exchanges",
        _("Exchanges, within countries and across borders: {period}."),
    )  # fmt: skip


async def _send_csv(
    update: Update,
    context: BotContext,
    days: int,
    write: Callable[[], Awaitable[bytes]],
    name: str,
    caption: str,
) -> None:
    """For an admin: the CSV ``write`` prepares, as a document named and captioned for the
    period."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    if not await refuse_unless_admin(update, context):
        return
    await query.answer()
    await chat.send_document(
        InputFile(await write(), filename=f"{name}-{days}d-{_stamp(context.now())}.csv"),
        caption=caption.format(period=period(context.i18n, days)),
    )


async def listings_export(update: Update, context: BotContext, days: str) -> None:
    """The listings published in the period, as CSV."""
    _ = context.i18n.gettext

    async def write() -> bytes:
        return await listings_csv(context, int(days))

    await _send_csv(
        update, context, int(days), write, "listings", _("Listings published: {period}.")
    )


async def figures_export(update: Update, context: BotContext, days: str) -> None:
    """The period's figures, as CSV."""
    _ = context.i18n.gettext

    async def write() -> bytes:
        figures = await context.storage.figures(int(days), context.now())
        series = await context.storage.exchange_series(int(days), context.now())
        return figures_csv(context.i18n, figures, series)

    await _send_csv(update, context, int(days), write, "figures", _("Figures: {period}."))


def _stamp(now: int) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
