"""The broadcast composer (``/broadcast``, admins only).

language → text (HTML, or a photo with a caption; checked against Telegram's rules and limits,
leaving room for the line naming the sender, see :mod:`bot.views.announcements`) → texts
written so far: add another language, choose which text readers of other languages get, remove
the photo → the kind of announcement and the audience: roles, languages and countries,
combined, with the live recipient count (people who turned that kind off are not counted,
unless it is urgent) → now or at a date and time in the admin's timezone → previews, exactly
as recipients will see them (Telegram checks each) → confirm.

The draft itself is a row of the broadcasts table (state 'draft'), written at every answer;
the conversation's answers only hold its id and the language being written. Every handler
checks that the person is an admin (the dialog's guard), not only the entry point: an admin may
be removed from ADMIN_IDS in the middle, and buttons can be forged. Confirming turns the draft
into a scheduled or sending broadcast in one conditional UPDATE, so a second tap sends nothing
more; the confirmation message becomes the live progress message.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot.buttons import BROADCASTS, ID, InvalidButton, OneOf, close_buttons, refuse_invalid
from bot.context import BotContext, reply
from bot.delivery.broadcasts import (
    announcements_sender,
    broadcast_message,
    progress_keyboard,
    progress_text,
    when_text,
)
from bot.delivery.outbox import post
from bot.dialogs.dialog import TEXT, Dialog, Handler, Question
from bot.handlers.admin import refuse_unless_admin
from bot.i18n import LANGUAGES, N_, Translator, autonym, translator
from bot.places.countries import COUNTRIES, countries_by_name, flag
from bot.places.timezones import ZONES, parse_local
from bot.storage import ROLES, Broadcast, Segment, fold
from bot.storage.broadcasts import ANNOUNCEMENT_KINDS
from bot.views import texts as views
from bot.views.announcements import kind_label, sender_room
from bot.views.html import CAPTION_LIMIT, TEXT_LIMIT, MarkupError, check_html

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

LANGUAGES_PER_ROW = 3
YEAR = 366 * 86_400
TEXT_HINT = N_("Please send a text message.")


async def admins_only(update: Update, context: BotContext) -> bool:
    """Refuse anyone who is not (or no longer) an admin; the dialog then ends."""
    return await refuse_unless_admin(update, context)


async def start(update: Update, context: BotContext) -> int:
    """A new draft, and its first question (the dialog's guard has checked the admin)."""
    assert context.member is not None
    # The admin's own time zone: the one chosen in /settings, else their country's.
    zone = (await context.storage.preferences(context.member.id)).timezone
    broadcast_id = await context.storage.create_broadcast(context.member.id, zone, context.now())
    return await DIALOG.begin(update, context, CHOOSING_LANGUAGE, id=broadcast_id)


# The progress message's buttons share the feature's prefix: only the composer's own are
# refused as an earlier step's.
DIALOG = Dialog(
    "broadcast",
    BROADCASTS,
    guard=admins_only,
    shares_prefix=True,
    resumable=lambda context: draft_exists(context),
    restart=start,
)

LANGUAGE = DIALOG.button("lang", OneOf(LANGUAGES))
MORE_LANGUAGES = DIALOG.button("more")
FALLBACK = DIALOG.button("fb", OneOf(LANGUAGES))
NO_PHOTO = DIALOG.button("nophoto")
TO_AUDIENCE = DIALOG.button("aud")
KIND = DIALOG.button("k", OneOf(ANNOUNCEMENT_KINDS))
ROLE = DIALOG.button("r", OneOf(ROLES))
READERS_OF = DIALOG.button("l", OneOf(LANGUAGES))
TO_COUNTRIES = DIALOG.button("countries")
COUNTRY = DIALOG.button("c", OneOf(COUNTRIES))
COUNTRIES_DONE = DIALOG.button("cdone")
BACK_TO_TEXTS = DIALOG.button("texts")
TO_WHEN = DIALOG.button("when")
NOW = DIALOG.button("now")
LATER = DIALOG.button("later")
URGENT = DIALOG.button("urgent")
CONFIRM = DIALOG.button("go", ID)


async def draft(context: BotContext) -> Broadcast:
    found = await context.storage.get_broadcast(DIALOG.answers(context)["id"])
    assert found is not None
    return found


async def draft_answered(update: Update, context: BotContext, step: int, **answer: object) -> int:
    """A button's answer, as :meth:`Dialog.answered` but kept in the draft: the pressed
    buttons go, the draft keeps the answer, and the dialog goes on to ``step``."""
    await close_buttons(update, context)
    await context.storage.update_draft((await draft(context)).id, **answer)
    return await DIALOG.go_to(update, context, step)


def cancel_row(t: Translator) -> list[list[InlineKeyboardButton]]:
    return DIALOG.navigation(t, CHOOSING_LANGUAGE)


async def draft_exists(context: BotContext) -> bool:
    """A draft deleted meanwhile cannot be resumed: /broadcast starts a new one."""
    answers = DIALOG.answers(context)
    return "id" in answers and await context.storage.get_broadcast(answers["id"]) is not None


# --- the texts ---------------------------------------------------------------------------------


def room(context: BotContext, *, with_photo: bool) -> int:
    """How long the admin's text may be: Telegram's limit, less the sender line's room."""
    limit = CAPTION_LIMIT if with_photo else TEXT_LIMIT
    return limit - sender_room(announcements_sender(context.community))


def check_text(t: Translator, html: str, *, with_photo: bool, limit: int) -> str | None:
    """Why an announcement's HTML is refused, or None: Telegram's tags, and ``limit`` (what
    Telegram allows less the sender line's room, see :func:`room`)."""
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
    if checked.length > limit:
        if with_photo:
            return _(
                "With a photo and the line naming the sender, the text can have at most {limit} "
                "characters; this one has {length}. Please shorten it."
            ).format(limit=t.number(limit), length=t.number(checked.length))
        return _(
            "With the line naming the sender, an announcement can have at most {limit} "
            "characters; this one has {length}. Please shorten it."
        ).format(limit=t.number(limit), length=t.number(checked.length))
    return None


async def ask_language(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    written = (await draft(context)).texts
    buttons = [
        InlineKeyboardButton(
            views.tick(autonym(code), code in written), callback_data=LANGUAGE.data(code)
        )
        for code in LANGUAGES
    ]
    rows = [*views.rows(buttons, LANGUAGES_PER_ROW), *cancel_row(context.i18n)]
    if written:
        text = _("Which language do you want to add or change?")
    else:
        text = _(
            "📣 <b>New announcement</b>\n\nWhich language will you write it in? You can add "
            "versions in other languages next; everyone else gets the text you choose."
        )
    await reply(update, text, reply_markup=InlineKeyboardMarkup(rows))


async def language_chosen(update: Update, context: BotContext, code: str) -> int:
    return await DIALOG.answered(update, context, TYPING_TEXT, language=code)


async def ask_text(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    language = DIALOG.answers(context)["language"]
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
            text_max=context.i18n.number(room(context, with_photo=False)),
            caption_max=context.i18n.number(room(context, with_photo=True)),
        ),
        reply_markup=InlineKeyboardMarkup(cancel_row(context.i18n)),
    )


async def _save_text(
    update: Update, context: BotContext, html: str, photo: str | None
) -> int | None:
    broadcast = await draft(context)
    language = DIALOG.answers(context)["language"]
    with_photo = bool(photo or broadcast.photo_file_id)
    limit = room(context, with_photo=with_photo)
    refusal = check_text(context.i18n, html, with_photo=with_photo, limit=limit)
    if refusal is None and photo:
        # The photo goes with every language's text: each must fit in a caption.
        for code, other in broadcast.texts.items():
            if code != language and check_html(other).length > limit:
                refusal = context.i18n.gettext(
                    "With a photo, every text can have at most {limit} characters, and the "
                    "{language} text is longer. Shorten it first, or send this text without "
                    "the photo."
                ).format(
                    limit=context.i18n.number(limit),
                    language=context.i18n.language_name(code),
                )
    if refusal is not None:
        await reply(update, refusal)
        return None
    texts = {**broadcast.texts, language: html}
    changes: dict[str, object] = {"texts": texts, "fallback": broadcast.fallback or language}
    if photo:
        changes["photo_file_id"] = photo
    await context.storage.update_draft(broadcast.id, **changes)
    return await DIALOG.go_to(update, context, REVIEWING_TEXTS)


async def text_typed(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.text is not None
    # The admin writes HTML: the text is taken as typed, tags and all.
    return await _save_text(update, context, update.message.text, None)


async def photo_sent(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.photo
    return await _save_text(
        update, context, update.message.caption or "", update.message.photo[-1].file_id
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
    more = _("➕ Add or change a language")
    rows = [[InlineKeyboardButton(more, callback_data=MORE_LANGUAGES.data(None))]]
    if len(broadcast.texts) > 1:
        fallbacks = [
            InlineKeyboardButton(
                views.tick(
                    _("Others: {language}").format(language=autonym(code)),
                    code == broadcast.fallback,
                ),
                callback_data=FALLBACK.data(code),
            )
            for code in broadcast.texts
        ]
        rows += views.rows(fallbacks, 2)
    if broadcast.photo_file_id:
        remove = _("🗑 Remove the photo")
        rows.append([InlineKeyboardButton(remove, callback_data=NO_PHOTO.data(None))])
    audience = _("➡ Choose the audience")
    rows.append([InlineKeyboardButton(audience, callback_data=TO_AUDIENCE.data(None))])
    rows += cancel_row(context.i18n)
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows))


async def more_languages(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_LANGUAGE)


async def fallback_chosen(update: Update, context: BotContext, code: str) -> int:
    if code not in (await draft(context)).texts:
        raise InvalidButton(code)
    return await draft_answered(update, context, REVIEWING_TEXTS, fallback=code)


async def photo_removed(update: Update, context: BotContext, _none: None) -> int:
    return await draft_answered(update, context, REVIEWING_TEXTS, photo_file_id=None)


async def to_audience(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_AUDIENCE)


DIALOG.add(CHOOSING_LANGUAGE, Question(ask_language, LANGUAGE.handler(language_chosen)))
DIALOG.add(
    TYPING_TEXT,
    Question(
        ask_text,
        MessageHandler(TEXT, text_typed),
        MessageHandler(f.UpdateType.MESSAGE & f.PHOTO, photo_sent),
        hint=TEXT_HINT,
    ),
)
DIALOG.add(
    REVIEWING_TEXTS,
    Question(
        ask_review,
        MORE_LANGUAGES.handler(more_languages),
        FALLBACK.handler(fallback_chosen),
        NO_PHOTO.handler(photo_removed),
        TO_AUDIENCE.handler(to_audience),
    ),
)


# --- the audience ------------------------------------------------------------------------------


async def recipients(context: BotContext, broadcast: Broadcast) -> dict[str, int]:
    """Who the broadcast reaches now, by language: its audience, less the people who turned
    its kind off (unless it is urgent)."""
    return await context.storage.count_recipients(broadcast.segment, broadcast.opt_out_kind)


async def opted_out(context: BotContext, broadcast: Broadcast, counts: dict[str, int]) -> int:
    """How many of the audience turned the broadcast's kind off (0 for an urgent one)."""
    if broadcast.opt_out_kind is None:
        return 0
    everyone = await context.storage.count_recipients(broadcast.segment)
    return sum(everyone.values()) - sum(counts.values())


def audience_summary(
    t: Translator, broadcast: Broadcast, counts: dict[str, int], turned_off: int
) -> str:
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
    lines = [
        _("Who gets it? Tap to choose; choose nothing for everyone."),
        "",
        _("Kind: {kind}").format(kind=kind_label(t, broadcast.kind)),
        _("Audience: {who}").format(who=who),
        "<b>"
        + t.ngettext("{count} recipient", "{count} recipients", total).format(count=t.number(total))
        + "</b>",
    ]
    if turned_off:
        lines.append(
            t.ngettext(
                "Not counted: {count} person who turned this kind of announcement off.",
                "Not counted: {count} people who turned this kind of announcement off.",
                turned_off,
            ).format(count=t.number(turned_off))
        )
    return "\n".join(lines)


def audience_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    _ = t.gettext
    segment = broadcast.segment
    kinds = [
        InlineKeyboardButton(
            views.tick(kind_label(t, kind), kind == broadcast.kind), callback_data=KIND.data(kind)
        )
        for kind in ANNOUNCEMENT_KINDS
    ]
    rows = [kinds] + [
        [
            InlineKeyboardButton(
                views.tick(_(label), role in segment.roles), callback_data=ROLE.data(role)
            )
        ]
        for role, label in views.ROLE_LABELS.items()
    ]
    languages = [
        InlineKeyboardButton(
            views.tick(autonym(code), code in segment.languages),
            callback_data=READERS_OF.data(code),
        )
        for code in LANGUAGES
    ]
    # Each language by its own name, three to a row: the names stay readable on a phone.
    rows += views.rows(languages, LANGUAGES_PER_ROW)
    countries = len(segment.countries)
    label = _("🌍 Countries ({count})").format(count=countries) if countries else _("🌍 Countries")
    rows.append([InlineKeyboardButton(label, callback_data=TO_COUNTRIES.data(None))])
    rows.append(
        [
            InlineKeyboardButton(_("⬅ Texts"), callback_data=BACK_TO_TEXTS.data(None)),
            InlineKeyboardButton(_("➡ Continue"), callback_data=TO_WHEN.data(None)),
        ]
    )
    rows += cancel_row(t)
    return InlineKeyboardMarkup(rows)


async def ask_audience(update: Update, context: BotContext) -> None:
    broadcast = await draft(context)
    counts = await recipients(context, broadcast)
    turned_off = await opted_out(context, broadcast, counts)
    await reply(
        update,
        audience_summary(context.i18n, broadcast, counts, turned_off),
        reply_markup=audience_keyboard(context.i18n, broadcast),
    )


def _toggle(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


async def _audience_changed(update: Update, context: BotContext, segment: Segment) -> None:
    """The audience, changed in place: the same message, its count and ticks up to date."""
    query = update.callback_query
    assert query is not None
    await context.storage.update_draft((await draft(context)).id, segment=segment)
    await query.answer()
    await DIALOG.resume(update, context, CHOOSING_AUDIENCE)


async def kind_chosen(update: Update, context: BotContext, kind: str) -> None:
    """The kind of announcement (one of them), and the count without those who turned it off."""
    query = update.callback_query
    assert query is not None
    broadcast = await draft(context)
    if kind == broadcast.kind:
        await query.answer()
        return
    await context.storage.update_draft(broadcast.id, kind=kind)
    await query.answer()
    await DIALOG.resume(update, context, CHOOSING_AUDIENCE)


async def role_toggled(update: Update, context: BotContext, role: str) -> None:
    segment = (await draft(context)).segment
    toggled = Segment(_toggle(segment.roles, role), segment.countries, segment.languages)
    await _audience_changed(update, context, toggled)


async def language_toggled(update: Update, context: BotContext, code: str) -> None:
    segment = (await draft(context)).segment
    toggled = Segment(segment.roles, segment.countries, _toggle(segment.languages, code))
    await _audience_changed(update, context, toggled)


async def to_countries(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CHOOSING_COUNTRIES)


async def back_to_texts(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, REVIEWING_TEXTS)


def countries_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    chosen = broadcast.segment.countries
    buttons = [
        InlineKeyboardButton(
            views.tick(f"{flag(code)} {t.country(code)}", code in chosen),
            callback_data=COUNTRY.data(code),
        )
        for code in countries_by_name(t)
    ]
    done = InlineKeyboardButton(t.gettext("✓ Done"), callback_data=COUNTRIES_DONE.data(None))
    return InlineKeyboardMarkup([*views.rows(buttons, 2), [done]])


async def ask_countries(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    await reply(
        update,
        _("Which countries? Tap to choose; choose none for all countries."),
        reply_markup=countries_keyboard(context.i18n, broadcast),
    )


async def country_toggled(update: Update, context: BotContext, code: str) -> None:
    query = update.callback_query
    assert query is not None
    broadcast = await draft(context)
    segment = broadcast.segment
    segment = Segment(segment.roles, _toggle(segment.countries, code), segment.languages)
    await context.storage.update_draft(broadcast.id, segment=segment)
    await query.answer()
    await query.edit_message_reply_markup(countries_keyboard(context.i18n, await draft(context)))


async def _nobody(update: Update, context: BotContext) -> bool:
    """True (and the admin told) if the audience has nobody in it."""
    broadcast = await draft(context)
    if sum((await recipients(context, broadcast)).values()):
        return False
    assert update.callback_query is not None
    await update.callback_query.answer(
        context.i18n.gettext("Nobody is in this audience. Please choose another one."),
        show_alert=True,
    )
    return True


async def to_when(update: Update, context: BotContext, _none: None) -> int | None:
    if await _nobody(update, context):
        return None
    return await DIALOG.answered(update, context, CHOOSING_WHEN)


DIALOG.add(
    CHOOSING_AUDIENCE,
    Question(
        ask_audience,
        KIND.handler(kind_chosen),
        ROLE.handler(role_toggled),
        READERS_OF.handler(language_toggled),
        TO_COUNTRIES.handler(to_countries),
        BACK_TO_TEXTS.handler(back_to_texts),
        TO_WHEN.handler(to_when),
    ),
)
DIALOG.add(
    CHOOSING_COUNTRIES,
    Question(
        ask_countries,
        COUNTRY.handler(country_toggled),
        COUNTRIES_DONE.handler(to_audience),
    ),
)


# --- when, the previews, and confirming --------------------------------------------------------


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


def when_keyboard(t: Translator, broadcast: Broadcast) -> InlineKeyboardMarkup:
    _ = t.gettext
    urgent = _("⚠️ Urgent: also during quiet hours")
    buttons = [
        [InlineKeyboardButton(_("🚀 Send now"), callback_data=NOW.data(None))],
        [InlineKeyboardButton(_("🕒 At a date and time"), callback_data=LATER.data(None))],
        [
            InlineKeyboardButton(
                views.tick(urgent, broadcast.urgent), callback_data=URGENT.data(None)
            )
        ],
        [InlineKeyboardButton(_("⬅ Audience"), callback_data=TO_AUDIENCE.data(None))],
        *cancel_row(t),
    ]
    return InlineKeyboardMarkup(buttons)


def urgency_text(t: Translator, broadcast: Broadcast) -> str:
    _ = t.gettext
    if broadcast.urgent:
        return "\n".join(
            [
                _("⚠️ <b>Urgent</b>: people get it during their quiet hours too."),
                _("People who turned this kind of announcement off get it too."),
            ]
        )
    return _("🌙 People in their quiet hours get it when these end.")


async def ask_when(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    broadcast = await draft(context)
    await reply(
        update,
        _("When shall it be sent?") + "\n" + urgency_text(context.i18n, broadcast),
        reply_markup=when_keyboard(context.i18n, broadcast),
    )


async def urgency_toggled(update: Update, context: BotContext, _none: None) -> None:
    """Urgent or not, shown at once in the same message."""
    query = update.callback_query
    assert query is not None
    broadcast = await draft(context)
    await context.storage.update_draft(broadcast.id, urgent=not broadcast.urgent)
    await query.answer()
    await DIALOG.resume(update, context, CHOOSING_WHEN)


async def send_now(update: Update, context: BotContext, _none: None) -> int:
    return await draft_answered(update, context, CONFIRMING, send_at=None)


async def send_later(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, TYPING_TIME)


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
        reply_markup=InlineKeyboardMarkup(cancel_row(context.i18n)),
    )


async def time_typed(update: Update, context: BotContext) -> int | None:
    assert update.message is not None and update.message.text is not None
    broadcast = await draft(context)
    found = check_time(context.i18n, update.message.text, broadcast.timezone, context.now())
    if isinstance(found, str):
        await reply(update, found)
        return None
    await context.storage.update_draft(broadcast.id, send_at=found[0], timezone=found[1])
    return await DIALOG.go_to(update, context, CONFIRMING)


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
    assert update.effective_chat is not None
    broadcast = await draft(context)
    counts = per_text(broadcast, await recipients(context, broadcast))
    sender = announcements_sender(context.community)
    languages = sorted(broadcast.texts, key=lambda code: code != broadcast.fallback)
    for code in languages:
        shown = broadcast_message(broadcast, translator(code), sender, buttons=False)
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
            )
            + ("\n" + urgency_text(context.i18n, broadcast) if broadcast.urgent else ""),
        )
        try:
            await post(context.application, update.effective_chat.id, shown)
        except BadRequest as refused:
            return code, refused.message
    return None


async def ask_confirmation(update: Update, context: BotContext) -> int | None:
    """The previews first: a text Telegram refuses sends the admin back to writing it, with
    Telegram's reason."""
    _ = context.i18n.gettext
    refused = await send_previews(update, context)
    if refused is not None:
        language, reason = refused
        DIALOG.answers(context)["language"] = language
        await reply(
            update,
            _("Telegram refused the {language} text: {reason}. Nothing was sent.").format(
                language=escape(context.i18n.language_name(language)), reason=escape(reason)
            ),
        )
        return TYPING_TEXT
    broadcast = await draft(context)
    total = sum((await recipients(context, broadcast)).values())
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
    text += "\n" + urgency_text(context.i18n, broadcast)
    buttons = [
        [InlineKeyboardButton(label, callback_data=CONFIRM.data(broadcast.id))],
        [InlineKeyboardButton(_("⬅ Audience"), callback_data=TO_AUDIENCE.data(None))],
        *cancel_row(context.i18n),
    ]
    await reply(update, text, reply_markup=InlineKeyboardMarkup(buttons))
    return None


async def confirmed(update: Update, context: BotContext, broadcast_id: int) -> int | None:
    """Start or schedule the broadcast; this message becomes its progress message."""
    query = update.callback_query
    assert query is not None and query.message is not None
    broadcast = await draft(context)
    if broadcast_id != broadcast.id:
        raise InvalidButton(broadcast_id)
    if await _nobody(update, context):
        return None
    async with DIALOG.ending(update, context):  # one transaction: the confirmation, the end
        started = await context.storage.confirm_broadcast(broadcast.id, context.now())
    if started is None:  # confirmed already (a second tap)
        await refuse_invalid(update, context)
        return await DIALOG.finish(update, context)
    text = progress_text(context.i18n, started, {}, context.now(), None)
    await query.answer()
    await query.edit_message_text(text, reply_markup=progress_keyboard(context.i18n, started))
    await context.storage.set_progress_message(
        started.id, query.message.chat.id, query.message.message_id, text
    )
    context.community.broadcaster.wake()
    return await DIALOG.finish(update, context)


DIALOG.add(
    CHOOSING_WHEN,
    Question(
        ask_when,
        NOW.handler(send_now),
        LATER.handler(send_later),
        URGENT.handler(urgency_toggled),
        TO_AUDIENCE.handler(to_audience),
    ),
)
DIALOG.add(TYPING_TIME, Question(ask_time, MessageHandler(TEXT, time_typed), hint=TEXT_HINT))
DIALOG.add(
    CONFIRMING,
    Question(ask_confirmation, CONFIRM.handler(confirmed), TO_AUDIENCE.handler(to_audience)),
)


# --- leaving -----------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    _ = context.i18n.gettext
    if "id" in DIALOG.answers(context):
        await context.storage.delete_draft_broadcast(DIALOG.answers(context)["id"])
    return await DIALOG.cancelled(update, context, _("Cancelled: nothing was sent."))


def conversation() -> Handler:
    return DIALOG.conversation(
        entry_points=[CommandHandler("broadcast", start)],
        fallbacks=[CommandHandler("cancel", cancel), DIALOG.cancel.handler(cancel)],
        again=["broadcast"],
    )
