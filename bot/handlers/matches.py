"""The buttons of a match card that are matching's own: "Not relevant" (``mt:nr:<match>``).

Open (``lo:<id>``) is the listings handler's; "I can help / I'm interested"
(``ct:ask:<id>``) belongs to contacts.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.buttons import close_message
from bot.context import BotContext, CommunityApplication
from bot.delivery import notifications
from bot.matching import jobs


def register(application: CommunityApplication) -> None:
    application.add_handler(CallbackQueryHandler(not_relevant, pattern=r"^mt:nr:"))
    jobs.schedule(application, application.storage)
    outbox = application.outbox
    outbox.add_renderer("match", notifications.render_match)
    outbox.add_renderer("alert", notifications.render_alert)
    outbox.add_renderer("digest", notifications.render_digest)
    outbox.add_renderer("reminder", notifications.render_reminder)


async def not_relevant(update: Update, context: BotContext) -> None:
    """Record that this pair is not relevant to the person (it never comes again for them),
    and take the buttons off the card. Only someone the pair concerns may say so."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    number = query.data.removeprefix("mt:nr:")
    dismissed = number.isdigit() and await context.storage.dismiss_match(
        int(number), update.effective_user.id, context.now()
    )
    if not dismissed:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer(_("Noted: you will not be shown this match again."))
    await query.edit_message_reply_markup(None)
    close_message(update, context)  # a second tap in flight is answered as stale
