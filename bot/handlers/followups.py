"""Follow-ups of accepted contacts: 30 and 90 days after an Accept, both sides are asked
whether it led somewhere (yes / still in progress / no); yes marks the listing fulfilled
through the platform.

A JobQueue job (:func:`scan`, every few minutes) works out from the database what is due at
each run: nothing is scheduled in memory, so a restart or a stopped bot only delays a
follow-up. The outbox's keys (``followup:<contact>:<30|90>:<user>``) make a rerun ask nobody
twice. Buttons (``fu:<contact>:<due>:<y|p|n>``) are checked on every press: only the two
people of the contact may answer, each once per stage.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from bot.callback_data import parse_number
from bot.context import BotContext
from bot.i18n import Translator
from bot.logs import counted
from bot.outbox import Rendered, renderer
from bot.storage import ContactRefused, Enqueued, Storage
from bot.storage.contacts import FOLLOWUP_DAYS
from bot.storage.outbox import Notification

log = logging.getLogger(__name__)

SCAN_EVERY = timedelta(minutes=5)
ANSWERS = {"y": "yes", "p": "progress", "n": "no"}


async def scan(application: Application) -> int:  # type: ignore[type-arg]
    """Queue the follow-ups that are due; returns how many notifications were new."""
    storage: Storage = application.storage  # type: ignore[attr-defined]
    now = int(application.clock())  # type: ignore[attr-defined]
    queued = 0
    for contact, stage in await storage.due_followups(now):
        # Once someone said it happened (or did not), the 90-day question is not asked.
        if not (stage == 90 and await storage.followup_settled(contact.id)):
            people = [p for p in (contact.asker_id, contact.decided_by) if p is not None]
            queued += await storage.enqueue(
                [
                    Enqueued(
                        person,
                        "followup",
                        f"followup:{contact.id}:{stage}:{person}",
                        {"contact": contact.id, "due": stage},
                        not_before=now,
                    )
                    for person in people
                ],
                now=now,
            )
        await storage.mark_followup_stage(contact.id, stage)
    if queued:
        application.outbox.wake()  # type: ignore[attr-defined]
    return queued


async def scan_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    queued = await scan(context.application)
    if queued:  # every five minutes at most: no need to add up
        log.info("queued %s", counted(queued, "contact follow-up"))


def schedule(application: Application) -> None:  # type: ignore[type-arg]
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        scan_job,
        interval=SCAN_EVERY,
        first=10,
        name="followups",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
    )


@renderer("followup")
async def render_followup(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    _ = t.gettext
    contact = await storage.get_contact(int(notification.payload["contact"]))
    due = int(notification.payload["due"])
    if contact is None or contact.status != "accepted":
        return None
    if await storage.followup_answer(contact.id, notification.user_id, due) is not None:
        return None
    title = t.quote(html.escape(contact.listing_title))
    if due == 30:
        text = _("🕊 A month ago you were put in touch about {title}. Did it lead somewhere?")
    else:
        text = _("🕊 Three months ago you were put in touch about {title}. Did it lead somewhere?")
    data = f"fu:{contact.id}:{due}"
    buttons = [
        [InlineKeyboardButton(_("✅ Yes, it happened"), callback_data=f"{data}:y")],
        [InlineKeyboardButton(_("⏳ Still in progress"), callback_data=f"{data}:p")],
        [InlineKeyboardButton(_("✖️ No"), callback_data=f"{data}:n")],
    ]
    return Rendered(text.format(title=title), InlineKeyboardMarkup(buttons))


async def answered(update: Update, context: BotContext) -> None:
    """``fu:<contact>:<due>:<y|p|n>``: record the answer (the listing's outcome on yes)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    parts = query.data.split(":")
    contact_id = parse_number(parts[1]) if len(parts) == 4 else None
    if (
        contact_id is None
        or parts[2] not in {str(days) for days in FOLLOWUP_DAYS}
        or parts[3] not in ANSWERS
    ):
        await query.answer(_("This button is no longer valid."))
        return
    answer = ANSWERS[parts[3]]
    try:
        recorded = await context.storage.answer_followup(
            contact_id, update.effective_user.id, int(parts[2]), answer, context.now()
        )
    except ContactRefused:
        await query.answer(_("This is not your contact."), show_alert=True)
        return
    if not recorded:
        await query.answer(_("You have already answered. Thank you!"), show_alert=True)
        return
    await query.answer()
    thanks = {
        "yes": _("Wonderful! Thank you for telling us: it is marked as done."),
        "progress": _("Thank you! We will ask again later.")
        if int(parts[2]) < FOLLOWUP_DAYS[-1]
        else _("Thank you! Good luck with it."),
        "no": _("Thank you for telling us. Other listings may suit you better: /browse"),
    }
    await query.edit_message_text(thanks[answer])
