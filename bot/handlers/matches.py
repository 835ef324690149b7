"""Matching: the pass and its chores as jobs (:mod:`bot.matching.jobs`), how its notifications
read (:mod:`bot.delivery.notifications`: a match, an alert hit, a digest, an expiry reminder),
and the one button of a match card that is matching's own: "Not relevant".

A card's Open belongs to listings, "I can help / I'm interested" to contacts.
"""

from __future__ import annotations

from functools import partial

from telegram import Update

from bot.buttons import NOT_RELEVANT, InvalidButton, close_message, drop_buttons
from bot.context import BotContext, CommunityApplication
from bot.delivery import digests, notifications
from bot.matching import jobs


def register(application: CommunityApplication) -> None:
    application.add_handler(NOT_RELEVANT.handler(not_relevant))
    jobs.schedule(application, application.storage)
    outbox = application.outbox
    outbox.add_renderer("match", notifications.render_match)
    # Hits that waited are weighed again when sent, by meaning too where the pass uses it.
    meaning = application.meaning
    outbox.add_renderer("alert", partial(notifications.render_alert, meaning=meaning))
    outbox.add_renderer("digest", partial(digests.render_digest, meaning=meaning), bundled=False)
    outbox.add_renderer("reminder", notifications.render_reminder)


async def not_relevant(update: Update, context: BotContext, match_id: int) -> None:
    """Record that this pair is not relevant to the person (it never comes again for them),
    and take the buttons off the card. Only someone the pair concerns may say so."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    dismissed = await context.storage.dismiss_match(
        match_id, update.effective_user.id, context.now()
    )
    if not dismissed:
        raise InvalidButton(match_id)
    await query.answer(_("Noted: you will not be shown this match again."))
    await drop_buttons(update)
    close_message(update, context)  # a second tap in flight is answered as stale
