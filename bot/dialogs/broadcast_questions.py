"""The broadcast composer's steps: what each one shows, and checking an announcement's text.
The answers are handled in :mod:`bot.dialogs.broadcast`.

The draft itself is a row of the broadcasts table (state 'draft'), written at every answer;
the conversation's answers only hold its id, the step, and the language being written.
Buttons carry ``bc:<what>[:<value>]``.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import views
from bot.broadcasting import broadcast_message, post, when_text
from bot.context import BotContext
from bot.dialogs.steps import answers, checkpoint, current_step
from bot.handlers.common import reply
from bot.i18n import LANGUAGES, Translator, autonym, translator
from bot.localtime import ZONES
from bot.markup import MarkupError, check_html
from bot.storage import Broadcast, fold
from bot.timezones import parse_local

DIALOG = "broadcast"

# Persisted as numbers (conversation states): append new steps, never reorder.
(
    CHOOSING_LANGUAGE,
    TYPING_TEXT,
    REVIEWING_TEXTS,
    CHOOSING_AUDIENCE,
    CHOOSING_COUNTRIES,
    CHOOSING_WHEN,
    TYPING_TIME,
    CONFIRMING,
) = range(8)

TEXT_MAX, CAPTION_MAX = 4096, 1024
LANGUAGES_PER_ROW = 3
YEAR = 366 * 86_400


def check_text(t: Translator, html: str, *, with_photo: bool) -> str | None:
    """Why an announcement's HTML is refused, or None: Telegram's tags and limits."""
    _ = t.gettext
    try:
        checked = check_html(html)
    except MarkupError as mistake:
        return _(
            "Telegram would refuse this formatting: {reason}.\n"
            'Allowed: &lt;b&gt;, &lt;i&gt;, &lt;u&gt;, &lt;s&gt;, &lt;a href="…"&gt;, '
            "&lt;code&gt;, &lt;pre&gt;, &lt;blockquote&gt;, &lt;tg-spoiler&gt;; "
            "write &amp;lt; for &lt; and &amp;amp; for &amp;. Please send the text again."
        ).format(reason=escape(str(mistake)))
    if checked.length == 0:
        return _("The announcement is empty. Please send its text.")
    limit = CAPTION_MAX if with_photo else TEXT_MAX
    if checked.length > limit:
        if with_photo:
            return _(
                "With a photo, the text can have at most {limit} characters; this one has "
                "{length}. Please shorten it."
            ).format(limit=t.number(limit), length=t.number(checked.length))
        return _(
            "An announcement can have at most {limit} characters; this one has {length}. "
            "Please shorten it."
        ).format(limit=t.number(limit), length=t.number(checked.length))
    return None


EXAMPLE_TIME, EXAMPLE_ZONE = "2030-05-01 09:30", "Europe/Sofia"


def zone_typed(t: Translator, typed: str) -> tuple[str, str] | None:
    """(what comes before, zone) when ``typed`` ends with the city of one of the zones a
    person may choose, as CLDR names it in the reader's language or in English ('Sofia',
    'София', 'Îles Canaries'), in any case and with or without accents."""
    folded = fold(typed)
    for zone in ZONES:
        for name in {t.zone_city(zone), translator("en").zone_city(zone)}:
            city = fold(name)
            if folded.endswith(" " + city):
                return folded[: -len(city)].strip(), zone
    return None


def check_time(t: Translator, typed: str, timezone: str, now: int) -> tuple[int, str] | str:
    """(Unix seconds, timezone) of a typed send time, or why it is refused. A time zone may
    follow the time: a city (see :func:`zone_typed`) or a tz database name."""
    _ = t.gettext
    parsed = parse_local(typed, timezone)
    city = zone_typed(t, typed) if parsed is None else None
    if city is not None:
        parsed = parse_local(*city)
    if parsed is None:
        return _(
            "Please type a date and time like {example}, optionally followed by the city of "
            "another time zone, such as {city}."
        ).format(example=EXAMPLE_TIME, city=escape(t.zone_city(EXAMPLE_ZONE)))
    if parsed[0] <= now + 60:
        return _("That time has passed. Please type a time in the future.")
    if parsed[0] > now + YEAR:
        return _("Please choose a time within the next year.")
    return parsed


# --- the questions -------------------------------------------------------------------------


def cancel_row(t: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(t.gettext("✖️ Cancel"), callback_data="bc:cancel")]


async def draft(context: BotContext) -> Broadcast:
    found = await context.storage.get_broadcast(answers(context, DIALOG)["id"])
    assert found is not None
    return found


async def ask_language(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    written = (await draft(context)).texts
    buttons = [
        InlineKeyboardButton(
            ("✓ " if code in written else "") + autonym(code), callback_data=f"bc:lang:{code}"
        )
        for code in LANGUAGES
    ]
    rows = views.rows(buttons, LANGUAGES_PER_ROW)
    rows.append(cancel_row(context.i18n))
    if written:
        text = _("Which language do you want to add or change?")
    else:
        text = _(
            "📣 <b>New announcement</b>\n\nWhich language will you write it in? You can add "
            "versions in other languages next; everyone else gets the text you choose."
        )
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def ask_text(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    language = answers(context, DIALOG)["language"]
    await reply(
        update,
        _(
            "Send the announcement in {language}: a text of up to {text_max} characters, or "
            "a photo with a caption of up to {caption_max}.\n\n"
            "Formatting is HTML: &lt;b&gt;bold&lt;/b&gt;, &lt;i&gt;italic&lt;/i&gt;, "
            '&lt;a href="https://…"&gt;link&lt;/a&gt;. Write &amp;lt; for &lt; and '
            "&amp;amp; for &amp;."
        ).format(
            language=escape(context.i18n.language_name(language)),
            text_max=context.i18n.number(TEXT_MAX),
            caption_max=context.i18n.number(CAPTION_MAX),
        ),
        reply_markup=InlineKeyboardMarkup([cancel_row(context.i18n)]),
    )


async def ask_review(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    names = ", ".join(escape(context.i18n.language_name(code)) for code in broadcast.texts)
    lines = [_("Texts written: {languages}.").format(languages=names)]
    if broadcast.photo_file_id:
        lines.append(_("With a photo."))
    assert broadcast.fallback is not None
    lines.append(
        _("Readers of other languages get the {language} text.").format(
            language=escape(context.i18n.language_name(broadcast.fallback))
        )
    )
    rows = [[InlineKeyboardButton(_("➕ Add or change a language"), callback_data="bc:more")]]
    if len(broadcast.texts) > 1:
        fallbacks = [
            InlineKeyboardButton(
                ("✓ " if code == broadcast.fallback else "")
                + _("Others: {language}").format(language=autonym(code)),
                callback_data=f"bc:fb:{code}",
            )
            for code in broadcast.texts
        ]
        rows += views.rows(fallbacks, 2)
    if broadcast.photo_file_id:
        rows.append([InlineKeyboardButton(_("🗑 Remove the photo"), callback_data="bc:nophoto")])
    rows.append([InlineKeyboardButton(_("➡ Choose the audience"), callback_data="bc:aud")])
    rows.append(cancel_row(context.i18n))
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


def audience_summary(t: Translator, broadcast: Broadcast, counts: dict[str, int]) -> str:
    _ = t.gettext
    segment = broadcast.segment
    parts = []
    if segment.roles:
        parts.append(", ".join(_(views.ROLE_LABELS[role]) for role in segment.roles))
    if segment.countries:
        parts.append(", ".join(escape(t.country(code)) for code in segment.countries))
    if segment.languages:
        parts.append(", ".join(escape(t.language_name(code)) for code in segment.languages))
    who = " · ".join(parts) if parts else _("everyone")
    total = sum(counts.values())
    return "\n".join(
        [
            _("Who gets it? Tap to choose; choose nothing for everyone."),
            "",
            _("Audience: {who}").format(who=who),
            "<b>"
            + t.ngettext("{count} recipient", "{count} recipients", total).format(
                count=t.number(total)
            )
            + "</b>",
        ]
    )


def audience_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    _ = t.gettext
    segment = broadcast.segment
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if role in segment.roles else "") + _(label),
                callback_data=f"bc:r:{role}",
            )
        ]
        for role, label in views.ROLE_LABELS.items()
    ]
    languages = [
        InlineKeyboardButton(
            ("✓ " if code in segment.languages else "") + autonym(code),
            callback_data=f"bc:l:{code}",
        )
        for code in LANGUAGES
    ]
    # Each language by its own name, three to a row: the names stay readable on a phone.
    rows += views.rows(languages, LANGUAGES_PER_ROW)
    countries = len(segment.countries)
    label = _("🌍 Countries ({count})").format(count=countries) if countries else _("🌍 Countries")
    rows.append([InlineKeyboardButton(label, callback_data="bc:countries")])
    rows.append(
        [
            InlineKeyboardButton(_("⬅ Texts"), callback_data="bc:texts"),
            InlineKeyboardButton(_("➡ Continue"), callback_data="bc:when"),
        ]
    )
    rows.append(cancel_row(t))
    return InlineKeyboardMarkup(rows)


async def ask_audience(update: Update, context: BotContext) -> None:
    broadcast = await draft(context)
    counts = await context.storage.count_recipients(broadcast.segment)
    await reply(
        update,
        audience_summary(context.i18n, broadcast, counts),
        reply_markup=audience_keyboard(context.i18n, broadcast),
    )


def countries_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    chosen = broadcast.segment.countries
    buttons = [
        InlineKeyboardButton(
            ("✓ " if code in chosen else "") + f"{views.flag(code)} {t.country(code)}",
            callback_data=f"bc:c:{code}",
        )
        for code in views.countries_by_name(t)
    ]
    rows = views.rows(buttons, 2)
    rows.append([InlineKeyboardButton(t.gettext("✓ Done"), callback_data="bc:cdone")])
    return InlineKeyboardMarkup(rows)


async def ask_countries(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    await reply(
        update,
        _("Which countries? Tap to choose; choose none for all countries."),
        reply_markup=countries_keyboard(context.i18n, broadcast),
    )


async def ask_when(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    buttons = [
        [InlineKeyboardButton(_("🚀 Send now"), callback_data="bc:now")],
        [InlineKeyboardButton(_("🕒 At a date and time"), callback_data="bc:later")],
        [InlineKeyboardButton(_("⬅ Audience"), callback_data="bc:aud")],
        cancel_row(context.i18n),
    ]
    await reply(update, _("When shall it be sent?"), reply_markup=InlineKeyboardMarkup(buttons))


async def ask_time(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    await reply(
        update,
        _(
            "Type the date and time in your time zone ({timezone}), like {example}. "
            "For another time zone, add its city: {example} {city}."
        ).format(
            timezone=escape(context.i18n.zone_city(broadcast.timezone)),
            example=EXAMPLE_TIME,
            city=escape(context.i18n.zone_city(EXAMPLE_ZONE)),
        ),
        reply_markup=InlineKeyboardMarkup([cancel_row(context.i18n)]),
    )


def per_text(broadcast: Broadcast, counts: dict[str, int]) -> dict[str, int]:
    """Recipients of each written text: its language's readers, plus, for the fallback text,
    the readers of every language without a text of its own."""
    found = {code: counts.get(code, 0) for code in broadcast.texts}
    if broadcast.fallback in found:
        found[broadcast.fallback] += sum(n for code, n in counts.items() if code not in found)
    return found


async def send_previews(update: Update, context: BotContext) -> tuple[str, str] | None:
    """Each text exactly as its readers will get it. Telegram checks them here: if it refuses
    one, returns (its language, Telegram's reason) and nothing is sent to anyone."""
    _ = context.i18n.gettext
    assert update.effective_chat is not None
    broadcast = await draft(context)
    counts = per_text(broadcast, await context.storage.count_recipients(broadcast.segment))
    languages = sorted(broadcast.texts, key=lambda code: code != broadcast.fallback)
    for code in languages:
        shown = broadcast_message(broadcast, code)
        assert shown is not None
        await reply(
            update,
            context.i18n.ngettext(
                "👁 Preview, {language} ({count} recipient):",
                "👁 Preview, {language} ({count} recipients):",
                counts[code],
            ).format(
                language=escape(context.i18n.language_name(code)),
                count=context.i18n.number(counts[code]),
            ),
        )
        try:
            await post(context.application, update.effective_chat.id, shown)
        except BadRequest as refused:
            return code, refused.message
    return None


async def ask_confirmation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    total = sum((await context.storage.count_recipients(broadcast.segment)).values())
    people = context.i18n.ngettext("{count} person", "{count} people", total).format(
        count=context.i18n.number(total)
    )
    if broadcast.send_at:
        when = when_text(context.i18n, broadcast.send_at, broadcast.timezone)
        text = _("Send this announcement to {people} on {when}?").format(people=people, when=when)
        label = _("✅ Schedule it")
    else:
        text = _("Send this announcement to {people} now?").format(people=people)
        label = _("✅ Send it")
    buttons = [
        [InlineKeyboardButton(label, callback_data=f"bc:go:{broadcast.id}")],
        [InlineKeyboardButton(_("⬅ Audience"), callback_data="bc:aud")],
        cancel_row(context.i18n),
    ]
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))


QUESTIONS = {
    CHOOSING_LANGUAGE: ask_language,
    TYPING_TEXT: ask_text,
    REVIEWING_TEXTS: ask_review,
    CHOOSING_AUDIENCE: ask_audience,
    CHOOSING_COUNTRIES: ask_countries,
    CHOOSING_WHEN: ask_when,
    TYPING_TIME: ask_time,
    CONFIRMING: ask_confirmation,
}


async def go_to(update: Update, context: BotContext, step: int) -> int:
    """Checkpoint ``step``, then ask its question; returns the step the admin is on.

    Before the confirmation, the previews are sent: a text Telegram refuses sends the admin
    back to writing it, with Telegram's reason."""
    await checkpoint(update, context, DIALOG, step)
    if step == CONFIRMING:
        refused = await send_previews(update, context)
        if refused is not None:
            language, reason = refused
            answers(context, DIALOG)["language"] = language
            await reply(
                update,
                context.i18n.gettext(
                    "Telegram refused the {language} text: {reason}. Nothing was sent."
                ).format(
                    language=escape(context.i18n.language_name(language)), reason=escape(reason)
                ),
            )
            return await go_to(update, context, TYPING_TEXT)
    await QUESTIONS[step](update, context)
    return step


async def resume(update: Update, context: BotContext) -> bool:
    step = current_step(context, DIALOG)
    if step is None or "id" not in answers(context, DIALOG):
        return False
    if await context.storage.get_broadcast(answers(context, DIALOG)["id"]) is None:
        return False
    await QUESTIONS[step](update, context)
    return True
