"""An admin's decision about a person, that the person is told about: Warn and Ban (on a
reported listing's card), Reject (a verification request), Revoke (a verification).

The admin's tap → nothing to do (erased, already done by another admin: said at once) → the
reason, typed or skipped → what will happen and the reason the person will read → confirmed:
done and the person told in their language, or told that another admin did it meanwhile.
Each kind of decision (:class:`Decision`) is declared by its feature, which says what the
decision would do (:attr:`Decision.plan`) and does it (:attr:`Decision.carry_out`); storage
checks again, in the transaction that acts, that there is still something to do.

The dialog has a handler group of its own before the features' (:data:`GROUP`), so that the
typed reason reaches it whatever other dialog the admin was in (posting, a broadcast); any
other command or button ends it and goes on, as if it had not been there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler
from telegram.ext import filters as f

from bot.buttons import Button, Prefix, close_buttons
from bot.context import BotContext, reply
from bot.dialogs.dialog import END, Dialog, Handler, Question
from bot.dialogs.steps import TypedText, clean_block
from bot.handlers.admin import refuse_unless_admin
from bot.i18n import N_

GROUP = -2  # before the contact dialog's (-1) and every feature's (0)
REASON_MAX = 500  # characters: the reason is sent to the person inside a notice


async def still_admin(update: Update, context: BotContext) -> bool:
    """Checked before every handler: someone unmade admin meanwhile decides nothing (and is
    told). The tap that starts a decision checks for itself."""
    if not DIALOG.in_progress(context):
        return True
    return await refuse_unless_admin(update, context)


DECISIONS = Prefix("why", "decision: an admin's reason and confirmation")
TYPING_REASON, CONFIRMING = 0, 1
DIALOG = Dialog(
    "decision", DECISIONS, previous={CONFIRMING: TYPING_REASON}, guard=still_admin, stops=True
)
SKIP_REASON = DECISIONS.button("skip")
CONFIRM = DECISIONS.button("ok")


@dataclass(frozen=True)
class Decision:
    """One kind of decision. ``plan`` says, in the admin's language, what confirming would
    do (HTML), or returns :class:`Nothing` with why there is nothing to do; ``carry_out``
    acts (storage checks again) and returns what to answer; ``refresh`` shows the message the
    decision was started from as it is now (a report card, a request)."""

    name: str
    button: Button[int]
    confirm_label: str
    plan: Callable[[BotContext, int], Awaitable[str | Nothing]]
    carry_out: Callable[[BotContext, int, str | None], Awaitable[str]]
    refresh: Callable[[BotContext, int, int, int], Awaitable[None]] | None = None


@dataclass(frozen=True)
class Nothing:
    """Nothing to decide: why (the target was erased, or it is already done)."""

    why: str


_DECISIONS: dict[str, Decision] = {}


def _decision(context: BotContext) -> tuple[Decision, int]:
    given = DIALOG.answers(context)
    return _DECISIONS[given["decision"]], int(given["target"])


# --- the tap -------------------------------------------------------------------------------


def _start(decision: Decision) -> Callable[[Update, BotContext, int], Awaitable[int | None]]:
    async def start(update: Update, context: BotContext, target: int) -> int | None:
        query = update.callback_query
        assert query is not None
        if not await refuse_unless_admin(update, context):
            return None
        plan = await decision.plan(context, target)
        if isinstance(plan, Nothing):
            await query.answer(plan.why, show_alert=True)
            return None
        await query.answer()
        origin = None
        if query.message is not None and query.message.is_accessible:
            origin = [query.message.chat.id, query.message.message_id]
        return await DIALOG.begin(
            update, context, TYPING_REASON,
            decision=decision.name, target=target, plan=plan, origin=origin,
        )  # fmt: skip

    start.__name__ = f"start_{decision.name}"
    return start


# --- the reason ------------------------------------------------------------------------------


async def ask_reason(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    buttons = [
        [InlineKeyboardButton(_("➡ No reason"), callback_data=SKIP_REASON.data(None))],
        *DIALOG.navigation(context.i18n, TYPING_REASON),
    ]
    text = _(
        "Type the reason they will read (at most {maximum} characters), or go on without one."
    ).format(maximum=context.i18n.number(REASON_MAX))
    await reply(
        update,
        DIALOG.answers(context)["plan"] + "\n\n" + text,
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def reason_typed(update: Update, context: BotContext, reason: str) -> int | None:
    if len(reason) > REASON_MAX:
        text = context.i18n.gettext(
            "Please keep the reason under {maximum} characters (this one has {count}). "
            "Nothing was done yet."
        )
        await reply(
            update,
            text.format(
                maximum=context.i18n.number(REASON_MAX), count=context.i18n.number(len(reason))
            ),
        )
        return None
    return await DIALOG.answered(update, context, CONFIRMING, reason=reason or None)


async def no_reason(update: Update, context: BotContext, _none: None) -> int:
    return await DIALOG.answered(update, context, CONFIRMING, reason=None)


# --- the confirmation ------------------------------------------------------------------------


async def ask_confirmation(update: Update, context: BotContext) -> None:
    _ = context.i18n.gettext
    decision, _target = _decision(context)
    given = DIALOG.answers(context)
    if given.get("reason"):
        told = (
            _("They will read this reason:")
            + f"\n<blockquote>{escape(given['reason'])}</blockquote>"
        )
    else:
        told = _("They will be told without a reason.")
    buttons = [
        [InlineKeyboardButton(_(decision.confirm_label), callback_data=CONFIRM.data(None))],
        *DIALOG.navigation(context.i18n, CONFIRMING),
    ]
    await reply(update, given["plan"] + "\n\n" + told, reply_markup=InlineKeyboardMarkup(buttons))


async def confirmed(update: Update, context: BotContext, _none: None) -> int:
    decision, target = _decision(context)
    given = DIALOG.answers(context)
    await close_buttons(update, context)
    async with DIALOG.ending(update, context):  # one transaction: the decision, the end
        answer = await decision.carry_out(context, target, given.get("reason"))
    origin = given.get("origin")
    await DIALOG.finish(update, context)
    await reply(update, answer)
    if decision.refresh is not None and origin:
        # The card may be gone or unchanged ("not modified"): it is only a courtesy.
        with contextlib.suppress(TelegramError):
            await decision.refresh(context, origin[0], origin[1], target)
    return END


# --- leaving -----------------------------------------------------------------------------------


async def cancel(update: Update, context: BotContext, _none: None = None) -> int:
    return await DIALOG.cancelled(
        update, context, context.i18n.gettext("Cancelled: nothing was done.")
    )


async def elsewhere(update: Update, context: BotContext) -> int:
    """Another command or button: the decision is dropped and the update goes on."""
    return await DIALOG.finish(update, context)


def conversation(decisions: Sequence[Decision]) -> Handler:
    """The dialog, started by each decision's button."""
    for decision in decisions:
        _DECISIONS[decision.name] = decision
    return DIALOG.conversation(
        entry_points=[decision.button.handler(_start(decision)) for decision in decisions],
        fallbacks=[CommandHandler("cancel", cancel), DIALOG.cancel.handler(cancel)],
        passing=[
            MessageHandler(f.UpdateType.MESSAGE & f.COMMAND, elsewhere),
            CallbackQueryHandler(elsewhere),
        ],
        allow_reentry=True,
    )


DIALOG.add(
    TYPING_REASON,
    TypedText(
        ask_reason,
        answered=reason_typed,
        clean=clean_block,
        also=[SKIP_REASON.handler(no_reason)],
        hint=N_("Please type the reason as text, or use the buttons above."),
    ),
)
DIALOG.add(CONFIRMING, Question(ask_confirmation, CONFIRM.handler(confirmed)))
