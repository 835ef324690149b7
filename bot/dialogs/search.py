"""Searching by words (``/search fire pump``, or ``/search`` then the words) and near a
location (one sent outside any dialog, or asked for by Browse's "near me").

Not a ConversationHandler: waiting for the words or the location is a step of the search kept
in ``user_data`` (see :mod:`bot.handlers.browse`), which expires after a while, so a text
typed much later or a command in between never gets trapped in a forgotten search. These
handlers sit just before the catch-alls and hand anything they do not expect to them.
"""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from bot.context import BotContext, reply
from bot.dialogs.steps import clean_line
from bot.handlers import browse, menu
from bot.storage.listings import fts_query

MAX_WORDS = 200  # characters; more is not a search but a pasted text


async def search_command(update: Update, context: BotContext) -> None:
    """``/search <words>``: results in all of Europe; ``/search`` alone asks for the words."""
    _ = context.i18n.gettext
    words = clean_line(" ".join(context.args or []))
    if words:
        await _search_words(update, context, words)
        return
    browse.new_search(context, step="words", asked_at=context.now())
    await reply(
        update,
        _(
            "What are you looking for? Type a few words in any language, for example "
            "<i>fire pump</i>. Send /cancel to stop."
        ),
    )


async def _search_words(update: Update, context: BotContext, words: str) -> None:
    _ = context.i18n.gettext
    words = words[:MAX_WORDS]
    if fts_query(words) is None:
        # Nothing searchable (punctuation, emoji): ask again, the search keeps waiting.
        browse.new_search(context, step="words", asked_at=context.now())
        await reply(update, _("Please type at least one word with letters or digits."))
        return
    search = browse.new_search(context, words=words, area="europe")
    await browse.show_results(update, context, search)


async def text_typed(update: Update, context: BotContext) -> None:
    """A text outside any dialog: the words of ``/search``, a Cancel while asked for a
    location, or else something for the general catch-all."""
    _ = context.i18n.gettext
    assert update.message is not None and update.message.text is not None
    if browse.waiting_for(context, "words") is not None:
        await _search_words(update, context, clean_line(update.message.text))
    elif browse.waiting_for(context, "location") is not None:
        if update.message.text == _("✖️ Cancel"):
            await cancel(update, context)
        else:
            await reply(
                update, _("Please share a location with the button below, or send /cancel.")
            )
    else:
        await menu.not_understood(update, context)


async def location_shared(update: Update, context: BotContext) -> None:
    """A location outside any dialog: what is near it (with Browse's filters if it was asked
    for by "near me")."""
    _ = context.i18n.gettext
    assert update.message is not None and update.message.location is not None
    point = update.message.location
    asked = browse.waiting_for(context, "location")
    kept: dict[str, object] = {}
    if asked is not None:
        kept = {key: asked[key] for key in ("kind", "category", "words") if key in asked}
        # The location keyboard served its purpose; only a new message can remove it.
        await reply(
            update, _("📍 Looking around this location…"), reply_markup=ReplyKeyboardRemove()
        )
    search = browse.new_search(
        context,
        area="near",
        near=[point.latitude, point.longitude],
        radius=browse.DEFAULT_RADIUS,
        **kept,
    )
    await browse.show_results(update, context, search)


async def cancel(update: Update, context: BotContext) -> None:
    """``/cancel`` (or the Cancel button) while a search waits for words or a location."""
    _ = context.i18n.gettext
    asked = browse.waiting_for(context, "words") or browse.waiting_for(context, "location")
    if asked is None:
        await menu.nothing_to_cancel(update, context)
        return
    assert context.user_data is not None
    context.user_data.pop(browse.STATE, None)
    await reply(update, _("Search cancelled."), reply_markup=ReplyKeyboardRemove())
