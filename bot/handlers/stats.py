"""``/stats`` for admins: the platform's figures over the last 7, 30 or 365 days, a chart, and
CSV exports of the listings and of the figures.

Buttons carry ``st:<what>:<days>``; every press checks that the presser is an admin.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest

from bot import charts, taxonomy, views
from bot.callback_data import parse_number
from bot.charts import period
from bot.context import BotContext
from bot.handlers.admin import refuse_unless_admin
from bot.handlers.common import reply
from bot.handlers.my_listings import OUTCOMES
from bot.i18n import N_, Translator
from bot.storage import Figures

PERIODS = (7, 30, 365)
STATE_NAMES = {
    "open": N_("open"),
    "fulfilled": N_("fulfilled"),
    "expired": N_("expired"),
    "closed": N_("closed"),
    "hidden": N_("hidden"),
}
KIND_NAMES = {"offer": N_("offers"), "request": N_("requests")}
TOP_COUNTRIES = 10

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
        (f"{views.flag(code)} {escape(t.country(code))}" if code else _("not set"), counts)
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
        f"{_(OUTCOMES[o]) if o in OUTCOMES else _('not said')} {n(c)}"
        for o, c in figures.outcomes.items()
    ]
    lines += [
        "",
        _("<b>Fulfilled in the period</b>: {count}").format(count=n(sum(figures.outcomes.values())))
        + (" (" + " · ".join(outcomes) + ")" if outcomes else ""),
    ]
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


def stats_keyboard(t: Translator, days: int) -> InlineKeyboardMarkup:
    _ = t.gettext
    periods = [
        InlineKeyboardButton(
            ("✓ " if d == days else "")
            + t.ngettext("{days} day", "{days} days", d).format(days=t.number(d)),
            callback_data=f"st:p:{d}",
        )
        for d in PERIODS
    ]
    return InlineKeyboardMarkup(
        [
            periods,
            [InlineKeyboardButton(_("📈 Chart"), callback_data=f"st:chart:{days}")],
            [
                InlineKeyboardButton(_("📄 Listings (CSV)"), callback_data=f"st:csvl:{days}"),
                InlineKeyboardButton(_("📄 Figures (CSV)"), callback_data=f"st:csvf:{days}"),
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


def figures_csv(t: Translator, figures: Figures) -> bytes:
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
    found = figures.interactions
    for key, value in (
        ("matches", found.matches),
        ("contacts", found.contacts),
        ("accepted_contacts", found.accepted_contacts),
        ("median_seconds_to_first_contact", found.median_first_contact),
    ):
        rows.append(["interactions", key, "", "" if value is None else value])
    return _csv(rows)


async def stats_button(update: Update, context: BotContext) -> None:
    """``st:p:<days>`` (period), ``st:chart:<days>``, ``st:csvl:<days>``, ``st:csvf:<days>``."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if not await refuse_unless_admin(update, context):
        return
    _ = context.i18n.gettext
    parts = query.data.split(":")
    days = parse_number(parts[2]) if len(parts) == 3 else None
    if days is None or days not in PERIODS:
        await query.answer(_("This button is no longer valid."))
        return
    what = parts[1]
    chat = update.effective_chat
    assert chat is not None
    now = context.now()
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
    if what == "p":
        figures = await context.storage.figures(days, now)
        await query.answer()
        try:
            await query.edit_message_text(
                figures_text(context.i18n, figures), reply_markup=stats_keyboard(context.i18n, days)
            )
        except BadRequest as refused:  # the same period again, and nothing changed meanwhile
            if "not modified" not in refused.message:
                raise
    elif what == "chart":
        await query.answer()
        figures = await context.storage.figures(days, now)
        series = await context.storage.weekly_series(days, now)
        png = await asyncio.to_thread(charts.activity_chart, context.i18n, series, figures)
        await chat.send_photo(
            InputFile(png, filename=f"activity-{days}d-{stamp}.png"),
            caption=_("Listings published and their state: {period}.").format(
                period=period(context.i18n, days)
            ),
        )
    elif what == "csvl":
        await query.answer()
        await chat.send_document(
            InputFile(await listings_csv(context, days), filename=f"listings-{days}d-{stamp}.csv"),
            caption=_("Listings published: {period}.").format(period=period(context.i18n, days)),
        )
    elif what == "csvf":
        await query.answer()
        figures = await context.storage.figures(days, now)
        await chat.send_document(
            InputFile(figures_csv(context.i18n, figures), filename=f"figures-{days}d-{stamp}.csv"),
            caption=_("Figures: {period}.").format(period=period(context.i18n, days)),
        )
    else:
        await query.answer(_("This button is no longer valid."))
