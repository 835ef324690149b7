"""Follow-ups of accepted contacts: 30 and 90 days after an Accept, both sides are asked
whether it led somewhere (yes / still in progress / no). Yes asks with whom (the asker: the
listing's author or someone else; the owner side: one of the listing's accepted contacts or
someone else) and what came of it (all that was needed, or part of it), then records the
exchange for that side and marks the listing fulfilled (bot/storage/outcomes.py). Someone
whose side already said it happened (closing the listing with this contact) is not asked.

A JobQueue job (:func:`scan`, every few minutes) works out from the database what is due at
each run: nothing is scheduled in memory, so a restart or a stopped bot only delays a
follow-up. The outbox's keys (``followup:<contact>:<30|90>:<user>``) make a rerun ask nobody
twice. Buttons carry the contact, the stage and the answers so far (nothing is stored until
the last one); every press is checked: only the two people of the contact may answer, each once
per stage once it is due, naming only whom they may name.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, ContextTypes

from bot.buttons import FOLLOWUPS, ID, InvalidButton, Number, OneOf, answer_in_place
from bot.context import BotContext, CommunityApplication
from bot.delivery.outbox import Rendered
from bot.delivery.pacing import run_every
from bot.i18n import Translator
from bot.logs import counted
from bot.storage import Contact, ContactRefused, Enqueued, FollowupAnswer, Storage
from bot.storage.contacts import FOLLOWUP_DAYS
from bot.storage.outbox import Notification
from bot.views import contacts as views
from bot.views.texts import quoted_title

log = logging.getLogger(__name__)

SCAN_EVERY = timedelta(minutes=5)
ANSWERS = {"y": "yes", "p": "progress", "n": "no"}
RESULTS = {"f": "full", "p": "partial"}
STAGE = OneOf(tuple(str(days) for days in FOLLOWUP_DAYS))
SOMEONE_ELSE = 0  # "with whom": not one of the listing's contacts
WITH = Number(0)  # a contact's id, or SOMEONE_ELSE
# The contact, the follow-up (30 or 90 days after the Accept) and the answer; then with whom;
# then what came of it.
ANSWER = FOLLOWUPS.button("", ID, STAGE, OneOf(ANSWERS))
WITH_WHOM = FOLLOWUPS.button("w", ID, STAGE, WITH)
RESULT = FOLLOWUPS.button("r", ID, STAGE, WITH, OneOf(RESULTS))


def register(application: CommunityApplication) -> None:
    application.add_handlers(
        [ANSWER.handler(answered), WITH_WHOM.handler(with_whom), RESULT.handler(came_of_it)]
    )
    schedule(application)
    application.outbox.add_renderer("followup", render_followup)


async def scan(application: Application) -> int:  # type: ignore[type-arg]
    """Queue the follow-ups that are due; returns how many notifications were new."""
    storage: Storage = application.storage  # type: ignore[attr-defined]
    now = int(application.clock())  # type: ignore[attr-defined]
    queued = 0
    for contact, stage, ask in await storage.due_followups(now):
        if ask:
            people = await storage.followup_people(contact)
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
    run_every(application, scan_job, SCAN_EVERY, first=10, name="followups")


async def render_followup(
    storage: Storage, notification: Notification, t: Translator, now: int
) -> Rendered | None:
    _ = t.gettext
    due = int(notification.payload["due"])
    try:  # still theirs to answer: accepted, and on the owner side still speaking for it
        contact = await storage.followup_party(
            int(notification.payload["contact"]), notification.user_id, due=due, now=now
        )
    except ContactRefused:
        return None
    if await storage.followup_answer(contact.id, notification.user_id, due) is not None:
        return None
    if await storage.exchange_said(contact, notification.user_id):
        return None  # they said it happened when closing the listing
    title = quoted_title(t, contact.listing_title)
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


async def _party(update: Update, context: BotContext, contact_id: int, due: int) -> Contact | None:
    """The contact, if the person pressing may still answer this follow-up; else say why."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        contact = await context.storage.followup_party(
            contact_id, update.effective_user.id, due=due, now=context.now()
        )
    except ContactRefused as refused:
        if refused.reason == "not_due":  # a follow-up nobody was asked yet: forged data
            raise InvalidButton(contact_id) from refused
        await query.answer(_("This is not your contact."), show_alert=True)
        return None
    if await context.storage.followup_answer(contact_id, update.effective_user.id, due):
        await query.answer(_("You have already answered. Thank you!"), show_alert=True)
        return None
    return contact


async def answered(update: Update, context: BotContext, pressed: tuple[int, str, str]) -> None:
    """Yes: with whom? Still in progress, or no: recorded."""
    contact_id, due, answer = pressed[0], int(pressed[1]), ANSWERS[pressed[2]]
    contact = await _party(update, context, contact_id, due)
    if contact is None:
        return
    if answer == "yes":
        await _ask_with_whom(update, context, contact, due)
        return
    await _record(update, context, FollowupAnswer(contact_id, due, answer))


async def _ask_with_whom(update: Update, context: BotContext, contact: Contact, due: int) -> None:
    """The asker names the listing's author or someone else; the owner side one of the
    listing's accepted contacts or someone else."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    if update.effective_user.id == contact.asker_id:
        author = await context.storage.get_member(contact.decided_by or 0)
        people = [(contact.id, f"👤 {author.first_name}")] if author else []
    else:
        people = [
            (person.contact_id, views.counterpart_label(person))
            for person in await context.storage.counterparts(contact.listing_id or 0)
        ]
    buttons = [
        [InlineKeyboardButton(label, callback_data=WITH_WHOM.data((contact.id, str(due), whom)))]
        for whom, label in [*people, (SOMEONE_ELSE, _("👥 Someone else"))]
    ]
    await query.answer()
    await answer_in_place(
        update, _("Wonderful! With whom did it happen?"), InlineKeyboardMarkup(buttons)
    )


async def with_whom(update: Update, context: BotContext, pressed: tuple[int, str, int]) -> None:
    """With whom: then what came of it (someone else, asked of the asker, ends here: their
    contact was not it)."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    contact_id, due, whom = pressed[0], int(pressed[1]), pressed[2]
    contact = await _party(update, context, contact_id, due)
    if contact is None:
        return
    if whom != SOMEONE_ELSE:
        try:
            await context.storage.check_with_whom(contact, update.effective_user.id, whom)
        except ContactRefused as refused:
            raise InvalidButton(whom) from refused
    elif update.effective_user.id == contact.asker_id:
        await _record(update, context, FollowupAnswer(contact_id, due, "yes"))
        return
    buttons = [
        [InlineKeyboardButton(label, callback_data=RESULT.data((contact_id, str(due), whom, key)))]
        for key, label in (("f", _("✅ All that was needed")), ("p", _("◐ Part of it")))
    ]
    await query.answer()
    await answer_in_place(update, _("What came of it?"), InlineKeyboardMarkup(buttons))


async def came_of_it(
    update: Update, context: BotContext, pressed: tuple[int, str, int, str]
) -> None:
    """The last answer: recorded with with whom and what came of it."""
    contact_id, due, whom, result = pressed[0], int(pressed[1]), pressed[2], RESULTS[pressed[3]]
    if await _party(update, context, contact_id, due) is None:
        return
    with_contact = None if whom == SOMEONE_ELSE else whom
    await _record(update, context, FollowupAnswer(contact_id, due, "yes", with_contact, result))


async def _record(update: Update, context: BotContext, given: FollowupAnswer) -> None:
    """Store the answer (the exchange and the listing's outcome on yes) and thank them."""
    _ = context.i18n.gettext
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    try:
        recorded = await context.storage.answer_followup(
            given, update.effective_user.id, context.now()
        )
    except ContactRefused as refused:
        raise InvalidButton(given.with_contact) from refused  # a contact they may not name
    if not recorded:
        await query.answer(_("You have already answered. Thank you!"), show_alert=True)
        return
    await query.answer()
    if given.answer == "yes" and given.with_contact is None and given.result is None:
        thanks = _("Thank you for telling us: glad it worked out.")
    else:
        thanks = {
            "yes": _("Wonderful! Thank you for telling us: it is marked as done."),
            "progress": _("Thank you! We will ask again later.")
            if given.due < FOLLOWUP_DAYS[-1]
            else _("Thank you! Good luck with it."),
            "no": _("Thank you for telling us. Other listings may suit you better: /browse"),
        }[given.answer]
    await answer_in_place(update, thanks)
