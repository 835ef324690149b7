"""Follow-ups of accepted contacts: 30 and 90 days after an Accept, both sides are asked
whether it led somewhere (yes / still in progress / no); yes marks the listing fulfilled
through the platform.

A JobQueue job (:func:`scan`, every few minutes) works out from the database what is due at
each run: nothing is scheduled in memory, so a restart or a stopped bot only delays a
follow-up. The outbox's keys (``followup:<contact>:<30|90>:<user>``) make a rerun ask nobody
twice. Buttons carry the contact, the stage and the answer; every press is checked: only the two
people of the contact may answer, each once per stage.
"""

from __future__ import annotations

import html
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from bot.buttons import FOLLOWUPS, ID, OneOf
from bot.context import BotContext, CommunityApplication
from bot.delivery.outbox import Rendered
from bot.i18n import Translator
from bot.logs import counted
from bot.storage import ContactRefused, Enqueued, Storage
from bot.storage.contacts import FOLLOWUP_DAYS
from bot.storage.outbox import Notification

log = logging.getLogger(__name__)

SCAN_EVERY = timedelta(minutes=5)
ANSWERS = {"y": "yes", "p": "progress", "n": "no"}
# The contact, the follow-up (30 or 90 days after the Accept) and the answer.
ANSWER = FOLLOWUPS.button("", ID, OneOf(str(days) for days in FOLLOWUP_DAYS), OneOf(ANSWERS))


def register(application: CommunityApplication) -> None:
    application.add_handler(ANSWER.handler(answered))
    schedule(application)
    application.outbox.add_renderer("followup", render_followup)


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
    buttons = [
        [InlineKeyboardButton(label, callback_data=ANSWER.data((contact.id, str(due), key)))]
        for key, label in (
            ("y", _("✅ Yes, it happened")),
            ("p", _("⏳ Still in progress")),
            ("n", _("✖️ No")),
        )
    ]
    return Rendered(text.format(title=title), InlineKeyboardMarkup(buttons))


async def answered(update: Update, context: BotContext, pressed: tuple[int, str, str]) -> None:
    """Record the answer (the listing's outcome on yes)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    contact_id, due, answer = pressed[0], int(pressed[1]), ANSWERS[pressed[2]]
    try:
        recorded = await context.storage.answer_followup(
            contact_id, update.effective_user.id, due, answer, context.now()
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
        if due < FOLLOWUP_DAYS[-1]
        else _("Thank you! Good luck with it."),
        "no": _("Thank you for telling us. Other listings may suit you better: /browse"),
    }
    await query.edit_message_text(thanks[answer])
