"""The buttons of a match card that are matching's own: "Not relevant" (``mt:nr:<match>``).

Open (``lo:<id>``) is the listings handler's; "I can help / I'm interested"
(``ct:ask:<id>``) belongs to contacts.
"""

from __future__ import annotations

from telegram import Update

from bot.callback_data import id_of
from bot.context import BotContext
from bot.handlers.common import close_message


async def not_relevant(update: Update, context: BotContext) -> None:
    """Record that this pair is not relevant to the person (it never comes again for them),
    and take the buttons off the card. Only someone the pair concerns may say so."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    match_id = id_of(query.data, "mt:nr:")
    dismissed = match_id is not None and await context.storage.dismiss_match(
        match_id, update.effective_user.id, context.now()
    )
    if not dismissed:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer(_("Noted: you will not be shown this match again."))
    await query.edit_message_reply_markup(None)
    close_message(context, update)  # a second tap in flight is answered as stale
