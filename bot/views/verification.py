"""A verification request as the people who decide it read it (admins, and a municipality's
verified officials)."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton

from bot.buttons import APPROVE_REQUEST
from bot.i18n import Translator
from bot.storage import VerificationRequest
from bot.views.texts import place_line, short_time


def request_card(t: Translator, request: VerificationRequest) -> str:
    _ = t.gettext
    person = f'<a href="tg://user?id={request.user_id}">{html.escape(request.first_name)}</a>'
    if request.username:
        person += f" @{html.escape(request.username)}"
    lines = [
        _("🪪 <b>Verification request</b> #{id}").format(id=request.id),
        f"{person} ({request.user_id})",
        "🏛 " + place_line(t, request.municipality_name, request.region, request.country),
    ]
    if request.population:
        lines.append(_("Population: {population}").format(population=t.number(request.population)))
    if request.email:
        lines.append(f"📧 {html.escape(request.email)}")
    if request.note:
        lines.append(f"📝 {html.escape(request.note)}")
    lines.append(_("Asked {when}").format(when=short_time(t, request.created_at)))
    return "\n".join(lines)


def approve_button(t: Translator, request: VerificationRequest) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        t.gettext("✅ Approve"), callback_data=APPROVE_REQUEST.data(request.id)
    )
