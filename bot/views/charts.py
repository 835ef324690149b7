"""Charts for admins, drawn with matplotlib into PNG bytes (no display, no pyplot state).

Rendering takes a few hundred milliseconds of CPU: callers run :func:`activity_chart` in a
thread (``asyncio.to_thread``), so the bot keeps answering meanwhile. Each call builds its own
Figure, which is safe across threads, unlike pyplot's global state.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from bot import taxonomy
from bot.i18n import Translator
from bot.storage import ExchangeSeries, Figures, Series

STATES = ("open", "fulfilled", "expired", "closed")
STATE_COLOURS = {
    "open": "#4C9BE8",
    "fulfilled": "#3BB273",
    "expired": "#B0B7C3",
    "closed": "#E4A84B",
}


# A day and a short month: the fields CLDR picks its per-language pattern for ('May 1',
# '1 mai', 'máj. 1.', '1.05.').
DAY_SKELETON = "MMMd"


def bucket_labels(t: Translator, start: int, bucket: int, count: int) -> list[str]:
    """The first days of ``count`` buckets (days or weeks) from ``start``."""
    return [
        t.skeleton(datetime.fromtimestamp(start + i * bucket, UTC), DAY_SKELETON)
        for i in range(count)
    ]


def day_labels(t: Translator, series: Series) -> list[str]:
    return bucket_labels(t, series.start, series.bucket, len(series.offers))


def period(t: Translator, days: int) -> str:
    """'last 7 days', with the plural form the reader's language uses for that number."""
    return t.ngettext("last {days} day", "last {days} days", days).format(days=t.number(days))


def activity_chart(t: Translator, series: Series, figures: Figures) -> bytes:
    """Listings (and contacts, when known) per day or week, and listings by category and state."""
    # Imported on an admin's first chart, not at start-up: matplotlib is 40 MB of resident
    # memory that a bot nobody asks for /stats never needs (docs/BENCHMARKS.md, issue 20).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = t.gettext
    figure = Figure(figsize=(9, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.3))

    labels = day_labels(t, series)
    positions = range(len(labels))
    top.bar(positions, series.offers, color="#3BB273", label=_("Offers"))
    top.bar(positions, series.requests, bottom=series.offers, color="#E4574B", label=_("Requests"))
    if series.contacts is not None:
        marker = "o" if len(labels) <= 31 else None  # a dot a week over a year is noise
        top.plot(positions, series.contacts, color="#1F3A93", marker=marker, label=_("Contacts"))
    per = _("per day") if series.bucket == 86_400 else _("per week")
    top.set_title(
        _("Listings published {per}: {period}").format(per=per, period=period(t, figures.days))
    )
    step = max(1, len(labels) // 12)
    top.set_xticks(list(positions)[::step], labels[::step], rotation=45, ha="right")
    top.yaxis.get_major_locator().set_params(integer=True)
    top.legend(loc="upper left")

    names = {c.key: _(c.name) for c in taxonomy.CATEGORIES}
    categories = sorted(
        {category for category, _kind in figures.listings}, key=lambda k: names.get(k, k)
    )
    left = [0] * len(categories)
    state_names = {
        "open": _("open"),
        "fulfilled": _("fulfilled"),
        "expired": _("expired"),
        "closed": _("closed"),
    }
    for state in STATES:
        values = [
            sum(
                states.get(state, 0)
                for (category, _kind), states in figures.listings.items()
                if category == name
            )
            for name in categories
        ]
        bottom.barh(
            range(len(categories)),
            values,
            left=left,
            color=STATE_COLOURS[state],
            label=state_names[state],
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    bottom.set_yticks(range(len(categories)), [names.get(k, k) for k in categories])
    bottom.invert_yaxis()
    bottom.xaxis.get_major_locator().set_params(integer=True)
    bottom.set_title(_("Listings by category and state"))
    if categories:
        bottom.legend(loc="lower right")

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


EXCHANGE_COLOURS = {"within": "#4C9BE8", "across": "#3BB273", "unknown": "#B0B7C3"}
TOP_PAIRS = 12  # pairs of countries shown across borders


def exchanges_chart(t: Translator, series: ExchangeSeries, days: int) -> bytes:
    """Exchanges per day or week (within a country, across borders, with someone unknown), and
    the pairs of countries exchanging across borders, from giver to receiver."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazily, as above
    from matplotlib.figure import Figure

    _ = t.gettext
    figure = Figure(figsize=(9, 8.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=(1, 1.3))

    labels = bucket_labels(t, series.start, series.bucket, len(series.within))
    positions = range(len(labels))
    stacked = [0] * len(labels)
    for key, values, label in (
        ("within", series.within, _("Within a country")),
        ("across", series.across, _("Across borders")),
        ("unknown", series.unknown, _("With someone else")),
    ):
        top.bar(positions, values, bottom=stacked, color=EXCHANGE_COLOURS[key], label=label)
        stacked = [a + b for a, b in zip(stacked, values, strict=True)]
    per = _("per day") if series.bucket == 86_400 else _("per week")
    top.set_title(_("Exchanges {per}: {period}").format(per=per, period=period(t, days)))
    step = max(1, len(labels) // 12)
    top.set_xticks(list(positions)[::step], labels[::step], rotation=45, ha="right")
    top.yaxis.get_major_locator().set_params(integer=True)
    top.legend(loc="upper left")

    pairs = series.country_pairs[:TOP_PAIRS]
    bottom.set_title(_("Exchanges across borders, from giver to receiver"))
    if pairs:
        bottom.barh(range(len(pairs)), [n for _g, _r, n in pairs], color=EXCHANGE_COLOURS["across"])
        bottom.set_yticks(
            range(len(pairs)),
            [f"{t.country(giver)} → {t.country(receiver)}" for giver, receiver, _n in pairs],
        )
        bottom.invert_yaxis()
        bottom.xaxis.get_major_locator().set_params(integer=True)
    else:
        bottom.set_axis_off()
        bottom.text(
            0.5, 0.5, _("No exchanges across borders in this period."), ha="center", va="center"
        )

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
